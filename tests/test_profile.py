"""`cnncalc profile`: measurement logic, devices, errors and output (CPU only here).

No test asserts a duration: the machine is shared.  Timing logic is checked with a
fake timer; the CUDA path is checked with a fake ``torch.cuda`` for its
synchronisation and event calls.
"""

from __future__ import annotations

import json
import sys

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import EnvironmentUnavailable  # noqa: E402
from cnncalc.pytorch import profile as prof  # noqa: E402

TINY = """cnncalc: 1
name: tiny
input: [3, 16, 16]
layers:
  - {id: c1, op: conv, out: 8, k: 3, pad: 1, bn: true, act: relu}
  - {id: c2, op: conv, out: 8, k: 3, stride: 2}
  - {op: avgpool, global: true}
  - flatten
  - {id: fc, op: linear, out: 4}
"""
FAST = prof.Budget(warmup=1, iters=3)


@pytest.fixture(scope="module")
def tiny() -> cnncalc.Network:
    torch.set_num_threads(1)
    return cnncalc.loads(TINY, "tiny.yaml")


def test_latency_stats_quantiles() -> None:
    s = prof.LatencyStats.of([0.001, 0.002, 0.003, 0.004, 0.005], iterations=5)
    assert s.median_ms == pytest.approx(3.0)
    assert s.p10_ms == pytest.approx(1.4) and s.p90_ms == pytest.approx(4.6)
    assert s.spread == pytest.approx((4.6 - 1.4) / 3.0)
    assert s.cv == pytest.approx(0.4714, rel=1e-3)


class FakeTimer(prof.Timer):
    """Each call of the step 'takes' 1 ms."""

    def __init__(self) -> None:
        self.calls = 0
        self.blocks: list[int] = []

    def time_block(self, fn, n):  # type: ignore[no-untyped-def]
        for _ in range(n):
            fn()
        self.calls += n
        self.blocks.append(n)
        return n * 0.001


def test_measure_excludes_warmup_and_blocks_until_min_sample() -> None:
    timer, ran = FakeTimer(), []
    times, n = prof.measure(lambda: ran.append(1), timer,
                            prof.Budget(warmup=4, min_time=0.1, min_sample=0.01))
    assert len(ran) == 4 + timer.calls  # warm-up ran, but was not timed
    assert timer.blocks[-1] >= 10  # a sample lasts >= min_sample (10 x 1 ms)
    assert all(t == pytest.approx(0.001) for t in times)
    assert n == timer.blocks[-1] * len(times)


def test_measure_fixed_iterations() -> None:
    times, n = prof.measure(lambda: None, FakeTimer(), prof.Budget(warmup=0, iters=7))
    assert len(times) == 7 and n == 7


def test_profile_cpu_sweep_figures_are_consistent(tiny: cnncalc.Network) -> None:
    settings = prof.ProfileSettings(device="cpu", batches=(1, 4), budget=FAST, threads=1)
    seen: list[str] = []
    rep = prof.run_profile(tiny, settings, progress=lambda label, d, t: seen.append(label))
    macs = cnncalc.analyze(tiny).totals.macs
    assert [r.batch_size for r in rep.results] == [1, 4]
    for r in rep.results:
        lat = r.latency
        assert lat.p10_ms <= lat.median_ms <= lat.p90_ms and lat.samples == 3
        seconds = lat.median_ms / 1e3
        assert r.throughput_per_s == pytest.approx(r.batch_size / seconds)
        assert r.achieved_gflops == pytest.approx(2 * macs * r.batch_size / seconds / 1e9)
        assert r.peak_memory_source == "estimated" and r.peak_memory_bytes > 0
    assert rep.threads == 1 and rep.device == "cpu" and rep.macs_per_sample == macs
    assert seen[0] == "batch 1" and seen[-1] == "done"


def test_training_mode_and_per_layer(tiny: cnncalc.Network) -> None:
    settings = prof.ProfileSettings(device="cpu", batches=(2,), budget=FAST, mode="training",
                             per_layer=True)
    rep = prof.run_profile(tiny, settings)
    assert rep.results[0].latency is not None
    ids = [row.id for row in rep.per_layer]
    assert ids == [n.id for n in tiny.nodes]
    assert sum(row.share for row in rep.per_layer) == pytest.approx(1.0)
    assert rep.per_layer[0].macs == cnncalc.analyze(tiny).layer("c1").macs * 2


