"""A sweep of hostile and extreme inputs across every command: whatever a user types ends
in a verdict (0), a failed check (1), a located error (2) or an environment refusal (3) —
never an internal error (70), a traceback, a hang or a signal.

The corpus holds members of each class the reliability sweep named (non-finite numbers,
figures past a float, deep nesting, reserved or colliding names, hostile strings, absurd
sizes, paths that are not files); the same classes have their own focused tests elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

HEAD = "cnncalc: 1\ninput: [3, 32, 32]\n"
BIG = "9" * 29  # just inside the spec's 30-digit integer limit

SPECS: dict[str, str] = {
    "inf_expect": HEAD + "layers: [{op: conv, out: 8, k: 3}]\nexpect: {params: .inf}\n",
    "e400_expect": HEAD + "layers: [{op: conv, out: 8, k: 3}]\nexpect: {macs: 1e400}\n",
    "nan_expect": HEAD + "layers: [{op: conv, out: 8, k: 3}]\nexpect: {flops: .nan}\n",
    "minus_inf_budget": HEAD + "layers: [{op: conv, out: 8, k: 3}]\nexpect: {max_params: -.inf}\n",
    "layer_inf_expect": HEAD + "layers: [{id: c, op: conv, out: 8, k: 3}]\n"
                        "expect: {layers: {c: {macs: 1e999}}}\n",
    "huge_dims": f"cnncalc: 1\ninput: [3, {BIG}, {BIG}]\n"
                 f"layers: [{{op: conv, out: {BIG}, k: 3}}, relu, {{op: maxpool, k: 2}}]\n",
    "huge_expr": HEAD + f"tables: {{w: {BIG}}}\nlayers: [{{op: conv, out: '${{w*w}}', k: 3}}]\n",
    "huge_linear": f"cnncalc: 1\ninput: [{BIG}]\nlayers: [{{op: linear, out: {BIG}}}]\n",
    "eps_nan": HEAD + "layers: [{op: batchnorm, eps: .nan}]\n",
    "momentum_inf": HEAD + "layers: [{op: batchnorm, momentum: .inf}]\n",
    "dropout_nan": HEAD + "layers: [{op: dropout, p: .nan}]\n",
    "block_chain": "cnncalc: 1\ninput: [3, 8, 8]\nblocks:\n"
                   + "".join(f"  b{i}:\n    layers: [b{i + 1}]\n" for i in range(400))
                   + "  b400:\n    layers: [relu]\nlayers: [b0]\n",
    "deep_parens": HEAD + "layers: [{op: conv, out: '${" + "(" * 2000 + "1" + ")" * 2000
                   + "}', k: 1}]\n",
    "long_sum": HEAD + "layers: [{op: conv, out: '${" + "+".join(["1"] * 20000) + "}', k: 1}]\n",
    "self_alias": HEAD + "tables: {t: &x [*x]}\nlayers: [relu]\n",
    "ctrl_strings": HEAD + 'name: "\\e[31m\\a\\0\\x9b"\nlayers: [{id: "\\e[2J", op: relu}]\n',
    "reserved_ids": HEAD + "layers: [{id: forward, op: relu}, {id: forward_, op: relu},"
                    " {id: training, op: relu}, {id: parameters, op: relu}]\n",
    "id_newline": HEAD + 'layers: [{id: "a\\n", op: relu}]\n',
    "long_id": HEAD + "layers: [{id: " + "a" * 50_000 + ", op: relu}]\n",
    "version_float": "cnncalc: 1.0\ninput: [3, 8, 8]\nlayers: [relu]\n",
    "tables_true_one": HEAD + "tables: {1: 3, yes: 4}\nlayers: [relu]\n",
    "transposed": "cnncalc: 1\ninput: [3, 8, 8]\nlayers: [{op: conv_transpose, out: 4, k: 3, "
                  "stride: 2}]\n",
    "instancenorm_1x1": "cnncalc: 1\ninput: [3, 1, 1]\nlayers: [{op: instancenorm}]\n",
    "linear_bn": "cnncalc: 1\ninput: [8]\nlayers: [{op: linear, out: 4, bn: true}]\n",
    "linear_axis_bad": HEAD + "layers: [{op: linear, out: 4, axis: 2}]\n",
    "linear_axis_str": HEAD + "layers: [{op: linear, out: 4, axis: channels}]\n",
    "linear_map_no_axis": HEAD + "layers: [{op: linear, out: 4, bn: true, act: relu}]\n",
    "same_upper_huge": f"cnncalc: 1\ninput: [3, {BIG}, {BIG}]\nlayers: [{{op: conv, out: 4, "
                       f"k: {BIG}, stride: {BIG}, pad: same_upper}}]\n",
    "same_lower_local": HEAD + "layers: [{op: local, out: 2, k: 4, stride: 3, pad: same_lower}]\n",
    "same_upper_list": HEAD + "layers: [{op: conv, out: 2, k: 3, pad: [same_upper]}]\n",
    "dead_chain_output_first": HEAD + "output: c0\nlayers:\n  - {id: c0, op: conv, out: 2, k: 1}\n"
                               "  - {op: relu, repeat: 3000}\n",
    "dead_branch_strict": HEAD + "strict: true\nlayers: [{id: a, op: conv, out: 2, k: 1}, "
                          "{id: b, op: relu, in: input}]\n",
    "side_by_side_not_bool": HEAD + "side_by_side: 'yes'\nlayers: [relu]\n",
    "linear_axis0_huge": f"cnncalc: 1\ninput: [{BIG}, {BIG}, 3]\n"
                         f"layers: [{{op: linear, out: {BIG}, axis: 0, bn: true}}]\n",
    # hostile expressions: deep nesting, values past a float or the digit limit, misuse of
    # the input-shape names, conditions that are not booleans
    **{f"expr_{name}": HEAD + f"layers: [{{op: conv, out: '${{{text}}}', k: 1}}]\n"
       for name, text in {
        "deep_if": "1 if true else (" * 15 + "1" + ")" * 15,
        "too_deep_if": "1 if true else (" * 40 + "1" + ")" * 40,
        "unary_chain": "-" * 250 + "1",
        "not_chain": "1 if " + "not " * 60 + "true else 2",
        "float_overflow": "1e308*10",
        "inf_literal": "1e999",
        "tiny_divisor": "1 / 1e-300",
        "pow_10000": "2**10000",
        "power_tower": "2**2**2**2**2",
        "shape_power": "len(in_shape) ** len(in_shape) ** 99",
        "compare_lists": "1 if in_shape < input_shape else 2",
        "compare_shapes": "1 if in_shape == input_shape else 2",
        "shape_oob": "in_shape[-9]",
        "shape_index_expr": "in_shape[in_channels]",
        "shape_arith": "in_shape * 2",
        "make_divisible_huge": "make_divisible(1e59, 7)",
        "make_divisible_zero": "make_divisible(8, 0)",
        "float_out": "in_channels / 3",
        "round_huge": "round(9.99e59)",
        "bool_out": "in_channels > 2",
        "chained_compare": " < ".join(["1"] * 80),
    }.items()},
    "if_not_bool": HEAD + "layers: [{op: relu, if: 3}, relu]\n",
    "if_string": HEAD + "layers: [{op: relu, if: 'maybe'}, relu]\n",
    "if_all_skipped": HEAD + "layers: [{op: relu, if: false}, {op: conv, out: 4, k: 1, "
                      "if: '${in_channels == 4}'}]\n",
    "if_output_skipped": HEAD + "output: x\nlayers: [{id: x, op: relu, if: false}, relu]\n",
    "if_shape_in_block": HEAD + "blocks:\n  b:\n    layers:\n      - {op: conv, out: 3, k: 1}\n"
                         "      - {op: add, in: [input, conv1], if: '${in_shape == input_shape}'}\n"
                         "layers: [{op: b, repeat: {n: 3, first: {op: relu}, last: {op: nope}}}]\n",
    "repeat_float": HEAD + "layers: [{op: relu, repeat: '${2.5}'}]\n",
    "groups_float": HEAD + "layers: [{op: conv, out: 6, k: 1, groups: '${in_channels / 1}'}]\n",
    "huge_broadcast": f"cnncalc: 1\ninput: [{BIG}, {BIG}, {BIG}]\nlayers: [{{op: avgpool, "
                      "global: true}, {op: mul, in: [input, avgpool1]}, {op: add, in: [input, "
                      "mul1, avgpool1], project: auto}]\n",
    "slice_huge": f"cnncalc: 1\ninput: [{BIG}, 8, 8]\nlayers: [{{op: slice, start: {BIG[:-1]}}}, "
                  f"{{op: slice, part: {BIG[:-2]}, parts: {BIG[:-1]}}}]\n",
    "slice_float": HEAD + "layers: [{op: slice, start: 1.5}]\n",
    "drop_path_nan": HEAD + "layers: [{op: drop_path, p: .nan}]\n",
    "drop_path_huge": f"cnncalc: 1\ninput: [{BIG}, {BIG}]\nlayers: [{{op: drop_path, p: 0.5}}]\n",
    "upsample_ref_huge": f"cnncalc: 1\ninput: [3, {BIG}, {BIG}]\nlayers: [{{op: maxpool, k: 2}}, "
                         "{op: upsample, mode: bilinear, in: [maxpool1, input]}]\n",
    "upsample_ref_vector": HEAD + "layers: [flatten, {op: upsample, in: [flatten1, input]}]\n",
    "layer_scale_huge": f"cnncalc: 1\ninput: [{BIG}, {BIG}, {BIG}]\nlayers: [{{op: layer_scale, "
                        "init: 1e300}]\n",
}

#: commands that take one SPEC and analyse it; torch ones only where torch is installed
SPEC_COMMANDS = ["summary", "shapes", "params", "flops", "rf", "explain", "graph", "check"]
ALLOWED = {0, 1, 2, 3}
runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, text in SPECS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def _assert_verdict(args: list[str]) -> None:
    result = runner.invoke(app, args, input=SHAPED if "-" in args else None)
    text = (result.stderr or "") + (result.stdout or "")
    assert result.exit_code in ALLOWED, (args[:3], result.exit_code, text[-600:])
    assert "internal error" not in text and "Traceback" not in text, (args[:3], text[-600:])
    if result.exit_code == 2:  # said, and located where a spec is at fault
        assert "error" in text.lower(), (args[:3], text[-300:])


@pytest.mark.parametrize("command", SPEC_COMMANDS)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_command_gives_a_verdict(corpus: Path, command: str, name: str) -> None:
    _assert_verdict([command, str(corpus / f"{name}.yaml")])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_check_writes_its_reports_whatever_the_spec(corpus: Path, tmp_path: Path,
                                                    name: str) -> None:
    junit = tmp_path / "out.xml"
    _assert_verdict(["check", str(corpus / f"{name}.yaml"), "-f", "junit", "-o", str(junit)])
    import xml.etree.ElementTree as ET

    ET.parse(junit)  # written, and well-formed


def test_one_folder_of_every_hostile_spec_is_checked_file_by_file(corpus: Path) -> None:
    result = runner.invoke(app, ["check", str(corpus)])
    assert result.exit_code == 2, result.stderr[-500:]
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("args", [
    ["summary", "lenet5", "--batch", "9" * 307],
    ["flops", "lenet5", "--batch", "9" * 40, "--format", "markdown"],
    ["compare", "lenet5", "resnet18", "--batch", "9" * 40],
    ["summary", "lenet5", "--input", "3 224 224"],
    ["summary", "lenet5", "--input", "\u0663\u0662"],
    ["summary", "lenet5", "--batch", "\uff13"],
    ["summary", "lenet5", "--max-bytes", "99999999999999"],
    ["summary", "lenet5", "--max-bytes", "1e22"],
    ["summary", ""],
    ["check", ""],
    ["compare", "lenet5", "--input", "28", "--input", "32"],
    ["solve", "stride", "--input", str(10**18), "--k", "3", "-s", "5"],
    ["solve", "kernel", "--input", str(10**15), "-s", "5"],
    ["solve", "pad", "--input", "9" * 77, "--k", "3", "-s", "5"],
    ["sizes", "lenet5", "--range", "1:1000000000000"],
    ["calc", "conv", "--input", "3x32x32", "--out", "8", "--k", "0"],
    ["summary", "-", "--input", "8"],  # (stdin: the input-dependent spec below)
    ["sizes", "-", "--range", "1:40"],
], ids=lambda a: " ".join(x[:12] for x in a)[:60])
def test_hostile_options_get_a_verdict(args: list[str]) -> None:
    _assert_verdict(args)


#: a spec whose layers depend on the input shape, read from stdin by the cases above
SHAPED = HEAD + ("layers: [{op: conv, out: '${in_shape[2] * in_channels}', k: 3, "
                 "groups: '${in_channels}', if: '${in_shape[1] > 4}'}, relu]\n")


def test_check_refuses_a_glob_that_leaves_the_folder(corpus: Path) -> None:
    _assert_verdict(["check", str(corpus), "--glob", "/etc/*"])
    _assert_verdict(["check", str(corpus), "--glob", "../*"])


@pytest.mark.parametrize("suffix", ["missing/deeper/x.dot", "x.txt"])
def test_output_paths_get_a_verdict(tmp_path: Path, suffix: str) -> None:
    _assert_verdict(["graph", "lenet5", "--output", str(tmp_path / suffix)])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_a_spec_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "summary", str(fifo)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_stdin_is_a_clear_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", "-"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, close_fds=True,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_disk_on_stdout_is_not_a_bug() -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "cnncalc", "summary", "lenet5"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode not in (0, 70), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


# ------------------------------------------------------------------ the torch commands
TORCH_SPECS = {
    **SPECS,
    "too_big_for_memory": "cnncalc: 1\ninput: [64, 20000, 20000]\nlayers: [relu]\n",
    "groupnorm_vector": "cnncalc: 1\ninput: [8]\nlayers: [{op: groupnorm, groups: 8}]\n",
}


@pytest.fixture(scope="module")
def torch_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("hostile_torch")
    for name, text in TORCH_SPECS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", sorted(TORCH_SPECS))
def test_build_gives_a_verdict(torch_corpus: Path, name: str) -> None:
    _assert_verdict(["build", str(torch_corpus / f"{name}.yaml")])
    _assert_verdict(["build", str(torch_corpus / f"{name}.yaml"), "--mode", "training"])


@pytest.mark.parametrize("name", ["instancenorm_1x1", "linear_bn", "too_big_for_memory",
                                  "groupnorm_vector", "reserved_ids", "huge_dims"])
@pytest.mark.parametrize("mode", ["inference", "training"])
def test_profile_gives_a_verdict(torch_corpus: Path, name: str, mode: str) -> None:
    _assert_verdict(["profile", str(torch_corpus / f"{name}.yaml"), "--mode", mode,
                     "--warmup", "0", "--iters", "1"])


@pytest.mark.parametrize("args", [
    ["profile", "lenet5", "--batch-size", "100000000", "--warmup", "0", "--iters", "1"],
    ["profile", "lenet5", "--batch-size", "99999999999999999999999"],
    ["profile", "lenet5", "--max-memory", "1KiB", "--warmup", "0", "--iters", "1"],
    ["profile", "lenet5", "--max-memory", "lots"],
])
def test_profile_options_get_a_verdict(args: list[str]) -> None:
    pytest.importorskip("torch")
    _assert_verdict(args)


@pytest.mark.parametrize("name", ["too_big_for_memory", "reserved_ids", "huge_dims",
                                  "instancenorm_1x1"])
def test_verify_gives_a_verdict(torch_corpus: Path, name: str) -> None:
    _assert_verdict(["summary", str(torch_corpus / f"{name}.yaml"), "--verify"])


# ------------------------------------------------------------------ output files
def _output_commands(target: str) -> list[list[str]]:
    commands = [["schema", "-o", target], ["graph", "lenet5", "-o", target],
                ["check", "lenet5", "-f", "junit", "-o", target]]
    try:
        import torch  # noqa: F401
    except ImportError:
        return commands
    return [*commands, ["export", "lenet5", "--torchscript", target],
            ["export", "lenet5", "--onnx", target]]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_every_output_file_on_a_full_disk_is_exit_3() -> None:
    """Every command that writes a file the user named treats a full disk alike: exit 3
    and the path, never a crash (torch's own writers abort the process in C++)."""
    for args in _output_commands("/dev/full"):
        proc = subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 3, (args, proc.returncode, proc.stderr[-400:])
        assert "/dev/full: cannot write: No space left on device" in proc.stderr, args


def test_an_output_path_through_a_file_is_exit_2(tmp_path: Path) -> None:
    """A folder to create that is a file already: the path is wrong (exit 2)."""
    (tmp_path / "plain").write_text("x")
    for args in _output_commands(str(tmp_path / "plain" / "out.x")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output[-400:])
        assert "cannot create the folder" in result.stderr, args


def test_export_makes_the_folder_like_every_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    target = tmp_path / "new" / "deeper" / "lenet5.pt"
    result = runner.invoke(app, ["export", "lenet5", "--torchscript", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and list(target.parent.iterdir()) == [target]


# ------------------------------------------------------------------ hostile strings
RAW_CONTROLS = ("\x1b", "\x07", "\x00", "\x9b", "\u202e")


@pytest.mark.parametrize("args", [
    ["summary"], ["shapes"], ["params"], ["flops"], ["rf"], ["explain"],
    ["explain", "-f", "markdown"], ["summary", "-f", "markdown"], ["graph"],
    ["graph", "--format", "dot"], ["check", "-v"], ["check", "-f", "github"],
    ["compare", "lenet5"], ["diff", "lenet5"],
], ids=" ".join)
def test_text_output_shows_a_specs_control_characters_escaped(tmp_path: Path,
                                                              args: list[str]) -> None:
    spec = tmp_path / "ctrl.yaml"
    spec.write_text('cnncalc: 1\nname: "\\e]0;title\\a\\e[31mRED\\x9b\\u202e"\n'
                    "input: [3, 8, 8]\nlayers: [{id: a, op: relu}]\n", encoding="utf-8")
    command, *rest = args
    result = runner.invoke(app, [command, str(spec), *rest])
    assert result.exit_code == 0, result.output[-400:]
    text = result.stdout + result.stderr
    assert not [c for c in RAW_CONTROLS if c in text], (args, text[:300])
