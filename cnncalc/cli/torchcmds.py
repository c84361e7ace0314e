"""Commands that need PyTorch: ``build``, ``export`` and ``profile``.

torch is imported inside each command, so ``cnncalc --help`` and the analysis
commands never pay for it; without torch they exit 3 with the install hint.  Each
takes ``--max-memory SIZE``: what it estimates it needs (cnncalc.pytorch.budget) is
checked against it (default: the memory available) before anything is allocated.
Every example in a command's ``--help`` is run by tests/test_torch_cli.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from ..pytorch import Device, Mode, ProfileDType  # the choices of --device, --mode, --dtype
from .base import app
from .common import (
    InputOpt,
    NoColorOpt,
    Settings,
    SpecArg,
    TableJson,
    analyse_spec,
    emit,
    example_epilog,
    message,
    write,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..pytorch.budget import MemoryBudget
    from .common import Settings

#: bounds of profile's options (docs/errors.md, Limits): work is bounded before it is spent
MAX_SWEEP = 64
MAX_THREADS = 1024
MAX_WARMUP = 10_000
MAX_ITERS = 1_000_000
MAX_MIN_TIME_S = 600.0
INT64_MAX = 2**63 - 1

MaxMemoryOpt = Annotated[str | None, typer.Option(
    "--max-memory", metavar="SIZE", show_default=False, rich_help_panel="Checks and limits",
    help="Refuse (exit 3) a run estimated to need more: 8GiB, 512MB, 1000000 (bytes) "
         "\\[default: the memory available].")]


ProfileFormat = TableJson  # cnncalc profile --format


def parse_batches(text: str) -> tuple[int, ...]:
    """``"1,8,32"`` -> (1, 8, 32): 1 to :data:`MAX_SWEEP` sizes, each in [1, int64]."""
    parts = [v for v in text.replace(" ", "").split(",") if v]
    if len(parts) > MAX_SWEEP:
        raise UsageError(f"--batch-size: {len(parts)} batch sizes; a sweep has at most "
                         f"{MAX_SWEEP}")
    try:
        values = tuple(int(v) for v in parts)
    except ValueError:
        raise UsageError(f"--batch-size {text[:80]}: give integers like 1,8,32") from None
    if not values or min(values) < 1:
        raise UsageError(f"--batch-size {text}: every batch size must be >= 1")
    if max(values) > INT64_MAX:
        raise UsageError(f"--batch-size {max(values)}: more than torch can index (int64: at "
                         f"most {INT64_MAX:,})")
    return values


def parse_max_memory(text: str | None) -> int | None:
    """``--max-memory`` in bytes, or None when not given."""
    if text is None:
        return None
    from ..pytorch.budget import parse_size

    return parse_size(text)


def _budget(text: str | None) -> MemoryBudget:
    from ..pytorch.budget import MemoryBudget

    return MemoryBudget(parse_max_memory(text))


def parse_duration(text: str) -> float:
    """``2s``, ``500ms``, ``1.5`` (seconds) -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not m:
        raise UsageError(f"--min-time {text}: write a duration like 2s, 500ms or 1.5")
    value = float(m.group(1)) * {"ms": 1e-3, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    if value <= 0:
        raise UsageError("--min-time must be positive")
    if value > MAX_MIN_TIME_S:
        raise UsageError(f"--min-time {text}: at most {MAX_MIN_TIME_S:.0f}s per batch size")
    return value


@app.command(epilog=example_epilog(
    "cnncalc build resnet18",
    "cnncalc build lenet5 --mode training --batch 8",
    "cnncalc build resnet50 --max-memory 512MB"))
def build(
    spec: SpecArg,
    mode: Annotated[Mode, typer.Option(
        help="Refuse (exit 2, located) a layer torch cannot run in this mode at --batch, "
             "e.g. batchnorm in training on one value per channel.")] = "inference",
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, help="The batch size --mode "
                                       "is checked at.")] = 1,
    input: InputOpt = None, max_memory: MaxMemoryOpt = None,
) -> None:
    """Build the spec as a torch.nn.Module and print its module tree (needs torch)."""
    from ..pytorch.build import build as build_module

    budget = _budget(max_memory)
    net, report = analyse_spec(spec, Settings(input=input))
    model = build_module(net, report.input_shape, budget=budget, mode=mode, batch=batch)
    n = sum(p.numel() for p in model.parameters())
    write(f"{model}\n")
    sys.stderr.write(f"{n:,} parameters\n")


@app.command(epilog=example_epilog(
    "cnncalc export lenet5 --onnx lenet5.onnx",
    "cnncalc export resnet18 --torchscript resnet18.pt --input 3x64x64"))
