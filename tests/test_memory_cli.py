"""``cnncalc memory`` and cnncalc.memory's arithmetic: the JSON fields, the optimizer and
AMP state, the inference peak, ``--fit`` (the largest batch that fits, checked on both
sides) and its errors.  No torch (the torch oracles are in test_memory.py)."""

from __future__ import annotations

import json

import pytest

import cnncalc
from cnncalc.memory import OPTIMIZER_STATES, estimate, largest_batch

from helpers import fresh_cli, torch_modules

FIELDS = ("param_bytes", "buffer_bytes", "grad_bytes", "optimizer_bytes",
          "saved_activation_bytes", "peak_bytes")


def _cli(*args: str) -> dict:
    proc, modules = fresh_cli("memory", *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert torch_modules(modules) == []
    return json.loads(proc.stdout)


def test_json_fields_in_bytes() -> None:
    data = _cli("resnet18", "--mode", "training", "--batch", "4", "--optimizer", "adam")
    est = estimate(cnncalc.load("resnet18"), mode="training", batch=4, optimizer="adam")
    assert {f: data[f] for f in FIELDS} == {f: getattr(est, f) for f in FIELDS}
    assert data["saved_activation_bytes"] == sum(r["saved_bytes"] for r in data["layers"])
    assert data["param_bytes"] == sum(r["param_bytes"] for r in data["layers"])
    assert all(type(data[f]) is int and data[f] > 0 for f in FIELDS)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZER_STATES))
@pytest.mark.parametrize("spec", ["lenet5", "resnet18"])
def test_optimizer_state(spec: str, optimizer: str) -> None:
    net = cnncalc.load(spec)
    report = cnncalc.analyze(net)
    m = estimate(net, mode="training", optimizer=optimizer)
    assert m.grad_bytes == report.totals.trainable_params * 4
    assert m.optimizer_bytes == OPTIMIZER_STATES[optimizer] * m.grad_bytes
    amp = estimate(net, mode="training", optimizer=optimizer, amp=True, dtype="float16")
    # torch.autocast: the parameters stay float32 (they are the master weights), and so
    # do their gradients and the optimizer's state; only the activations are float16
    assert amp.param_bytes == report.totals.params * 4
    assert amp.grad_bytes == report.totals.trainable_params * 4
    assert amp.optimizer_bytes == OPTIMIZER_STATES[optimizer] * 4 * report.totals.trainable_params
    half = estimate(net, mode="training", optimizer=optimizer, dtype="float16")
    assert amp.saved_activation_bytes > half.saved_activation_bytes  # the casts it keeps


@pytest.mark.parametrize("spec", ["lenet5", "resnet18", "mobilenet_v2"])
def test_inference_is_the_analysis_peak(spec: str) -> None:
    net = cnncalc.load(spec)
    report = cnncalc.analyze(net, batch=3)
    m = estimate(net, mode="inference", batch=3, optimizer="adam")
    t = report.totals
    # a num_batches_tracked, int64, per batchnorm: of its own or of an add's projection
    counters = sum(r.op == "batchnorm" or (r.op == "add" and r.buffers > 0)
                   for r in report.layers)
    assert m.buffer_bytes == t.buffer_bytes + (8 - 4) * counters
    assert m.peak_bytes == t.param_bytes + m.buffer_bytes + t.peak_activation_bytes
    assert (m.grad_bytes, m.optimizer_bytes, m.saved_activation_bytes) == (0, 0, 0)


def test_training_needs_more_than_inference() -> None:
    net = cnncalc.load("resnet18")
    train = estimate(net, mode="training", batch=8)
    infer = estimate(net, mode="inference", batch=8)
    assert train.peak_bytes > infer.peak_bytes + train.grad_bytes
    assert train.saved_activation_bytes > infer.activation_peak_bytes


@pytest.mark.parametrize(("mode", "optimizer", "limit"), [
    ("training", "adam", 24 * 2**30), ("training", "sgd", 10**9), ("inference", "sgd", 2**30)])