def test_oom_row_does_not_end_the_sweep(tiny: cnncalc.Network, monkeypatch) -> None:
    real = prof.measure

    def flaky(step, timer, budget):  # type: ignore[no-untyped-def]
        if flaky.calls == 0:
            flaky.calls += 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return real(step, timer, budget)

    flaky.calls = 0
    monkeypatch.setattr(prof, "measure", flaky)
    rep = prof.run_profile(tiny, prof.ProfileSettings(device="cpu", batches=(64, 1), budget=FAST))
    assert rep.results[0].error == "out of memory" and rep.results[0].latency is None
    assert rep.results[1].latency is not None


def test_cuda_unavailable_is_exit_3_and_lists_devices() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(EnvironmentUnavailable) as info:
        prof.resolve_device("cuda")
    assert "devices present: cpu" in info.value.message and info.value.exit_code == 3
    result = CliRunner().invoke(app, ["profile", "lenet5", "--device", "cuda"])
    assert result.exit_code == 3
    assert prof.resolve_device("auto") in ("cpu", "mps")


class FakeCuda:
    """Records the calls a correct CUDA measurement makes."""

    def __init__(self) -> None:
        self.log: list[str] = []
        outer = self

        class Event:
            def __init__(self, enable_timing: bool = False) -> None:
                assert enable_timing
                self.t = 0.0

            def record(self) -> None:
                outer.log.append("record")
                self.t = len(outer.log)

            def elapsed_time(self, other) -> float:  # type: ignore[no-untyped-def]
                return 2.5  # ms

        self.Event = Event

    def synchronize(self) -> None:
        self.log.append("sync")

    def empty_cache(self) -> None:
        self.log.append("empty_cache")

    def reset_peak_memory_stats(self) -> None:
        self.log.append("reset_peak")

    def max_memory_allocated(self) -> int:
        return 123456


def test_cuda_timer_synchronises_and_uses_events() -> None:
    timer = prof.CudaTimer()
    fake = FakeCuda()
    timer.torch = type("T", (), {"cuda": fake})()
    ran = []
    seconds = timer.time_block(lambda: (fake.log.append("step"), ran.append(1)), 3)
    assert seconds == pytest.approx(0.0025)
    assert fake.log == ["sync", "record", "step", "step", "step", "record", "sync"]
    timer.reset_peak()
    assert fake.log[-2:] == ["empty_cache", "reset_peak"] and timer.peak_bytes() == 123456


# --------------------------------------------------- training memory: estimate and CUDA
class LoggingCuda(FakeCuda):
    """A fake ``torch.cuda`` whose counter read is logged too, returning ``peak``."""

    def __init__(self, peak: int = 7_654_321) -> None:
        super().__init__()
        self.peak = peak

    def max_memory_allocated(self) -> int:
        self.log.append("read")
        return self.peak


def test_measured_step_peak_is_reset_sync_step_sync_read() -> None:
    cuda = LoggingCuda()
    got = prof.measured_step_peak(cuda, lambda: cuda.log.append("step"))
    assert got == 7_654_321
    assert cuda.log == ["reset_peak", "sync", "step", "sync", "read"]


def _memory_estimate(net: cnncalc.Network, batch: int, **kw) -> int:  # type: ignore[no-untyped-def]
    from cnncalc.memory import estimate

    return estimate(net, mode="training", batch=batch, optimizer="sgd", **kw).peak_bytes


@pytest.mark.parametrize("batch", [1, 3])
def test_training_profile_reports_the_training_estimate_on_cpu(tiny, batch: int) -> None:
    """On a device without a counter, ``profile --mode training`` reports cnncalc.memory's
    peak of one SGD step (it used to report the inference estimate)."""
    settings = prof.ProfileSettings(device="cpu", batches=(batch,), budget=FAST,
                                    mode="training")
    r = prof.run_profile(tiny, settings).results[0]
    train = _memory_estimate(tiny, batch)
    assert (r.peak_memory_bytes, r.peak_memory_source) == (train, "estimated")
    assert r.estimated_memory_bytes == train
    infer = prof.run_profile(tiny, prof.ProfileSettings(
        device="cpu", batches=(batch,), budget=FAST)).results[0]
    assert infer.peak_memory_bytes != train and infer.estimated_memory_bytes is None


def test_training_estimate_under_autocast_is_the_amp_estimate(tiny) -> None:
    settings = prof.ProfileSettings(device="cpu", batches=(2,), budget=FAST, mode="training",
                                    dtype="bfloat16")
    r = prof.run_profile(tiny, settings).results[0]
    assert r.peak_memory_bytes == _memory_estimate(tiny, 2, dtype="bfloat16", amp=True)