def export(
    spec: SpecArg,
    onnx: Annotated[Path | None, typer.Option("--onnx", help="Write an ONNX file.")] = None,
    torchscript: Annotated[Path | None, typer.Option(
        "--torchscript", help="Write a TorchScript file (torch.jit.trace).")] = None,
    input: InputOpt = None,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Export the built module to ONNX and/or TorchScript (needs torch)."""
    from ..pytorch import export as ex

    if onnx is None and torchscript is None:
        raise UsageError("give --onnx FILE and/or --torchscript FILE")
    budget = _budget(max_memory)
    net, report = analyse_spec(spec, Settings(input=input))
    shape = report.input_shape
    if onnx is not None:
        ex.export_onnx(net, onnx, shape, budget=budget)
        sys.stderr.write(f"wrote {onnx}\n")
    if torchscript is not None:
        ex.export_torchscript(net, torchscript, shape, budget=budget)
        sys.stderr.write(f"wrote {torchscript}\n")


@app.command(epilog=example_epilog(
    "cnncalc profile lenet5 --batch-size 1,8,32",
    "cnncalc profile resnet18 --batch 4 --mode training --max-memory 8GiB",
    "cnncalc profile resnet18 --device cuda --dtype float16 --per-layer",
    "cnncalc profile resnet18 --compare resnet34 --min-time 200ms --format json"))
def profile(
    spec: SpecArg,
    device: Annotated[Device, typer.Option(help="auto picks cuda, then mps, then cpu.")] =
    "auto",
    batch_size: Annotated[str, typer.Option(
        "--batch-size", "--batch", "-b", help="One size or a sweep: 1,8,32 (at most "
        f"{MAX_SWEEP} sizes; --batch is the same option).")] = "1",
    dtype: Annotated[ProfileDType, typer.Option(help="float16/bfloat16 run under autocast.")] =
    "float32",
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format.")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the module "
                                          "(an untimed first call per batch size compiles "
                                          "it; its time is reported apart).")] = False,
    mode: Annotated[Mode, typer.Option(help="training = forward + backward + SGD step.")] =
    "inference",
    threads: Annotated[int | None, typer.Option(
        min=1, max=MAX_THREADS, help="CPU threads (fixed for the run; default: torch's).")]
    = None,
    warmup: Annotated[int, typer.Option(min=0, max=MAX_WARMUP,
                                        help="Untimed iterations first.")] = 3,
    min_time: Annotated[str, typer.Option("--min-time", help="Measure at least this long per "
                                          "batch size: 2s, 500ms.")] = "1s",
    iters: Annotated[int | None, typer.Option(
        min=1, max=MAX_ITERS, help="Exactly N timed iterations instead of --min-time.")]
    = None,
    peak_tflops: Annotated[float | None, typer.Option(
        "--peak-tflops", help="The device's peak, for the fraction-of-peak column.")] = None,
    per_layer: Annotated[bool, typer.Option("--per-layer", help="Time each layer.")] = False,
    compare: Annotated[str | None, typer.Option(
        "--compare", metavar="OTHER_SPEC", help="Profile another spec in the same run.")] = None,
    format: Annotated[ProfileFormat, typer.Option("--format", "-f")] = ProfileFormat.table,
    input: InputOpt = None,
    max_memory: MaxMemoryOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Measure latency, throughput, achieved GFLOP/s and peak memory (needs torch).

    Refused before anything runs: a batch size whose estimated memory (weights, input,
    activations; in training also gradients) exceeds --max-memory or what is available
    (exit 3), and a layer torch cannot run in --mode at a batch size (exit 2)."""
    from ..pytorch import require_torch
    from ..pytorch.profile import Budget, ProfileSettings, preflight, run_profile
    from ..render.profile import progress_bar, render, to_json

    require_torch()
    settings = ProfileSettings(
        device=device, batches=parse_batches(batch_size), dtype=dtype,
        channels_last=channels_last, compile=compile, mode=mode, threads=threads,
        budget=Budget(warmup=warmup, min_time=parse_duration(min_time), iters=iters),
        peak_tflops=peak_tflops, per_layer=per_layer, max_memory=parse_max_memory(max_memory))
    specs = [spec] + ([compare] if compare else [])
    analysed = [analyse_spec(s, Settings(input=input)) for s in specs]
    for net, report in analysed:  # every refusal before anything is spent
        preflight(net, settings, report.input_shape)
    reports = []
    with progress_bar(sys.stderr.isatty()) as update:
        for i, (net, report) in enumerate(analysed):  # the busy-machine warning once
            warn = (lambda text: message(f"warning: {text}")) if i == 0 else None
            reports.append(run_profile(net, settings, report.input_shape, progress=update,
                                       warn=warn))
    emit(format, {ProfileFormat.json: lambda: to_json(reports)},
         lambda out: render(out, reports), no_color)
