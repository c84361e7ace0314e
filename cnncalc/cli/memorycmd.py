"""``cnncalc memory``: parameters, gradients, optimizer state, buffers, the activations
autograd saves for the backward and the peak of one inference pass or training step
(:mod:`cnncalc.memory`; no torch).  ``--format json`` prints ``Memory.to_dict()`` (bytes);
``--fit SIZE`` adds ``fit``: the largest batch whose peak fits ``SIZE``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..report import Mode, Optimizer  # the choices of --mode and --optimizer
from .base import app
from .common import (
    BatchOpt,
    DTypeOpt,
    Format,
    FormatOpt,
    InputOpt,
    Settings,
    SpecArg,
    analyse_spec,
    example_epilog,
    write,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..memory import Memory

ModeOpt = Annotated[Mode, typer.Option("--mode", help="inference or training.")]
OptimizerOpt = Annotated[Optimizer, typer.Option(
    "--optimizer", help="sgd (no state), momentum (one buffer per parameter), adam or adamw "
                        "(two).")]
AmpOpt = Annotated[bool, typer.Option(
    "--amp", help="Mixed precision as torch.autocast runs it, in --dtype float16 or bfloat16: "
                  "parameters, gradients and optimizer state stay float32, conv/linear run "
                  "in --dtype and keep low-precision copies of their weights.")]
FitOpt = Annotated[str | None, typer.Option(
    "--fit", metavar="SIZE", show_default=False,
    help="Also find the largest batch whose peak fits SIZE (`24GiB`, `16GB`, `512MiB`, bytes).")]
FIELDS = ("param_bytes", "buffer_bytes", "grad_bytes", "optimizer_bytes",
          "saved_activation_bytes", "activation_peak_bytes", "peak_bytes")
LAYER_FIELDS = ("id", "op", "param_bytes", "buffer_bytes", "grad_bytes", "optimizer_bytes",
                "saved_bytes", "output_bytes")


@app.command(epilog=example_epilog(
    "cnncalc memory resnet50 --mode training --batch 64 --optimizer adam",
    "cnncalc memory resnet50 --mode training --optimizer adam --fit 24GiB",
    "cnncalc memory lenet5 --format json"))
def memory(
    spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
    dtype: DTypeOpt = "float32", mode: ModeOpt = "inference",
    optimizer: OptimizerOpt = "sgd",
    amp: AmpOpt = False, fit: FitOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """Memory of one inference pass or training step: weights, gradients, optimizer state,
    the activations saved for backward, and the peak."""
    from ..memory import from_report, largest_batch
    from ..pytorch.budget import parse_size  # (no torch: --max-memory's reader)

    settings = Settings(input=input, batch=batch, dtype=dtype, format=format)
    net, report = analyse_spec(spec, settings)
    m = from_report(net, report, mode=mode, optimizer=optimizer, amp=amp)
    data: dict[str, Any] = m.to_dict()
    if fit is not None:
        data["fit"] = largest_batch(net, report.input_shape, parse_size(fit, "--fit"), mode=mode,
                                    dtype=settings.dtype, optimizer=optimizer, amp=amp)
    write(_render(m, data, format.value) + "\n")


def _render(m: Memory, data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    rows = [[str(getattr(r, f)) for f in LAYER_FIELDS] for r in m.layers]
    if fmt == "csv":
        return "\n".join(",".join(r) for r in [list(LAYER_FIELDS), *rows])
    totals = [f"{f}: {data[f]:,}" for f in FIELDS]
    head = (f"{m.name}: {m.mode}, batch {m.batch}, {m.dtype}"
            + (f", {m.optimizer}" if m.optimizer else "") + (", amp" if m.amp else ""))
    if "fit" in data:
        f = data["fit"]
        totals.append(f"fit: batch {f['batch']:,} in {f['limit_bytes']:,} bytes "
                      f"(peak {f['peak_bytes']:,})" if f["batch"] else
                      f"fit: nothing fits {f['limit_bytes']:,} bytes")
    if fmt == "markdown":
        table = ["| " + " | ".join(LAYER_FIELDS) + " |", "|" + " --- |" * len(LAYER_FIELDS)]
        table += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join([f"**{head}**", "", *table, "", *(f"- {t}" for t in totals)])
    widths = [max(len(x) for x in col) for col in zip(LAYER_FIELDS, *rows)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [list(LAYER_FIELDS), *rows]]
    return "\n".join([head, *lines, "", *totals])