def test_fit_is_the_largest_batch(mode: str, optimizer: str, limit: int) -> None:
    net = cnncalc.load("resnet50")
    found = largest_batch(net, None, limit, mode=mode, optimizer=optimizer)
    b = found["batch"]
    assert b >= 1

    def peak(batch: int) -> int:
        return estimate(net, mode=mode, batch=batch, optimizer=optimizer).peak_bytes

    assert found["peak_bytes"] == peak(b) <= limit < peak(b + 1)


def test_fit_in_the_cli() -> None:
    data = _cli("resnet50", "--mode", "training", "--optimizer", "adam", "--fit", "24GiB")
    assert data["fit"]["limit_bytes"] == 24 * 2**30
    assert data["fit"] == largest_batch(cnncalc.load("resnet50"), None, 24 * 2**30,
                                        mode="training", optimizer="adam")


def test_nothing_fits() -> None:
    found = largest_batch(cnncalc.load("resnet50"), None, 1000, mode="training")
    assert found["batch"] == 0 and found["peak_bytes"] > 1000


@pytest.mark.parametrize("args", [["--fit", "24XB"], ["--fit", "0GiB"], ["--fit", "-1"],
                                  ["--mode", "train"], ["--optimizer", "rmsprop"],
                                  ["--batch", "0"], ["--mode", "training", "--amp"],
                                  ["--amp", "--dtype", "int8"]])