class CudaOnCpu:
    """``torch`` with a fake ``cuda`` (logging) and tensors made on the CPU: runs the CUDA
    branch of the profiler's batch on a machine without a GPU."""

    def __init__(self, cuda: LoggingCuda) -> None:
        self.cuda = cuda

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(torch, name)

    def randn(self, *shape, device=None):  # type: ignore[no-untyped-def]
        return torch.randn(*shape)


def test_cuda_training_measures_one_step_next_to_the_estimate(tiny) -> None:
    """The CUDA branch, end to end with a fake device: after the timed steps, one more step
    between reset -> sync and sync -> read gives the measured peak; the row keeps the
    estimate next to it and the table shows both."""
    from cnncalc.render.profile import results_table
    from cnncalc.units import human_bytes

    cuda = LoggingCuda(peak=5_000_000)
    model = cnncalc.build_torch(tiny)
    model.train()

    def runner(x):  # type: ignore[no-untyped-def]
        cuda.log.append("forward")
        return model(x)

    settings = prof.ProfileSettings(device="cuda", batches=(2,), budget=FAST, mode="training")
    analysis = cnncalc.analyze(tiny)
    r = prof._batch(CudaOnCpu(cuda), model, runner, tiny, 2, "cuda", settings, FakeTimer(),
                    analysis, None)
    assert cuda.log[-5:] == ["reset_peak", "sync", "forward", "sync", "read"]
    assert cuda.log.count("forward") == FAST.warmup + FAST.iters + 1
    est = _memory_estimate(tiny, 2)
    assert (r.peak_memory_bytes, r.peak_memory_source, r.estimated_memory_bytes) == (
        5_000_000, "measured", est)
    report = prof.ProfileReport("tiny", "cuda", "Fake GPU", torch.__version__, "float32",
                                "training", None, False, False, analysis.totals.macs, (r,))
    from rich.console import Console

    console = Console(width=200, color_system=None, record=True)
    console.print(results_table(report))
    assert f"{human_bytes(5_000_000)} (est. {human_bytes(est)})" in console.export_text()
    assert prof.ProfileReport.to_dict(report)["results"][0]["estimated_memory_bytes"] == est


def test_known_peaks() -> None:
    assert prof.known_peak("NVIDIA A100-SXM4-80GB", "float16") == 312.0
    assert prof.known_peak("Some CPU", "float32") is None


