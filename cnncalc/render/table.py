"""Rich tables of one report: a row per layer, a totals footer, and for ``summary`` a
block of network totals underneath.

Rows of a block instance are indented under it and separated from the next instance
by a rule; rows expanded from ``act:``/``bn:`` shorthand are indented and dimmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .. import units
from ..report import LayerReport, Report
from ..safe import safe_text
from .views import View, memory_text, peaks_text, show


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


#: rows of the grid printed (and written out) at a time: the grid streams, never holding
#: more than this many formatted rows
CHUNK_ROWS = 2000
#: formatted cells the grid remembers (a figure repeats down a column: 10^5 layers show
#: a few hundred distinct values), emptied when full so memory stays bounded
CELL_CACHE = 50_000


class LayerGrid:
    """The per-layer table, laid out by hand and emitted as segments.

    rich's ``Table`` measures and wraps every cell; for hundreds of rows that costs more
    than the whole analysis (0.2 s for ResNet-50), so this grid does the simple thing:
    single-line cells, columns as wide as their widest cell, two spaces between them.
    On a narrow terminal the widest figure columns give way (cells end in an ellipsis)
    and, if that is not enough, trailing columns are dropped; ids are never cut.

    It holds the report, not its formatted rows: the column widths come from a first
    pass over the rows, the lines from a second, written :data:`CHUNK_ROWS` at a time
    (:meth:`print`), so a table of 10^5 layers streams in bounded memory.
    """

    def __init__(self, report: Report, view: View, exact: bool = False) -> None:
        self.report, self.exact = report, exact
        self.cols = view.table_columns(report)
        self.headers = [c.header for c in self.cols]
        self.right = [c.kind in ("count", "bytes", "percent") for c in self.cols]
        self.styles = ["cyan" if c.key == "op" else "" for c in self.cols]
        footers = [c.footer(report, exact) for c in self.cols]
        self.footer = [view.footer_label, *footers[1:]] if any(footers) else None
        self._cells: dict[tuple[int, type, Any], str] = {}
        self._run_cache: dict[tuple[int, str], list[tuple[int, int, str]]] = {}
        self._widths: list[int] | None = None

    def cells(self, row: LayerReport) -> list[str]:
        """One row's cells; the figures formatted once per distinct value and column."""
        out = []
        for j, col in enumerate(self.cols):
            if j == 0 and col.key == "id":
                out.append("  " * depth(row) + safe_text(row.id))
                continue
            value = col.value(row)
            try:
                key = (j, type(value), value)
                cell = self._cells.get(key)
            except TypeError:  # an unhashable value: formatted each time
                out.append(show(col.kind, value, self.exact, self.report))
                continue
            if cell is None:
                if len(self._cells) >= CELL_CACHE:
                    self._cells.clear()
                cell = self._cells[key] = show(col.kind, value, self.exact, self.report)
            out.append(cell)
        return out

    def rows(self, start: int = 0, stop: int | None = None
             ) -> Iterator[tuple[list[str], str, bool]]:
        """Rows ``start:stop`` as (cells, row style, whether a block instance ends there)."""
        layers = self.report.layers
        stop = len(layers) if stop is None else stop
        for i in range(start, stop):
            row = layers[i]
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            ends = row.block is not None and (nxt is None or nxt.block != row.block)
            yield self.cells(row), "dim" if row.shorthand else "", ends

    def natural_widths(self) -> list[int]:
        """Each column as wide as its widest cell (header, rows, footer): the first pass."""
        if self._widths is None:
            widths = [len(h) for h in self.headers]
            if self.footer:
                widths = [max(w, len(f)) for w, f in zip(widths, self.footer)]
            for cells, _, _ in self.rows():
                widths = [w if w >= len(c) else len(c) for w, c in zip(widths, cells)]
            self._widths = widths
        return self._widths

    def widths(self, width: int) -> list[int]:
        widths = list(self.natural_widths())
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

    def _lines(self, width: int, widths: list[int], start: int = 0, stop: int | None = None,
               ) -> Iterator[tuple[list[str], str] | str]:
        """Lines of the grid for rows ``start:stop``: ``(cells, row style)`` for a row, a
        string for the rule under the headers and the blank lines between block
        instances; the headers come with the first rows, the footer with the last."""
        n = len(self.report.layers)
        stop = n if stop is None else stop
        if start == 0:
            yield self.headers, "bold"
            yield "─" * min(width, sum(widths) + GAP * (len(widths) - 1))
        ended = False
        for cells, style, ended in self.rows(start, stop):
            yield cells, style
            if ended:
                yield ""
        if stop == n and self.footer:
            if not (n and ended):
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

    def chunks(self) -> Iterator[_GridChunk]:
        """The grid as renderables of :data:`CHUNK_ROWS` rows each, in order (one, for
        a table without rows)."""
        n = len(self.report.layers)
        for start in range(0, max(n, 1), CHUNK_ROWS):
            yield _GridChunk(self, start, min(start + CHUNK_ROWS, n))

    def print(self, console: Console) -> None:
        """Print the grid on ``console`` chunk by chunk: each is written out before the
        next is formatted."""
        for chunk in self.chunks():
            console.print(chunk)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for chunk in self.chunks():
            yield from chunk.__rich_console__(console, options)


class _GridChunk:
    """Rows ``start:stop`` of a :class:`LayerGrid`, as a renderable."""

    def __init__(self, grid: LayerGrid, start: int, stop: int) -> None:
        self.grid, self.start, self.stop = grid, start, stop

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid = self.grid
        widths = grid.widths(options.max_width)
        lines = grid._lines(options.max_width, widths, self.start, self.stop)
        if console.color_system is None:
            # no styles will be printed (a pipe, a file, NO_COLOR): one segment for the
            # whole chunk, since rich's cost is per segment
            yield Segment("".join(
                (line if isinstance(line, str) else GAP_TEXT.join(grid._fit(line[0], widths)))
                + "\n" for line in lines))
            return
        for line in lines:
            if isinstance(line, str):
                yield Segment(line)
                yield Segment.line()
                continue
            texts = grid._fit(line[0], widths)
            for start, end, run_style in grid._runs(len(widths), line[1]):
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
    return LayerGrid(report, view, exact)


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
    return Group(header_text(report), layer_table(report, view, exact),
                 *_after_table(report, view, exact))


def _after_table(report: Report, view: View, exact: bool) -> list[RenderableType]:
    """What follows the per-layer table of ``view``."""
    parts: list[RenderableType] = []
    if view.name == "summary":
        parts += [Text(""), totals_grid(report, exact)]
    elif view.name == "rf":
        parts += [Text(""), Text.assemble(("receptive field ", "bold"), rf_text(report))]
    elif view.name == "params":
        parts += [Text(""), Text(memory_text(report, exact))]
    elif view.name == "flops" and report.totals.flops:
        parts += [Text(""), Text("FLOPs by category", style="bold"),
                  breakdown_grid(dict(report.totals.flops_breakdown), exact)]
    return parts


def render_report(console: Console, report: Report, view: View, exact: bool = False) -> None:
    """Print :func:`report_renderable` on ``console``, streaming: the header, the grid a
    chunk of rows at a time, then the totals."""
    console.print(header_text(report))
    layer_table(report, view, exact).print(console)
    rest = _after_table(report, view, exact)
    if rest:
        console.print(Group(*rest))
