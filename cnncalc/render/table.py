"""Rich tables of one report: a row per layer, a totals footer, and for ``summary`` a
block of network totals underneath.

Rows of a block instance are indented under it and separated from the next instance
by a rule; rows expanded from ``act:``/``bn:`` shorthand are indented and dimmed.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..report import LayerReport, Report
from . import units
from .views import View


def depth(row: LayerReport) -> int:
    """Indent level of a row: one per enclosing block instance, one for shorthand."""
    level = 0 if row.block is None else row.block.count("[")
    return level + (1 if row.shorthand else 0)


def _id_cell(row: LayerReport) -> Text:
    indent = "  " * depth(row)
    return Text(indent + row.id, style="dim" if row.shorthand else "")


def header_text(report: Report) -> Text:
    """``LeNet-5  1x32x32 -> 10  (batch 1, float32)``."""
    text = Text(report.name, style="bold")
    text.append(f"  {units.shape_str(report.input_shape)} -> "
                f"{units.shape_str(report.output_shape)}")
    text.append(f"  (batch {report.batch}, {report.dtype})", style="dim")
    return text


def layer_table(report: Report, view: View, exact: bool = False) -> Table:
    """The per-layer table of ``view`` with a totals footer."""
    cols = view.table_columns(report)
    footers = [c.footer(report, exact) for c in cols]
    table = Table(box=box.SIMPLE_HEAD, show_footer=any(footers), pad_edge=False,
                  header_style="bold",
                  padding=(0, 1, 0, 0), show_edge=False)
    for col, foot in zip(cols, footers):
        numeric = col.kind in ("count", "bytes", "percent")
        table.add_column(col.header, footer=Text(view.footer_label if col is cols[0] else foot),
                         justify="right" if numeric else "left",
                         style="cyan" if col.key == "op" else None,
                         no_wrap=col.key != "op", overflow="ellipsis",
                         # ids are never cut: on a narrow terminal the figures give way
                         min_width=max(len(r.id) + 2 * bool(r.block or r.shorthand)
                                       for r in report.layers) if col.key == "id" else None)
    rows = report.layers
    for i, row in enumerate(rows):
        cells: list[RenderableType] = [Text(c.cell(row, report, exact)) for c in cols]
        cells[0] = _id_cell(row) if cols[0].key == "id" else cells[0]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        section = row.block is not None and (nxt is None or nxt.block != row.block)
        table.add_row(*cells, end_section=section, style="dim" if row.shorthand else None)
    return table


def totals_lines(report: Report, exact: bool = False) -> list[tuple[str, str]]:
    """(label, text) pairs of the network totals shown under the ``summary`` table."""
    t = report.totals
    detail = [f"{units.human(t.trainable_params, True)} trainable"]
    if t.fixed_params:
        detail.append(f"{units.human(t.fixed_params, True)} fixed")
    if t.buffers:
        detail.append(f"{units.human(t.buffers, True)} in buffers")
    return [
        ("params", f"{units.human(t.params, exact)} ({', '.join(detail)}); "
                   f"{units.human_bytes(t.param_bytes + t.buffer_bytes, exact)} as {report.dtype}"),
        ("MACs", units.human(t.macs, exact)),
        ("FLOPs", units.human(t.flops, exact)),
        ("memory", f"input {units.human_bytes(t.input_bytes, exact)}, activations "
                   f"{units.human_bytes(t.activation_bytes, exact)} in all, "
                   f"peak {units.human_bytes(t.peak_activation_bytes, exact)}"),
        ("receptive field", rf_text(report)),
    ]


def breakdown_grid(mapping: dict[str, int], exact: bool = False) -> Table:
    """FLOPs by category: a column per category, names over figures."""
    grid = Table.grid(padding=(0, 2, 0, 0))
    items = [(k, v) for k, v in mapping.items() if v]
    for _ in items:
        grid.add_column(justify="right", no_wrap=True)
    grid.add_row(*(Text(k, style="dim") for k, _ in items))
    grid.add_row(*(Text(units.human(v, exact)) for _, v in items))
    return grid


def totals_grid(report: Report, exact: bool = False) -> Table:
    """The network totals as a two-column grid (FLOPs with their breakdown)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, text in totals_lines(report, exact):
        grid.add_row(label, Text(text))
        if label == "FLOPs" and report.totals.flops:
            grid.add_row("", breakdown_grid(dict(report.totals.flops_breakdown), exact))
    return grid


def rf_text(report: Report) -> str:
    """``32x32 at C5.act (jump 4, start 15.5)`` or a reason there is none."""
    rf = report.receptive_field
    if rf is None:
        return "none (the input has no spatial axes)"
    size = "x".join(units.num(v) for v in rf.size)
    text = (f"{size} at {report.receptive_field_layer} (jump {units.axes(rf.jump)}, "
            f"start {units.axes(rf.start)})")
    return text if rf.aligned else text + "; * merged paths whose centres do not align"


def report_renderable(report: Report, view: View, exact: bool = False) -> RenderableType:
    """The table of ``view``; ``summary`` adds the totals, ``rf`` the network's field,
    ``flops`` the breakdown by category."""
    parts: list[RenderableType] = [header_text(report), layer_table(report, view, exact)]
    if view.name == "summary":
        parts += [Text(""), totals_grid(report, exact)]
    elif view.name == "rf":
        parts += [Text(""), Text.assemble(("receptive field ", "bold"), rf_text(report))]
    elif view.name == "flops" and report.totals.flops:
        parts += [Text(""), Text("FLOPs by category", style="bold"),
                  breakdown_grid(dict(report.totals.flops_breakdown), exact)]
    return Group(*parts)


def render_report(console: Console, report: Report, view: View, exact: bool = False) -> None:
    """Print :func:`report_renderable` on ``console``."""
    console.print(report_renderable(report, view, exact))
