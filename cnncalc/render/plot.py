"""Plots of a report with matplotlib (the optional ``plot`` extra, Agg backend):
per-layer bars of params, MACs or activation memory, and the receptive field's growth
with depth.  matplotlib is imported only inside these functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..errors import EnvironmentUnavailable, UsageError
from ..safe import safe_text
from ..units import axis_names, grouped, sci

#: the largest figure a plot axis can hold (a float's range, with room for the axis)
PLOT_MAX = 10**300

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report

#: what a plot shows (``--what``): a bar per layer of one figure, or the receptive field
PlotWhat = Literal["params", "macs", "rf", "memory"]
#: --what -> (LayerReport attribute, axis label, title), for the bar plots
BARS = {
    "params": ("params", "parameters", "Parameters per layer"),
    "macs": ("macs", "MACs", "Multiply-accumulates per layer"),
    "memory": ("activation_bytes", "activation bytes", "Output activation memory per layer"),
}


def require_matplotlib() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, or exit 3 saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise EnvironmentUnavailable(
            "plots need matplotlib, which is not installed",
            hints=("pip install 'cnncalc[plot]'",)) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(report: Report, what: str) -> Any:
    """A matplotlib figure of ``what`` (params / macs / memory / rf) for ``report``."""
    plt = require_matplotlib()
    if what not in get_args(PlotWhat):
        raise UsageError(f"--what {what}: choose from {', '.join(get_args(PlotWhat))}")
    rows = [r for r in report.layers if r.shorthand is None or what == "memory"]
    fig, ax = plt.subplots(figsize=(max(6.0, min(0.28 * len(rows) + 2, 40.0)), 4.5))
    try:
        if what == "rf":
            _rf_lines(ax, report.name, rows)
        else:
            _bars(ax, rows, what)
    except Exception:
        plt.close(fig)
        raise
    ax.set_title(f"{label_text(report.name)}: {ax.get_title()}")
    fig.tight_layout()
    return fig


#: image formats ``plot -o`` writes, by file suffix
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: Path) -> None:
    """The image format comes from the suffix: one of :data:`PLOT_SUFFIXES`, or exit 2
    (a name without one is refused too, rather than silently becoming ``name.png``)."""
    suffix = path.suffix.lower()
    if suffix in PLOT_SUFFIXES:
        return
    known = ", ".join(PLOT_SUFFIXES)
    if not suffix:
        raise UsageError(f"--output {path} has no file extension; the image format comes from "
                         f"it: give one of {known} (e.g. {path.name}.png)")
    raise UsageError(f"--output {path}: {suffix} is not an image format plot writes; "
                     f"give one of {known}")


def plot_report(report: Report, what: str, path: Path) -> None:
    """Draw ``what`` for ``report`` into ``path`` (the format from its suffix; its folder
    is created when missing)."""
    from ..outputs import path_error, prepare_output

    check_plot_path(path)
    plt = require_matplotlib()
    prepare_output(path)
    fig = figure(report, what)
    try:
        fig.savefig(path, dpi=120, format=path.suffix.lower()[1:])
    except OSError as exc:
        raise path_error(path, exc) from None
    finally:
        plt.close(fig)


def plottable(value: Any, what: str) -> float:
    """A figure as a float for matplotlib, or exit 2 when no float can hold it."""
    if abs(value) >= PLOT_MAX:
        raise UsageError(f"cannot plot {what}: {sci(value)} is beyond what a plot axis can "
                         "hold (about 1e300)", hints=("use `cnncalc summary` for exact figures",))
    return float(value)


def label_text(text: str) -> str:
    """A spec's string as matplotlib text: control characters escaped, and ``$`` kept
    from starting mathtext (an unbalanced one would fail the drawing)."""
    return safe_text(text).replace("$", r"\$")


def _bars(ax: Any, rows: list[Any], what: str) -> None:
    attr, ylabel, title = BARS[what]
    values = [plottable(getattr(r, attr), ylabel) for r in rows]
    ax.bar(range(len(rows)), values, color="#4c72b0")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([label_text(r.id) for r in rows], rotation=90,
                       fontsize=8 if len(rows) < 60 else 5)
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    ax.set_title(title + f" (total {grouped(sum(getattr(r, attr) for r in rows))})")


def _rf_lines(ax: Any, name: str, layers: list[Any]) -> None:
    rows = [r for r in layers if r.receptive_field is not None]
    if not rows:
        raise UsageError(f"{name} has no spatial receptive field to plot")
    axes = len(rows[0].receptive_field.size)
    names = axis_names(axes)
    xs = list(range(1, len(rows) + 1))
    for i, name in enumerate(names):
        sizes = [plottable(r.receptive_field.size[i], "receptive field") for r in rows]
        if i and sizes == [plottable(r.receptive_field.size[0], "") for r in rows]:
            continue  # a square field: one line says it
        ax.plot(xs, sizes, marker="o", markersize=3, label=f"size ({name})")
    jumps = [plottable(r.receptive_field.jump[0], "jump") for r in rows]
    ax.step(xs, jumps, where="post", linestyle="--", label="jump (effective stride)")
    ax.set_xticks(xs)
    ax.set_xticklabels([label_text(r.id) for r in rows], rotation=90,
                       fontsize=8 if len(rows) < 60 else 5)
    ax.set_xlabel("layer (depth)")
    ax.set_ylabel("input pixels")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("Receptive field growth with depth")
