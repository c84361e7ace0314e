"""Measure latency, throughput and memory of a built network on CPU, CUDA or MPS.

Measurement follows the rules an expert applies by hand:

* warm-up iterations are run first and never timed (they include cuDNN autotuning
  and allocator growth); with ``--compile`` at least one is run for every batch size
  (torch.compile compiles on the first call for each new shape), so compilation is
  never in the timings, and the first call's time is reported on its own;
* timing is *blocked*, like ``torch.utils.benchmark``'s ``blocked_autorange``: one
  sample times a block of iterations long enough to swamp timer overhead, and the
  per-iteration latency is the block time divided by its length;
* on CUDA every sample is bracketed by ``torch.cuda.Event(enable_timing=True)``
  records and a ``torch.cuda.synchronize()``, and peak memory is
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; in training it
  is measured around one more step (:func:`measured_step_peak`) and shown next to the
  static estimate of that step (:mod:`cnncalc.memory`), which is all a CPU can report;
* on CPU the thread count is fixed (``torch.set_num_threads``) and reported; a load
  average above it (other processes competing for the cores) is warned about;
* memory is bounded before it is spent: every batch size's estimate (from the
  analysis, :mod:`cnncalc.pytorch.budget`) must fit ``max_memory`` or the memory the
  device has available, or the run is refused with the figures (exit 3);
* inference runs under ``torch.inference_mode()`` in eval mode; training runs
  forward + backward + an SGD step.

The core returns plain dataclasses (:class:`ProfileReport`); rendering is elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import EnvironmentUnavailable, UsageError
from . import Device, Mode
from . import ProfileDType as PDType
from .budget import MemoryBudget, check_fits, estimate
from .failures import is_oom, torch_errors
from .runnable import check_runnable
from .timing import Budget, CudaTimer, LatencyStats, MpsTimer, Timer, measure, timer_for  # noqa: F401

Progress = Callable[[str, int, int], None]

#: dense peak TFLOP/s by device-name fragment and dtype (vendor data sheets, no sparsity)
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100": {"float32": 67.0, "float16": 989.0, "bfloat16": 989.0},
    "A100": {"float32": 19.5, "float16": 312.0, "bfloat16": 312.0},
    "V100": {"float32": 15.7, "float16": 125.0},
    "L4": {"float32": 30.3, "float16": 121.0, "bfloat16": 121.0},
    "T4": {"float32": 8.1, "float16": 65.0},
    "A10": {"float32": 31.2, "float16": 125.0, "bfloat16": 125.0},
    "RTX 4090": {"float32": 82.6, "float16": 165.2, "bfloat16": 165.2},
    "RTX 3090": {"float32": 35.6, "float16": 71.0, "bfloat16": 71.0},
}


@dataclass(frozen=True)
class BatchResult:
    """One row of a sweep: a batch size and what it measured (or why it failed)."""

    batch_size: int
    latency: LatencyStats | None
    throughput_per_s: float | None
    achieved_gflops: float | None
    fraction_of_peak: float | None
    peak_memory_bytes: int | None
    #: "measured" (device counter) or "estimated" (:func:`estimated_peak`)
    peak_memory_source: str
    error: str | None = None
    #: with --compile: the first (untimed) call, which includes compilation, in ms
    first_call_ms: float | None = None
    #: in training, the static estimate of the step (:func:`estimated_peak`), shown next to
    #: a measured peak; None in inference
    estimated_memory_bytes: int | None = None


@dataclass(frozen=True)
class LayerTiming:
    """Time of one spec layer per forward pass (from hooks), joined with its MACs."""

    id: str
    op: str
    macs: int
    time_ms: float
    share: float
    achieved_gflops: float | None


@dataclass(frozen=True)
class ProfileReport:
    """Everything ``cnncalc profile`` measured."""

    name: str
    device: str
    device_name: str
    torch: str
    dtype: str
    mode: str
    threads: int | None
    channels_last: bool
    compiled: bool
    macs_per_sample: int
    results: tuple[BatchResult, ...]
    per_layer: tuple[LayerTiming, ...] = ()
    peak_tflops: float | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for row in out["results"]:
            lat = row.pop("latency")
            row["latency_ms"] = None if lat is None else {
                "median": lat["median_ms"], "p10": lat["p10_ms"], "p90": lat["p90_ms"],
                "mean": lat["mean_ms"], "min": lat["min_ms"], "max": lat["max_ms"],
                "spread": lat["spread"], "cv": lat["cv"], "samples": lat["samples"],
                "iterations": lat["iterations"]}
        return out


# ----------------------------------------------------------------------- devices
def resolve_device(device: Device) -> str:
    """The concrete device for ``device``; EnvironmentUnavailable (exit 3) if absent."""
    import torch

    present = available_devices()
    if device == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if d in present)
    if device not in present:
        build = torch.__version__
        why = {
            "cuda": ("this torch build has no CUDA support" if torch.version.cuda is None
                     else "torch was built with CUDA but no GPU or driver is visible"),
            "mps": "MPS needs Apple silicon and a macOS build of torch",
        }.get(device, "unknown device")
        raise EnvironmentUnavailable(
            f"--device {device} is not available: {why} (torch {build}); devices present: "
            f"{', '.join(present)}")
    return device


def available_devices() -> list[str]:
    """Devices this torch can run on, best first."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def device_name(device: str) -> str:
    import platform

    import torch

    if device == "cuda":
        return torch.cuda.get_device_name()
    if device == "mps":
        return "Apple MPS"
    return platform.processor() or platform.machine()


