"""Rendering worked arithmetic (``cnncalc explain`` / ``cnncalc calc``): rich for
people, markdown for notes, JSON for programs.  Input: :class:`cnncalc.explain.LayerExplanation` s.
The spec's strings (its name in the title, layer ids) are shown escaped (:func:`.safe.safe_text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..safe import safe_text
from ..units import shape_str

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console, ConsoleOptions, RenderResult

    from ..explain import LayerExplanation, Step

_STYLE = {"shape": "cyan", "params": "green", "macs": "magenta", "flops": "magenta",
          "rf": "blue", "truncation": "bold yellow", "note": "dim"}


def _shapes(layer: LayerExplanation) -> str:
    ins = ", ".join(shape_str(s) for s in layer.input_shapes)
    return f"{ins} -> {shape_str(layer.output_shape)}"


def render_explain(console: Console, layers: Sequence[LayerExplanation],
                   title: str | None = None, symbolic: bool = True) -> None:
    """Each layer as a heading and a two-column grid: what, and the working.  (Warnings
    go to stderr with the CLI's other warnings; the tiling steps explain them.)"""
    from ..analysis import paused_gc

    # crop=False: every line is already laid out within the width (rich would split and
    # measure each one again); a print per CHUNK_LAYERS layers, so that the text is written
    # as it is made (rich holds one print's text until the print ends)
    with paused_gc():
        for start in range(0, max(len(layers), 1), CHUNK_LAYERS):
            console.print(ExplainGrid(layers[start:start + CHUNK_LAYERS],
                                      title if start == 0 else None, symbolic), crop=False)


#: layers of worked arithmetic printed (and written out) at a time
CHUNK_LAYERS = 500


#: a piece of a line: its text and its rich style ("" for none)
Span_ = tuple[str, str]
GAP = "  "


class ExplainGrid:
    """The worked arithmetic laid out by hand and emitted as segments, in one print
    that rich does not re-measure (``crop=False``: the lines already fit the width).

    rich's ``Table.grid`` measures and wraps every cell and ``console.print`` renders
    per call: a grid per layer cost 1.6 ms a layer (20 s for 12,500 layers).  This
    does what that grid did, once: labels as wide as the widest label of the layer,
    two spaces, the working word-wrapped to the rest of the width (rich's own rule:
    break before a word that does not fit, fold a word wider than the column).
    """

    def __init__(self, layers: Sequence[LayerExplanation], title: str | None,
                 symbolic: bool = True) -> None:
        self.layers, self.title, self.symbolic = layers, title, symbolic

    def lines(self, width: int) -> Iterator[list[Span_]]:
        """Every output line as styled pieces."""
        if self.title:
            yield from wrap_pieces([(safe_text(self.title), "bold")], width)
        for layer in self.layers:
            yield []
            yield from wrap_pieces([(safe_text(layer.id), "bold"), (f"  {layer.op}  ", "dim"),
                                    (_shapes(layer), "")], width)
            yield from self._grid(layer.steps, width)

    def _grid(self, steps: Sequence[Step], width: int) -> Iterator[list[Span_]]:
        """One layer's steps: label, two spaces, the working (and its letters, dimmed)."""
        widths = [cell_len(step.label) for step in steps]
        label_w = max(widths, default=0)
        if width - label_w - len(GAP) < 1:  # no room for the working: as rich does, cut
            # the labels to fit and leave the working out
            for step in steps:
                yield [(_fit(step.label, max(width - len(GAP), 1)), _STYLE.get(step.kind, ""))]
                if self.symbolic and step.symbolic:
                    yield []
            return
        room = width - label_w - len(GAP)
        indent = " " * (label_w + len(GAP))
        for step, w in zip(steps, widths):
            lead = [(step.label, _STYLE.get(step.kind, "")), (" " * (label_w - w) + GAP, "")]
            for part in wrap_text(step.text(), room):
                yield [*lead, (part, "")]
                lead = [(indent, "")]
            if self.symbolic and step.symbolic:
                for part in wrap_text(step.symbolic, room):
                    yield [(indent, ""), (part, "dim")]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment
        from rich.style import Style

        lines = self.lines(options.max_width)
        if console.color_system is None:  # no styles printed: plain text in a few segments
            chunk: list[str] = []
            for line in lines:
                chunk.append("".join(t for t, _ in line))
                if len(chunk) == 1024:
                    yield Segment("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                yield Segment("\n".join(chunk) + "\n")
            return
        styles: dict[str, Style | None] = {"": None}
        plain: list[str] = []  # unstyled text runs together into one segment
        for line in lines:
            for text, style in line:
                if not style:
                    plain.append(text)
                    continue
                if plain:
                    yield Segment("".join(plain))
                    plain = []
                if style not in styles:
                    styles[style] = Style.parse(style)
                yield Segment(text, styles[style])
            plain.append("\n")
        if plain:
            yield Segment("".join(plain))


def cell_len(text: str) -> int:
    """Terminal cells ``text`` takes (rich's measure: wide characters count twice)."""
    from rich.cells import cell_len as rich_cell_len

    return len(text) if text.isascii() else rich_cell_len(text)


_WORD = re.compile(r"\s*\S+\s*")


def wrap_text(text: str, width: int) -> list[str]:
    """``text`` word-wrapped to ``width`` cells as rich wraps a table cell: a line breaks
    before a word (with its trailing spaces) that does not fit; a word wider than any
    line gets a line of its own, cut with an ellipsis.

    >>> wrap_text("output map 15 reads 6 of 6", 14)
    ['output map 15 ', 'reads 6 of 6']
    >>> wrap_text("ab [floor(i*n/size), x", 8)
    ['ab ', '[floor(…', 'x']
    """
    if (len(text) <= width and text.isascii()) or cell_len(text) <= width:
        return [text]
    return [_fit(text[start:end], width) for start, end in _line_ranges(text, width)]


def _line_ranges(text: str, width: int, fold: bool = False) -> list[tuple[int, int]]:
    """Where each wrapped line of ``text`` starts and ends (rich's ``divide_line``);
    ``fold`` splits a word wider than the line (as rich prints plain text) instead of
    leaving it whole to be cut (as in a table cell)."""
    ranges, start, offset = [], 0, 0
    for match in _WORD.finditer(text):
        word, at = match.group(0), match.start()
        bare = cell_len(word.rstrip())
        if width - offset >= bare:
            offset += cell_len(word)
            continue
        if at > start:
            ranges.append((start, at))
        start, offset = at, cell_len(word)
        if fold and bare > width:  # as rich does: cut the word, its spaces too, in lines
            from rich.cells import chop_cells

            *whole, rest = chop_cells(word, width)
            for chunk in whole:
                ranges.append((start, start + len(chunk)))
                start += len(chunk)
            offset = cell_len(rest)
    ranges.append((start, len(text)))
    return ranges


def _fit(line: str, width: int) -> str:
    """A wrapped line without trailing spaces beyond ``width``, cut to ``width`` with an
    ellipsis when one word is wider than that."""
    if cell_len(line) > width:
        line = line.rstrip()
    if cell_len(line) > width:
        from rich.cells import set_cell_size

        line = set_cell_size(line, width - 1) + "…"
    return line


def wrap_pieces(pieces: list[Span_], width: int) -> list[list[Span_]]:
    """Styled pieces of one line, word-wrapped to ``width`` (styles kept per piece; a
    line cut with an ellipsis takes the style of its first piece)."""
    text = "".join(t for t, _ in pieces)
    if cell_len(text) <= width:
        return [pieces]
    starts, at = [], 0  # where each piece starts in the text
    for t, _ in pieces:
        starts.append(at)
        at += len(t)
    out = []
    for start, end in _line_ranges(text, width, fold=True):
        line = [(t[max(start - s, 0):end - s], style) for (t, style), s in zip(pieces, starts)
                if s < end and s + len(t) > start]
        fitted = _fit(text[start:end], width)
        out.append(line if fitted == text[start:end] else [(fitted, line[0][1])])
    return out


def explain_markdown(layers: Sequence[LayerExplanation], title: str | None = None) -> str:
    """A section per layer with one bullet per step, the working in code spans."""
    lines = [f"# {safe_text(title)}", ""] if title else []
    for layer in layers:
        lines += [f"## {safe_text(layer.id)} ({layer.op}): {_shapes(layer)}", ""]
        for step in layer.steps:
            sym = f" — {step.symbolic}" if step.symbolic else ""
            lines.append(f"- **{step.label}**: `{step.text()}`{sym}")
        lines.append("")
    return "\n".join(lines)


def explain_json(layers: Sequence[LayerExplanation], header: dict[str, Any]) -> str:
    """``{...header, "layers": [LayerExplanation.to_dict(), ...]}``."""
    return json.dumps({**header, "layers": [layer.to_dict() for layer in layers]}, indent=2) + "\n"
