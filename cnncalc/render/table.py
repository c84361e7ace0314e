"""Rich tables of one report: a row per layer, a totals footer, and for ``summary`` a
block of network totals underneath.

Rows of a block instance are indented under it and separated from the next instance
by a rule; rows expanded from ``act:``/``bn:`` shorthand are indented and dimmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..report import LayerReport, Report
from . import units
from .views import View


def depth(row: LayerReport) -> int:
    """Indent level of a row: one per enclosing block instance, one for shorthand."""
    level = 0 if row.block is None else row.block.count("[")
    return level + (1 if row.shorthand else 0)


def header_text(report: Report) -> Text:
    """``LeNet-5  1x32x32 -> 10  (batch 1, float32)``."""
    text = Text(report.name, style="bold")
    text.append(f"  {units.shape_str(report.input_shape)} -> "
                f"{units.shape_str(report.output_shape)}")
    text.append(f"  (batch {report.batch}, {report.dtype})", style="dim")
    return text


@dataclass
class LayerGrid:
    """The per-layer table, laid out by hand and emitted as segments.

    rich's ``Table`` measures and wraps every cell; for hundreds of rows that costs more
    than the whole analysis (0.2 s for ResNet-50), so this grid does the simple thing:
    single-line cells, columns as wide as their widest cell, two spaces between them.
    On a narrow terminal the widest figure columns give way (cells end in an ellipsis)
    and, if that is not enough, trailing columns are dropped; ids are never cut.
    """

    headers: list[str]
    rows: list[list[str]]
    right: list[bool]
    footer: list[str] | None
    row_styles: list[str]
    sections: set[int]
    styles: list[str]

    def widths(self, width: int) -> list[int]:
        lines = [self.headers, *self.rows] + ([self.footer] if self.footer else [])
        widths = [max(len(line[j]) for line in lines) for j in range(len(self.headers))]
        while len(widths) > 1 and sum(widths) + GAP * (len(widths) - 1) > width:
            over = sum(widths) + GAP * (len(widths) - 1) - width
            j = max(range(1, len(widths)), key=lambda i: widths[i])
            if widths[j] <= 3:
                widths.pop()  # nothing left to squeeze: drop the last column
                continue
            widths[j] = max(3, widths[j] - over)
        return widths

    def _line(self, cells: list[str], widths: list[int], style: str,
              header: bool = False) -> list[Segment]:
        out: list[Segment] = []
        for j, w in enumerate(widths):
            text = cells[j] if len(cells[j]) <= w else cells[j][: w - 1] + "…"
            text = text.rjust(w) if self.right[j] else text.ljust(w)
            if j == len(widths) - 1:
                text = text.rstrip()
            cell_style = "bold" if header else " ".join(x for x in (self.styles[j], style) if x)
            out.append(Segment(text, Style.parse(cell_style) if cell_style else None))
            if j < len(widths) - 1:
                out.append(Segment(" " * GAP))
        out.append(Segment.line())
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths(options.max_width)
        yield from self._line(self.headers, widths, "", header=True)
        yield Segment("─" * min(options.max_width, sum(widths) + GAP * (len(widths) - 1)))
        yield Segment.line()
        for i, (cells, style) in enumerate(zip(self.rows, self.row_styles)):
            yield from self._line(cells, widths, style)
            if i in self.sections:
                yield Segment.line()
        if self.footer:
            if len(self.rows) - 1 not in self.sections:
                yield Segment.line()
            yield from self._line(self.footer, widths, "")


GAP = 2


def layer_table(report: Report, view: View, exact: bool = False) -> LayerGrid:
    """The per-layer table of ``view`` with a totals footer."""
    cols = view.table_columns(report)
    footers = [c.footer(report, exact) for c in cols]
    rows, styles, sections = [], [], set()
    layers = report.layers
    for i, row in enumerate(layers):
        cells = [c.cell(row, report, exact) for c in cols]
        if cols[0].key == "id":
            cells[0] = "  " * depth(row) + row.id
        rows.append(cells)
        styles.append("dim" if row.shorthand else "")
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if row.block is not None and (nxt is None or nxt.block != row.block):
            sections.add(i)
    footer = [view.footer_label] + footers[1:] if any(footers) else None
    return LayerGrid(
        headers=[c.header for c in cols], rows=rows,
        right=[c.kind in ("count", "bytes", "percent") for c in cols], footer=footer,
        row_styles=styles, sections=sections,
        styles=["cyan" if c.key == "op" else "" for c in cols])


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