def known_peak(name: str, dtype: str) -> float | None:
    """Dense peak TFLOP/s for a known GPU name and dtype, else None."""
    for key, table in PEAK_TFLOPS.items():
        if key.lower() in name.lower():
            return table.get(dtype)
    return None


def check_batches(batches: Sequence[int]) -> None:
    if not batches or any(b < 1 for b in batches):
        raise UsageError(f"--batch-size needs positive integers, got {list(batches)}")


# ------------------------------------------------------------------------ runner
@dataclass(frozen=True)
class ProfileSettings:
    """What to profile and how (the CLI options of ``cnncalc profile``)."""

    device: Device = "auto"
    batches: tuple[int, ...] = (1,)
    dtype: PDType = "float32"
    channels_last: bool = False
    compile: bool = False
    mode: Mode = "inference"
    threads: int | None = None
    budget: Budget = Budget()
    peak_tflops: float | None = None
    per_layer: bool = False
    #: bytes the run may use (``--max-memory``); None: what the device has available
    max_memory: int | None = None


def _autocast(torch: Any, device: str, dtype: str) -> Any:
    import contextlib

    if dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=getattr(torch, dtype))


def _prepare(network: Any, input_shape: Any, s: ProfileSettings, dev: str) -> tuple[Any, Any]:
    """Build the module on the device; returns (module, callable to run)."""
    import torch

    from .build import build

    model = build(network, input_shape, budget=MemoryBudget(s.max_memory)).to(dev)
    model.train(s.mode == "training")
    if s.channels_last:
        model = model._apply(lambda t: _channels_last(torch, t))
    runner = torch.compile(model) if s.compile else model
    return model, runner


