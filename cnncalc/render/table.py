"""Rich tables of one report: a row per layer, a totals footer, and for ``summary`` a
block of network totals underneath.

Rows of a block instance are indented under it and separated from the next instance
by a rule; rows expanded from ``act:``/``bn:`` shorthand are indented and dimmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .. import units
from ..report import LayerReport, Report
from ..safe import safe_text
from .views import View, memory_text, peaks_text


def depth(row: LayerReport) -> int:
    """Indent level of a row: one per enclosing block instance, one for shorthand."""
    level = 0 if row.block is None else row.block.count("[")
    return level + (1 if row.shorthand else 0)


def header_text(report: Report) -> Text:
    """``LeNet-5  1x32x32 -> 10  (batch 1, float32)``."""
    text = Text(safe_text(report.name), style="bold")
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
    _run_cache: dict[tuple[int, str], list[tuple[int, int, str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

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

    def _fit(self, cells: list[str], widths: list[int]) -> list[str]:
        """Cells cut (ending in an ellipsis) or padded to their column widths."""
        texts = [cell if len(cell) <= w else cell[: w - 1] + "…"
                 for cell, w in zip(cells, widths)]
        texts = [t.rjust(w) if r else t.ljust(w) for t, w, r in zip(texts, widths, self.right)]
        texts[-1] = texts[-1].rstrip()
        return texts

    def _lines(self, width: int, widths: list[int]) -> Iterator[tuple[list[str], str] | str]:
        """The grid, line by line: ``(cells, row style)`` for a row, a string for the rule
        under the headers and the blank lines between block instances."""
        yield self.headers, "bold"
        yield "─" * min(width, sum(widths) + GAP * (len(widths) - 1))
        for i, row in enumerate(zip(self.rows, self.row_styles)):
            yield row
            if i in self.sections:
                yield ""
        if self.footer:
            if len(self.rows) - 1 not in self.sections:
                yield ""
            yield self.footer, ""

    def _runs(self, n: int, row_style: str) -> list[tuple[int, int, str]]:
        """Spans ``(start, end, style)`` of adjacent columns that share a style: each is
        printed as one segment, gaps inside it included."""
        key = (n, row_style)
        if key not in self._run_cache:
            styles = [row_style if row_style == "bold" else _join_styles(c, row_style)
                      for c in self.styles[:n]]
            runs: list[tuple[int, int, str]] = []
            for j, st in enumerate(styles):
                if runs and runs[-1][2] == st:
                    runs[-1] = (runs[-1][0], j + 1, st)
                else:
                    runs.append((j, j + 1, st))
            self._run_cache[key] = runs
        return self._run_cache[key]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths(options.max_width)
        lines = self._lines(options.max_width, widths)
        if console.color_system is None:
            # no styles will be printed (a pipe, a file, NO_COLOR): one segment for the
            # whole grid, since rich's cost is per segment
            yield Segment("".join(
                (line if isinstance(line, str) else GAP_TEXT.join(self._fit(line[0], widths)))
                + "\n" for line in lines))
            return
        for line in lines:
            if isinstance(line, str):
                yield Segment(line)
                yield Segment.line()
                continue
            texts = self._fit(line[0], widths)
            for start, end, run_style in self._runs(len(widths), line[1]):
                if start:  # the gap between two runs takes no style
                    yield Segment(GAP_TEXT)
                yield Segment(GAP_TEXT.join(texts[start:end]),
                              Style.parse(run_style) if run_style else None)
            yield Segment.line()

GAP = 2
GAP_TEXT = " " * GAP


def _join_styles(column: str, row: str) -> str:
    return f"{column} {row}" if column and row else column or row



def layer_table(report: Report, view: View, exact: bool = False) -> LayerGrid:
    """The per-layer table of ``view`` with a totals footer."""
    cols = view.table_columns(report)
    footers = [c.footer(report, exact) for c in cols]
    rows, styles, sections = [], [], set()
    layers = report.layers
    for i, row in enumerate(layers):
        cells = [c.cell(row, report, exact) for c in cols]
        if cols[0].key == "id":
            cells[0] = "  " * depth(row) + safe_text(row.id)
        rows.append(cells)
        styles.append("dim" if row.shorthand else "")
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if row.block is not None and (nxt is None or nxt.block != row.block):
            sections.add(i)
    footer = [view.footer_label, *footers[1:]] if any(footers) else None
    return LayerGrid(
        headers=[c.header for c in cols], rows=rows,
        right=[c.kind in ("count", "bytes", "percent") for c in cols], footer=footer,
        row_styles=styles, sections=sections,
        styles=["cyan" if c.key == "op" else "" for c in cols])


def totals_lines(report: Report, exact: bool = False) -> list[tuple[str, str]]:
    """(label, text) pairs of the network totals shown under the ``summary`` table.

    Param memory is the parameters' alone; buffers (batchnorm running statistics) are
    counted and sized on a line of their own, as ``params`` and ``compare`` show them."""
    t = report.totals
    detail = [f"{units.human(t.trainable_params, True)} trainable"]
    if t.fixed_params:
        detail.append(f"{units.human(t.fixed_params, True)} fixed")
    lines = [("params", (f"{units.human(t.params, exact)} ({', '.join(detail)}); param memory "
                         f"{units.human_bytes(t.param_bytes, exact)} as {report.dtype}"))]
    if t.buffers:
        lines.append(("buffers", (f"{units.human(t.buffers, exact)}; buffer memory "
                                  f"{units.human_bytes(t.buffer_bytes, exact)}")))
    return [
        *lines,
        ("MACs", units.human(t.macs, exact)),
        ("FLOPs", units.human(t.flops, exact)),
        ("memory", f"input {units.human_bytes(t.input_bytes, exact)}, activations "
                   f"{units.human_bytes(t.activation_bytes, exact)} in all, "
                   f"peak {units.human_bytes(t.peak_activation_bytes, exact)}"),
        ("peak memory", peaks_text(report, exact)),
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
    size = units.dims([units.num(v) for v in rf.size])
    at = safe_text(str(report.receptive_field_layer))
    text = f"{size} at {at} (jump {units.axes(rf.jump)}, start {units.axes(rf.start)})"
    return text if rf.aligned else text + "; * merged paths whose centres do not align"


def report_renderable(report: Report, view: View, exact: bool = False) -> RenderableType:
    """The table of ``view``; ``summary`` adds the totals, ``rf`` the network's field,
    ``flops`` the breakdown by category."""
    parts: list[RenderableType] = [header_text(report), layer_table(report, view, exact)]
    if view.name == "summary":
        parts += [Text(""), totals_grid(report, exact)]
    elif view.name == "rf":
        parts += [Text(""), Text.assemble(("receptive field ", "bold"), rf_text(report))]
    elif view.name == "params":
        parts += [Text(""), Text(memory_text(report, exact))]
    elif view.name == "flops" and report.totals.flops:
        parts += [Text(""), Text("FLOPs by category", style="bold"),
                  breakdown_grid(dict(report.totals.flops_breakdown), exact)]
    return Group(*parts)


def render_report(console: Console, report: Report, view: View, exact: bool = False) -> None:
    """Print :func:`report_renderable` on ``console``."""
    console.print(report_renderable(report, view, exact))
