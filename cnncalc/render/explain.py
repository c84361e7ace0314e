"""Rendering worked arithmetic (``cnncalc explain`` / ``cnncalc calc``): rich for
people, markdown for notes, JSON for programs.  Input: :class:`cnncalc.explain.LayerExplanation` s.
The spec's strings (its name in the title, layer ids) are shown escaped (:func:`.safe.safe_text`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..safe import safe_text
from ..units import shape_str
from .text import _ENC_STR

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.segment import Segment
    from rich.style import Style

    from ..explain import LayerExplanation, Step

T = TypeVar("T")

_STYLE = {"shape": "cyan", "params": "green", "macs": "magenta", "flops": "magenta",
          "rf": "blue", "truncation": "bold yellow", "note": "dim"}


def _shapes(layer: LayerExplanation) -> str:
    ins = ", ".join(shape_str(s) for s in layer.input_shapes)
    return f"{ins} -> {shape_str(layer.output_shape)}"


def render_explain(console: Console, layers: Iterable[LayerExplanation],
                   title: str | None = None, symbolic: bool = True) -> None:
    """Each layer as a heading and a two-column grid: what, and the working.  (Warnings
    go to stderr with the CLI's other warnings; the tiling steps explain them.)
    ``layers`` is read as it is written (:func:`cnncalc.explain.explain_layers`)."""
    from ..collector import paused_gc

    # crop=False: every line is already laid out within the width (rich would split and
    # measure each one again); a print per CHUNK_LAYERS layers, so that the text is written
    # as it is made (rich holds one print's text until the print ends)
    layout = Layout(symbolic)
    with paused_gc():
        for start, chunk in enumerate(chunked(layers, CHUNK_LAYERS)):
            console.print(ExplainGrid(chunk, title if start == 0 else None, symbolic, layout),
                          crop=False)


#: layers of worked arithmetic printed (and written out) at a time
CHUNK_LAYERS = 500


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (one empty list when there are none: a title
    alone is still printed)."""
    it = iter(items)
    chunk = list(itertools.islice(it, size))
    yield chunk
    while len(chunk) == size:
        chunk = list(itertools.islice(it, size))
        if chunk:
            yield chunk


#: a piece of a line: its text and its rich style ("" for none)
Span_ = tuple[str, str]
Line = list[Span_]
GAP = "  "


def plain_text(lines: Iterable[Line]) -> str:
    """``lines`` without their styles, each ended with a newline."""
    return "".join(["".join([t for t, _ in line]) + "\n" for line in lines])


class ExplainGrid:
    """The worked arithmetic laid out by hand and emitted as segments, in one print
    that rich does not re-measure (``crop=False``: the lines already fit the width).

    rich's ``Table.grid`` measures and wraps every cell and ``console.print`` renders
    per call: a grid per layer cost 1.6 ms a layer (20 s for 12,500 layers).  This
    does what that grid did, once: labels as wide as the widest label of the layer,
    two spaces, the working word-wrapped to the rest of the width (rich's own rule:
    break before a word that does not fit, fold a word wider than the column).
    ``layout`` (its own ``symbolic``) is what the chunks of one render share.
    """

    def __init__(self, layers: Sequence[LayerExplanation], title: str | None,
                 symbolic: bool = True, layout: Layout | None = None) -> None:
        self.layers, self.title = layers, title
        self.layout = layout or Layout(symbolic)

    def lines(self, width: int) -> Iterator[Line]:
        """Every output line as styled pieces."""
        layout = self.layout
        for lines in self._blocks(width, layout.heading_lines, layout.shared_lines,
                                  layout.steps_lines, wrap_pieces,
                                  lambda blocks: list(itertools.chain.from_iterable(blocks))):
            yield from lines

    def texts(self, width: int) -> Iterator[str]:
        """The same lines as plain text, a layer at a time."""
        layout = self.layout
        return self._blocks(width, layout.heading_text, layout.shared_text, layout.steps_text,
                            lambda pieces, width: plain_text(wrap_pieces(pieces, width)),
                            "".join)

    def _blocks(self, width: int, heading: Callable[[LayerExplanation, int], B],
                shared: Callable[[Steps, int, int], B], steps: Callable[[Steps, int, int], B],
                title: Callable[[list[Span_], int], B],
                join: Callable[[list[B]], B]) -> Iterator[B]:
        """The title, then each layer (its heading, the steps it shares with the layers
        bound alike, its own steps, joined), each part made by the function given for it
        (styled lines, or plain text)."""
        if self.title:
            yield title([(safe_text(self.title), "bold")], width)
        widest = self.layout.labels_width
        for layer in self.layers:
            common = layer.shared
            own = layer.steps[len(common):] if common else layer.steps
            label_w = max(widest(common), max([label_width(s.label) for s in own], default=0))
            yield join([heading(layer, width), shared(common, label_w, width),
                        steps(own, label_w, width)])

    def segments(self, width: int) -> Iterator[list[Segment]]:
        """The same lines as rich segments, a layer at a time."""
        layout = self.layout
        return self._blocks(width, layout.heading_segments, layout.shared_segments,
                            layout.steps_segments,
                            lambda pieces, width: segments_of(wrap_pieces(pieces, width)),
                            lambda blocks: list(itertools.chain.from_iterable(blocks)))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        if console.color_system is None:  # no styles printed: plain text in a few segments
            texts = self.texts(options.max_width)
            while chunk := list(itertools.islice(texts, 256)):
                yield Segment("".join(chunk))
            return
        for segments in self.segments(options.max_width):
            yield from segments


def segments_of(lines: Iterable[Line]) -> list[Segment]:
    """``lines`` as rich segments: each styled piece its own, the unstyled text between
    them run together into one."""
    from rich.segment import Segment

    out: list[Segment] = []
    plain: list[str] = []
    for line in lines:
        for text, style in line:
            if not style:
                plain.append(text)
                continue
            if plain:
                out.append(Segment("".join(plain)))
                plain = []
            out.append(Segment(text, _style(style)))
        plain.append("\n")
    if plain:
        out.append(Segment("".join(plain)))
    return out


@functools.lru_cache(maxsize=64)
def _style(name: str) -> Style:
    """A style parsed once (the grid uses a few)."""
    from rich.style import Style

    return Style.parse(name)


B = TypeVar("B")
Steps = Sequence["Step"]

#: blocks of lines (and other texts) a layout remembers, at most
MAX_REMEMBERED = 4096


class Layout:
    """How each block of explain's grid is laid out, remembered where the same block
    comes back: the steps the layers bound alike share (the same objects,
    :class:`cnncalc.explain.OpWorking`), per label width, so that a network that repeats
    its layers lays them out once; and the headings' shapes.  At most
    :data:`MAX_REMEMBERED` of each kept."""

    def __init__(self, symbolic: bool = True) -> None:
        self.symbolic = symbolic
        self._lines: dict[tuple[int, ...], tuple[Steps, list[Line]]] = {}
        self._texts: dict[tuple[int, ...], tuple[Steps, str]] = {}
        self._segments: dict[tuple[int, ...], tuple[Steps, list[Segment]]] = {}
        self._widths: dict[tuple[int, ...], tuple[Steps, int]] = {}
        self._shapes: dict[tuple[Any, ...], str] = {}

    # ---- a layer's heading: a blank line, the id (bold), the op (dim), its shapes
    def heading_lines(self, layer: LayerExplanation, width: int) -> list[Line]:
        pieces = [(safe_text(layer.id), "bold"), (f"  {layer.op}  ", "dim"),
                  (self.shapes(layer), "")]
        return [[], *wrap_pieces(pieces, width)]

    def heading_text(self, layer: LayerExplanation, width: int) -> str:
        """:meth:`heading_lines` as plain text (one that fits the width as it is)."""
        text = f"{safe_text(layer.id)}  {layer.op}  {self.shapes(layer)}"
        if len(text) <= width and text.isascii():
            return f"\n{text}\n"
        return plain_text(self.heading_lines(layer, width))

    def shapes(self, layer: LayerExplanation) -> str:
        """``8x32x32 -> 8x32x32`` (a network repeats a few shapes)."""
        key = (layer.input_shapes, layer.output_shape)
        found = self._shapes.get(key)
        if found is None:
            found = _shapes(layer)
            if len(self._shapes) < MAX_REMEMBERED:
                self._shapes[key] = found
        return found

    # ---- steps: each its label, two spaces, the working wrapped (its letters dimmed below)
    def labels_width(self, steps: Steps) -> int:
        """The widest label of shared ``steps``."""
        return _remembered(self._widths, steps, (id(steps),), lambda: max(
            [label_width(s.label) for s in steps], default=0))

    def shared_lines(self, steps: Steps, label_w: int, width: int) -> list[Line]:
        return _remembered(self._lines, steps, (id(steps), label_w, width),
                           lambda: self.steps_lines(steps, label_w, width))

    def shared_text(self, steps: Steps, label_w: int, width: int) -> str:
        return _remembered(self._texts, steps, (id(steps), label_w, width),
                           lambda: self.steps_text(steps, label_w, width))

    def heading_segments(self, layer: LayerExplanation, width: int) -> list[Segment]:
        return segments_of(self.heading_lines(layer, width))

    def shared_segments(self, steps: Steps, label_w: int, width: int) -> list[Segment]:
        return _remembered(self._segments, steps, (id(steps), label_w, width),
                           lambda: self.steps_segments(steps, label_w, width))

    def steps_segments(self, steps: Steps, label_w: int, width: int) -> list[Segment]:
        return segments_of(self.steps_lines(steps, label_w, width))

    def steps_lines(self, steps: Steps, label_w: int, width: int) -> list[Line]:
        return [line for step in steps for line in self.step_lines(step, label_w, width)]

    def steps_text(self, steps: Steps, label_w: int, width: int) -> str:
        return "".join([self.step_text(step, label_w, width) for step in steps])

    def step_text(self, step: Step, label_w: int, width: int) -> str:
        """:meth:`step_lines` as plain text; a working and letters that fit their column
        as they are (the common case: nothing to wrap, no pieces to join)."""
        text, room = step.text(), width - label_w - len(GAP)
        symbolic = step.symbolic if self.symbolic else ""
        if (room > 0 and len(text) <= room and len(symbolic) <= room and text.isascii()
                and symbolic.isascii()):
            label = step.label
            first = f"{label}{' ' * (label_w - label_width(label))}{GAP}{text}\n"
            return first + f"{' ' * (label_w + len(GAP))}{symbolic}\n" if symbolic else first
        return plain_text(self.step_lines(step, label_w, width))

    def step_lines(self, step: Step, label_w: int, width: int) -> list[Line]:
        style = _STYLE.get(step.kind, "")
        symbolic = step.symbolic if self.symbolic else ""
        room = width - label_w - len(GAP)
        if room < 1:  # no room for the working: as rich does, cut the labels to fit and
            # leave the working out
            cut: list[Line] = [[(_fit(step.label, max(width - len(GAP), 1)), style)]]
            return [*cut, []] if symbolic else cut
        indent = " " * (label_w + len(GAP))
        lead = [(step.label, style), (" " * (label_w - label_width(step.label)) + GAP, "")]
        lines = []
        for part in wrap_text(step.text(), room):
            lines.append([*lead, (part, "")])
            lead = [(indent, "")]
        if symbolic:
            lines += [[(indent, ""), (part, "dim")] for part in wrap_text(symbolic, room)]
        return lines


def _remembered(known: dict[tuple[int, ...], tuple[Steps, B]], steps: Steps,
                key: tuple[int, ...], make: Callable[[], B]) -> B:
    """``make()`` for ``steps`` (and ``key``, which starts with its id), once per steps
    object: kept with what was made, so that its id is its own while it is remembered;
    at most :data:`MAX_REMEMBERED` kept (all let go when full)."""
    found = known.get(key)
    if found is not None and found[0] is steps:
        return found[1]
    made = make()
    if len(known) >= MAX_REMEMBERED:
        known.clear()
    known[key] = (steps, made)
    return made


def label_width(label: str) -> int:
    """The cells a step's label takes (labels are few)."""
    found = _LABEL_WIDTHS.get(label)
    if found is None:
        found = cell_len(label)
        if len(_LABEL_WIDTHS) < MAX_REMEMBERED:
            _LABEL_WIDTHS[label] = found
    return found


_LABEL_WIDTHS: dict[str, int] = {}


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


def explain_markdown(layers: Iterable[LayerExplanation], title: str | None = None) -> str:
    """A section per layer with one bullet per step, the working in code spans."""
    return "".join(explain_markdown_chunks(layers, title))


def explain_markdown_chunks(layers: Iterable[LayerExplanation], title: str | None = None
                            ) -> Iterator[str]:
    """:func:`explain_markdown` a layer at a time (the sections, joined by line breaks)."""
    sep = ""
    if title:
        yield f"# {safe_text(title)}\n"
        sep = "\n"
    shared: dict[tuple[int, ...], tuple[Steps, str]] = {}
    for layer in layers:
        common = layer.shared
        heading = f"## {safe_text(layer.id)} ({layer.op}): {_shapes(layer)}\n\n"
        bullets = _remembered(shared, common, (id(common),),
                              functools.partial(_bullets, common)) if common else ""
        yield sep + heading + bullets + _bullets(layer.steps[len(common):])
        sep = "\n"


def _bullets(steps: Steps) -> str:
    """A bullet a line: ``- **label**: `working` — letters``."""
    return "".join([_bullet(s) + "\n" for s in steps])


def _bullet(step: Step) -> str:
    sym = f" — {step.symbolic}" if step.symbolic else ""
    return f"- **{step.label}**: `{step.text()}`{sym}"


def explain_json(layers: Iterable[LayerExplanation], header: dict[str, Any]) -> str:
    """``{...header, "layers": [LayerExplanation.to_dict(), ...]}``."""
    return "".join(explain_json_chunks(layers, header))


def explain_json_chunks(layers: Iterable[LayerExplanation], header: dict[str, Any]
                        ) -> Iterator[str]:
    """:func:`explain_json` a layer at a time: the text of ``json.dumps({**header,
    "layers": [...]}, indent=2) + "\\n"``, byte for byte (:class:`StepsJson` writes the
    steps)."""
    from .text import encode_indented

    data = {**header, "layers": None}
    for i, (key, value) in enumerate(data.items()):
        yield ("{\n  " if i == 0 else ",\n  ") + _ENC_STR(key) + ": "
        if key != "layers":
            yield encode_indented(value, 1)
            continue
        steps = StepsJson()
        sep = "[\n    "
        for layer in layers:
            yield sep + _layer_json(layer, steps)
            sep = ",\n    "
        yield "[]" if sep.startswith("[") else "\n  ]"
    yield "\n}\n"




def _layer_json(layer: LayerExplanation, steps: StepsJson) -> str:
    """``encode_indented(layer.to_dict(), 2)``, its steps written by ``steps``."""
    from .text import encode_indented

    parts = []
    for key, value in layer.to_dict(steps=False).items():
        text = steps.of(layer) if key == "steps" else encode_indented(value, 3)
        parts.append(f"{_ENC_STR(key)}: {text}")
    return "{\n      " + ",\n      ".join(parts) + "\n    }"


_STEP_SEP = ",\n        "


class StepsJson:
    """The JSON of the layers' ``steps`` lists (nested three deep), each step written
    once: the steps a layer shares with the layers bound alike once per group of them
    (the same objects), its own once per value (the layers of a chain repeat most of
    theirs: ``j = 1*1 = 1``).  At most :data:`MAX_REMEMBERED` of each kept."""

    def __init__(self) -> None:
        self._shared: dict[tuple[int, ...], tuple[Steps, str]] = {}
        self._steps: dict[tuple[Step, type], str] = {}

    def of(self, layer: LayerExplanation) -> str:
        common = layer.shared
        texts = [_remembered(self._shared, common, (id(common),),
                             functools.partial(self._items, common))] if common else []
        if len(layer.steps) > len(common):
            texts.append(self._items(layer.steps[len(common):]))
        return "[\n        " + _STEP_SEP.join(texts) + "\n      ]" if texts else "[]"

    def _items(self, steps: Steps) -> str:
        """The items of a ``steps`` list, nested four deep, between their commas."""
        return _STEP_SEP.join([self._step(s) for s in steps])

    def _step(self, step: Step) -> str:
        from .text import encode_indented

        key = (step, type(step.result))  # (1, 1.0 and True are equal, their JSON is not)
        found = self._steps.get(key)
        if found is None:
            found = encode_indented(step.to_dict(), 4)
            if len(self._steps) >= MAX_REMEMBERED:
                self._steps.clear()
            self._steps[key] = found
        return found
