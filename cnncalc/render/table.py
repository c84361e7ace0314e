"""Rich tables of one report: a row per layer, a totals footer, and for ``summary`` a
block of network totals underneath.

Rows of a block instance are indented under it and separated from the next instance
by a rule; rows expanded from ``act:``/``bn:`` shorthand are indented and dimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .. import units
from ..report import LayerReport, Report
from ..safe import safe_text
from .views import ByValue, Kind, View, memory_text, peaks_text, show


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
#: formatted cells the grid remembers, shared out between its columns (a figure repeats
#: down a column: 10^5 layers show a few hundred distinct values; :class:`views.ByValue`)
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
    (:meth:`print`), so a table of 10^5 layers streams in bounded memory.  Both passes
    format a chunk a column at a time (:meth:`columns`), not a cell at a time.
    """

    def __init__(self, report: Report, view: View, exact: bool = False) -> None:
        self.report, self.exact = report, exact
        self.cols = view.table_columns(report)
        self.headers = [c.header for c in self.cols]
        self.right = [c.kind in ("count", "bytes", "percent") for c in self.cols]
        self.styles = ["cyan" if c.key == "op" else "" for c in self.cols]
        footers = [c.footer(report, exact) for c in self.cols]
        self.footer = [view.footer_label, *footers[1:]] if any(footers) else None
        limit = max(1000, CELL_CACHE // max(len(self.cols), 1))
        self._texts = [ByValue(_formatter(c.kind, exact, report), limit)
                       for c in self.cols]
        self._run_cache: dict[tuple[int, str], list[tuple[int, int, str]]] = {}
        self._widths: list[int] | None = None
        self._single_cells = True  # (set by the widths pass, with the widths)

    def columns(self, start: int, stop: int) -> list[list[str]]:
        """The cells of rows ``start:stop``, a list per column."""
        layers = self.report.layers[start:stop]
        out = []
        for j, col in enumerate(self.cols):
            if j == 0 and col.key == "id":
                out.append(["  " * depth(row) + safe_text(row.id) for row in layers])
            else:
                out.append(self._texts[j].of(list(map(col.value, layers))))
        return out

    def row_marks(self, start: int, stop: int) -> tuple[list[str], list[bool]]:
        """Rows ``start:stop``: each one's style, and whether a block instance ends there."""
        layers = self.report.layers
        styles = ["dim" if layers[i].shorthand else "" for i in range(start, stop)]
        blocks = [row.block for row in layers[start:stop + 1]]
        if len(blocks) == stop - start:  # the last row of the table
            blocks.append(None)
        ends = [b is not None and b != blocks[i + 1] for i, b in enumerate(blocks[:-1])]
        return styles, ends

    def natural_widths(self) -> list[int]:
        """Each column as wide as its widest cell (header, rows, footer): the first pass."""
        if self._widths is None:
            widths = [len(h) for h in self.headers]
            if self.footer:
                widths = [max(w, len(f)) for w, f in zip(widths, self.footer)]
            n = len(self.report.layers)
            single = all(map(_single_cells, [*self.headers, *(self.footer or ())]))
            for start in range(0, n, CHUNK_ROWS):
                cols = self.columns(start, min(start + CHUNK_ROWS, n))
                widths = [max(w, max(map(len, c))) for w, c in zip(widths, cols)]
                single = single and all(_single_cells("".join(c)) for c in cols)
            self._widths, self._single_cells = widths, single
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

    def fits(self, width: int, max_width: int) -> bool:
        """Whether every line of the grid laid out for ``max_width`` is at most ``width``
        cells wide: its columns fit, and every character of a cell takes one cell."""
        widths = self.widths(max_width)  # (the widths pass also finds _single_cells)
        return self._single_cells and sum(widths) + GAP * (len(widths) - 1) <= width

    def fit(self, columns: list[list[str]], widths: list[int]) -> list[tuple[str, ...]]:
        """Rows of cells cut (ending in an ellipsis) or padded to their column widths,
        from cells given a list per column (the columns past ``widths`` dropped)."""
        fitted = []
        for j, (texts, w) in enumerate(zip(columns, widths)):
            if max(map(len, texts), default=0) > w:
                texts = [t if len(t) <= w else t[: w - 1] + "…" for t in texts]
            texts = list(map(str.rjust if self.right[j] else str.ljust, texts, repeat(w)))
            fitted.append(texts)
        fitted[-1] = list(map(str.rstrip, fitted[-1]))
        return list(zip(*fitted))

    def _lines(self, width: int, widths: list[int], start: int = 0, stop: int | None = None,
               ) -> Iterator[tuple[tuple[str, ...], str] | str]:
        """Lines of the grid for rows ``start:stop``: ``(cells, row style)`` for a row, a
        string for the rule under the headers and the blank lines between block
        instances; the headers come with the first rows, the footer with the last."""
        n = len(self.report.layers)
        stop = n if stop is None else stop
        if start == 0:
            yield self.fit([[h] for h in self.headers], widths)[0], "bold"
            yield "─" * min(width, sum(widths) + GAP * (len(widths) - 1))
        styles, ends = self.row_marks(start, stop)
        rows = self.fit(self.columns(start, stop), widths) if stop > start else []
        for cells, style, ended in zip(rows, styles, ends):
            yield cells, style
            if ended:
                yield ""
        if stop == n and self.footer:
            if not (n and ends[-1]):
                yield ""
            yield self.fit([[f] for f in self.footer], widths)[0], ""

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

    def chunks(self, crop: bool = False) -> Iterator[_GridChunk]:
        """The grid as renderables of :data:`CHUNK_ROWS` rows each, in order (one, for
        a table without rows); with ``crop``, each crops its own lines to the console's
        width (see :meth:`print`)."""
        n = len(self.report.layers)
        for start in range(0, max(n, 1), CHUNK_ROWS):
            yield _GridChunk(self, start, min(start + CHUNK_ROWS, n), crop)

    def print(self, console: Console) -> None:
        """Print the grid on ``console`` chunk by chunk: each is written out before the
        next is formatted.  rich crops every printed line to the console's width, a pass
        over each line's segments that costs more than the grid's own work; the grid's
        lines fit that width but where an id is wider, so each chunk crops itself, and
        only when some line needs it."""
        for chunk in self.chunks(crop=True):
            console.print(chunk, crop=False)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for chunk in self.chunks():
            yield from chunk.__rich_console__(console, options)


class _GridChunk:
    """Rows ``start:stop`` of a :class:`LayerGrid`, as a renderable; with ``crop``, its
    lines cropped to the console's width as ``console.print`` crops them."""

    def __init__(self, grid: LayerGrid, start: int, stop: int, crop: bool = False) -> None:
        self.grid, self.start, self.stop, self.crop = grid, start, stop, crop

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments = self._segments(console, options)
        if self.crop and not self.grid.fits(console.width, options.max_width):
            # an id wider than the console: rich's own cropping, exactly
            for line in Segment.split_and_crop_lines(segments, console.width, pad=False):
                yield from line
            return
        yield from segments

    def _segments(self, console: Console, options: ConsoleOptions) -> list[Segment]:
        return list(self._lines_as_segments(console, options))

    def _lines_as_segments(self, console: Console, options: ConsoleOptions
                           ) -> Iterator[Segment]:
        grid = self.grid
        widths = grid.widths(options.max_width)
        lines = grid._lines(options.max_width, widths, self.start, self.stop)
        if console.color_system is None:
            # no styles will be printed (a pipe, a file, NO_COLOR): one segment for the
            # whole chunk, since rich's cost is per segment
            yield Segment("".join(
                (line if isinstance(line, str) else GAP_TEXT.join(line[0])) + "\n"
                for line in lines))
            return
        for line in lines:
            if isinstance(line, str):
                yield Segment(line)
                yield Segment.line()
                continue
            texts = line[0]
            for start, end, run_style in grid._runs(len(widths), line[1]):
                if start:  # the gap between two runs takes no style
                    yield Segment(GAP_TEXT)
                yield Segment(GAP_TEXT.join(texts[start:end]),
                              Style.parse(run_style) if run_style else None)
            yield Segment.line()


GAP = 2
GAP_TEXT = " " * GAP


def _single_cells(text: str) -> bool:
    """Whether every character of ``text`` takes one terminal cell (as ``len`` counts)."""
    return text.isascii() or cell_len(text) == len(text)


def _formatter(kind: Kind, exact: bool, report: Report) -> Callable[[Any], str]:
    """A column's cell text of a raw value (:func:`views.show` with its settings)."""
    return lambda value: show(kind, value, exact, report)


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