def test_bad_options_exit_2(args: list[str]) -> None:
    proc, _ = fresh_cli("memory", "lenet5", *args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_formats(fmt: str) -> None:
    proc, _ = fresh_cli("memory", "lenet5", "--mode", "training", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert "C3" in proc.stdout


@pytest.mark.parametrize("spec", ["resnet50", "vgg16"])
def test_fit_where_the_optimizer_step_decides(spec: str) -> None:
    """Just above batch 1's peak the optimizer step (flat in the batch) can decide it:
    the affine guess is checked and bisected, never stepped down one by one."""
    net = cnncalc.load(spec)

    def peak(batch: int) -> int:
        return estimate(net, mode="training", batch=batch, optimizer="adam").peak_bytes

    limit = peak(1) + 1
    b = largest_batch(net, None, limit, mode="training", optimizer="adam")["batch"]
    assert peak(b) <= limit < peak(b + 1)


def test_fit_is_capped() -> None:
    from cnncalc.memory import MAX_FIT_BATCH

    found = largest_batch(cnncalc.load("lenet5"), None, 2**60, mode="inference")
    assert found["batch"] == MAX_FIT_BATCH


def test_the_cli_offers_every_optimizer() -> None:
    from typing import get_args

    from cnncalc.report import Optimizer

    assert tuple(OPTIMIZER_STATES) == get_args(Optimizer)


# ------------------------------------------------------- summary's side-by-side peaks
def _run(*args: str) -> str:
    """What ``cnncalc ARGS`` prints, run in this process (a wide terminal)."""
    from typer.testing import CliRunner

    from cnncalc.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(("spec", "options"), [
    ("lenet5", ()), ("resnet18", ("--batch", "8")), ("mobilenet_v2", ("--dtype", "float16")),
    ("resnet50", ("--input", "3x128x128", "--batch", "3")), ("densenet121", ())])
def test_summary_shows_both_peaks(spec: str, options: tuple[str, ...]) -> None:
    """summary's JSON and table carry the peaks ``cnncalc memory`` finds for one inference
    pass and one SGD step, at the summary's batch, dtype and input."""
    data = json.loads(_run("summary", spec, *options, "--format", "json"))
    opts = dict(zip(options[::2], options[1::2]))
    kw = {"batch": int(opts.get("--batch", 1)), "dtype": opts.get("--dtype", "float32")}
    shape = [int(v) for v in opts["--input"].split("x")] if "--input" in opts else None
    net = cnncalc.load(spec)
    infer = estimate(net, shape, mode="inference", **kw).peak_bytes
    train = estimate(net, shape, mode="training", optimizer="sgd", **kw).peak_bytes
    assert data["memory"] == {"optimizer": "sgd", "inference_peak_bytes": infer,
                              "training_peak_bytes": train}
    assert train > infer
    text = " ".join(_run("summary", spec, *options, "--exact").split())
    line = text[text.index("peak memory"):text.index("receptive field")]
    assert f"inference {infer:,} B, training {train:,} B" in line
    assert f"(one SGD step, batch {kw['batch']}, {kw['dtype']})" in line


def test_summary_imports_no_torch_for_its_peaks() -> None:
    proc, modules = fresh_cli("summary", "resnet18", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert torch_modules(modules) == [] and "training_peak_bytes" in proc.stdout


def test_summary_markdown_states_the_peaks() -> None:
    out = _run("summary", "lenet5", "--format", "markdown", "--exact")
    m = estimate(cnncalc.load("lenet5"), mode="training")
    assert f"training {m.peak_bytes:,} B (one SGD step, batch 1, float32)" in out


def test_the_report_works_its_peaks_out_once_and_only_when_asked() -> None:
    calls = []
    report = cnncalc.analyze(cnncalc.load("lenet5"))
    work_out = report.memory_of
    assert work_out is not None
    object.__setattr__(report, "memory_of", lambda r: calls.append(1) or work_out(r))
    assert not calls
    assert report.memory == report.memory and len(calls) == 1


def test_the_schema_names_every_optimizer() -> None:
    from pathlib import Path

    schema = json.loads((Path(__file__).parent.parent / "docs" / "report.schema.json")
                        .read_text())
    assert schema["$defs"]["MemoryPeaks"]["properties"]["optimizer"]["enum"] == list(
        OPTIMIZER_STATES)


def test_every_op_has_one_autocast_rule() -> None:
    """A new op must say how torch.autocast runs it (cnncalc.memory's AMP rule)."""
    from cnncalc import memory
    from cnncalc.ops import REGISTRY

    rules = [memory.AUTOCAST_LOWER, memory.AUTOCAST_FP32, memory.AUTOCAST_FOLLOW,
             memory.AUTOCAST_PROJECTED]
    assert {name: sum(name in rule for rule in rules) for name in REGISTRY} == dict.fromkeys(
        REGISTRY, 1)
    assert set().union(*rules) == set(REGISTRY)


def test_amp_keeps_the_casts_of_the_weights() -> None:
    """VGG-11 under AMP keeps what the same net in bfloat16 keeps, plus a bfloat16 copy of
    every conv and linear weight (not the biases); torch agrees in test_memory.py."""
    net = cnncalc.load("vgg11")
    amp = estimate(net, mode="training", dtype="bfloat16", amp=True)
    half = estimate(net, mode="training", dtype="bfloat16")
    rows = cnncalc.analyze(net).layers
    weights = sum(r.params - r.output_shape[0] for r in rows if r.op in ("conv", "linear"))
    assert amp.saved_activation_bytes - half.saved_activation_bytes == 2 * weights
    assert amp.param_bytes == 2 * half.param_bytes  # float32 parameters


def test_the_readme_shows_what_cnncalc_memory_prints() -> None:
    """The README's `$ cnncalc memory ...` outputs are current: every line it shows (the
    rows it elides with `...` aside) is a line the command prints, in order."""
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    blocks = re.findall(r"```\n\$ (cnncalc memory [^\n]*)\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for command, shown in blocks:
        proc, _ = fresh_cli(*shlex.split(command)[1:])
        assert proc.returncode == 0, proc.stderr
        printed = iter(line.strip() for line in proc.stdout.splitlines())
        for line in shown.splitlines():
            if line.strip() and line.strip() != "...":
                assert any(p == line.strip() for p in printed), (command, line)


def test_fit_reads_a_size_as_max_memory_does() -> None:
    """--fit and torch's --max-memory share one reader (cnncalc.pytorch.budget.parse_size):
    the same units, exact integers, and a size under one byte refused."""
    proc, _ = fresh_cli("memory", "lenet5", "--fit", "0.5")
    assert proc.returncode == 2 and "--fit 0.5" in proc.stderr, proc.stderr
    proc, _ = fresh_cli("memory", "lenet5", "--fit", "1G", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["fit"]["limit_bytes"] == 10**9