def _channels_last(torch: Any, t: Any) -> Any:
    """``t`` in the channels-last format of its rank (NHWC for 4-D, NDHWC for 5-D); other
    ranks unchanged.  Per tensor: ``Module.to(memory_format=...)`` applies one format to
    every 4-D and 5-D weight, which fails on a 3-D net (5-D conv weights, 4-D
    connection-table kernels)."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    return t.contiguous(memory_format=formats[t.dim()]) if t.dim() in formats else t


def _input(torch: Any, shape: Sequence[int], batch: int, dev: str, channels_last: bool) -> Any:
    x = torch.randn(batch, *shape, device=dev)
    return _channels_last(torch, x) if channels_last else x


def _step(torch: Any, model: Any, runner: Any, x: Any, mode: str) -> Callable[[], Any]:
    if mode == "inference":
        return lambda: runner(x)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-4) if params else None
    if not params:  # nothing to train: the backward pass still runs, for the input
        x.requires_grad_(True)

    def train_step() -> None:
        loss = runner(x).float().mean()
        loss.backward()
        if opt is not None:
            opt.step()
            opt.zero_grad(set_to_none=True)

    return train_step


def _context(torch: Any, dev: str, s: ProfileSettings) -> Any:
    import contextlib

    stack = contextlib.ExitStack()
    if s.mode == "inference":
        stack.enter_context(torch.inference_mode())
    stack.enter_context(_autocast(torch, dev, s.dtype))
    return stack


def estimated_peak(network: Any, analysis: Any, batch: int, s: ProfileSettings) -> int:
    """The bytes a run's peak is estimated at, statically: in training the peak of one
    step as ``profile`` runs it (forward, backward, a plain SGD step; under autocast with
    AMP's dtypes), :func:`cnncalc.memory.estimate`; in inference the budget's bound
    (:func:`cnncalc.pytorch.budget.estimate`: weights, the input, the live activations)."""
    if s.mode != "training":
        return estimate(analysis, batch, s.mode).total
    from ..memory import estimate as training_memory

    amp = s.dtype != "float32"  # the step runs under torch.autocast in that dtype
    return training_memory(network, analysis.input_shape, mode="training", batch=batch,
                           dtype=s.dtype, optimizer="sgd", amp=amp).peak_bytes


def measured_step_peak(cuda: Any, step: Callable[[], Any]) -> int:
    """The peak bytes the CUDA caching allocator handed out during one call of ``step``,
    the documented way: ``reset_peak_memory_stats()``, ``synchronize()``, the step,
    ``synchronize()``, ``max_memory_allocated()``.  ``cuda`` is ``torch.cuda`` (or any
    object with those four functions)."""
    cuda.reset_peak_memory_stats()
    cuda.synchronize()
    step()
    cuda.synchronize()
    return int(cuda.max_memory_allocated())


def _batch(torch: Any, model: Any, runner: Any, network: Any, b: int, dev: str,
           s: ProfileSettings, timer: Timer, analysis: Any, peak: float | None) -> BatchResult:
    estimated = estimated_peak(network, analysis, b, s)
    #: shown next to a measured peak: the training step's estimate (cnncalc.memory)
    beside = estimated if s.mode == "training" else None
    first_ms = None
    try:
        x = _input(torch, analysis.input_shape, b, dev, s.channels_last)
        timer.reset_peak()
        with _context(torch, dev, s):
            step = _step(torch, model, runner, x, s.mode)
            if s.compile:  # compiles for this shape: untimed, reported on its own
                first_ms = timer.time_block(step, 1) * 1e3
            times, n = measure(step, timer, s.budget)
            if s.mode == "training" and dev == "cuda":
                measured: int | None = measured_step_peak(torch.cuda, step)
            else:
                measured = timer.peak_bytes()
    except Exception as exc:
        if not is_oom(exc):
            raise
        if dev == "cuda":
            torch.cuda.empty_cache()
        return BatchResult(b, None, None, None, None, None, "measured", "out of memory",
                           estimated_memory_bytes=beside)
    lat = LatencyStats.of(times, n)
    seconds = lat.median_ms / 1e3
    flops = 2 * analysis.totals.macs * b * (3 if s.mode == "training" else 1)
    gflops = flops / seconds / 1e9
    return BatchResult(
        b, lat, b / seconds, gflops, gflops / (peak * 1e3) if peak else None,
        measured if measured is not None else estimated,
        "measured" if measured is not None else "estimated", first_call_ms=first_ms,
        estimated_memory_bytes=beside)


def preflight(network: Any, settings: ProfileSettings = ProfileSettings(),
              input_shape: Any = None) -> None:
    """Every refusal :func:`run_profile` makes before measuring (options, device, sizes,
    memory, layers torch cannot run), without building anything: ``profile --compare``
    checks both specs before it spends anything on the first."""
    from ..analysis import analyze

    check_batches(settings.batches)
    dev = resolve_device(settings.device)
    check_before_running(network, analyze(network, input_shape), settings, dev)


def run_profile(network: Any, settings: ProfileSettings = ProfileSettings(),
                input_shape: Any = None,
                progress: Progress | None = None,
                warn: Callable[[str], None] | None = None) -> ProfileReport:
    """Build ``network`` and measure it for every batch size in ``settings.batches``;
    ``warn`` receives a warning (the machine is busy) before the measurement starts."""
    import torch

    from ..analysis import analyze

    check_batches(settings.batches)
    dev = resolve_device(settings.device)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    analysis = analyze(network, input_shape)
    check_before_running(network, analysis, settings, dev)
    name = device_name(dev)
    peak = settings.peak_tflops or known_peak(name, settings.dtype)
    busy = busy_warning(torch.get_num_threads()) if dev == "cpu" else None
    if busy and warn:
        warn(busy)
    with torch_errors(device=dev):
        model, runner = _prepare(network, input_shape, settings, dev)
        timer = timer_for(dev)
        results = []
        for i, b in enumerate(settings.batches):
            if progress:
                progress(f"batch {b}", i, len(settings.batches))
            results.append(_batch(torch, model, runner, network, b, dev, settings, timer,
                                  analysis, peak))
        if all(r.error == "out of memory" for r in results):
            raise EnvironmentUnavailable(
                f"out of memory on {dev} at every batch size ({_batches(settings.batches)}), "
                "though the estimate fitted", hints=("lower --batch-size or --input",))
        layers: tuple[LayerTiming, ...] = ()
        if settings.per_layer:
            if progress:
                progress("per-layer timing", len(settings.batches), len(settings.batches) + 1)
            layers = per_layer_times(torch, model, analysis, settings, dev, timer)
    if progress:
        progress("done", len(settings.batches), len(settings.batches))
    notes = _notes(settings, dev, results) + ((busy,) if busy else ())
    if settings.channels_last and len(analysis.input_shape) not in (3, 4):
        notes += (f"--channels-last changes nothing for a {len(analysis.input_shape) - 1}-D "
                  "input: it applies to 2-D and 3-D maps",)
    return ProfileReport(
        network.name, dev, name, torch.__version__, settings.dtype, settings.mode,
        torch.get_num_threads() if dev == "cpu" else None, settings.channels_last,
        settings.compile, analysis.totals.macs, tuple(results), layers, peak, notes)


def _batches(batches: Sequence[int]) -> str:
    return ", ".join(f"{b:,}" for b in batches)


def check_before_running(network: Any, analysis: Any, s: ProfileSettings, dev: str) -> None:
    """Refuse before anything is allocated: sizes torch cannot index (exit 2), a layer
    torch cannot run in this mode at some batch size (exit 2, located), and a batch
    size whose memory estimate exceeds the budget (exit 3, with the figures)."""
    budget = MemoryBudget(s.max_memory)
    for b in s.batches:
        check_fits(analysis, budget, device=dev, batch=b, mode=s.mode,
                   what=f"profiling {s.mode} at batch {b:,}")
    for b in s.batches:
        check_runnable(network, analysis, b, s.mode)


def busy_warning(threads: int, load: float | None = None) -> str | None:
    """A warning when the 1-minute load average exceeds the threads torch uses: other
    processes compete for the cores and the timings will be slower and noisier."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (OSError, AttributeError):  # not every OS has a load average
            return None
    if load <= threads:
        return None
    fewer = max(1, min(threads, (os.cpu_count() or threads) - round(load - threads)))
    suggestion = (f"pass --threads {fewer}{'' if fewer == 1 else ' or fewer'} to leave cores "
                  "to the rest" if fewer < threads else "rerun when the machine is quieter")
    return (f"the machine is busy: load average {load:.2f} is above the {threads} thread"
            f"{'s' if threads != 1 else ''} torch uses, so timings will be slower and noisier "
            f"than on an idle machine; {suggestion}, or compare runs made under the same load")


def _notes(s: ProfileSettings, dev: str, results: Sequence[BatchResult]) -> tuple[str, ...]:
    notes = []
    if s.compile:
        firsts = ", ".join(f"batch {r.batch_size}: {r.first_call_ms:,.0f} ms"
                           for r in results if r.first_call_ms is not None)
        notes.append("torch.compile: compilation is excluded from the timings (an untimed "
                     f"first call per batch size compiled it{': ' + firsts if firsts else ''})")
    if any(r.peak_memory_source == "estimated" for r in results):
        what = ("one training step's peak as `cnncalc memory --mode training` counts it: "
                "parameters, buffers, gradients and the activations autograd saves, walked "
                "through forward, backward and the SGD step" if s.mode == "training" else
                "parameters + buffers + peak live activations")
        notes.append(f"peak memory on this device is the analysis estimate ({what}); only "
                     "CUDA/MPS expose an allocator counter")
    elif s.mode == "training" and dev == "cuda":
        notes.append("peak memory is torch.cuda.max_memory_allocated around one training step; "
                     "(est. ...) is the static estimate of that step (`cnncalc memory`)")
    if s.mode == "training":
        notes.append("achieved GFLOP/s in training counts 3x the forward FLOPs "
                     "(forward + backward for inputs and weights)")
    if s.dtype != "float32":
        notes.append(f"{s.dtype} runs under torch.autocast on {dev}")
    return tuple(notes)


def per_layer_times(torch: Any, model: Any, analysis: Any, s: ProfileSettings, dev: str,
                    timer: Timer) -> tuple[LayerTiming, ...]:
    """Time each spec layer with forward hooks, synchronising the device around each."""
    modules = {node_id: model.layer(node_id) for node_id in model.ids}
    spent: dict[str, float] = {k: 0.0 for k in modules}
    started: dict[str, float] = {}
    handles = []
    for node_id, module in modules.items():
        def pre(_m: Any, _i: Any, node_id: str = node_id) -> None:
            timer.sync()
            started[node_id] = time.perf_counter()

        def post(_m: Any, _i: Any, _o: Any, node_id: str = node_id) -> None:
            timer.sync()
            spent[node_id] += time.perf_counter() - started[node_id]

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    b = s.batches[0]
    x = _input(torch, analysis.input_shape, b, dev, s.channels_last)
    runs = max(3, s.budget.iters or 0)
    try:
        with torch.inference_mode(), _autocast(torch, dev, s.dtype):
            for _ in range(s.budget.warmup):
                model(x)
            spent.update({k: 0.0 for k in spent})
            for _ in range(runs):
                model(x)
    finally:
        for h in handles:
            h.remove()
    total = sum(spent.values()) or 1.0
    rows = []
    for layer in analysis.layers:
        if layer.id not in spent:
            continue
        t = spent[layer.id] / runs
        macs = layer.macs * b
        rows.append(LayerTiming(layer.id, layer.op, macs, t * 1e3, spent[layer.id] / total,
                                2 * macs / t / 1e9 if t > 0 and macs else None))
    return tuple(rows)