def test_cli_json_and_compare() -> None:
    result = CliRunner().invoke(app, ["profile", "lenet5", "--iters", "2", "--warmup", "0",
                                      "--batch-size", "1,2", "--compare", "lenet",
                                      "--device", "cpu", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["device"] == "cpu" and data["torch"] == torch.__version__
    assert [r["batch_size"] for r in data["results"]] == [1, 2]
    row = data["results"][0]
    for key in ("median", "p10", "p90"):
        assert row["latency_ms"][key] > 0
    assert row["throughput_per_s"] > 0 and row["achieved_gflops"] > 0
    assert row["peak_memory_bytes"] > 0
    assert data["compare"]["name"] and len(data["ratios"]) == 2


def test_cli_table_and_bad_options() -> None:
    ok = CliRunner().invoke(app, ["profile", "lenet5", "--iters", "2", "--warmup", "0"])
    assert ok.exit_code == 0 and "median ms" in ok.stdout
    bad = CliRunner().invoke(app, ["profile", "lenet5", "--batch-size", "0"])
    assert bad.exit_code == 2 and "batch" in bad.output
    bad = CliRunner().invoke(app, ["profile", "lenet5", "--min-time", "soon"])
    assert bad.exit_code == 2


def test_without_torch_exit_3(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(app, ["profile", "lenet5"])
    assert result.exit_code == 3 and "cnncalc[torch]" in result.output


# ------------------------------------------------------------------ --compile, busy machines
def test_compile_runs_an_untimed_first_call_per_batch_size(tiny, monkeypatch) -> None:
    calls: list[int] = []

    def fake_compile(model):  # type: ignore[no-untyped-def]
        def runner(x):  # type: ignore[no-untyped-def]
            calls.append(x.shape[0])
            return model(x)
        return runner

    monkeypatch.setattr(torch, "compile", fake_compile)
    settings = prof.ProfileSettings(device="cpu", batches=(1, 2), compile=True,
                             budget=prof.Budget(warmup=0, iters=2))
    rep = prof.run_profile(tiny, settings)
    assert calls == [1, 1, 1, 2, 2, 2]  # per batch: the compiling call, then 2 timed ones
    assert all(r.latency.samples == 2 and r.first_call_ms is not None for r in rep.results)
    assert any("compilation is excluded" in n for n in rep.notes)
    plain = prof.run_profile(tiny, prof.ProfileSettings(device="cpu", batches=(1,), budget=FAST))
    assert plain.results[0].first_call_ms is None
    assert not any("compil" in n for n in plain.notes)


def test_busy_warning_names_the_load_and_suggests_threads(monkeypatch) -> None:
    monkeypatch.setattr(prof.os, "cpu_count", lambda: 2)
    assert prof.busy_warning(2, load=1.5) is None
    text = prof.busy_warning(2, load=3.4)
    assert text and "load average 3.40" in text and "--threads 1" in text
    assert "--threads" not in (prof.busy_warning(1, load=5.0) or "--threads")


@pytest.mark.parametrize("load,warned", [(50.0, True), (0.0, False)])
def test_profile_warns_on_stderr_when_the_machine_is_busy(monkeypatch, load, warned) -> None:
    monkeypatch.setattr(prof.os, "getloadavg", lambda: (load, load, load))
    result = CliRunner().invoke(app, ["profile", "lenet5", "--iters", "1", "--warmup", "0",
                                      "--threads", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert ("warning: the machine is busy: load average 50.00" in result.stderr) is warned
    assert ("--threads 1" in result.stderr) is warned
    json.loads(result.stdout)  # the warning stays off stdout


# ------------------------------------------------------------------ --batch, bounds, memory
@pytest.mark.parametrize("spelling", ["--batch-size", "--batch", "-b"])
def test_batch_has_two_spellings(spelling: str) -> None:
    result = CliRunner().invoke(app, ["profile", "lenet5", spelling, "1,3", "--iters", "1",
                                      "--warmup", "0", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["batch_size"] for r in json.loads(result.stdout)["results"]] == [1, 3]


@pytest.mark.parametrize("args,code,says", [
    (["--batch-size", "100000000"], 3, "profiling inference at batch 100,000,000 needs ~"),
    (["--batch-size", "1,100000000"], 3, "at most batch"),
    (["--batch", "99999999999999999999999"], 2, "int64"),
    (["--batch", "9223372036854775807"], 2, "int64"),  # fits int64, not the tensor
    (["--max-memory", "100kB"], 3, "KiB --max-memory"),
    (["--max-memory", "lots"], 2, "--max-memory lots"),
    (["--batch-size", ",".join(["1"] * 65)], 2, "at most 64"),
    (["--threads", "100000"], 2, "threads"),
    (["--warmup", "100000000"], 2, "warmup"),
    (["--min-time", "2000m"], 2, "at most 600s"),
    (["--mode", "training", "--batch", "100000000"], 3, "gradients"),
])
def test_profile_refuses_before_allocating(args: list[str], code: int, says: str) -> None:
    result = CliRunner().invoke(app, ["profile", "lenet5", "--iters", "1", *args])
    assert result.exit_code == code, result.output
    assert says in result.output and "Traceback" not in result.output
    assert "frame #" not in result.output and "internal error" not in result.output


def test_max_memory_allows_what_fits() -> None:
    result = CliRunner().invoke(app, ["profile", "lenet5", "--iters", "1", "--warmup", "0",
                                      "--max-memory", "1GiB", "--batch", "2"])
    assert result.exit_code == 0, result.output


def test_allocation_failure_at_every_batch_size_is_exit_3(tiny, monkeypatch) -> None:
    def oom(step, timer, budget):  # type: ignore[no-untyped-def]
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate 409600000000 bytes.")

    monkeypatch.setattr(prof, "measure", oom)
    with pytest.raises(EnvironmentUnavailable) as info:
        prof.run_profile(tiny, prof.ProfileSettings(device="cpu", batches=(1, 2), budget=FAST))
    assert "out of memory on cpu at every batch size (1, 2)" in info.value.message


def test_cuda_budget_is_the_free_gpu_memory(tiny, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (10_000, 16 * 2**30))
    analysis = cnncalc.analyze(tiny)
    with pytest.raises(EnvironmentUnavailable) as info:
        prof.check_before_running(tiny, analysis, prof.ProfileSettings(batches=(1,)), "cuda")
    assert "9.8 KiB available on the GPU" in info.value.message
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (2**30, 16 * 2**30))
    prof.check_before_running(tiny, analysis, prof.ProfileSettings(batches=(1,)), "cuda")


# ------------------------------------------------------------------ training mode
def test_training_refuses_batchnorm_on_one_value_per_channel_located(tmp_path) -> None:
    spec = tmp_path / "fc.yaml"
    spec.write_text("cnncalc: 1\ninput: [3, 4, 4]\nlayers:\n  - flatten\n"
                    "  - {id: fc, op: linear, out: 8, bn: true, act: relu}\n")
    bad = CliRunner().invoke(app, ["profile", str(spec), "--mode", "training", "--iters", "1"])
    assert bad.exit_code == 2, bad.output
    assert f"{spec}:5:5: error: fc.bn: batchnorm in training mode" in bad.stderr
    assert "at batch 1" in bad.stderr and "Traceback" not in bad.output
    ok = CliRunner().invoke(app, ["profile", str(spec), "--mode", "training", "--iters", "1",
                                  "--batch", "2"])
    assert ok.exit_code == 0, ok.output


def test_training_a_net_without_parameters_runs_the_backward_pass() -> None:
    spec = cnncalc.loads("cnncalc: 1\ninput: [3, 8, 8]\n"
                         "layers:\n  - relu\n  - {op: maxpool, k: 2}\n")
    rep = prof.run_profile(spec, prof.ProfileSettings(device="cpu", mode="training", budget=FAST))
    assert rep.results[0].latency is not None


# ------------------------------------------------------------------ every op, every layout
@pytest.mark.parametrize("name", sorted(cnncalc.ops.REGISTRY))
def test_every_op_profiles_channels_last_in_both_modes(name: str) -> None:
    """1-, 2- and 3-D inputs, training and inference, float32, bfloat16 and float16
    autocast, channels-last and per-layer: every op runs."""
    from test_build import op_sample

    sample = op_sample(name)
    runs = 0
    for shape in ("[4, 12]", "[4, 12, 12]", "[4, 6, 6, 6]"):
        layers = "\n".join("  " + line for line in sample.splitlines())
        try:
            spec = cnncalc.loads(f"cnncalc: 1\ninput: {shape}\nlayers:\n{layers}\n")
            cnncalc.analyze(spec)
        except cnncalc.CnncalcError:
            continue
        for mode, dtype, nhwc in [("training", "float32", True), ("training", "bfloat16", True),
                                  ("inference", "bfloat16", True), ("training", "float16", False)]:
            settings = prof.ProfileSettings(device="cpu", batches=(2,), mode=mode, dtype=dtype,
                                     channels_last=nhwc, per_layer=True,
                                     budget=prof.Budget(warmup=0, iters=1))
            assert prof.run_profile(spec, settings).results[0].latency is not None
            runs += 1
    assert runs


def test_groupnorm_backward_on_channels_last_input_does_not_crash() -> None:
    """torch 2.13's CPU group_norm backward segfaults on a channels-last input that needs
    no gradient; cnncalc's GroupNorm avoids it (run apart: a regression kills the process)."""
    import subprocess

    code = ("import torch\nfrom cnncalc.pytorch.modules import GroupNorm\n"
            "x = torch.randn(2, 4, 6, 6).contiguous(memory_format=torch.channels_last)\n"
            "m = GroupNorm(2, 4)\nm(x).mean().backward()\n"
            "assert m.weight.grad is not None\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_channels_last_on_a_3d_net_and_a_note_for_1d() -> None:
    vol = cnncalc.loads("cnncalc: 1\ninput: [3, 6, 6, 6]\nlayers:\n  - {op: conv, out: 4, k: 3}\n")
    settings = prof.ProfileSettings(device="cpu", channels_last=True, budget=FAST)
    assert prof.run_profile(vol, settings).results[0].latency is not None
    seq = cnncalc.loads("cnncalc: 1\ninput: [3, 16]\nlayers:\n  - {op: conv, out: 4, k: 3}\n")
    assert any("changes nothing for a 1-D input" in n
               for n in prof.run_profile(seq, settings).notes)


def test_compare_checks_both_specs_before_running_either(monkeypatch, tmp_path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("cnncalc: 1\ninput: [64, 20000, 20000]\nlayers:\n  - {op: maxpool, k: 2}\n")
    ran: list[str] = []
    real = prof.run_profile
    monkeypatch.setattr(prof, "run_profile",
                        lambda net, *a, **k: ran.append(net.name) or real(net, *a, **k))
    result = CliRunner().invoke(app, ["profile", "lenet5", "--compare", str(big), "--iters", "1"])
    assert result.exit_code == 3 and "needs ~" in result.output
    assert ran == []  # lenet5 was not measured first
