"""Rendering worked arithmetic (``cnncalc explain`` / ``cnncalc calc``): rich for
people, markdown for notes, JSON for programs.  Input: :class:`cnncalc.explain.LayerExplanation` s.
The spec's strings (its name in the title, layer ids) are shown escaped (:func:`.safe.safe_text`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ..safe import safe_text
from ..units import int_text, shape_str
from .text import _ENC_STR, encode_indented, object_chunks

if TYPE_CHECKING:  # pragma: no cover
    from rich.color import ColorSystem
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.segment import Segment
    from rich.style import Style

    from ..explain import LayerExplanation, Step
    from ..report import ReceptiveField

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


class ExplainGrid:
    """The worked arithmetic laid out by hand and emitted as text, in one print that
    rich does not re-measure (``crop=False``: the lines already fit the width).

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
        """Every output line as styled pieces (what :meth:`texts` writes)."""
        layout = self.layout
        if self.title:
            yield from wrap_pieces([(safe_text(self.title), "bold")], width)
        for layer in self.layers:
            label_w = max([label_width(s.label) for s in layer.steps], default=0)
            yield from layout.heading_lines(layer, width)
            yield from layout.steps_lines(layer.steps, label_w, width)

    def texts(self, width: int, paint: Paint | None = None) -> Iterator[str]:
        """The same lines as text (``paint``: plain by default), a layer at a time."""
        paint = paint or PLAIN
        if self.title:
            yield paint.lines(wrap_pieces([(safe_text(self.title), "bold")], width))
        layer_text = self.layout.layer_text
        for layer in self.layers:
            yield layer_text(layer, width, paint)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        width = options.max_width
        if console.record and console.color_system is not None:  # (an export reads styles)
            yield from segments_of(self.lines(width))
            return
        # the text rich writes for these lines, styles as its ANSI codes: in a few
        # segments, not one per styled piece (rich renders and joins each of them)
        texts = self.texts(width, PLAIN if console.color_system is None else Paint(console))
        while chunk := list(itertools.islice(texts, 256)):
            yield Segment("".join(chunk))


class Paint:
    """How styled pieces are written: as the text alone (:data:`PLAIN`), or, for a
    console that prints colour, with the ANSI codes that rich writes for a segment of
    that style on it (its colour system; the colours dropped when it has ``no_color``),
    so that the grid's text is what rich would write for its styled segments."""

    def __init__(self, console: Console | None = None) -> None:
        system = console.color_system if console is not None else None
        self._system: ColorSystem | None = None
        if system is not None:
            from rich.console import COLOR_SYSTEMS

            self._system = COLOR_SYSTEMS[system]
        self._no_color = bool(console is not None and console.no_color)
        self._legacy_windows = bool(console is not None and console.legacy_windows)
        #: what the text depends on (a layout remembers text per paint)
        self.key = (system, self._no_color, self._legacy_windows)
        self._styles: dict[str, Style] = {}

    def __call__(self, text: str, style: str) -> str:
        """``text`` in ``style`` (a rich style definition; "" for none)."""
        if not style or self._system is None:
            return text
        found = self._styles.get(style)
        if found is None:
            found = _style(style)
            if self._no_color:  # as rich's console drops them (Segment.remove_color)
                found = found.without_color
            self._styles[style] = found
        return found.render(text, color_system=self._system,
                            legacy_windows=self._legacy_windows)

    def lines(self, lines: Iterable[Line]) -> str:
        """``lines`` written, each ended with a newline."""
        return "".join(["".join([self(t, s) for t, s in line]) + "\n" for line in lines])


#: the pieces' text alone
PLAIN = Paint()


def plain_text(lines: Iterable[Line]) -> str:
    """``lines`` without their styles, each ended with a newline."""
    return PLAIN.lines(lines)


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
#: of them, the shared tails of steps (a receptive field's rows, which a chain passes on
#: for a few layers and then never again: a few kept are all that is read again)
MAX_TAILS = 64


class Layout:
    """How each block of explain's grid is written, remembered where the same block
    comes back: the steps that layers share (the same objects: those of the layers
    bound alike, :class:`cnncalc.explain.OpWorking`, and the receptive-field rows of
    alike fields, :class:`cnncalc.explain.FieldRows`), per label width and paint, so
    that a network that repeats its layers writes them once; the headings' op and
    shapes; and a step's label and letters, padded and painted.  At most
    :data:`MAX_REMEMBERED` of each kept (:data:`MAX_TAILS` of the tails)."""

    def __init__(self, symbolic: bool = True) -> None:
        self.symbolic = symbolic
        self._heads, self._tails = Kept(MAX_REMEMBERED), Kept(MAX_TAILS)
        self.shapes = ShapeTexts()
        self._pieces: Memo[str] = Memo(MAX_REMEMBERED)
        self._rests: Memo[tuple[str, int, bool]] = Memo(MAX_REMEMBERED)

    def layer_text(self, layer: LayerExplanation, width: int, paint: Paint) -> str:
        """A layer's heading and steps: those it shares written once per label width."""
        shared, tail, steps = layer.shared, layer.shared_tail, layer.steps
        if len(tail) < 2:  # (one row: written at less cost than its text is looked up)
            tail = ()
        own = steps[len(shared):len(steps) - len(tail)] if shared or tail else steps
        label_w = max([label_width(s.label) for s in own], default=0)
        head = self._heads.of(shared, id(shared), Block, shared) if shared else None
        end = self._tails.of(tail, id(tail), Block, tail) if tail else None
        if head is not None and head.label_w > label_w:
            label_w = head.label_w
        if end is not None and end.label_w > label_w:
            label_w = end.label_w
        return "".join([self.heading_text(layer, width, paint),
                        head.text(self, label_w, width, paint) if head is not None else "",
                        self.steps_text(own, label_w, width, paint),
                        end.text(self, label_w, width, paint) if end is not None else ""])

    # ---- a layer's heading: a blank line, the id (bold), the op (dim), its shapes
    def heading_lines(self, layer: LayerExplanation, width: int) -> list[Line]:
        pieces = [(safe_text(layer.id), "bold"), (f"  {layer.op}  ", "dim"),
                  (self.shapes.of(layer), "")]
        return [[], *wrap_pieces(pieces, width)]

    def heading_text(self, layer: LayerExplanation, width: int, paint: Paint) -> str:
        """:meth:`heading_lines` written (one that fits the width as it is: its op and
        shapes written once for the layers that have them)."""
        ident = safe_text(layer.id)
        key = (layer.op, layer.input_shapes, layer.output_shape, paint.key)
        painted, size, ascii = self._rests.of(key, self._rest, layer, paint)
        if len(ident) + size <= width and ascii and ident.isascii():
            return f"\n{paint(ident, 'bold')}{painted}\n"
        return paint.lines(self.heading_lines(layer, width))

    def _rest(self, layer: LayerExplanation, paint: Paint) -> tuple[str, int, bool]:
        """A heading's op and shapes painted, their cells, and whether they are ASCII."""
        op, shapes = f"{GAP}{layer.op}{GAP}", self.shapes.of(layer)
        return paint(op, "dim") + shapes, len(op) + len(shapes), (op + shapes).isascii()

    def _piece(self, form: str, text: str, label_w: int, paint: Paint, kind: str = "") -> str:
        """A piece of a step's lines that comes back, painted: ``form`` ``label``, its
        label in its ``kind``'s style padded to ``label_w`` and the gap; ``letters``,
        its letters (dim) indented by the labels' column."""
        return self._pieces.of((form, text, kind, label_w, paint.key), _piece, form, text,
                               label_w, paint, kind)

    # ---- steps: each its label, two spaces, the working wrapped (its letters dimmed below)
    def steps_lines(self, steps: Steps, label_w: int, width: int) -> list[Line]:
        return [line for step in steps for line in self.step_lines(step, label_w, width)]

    def steps_text(self, steps: Steps, label_w: int, width: int, paint: Paint) -> str:
        return "".join([self.step_text(step, label_w, width, paint) for step in steps])

    def step_text(self, step: Step, label_w: int, width: int, paint: Paint) -> str:
        """:meth:`step_lines` written; a working and letters that fit their column as
        they are (the common case: nothing to wrap, no pieces to join)."""
        text, room = step.text(), width - label_w - len(GAP)
        symbolic = step.symbolic if self.symbolic else ""
        if (room > 0 and len(text) <= room and len(symbolic) <= room and text.isascii()
                and symbolic.isascii()):
            first = f"{self._piece('label', step.label, label_w, paint, step.kind)}{text}\n"
            if not symbolic:
                return first
            return f"{first}{self._piece('letters', symbolic, label_w, paint)}\n"
        return paint.lines(self.step_lines(step, label_w, width))

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


def _piece(form: str, text: str, label_w: int, paint: Paint, kind: str) -> str:
    if form == "label":
        return f"{paint(text, _STYLE.get(kind, ''))}{' ' * (label_w - label_width(text))}{GAP}"
    return f"{' ' * (label_w + len(GAP))}{paint(text, 'dim')}"


class Memo(Generic[B]):
    """What was made for each key, at most ``limit`` kept (all let go when full)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: dict[Any, B] = {}

    def of(self, key: Any, make: Callable[..., B], *args: Any) -> B:
        """``make(*args)``, made once for ``key`` while it is kept."""
        found = self._known.get(key, _MISSING)
        if found is _MISSING:
            if len(self._known) >= self.limit:
                self._known.clear()
            found = self._known[key] = make(*args)
        return cast(B, found)


_MISSING: Any = object()


class ShapeTexts:
    """``8x32x32 -> 8x32x32``: a layer's shapes as its heading shows them, remembered
    (a network repeats a few shapes; at most :data:`MAX_REMEMBERED` kept)."""

    def __init__(self) -> None:
        self._known: Memo[str] = Memo(MAX_REMEMBERED)

    def of(self, layer: LayerExplanation) -> str:
        return self._known.of((layer.input_shapes, layer.output_shape), _shapes, layer)


class Kept:
    """What was made of objects, once per object while it is kept (keyed by its id and
    held, so that the id is its own); at most ``limit`` kept, all let go when full."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: dict[Any, tuple[Any, Any]] = {}

    def of(self, obj: Any, key: Any, make: Callable[..., B], *args: Any) -> B:
        """``make(*args)`` for ``obj`` and ``key`` (``id(obj)``, or a tuple that starts
        with it)."""
        found = self._known.get(key)
        if found is not None and found[0] is obj:
            made: B = found[1]
            return made
        made = make(*args)
        if len(self._known) >= self.limit:
            self._known.clear()
        self._known[key] = (obj, made)
        return made


class Block:
    """Steps that layers share as the grid writes them: their widest label, and their
    text per label width, width and paint (a few: the layers that share them differ
    in their other labels)."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        self.label_w = max([label_width(s.label) for s in steps], default=0)
        self._texts: Memo[str] = Memo(MAX_BLOCK_TEXTS)

    def text(self, layout: Layout, label_w: int, width: int, paint: Paint) -> str:
        return self._texts.of((label_w, width, paint.key), layout.steps_text, self.steps,
                              label_w, width, paint)


#: the texts of one block kept (per label width, width and paint)
MAX_BLOCK_TEXTS = 16


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
    """:func:`explain_markdown` a layer at a time (the sections, joined by line breaks);
    the steps a layer shares with others written once (the same objects)."""
    sep = ""
    if title:
        yield f"# {safe_text(title)}\n"
        sep = "\n"
    heads, tails, shapes = Kept(MAX_REMEMBERED), Kept(MAX_TAILS), ShapeTexts()
    for layer in layers:
        head, tail = layer.shared, layer.shared_tail
        yield "".join([
            sep, f"## {safe_text(layer.id)} ({layer.op}): {shapes.of(layer)}\n\n",
            heads.of(head, id(head), _bullets, head) if head else "",
            _bullets(layer.own_steps()), tails.of(tail, id(tail), _bullets, tail) if tail else ""])
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
    "layers": [...]}, indent=2) + "\\n"``, byte for byte (:class:`LayerJson` writes
    the layers)."""
    yield from object_chunks({**header, "layers": None}, {"layers": lambda: _layers_json(layers)})


def _layers_json(layers: Iterable[LayerExplanation]) -> Iterator[str]:
    """The ``layers`` array, nested one deep, a layer a piece."""
    writer, sep = LayerJson(), "[\n    "
    for layer in layers:
        yield writer.of(layer, sep)
        sep = ",\n    "
    yield "[]" if sep.startswith("[") else "\n  ]"


_LAYER = ("%s{\n      \"id\": %s,\n      \"op\": %s,\n      \"inputs\": %s,\n      "
          "\"input_shapes\": %s,\n      \"receptive_field\": %s,\n      "
          "\"steps\": %s,\n      \"warnings\": %s\n    }")
#: from a layer's input shapes to its FLOPs (the key of the shapes is in the frame)
_FIGURES = ("%s,\n      \"output_shape\": %s,\n      \"params\": %s,\n      \"macs\": %s,"
            "\n      \"flops\": %s")
_STEP = ("{\n          \"label\": %s,\n          \"formula\": %s,\n          \"result\": %s,"
         "\n          \"symbolic\": %s,\n          \"kind\": %s,\n          \"text\": %s"
         "\n        }")
_FIELD = "{\n        \"size\": [\n          %s\n        ],\n        \"jump\": %s\n      }"
#: a field's rest, from its jump on (the key of the jump is in the frame)
_FIELD_REST = ("[\n          %s\n        ],\n        \"start\": [\n          %s\n        ],"
               "\n        \"aligned\": %s")
_STEP_SEP, _AXIS_SEP, _INPUT_SEP = ",\n        ", ",\n          ", ",\n        "


class LayerJson:
    """``encode_indented(layer.to_dict(), 2)`` of explained layers, the same text: a
    layer of string ids and int figures filled into its frame, field by field (each
    string and int as json.dumps writes it), what the layers share written once: the
    steps shared with others and the shapes and figures of the layers bound alike (the
    same objects), the receptive field that the layers after a window pass on (the
    same object).  Any other layer by :func:`encode_indented`.  At most
    :data:`MAX_REMEMBERED` of each kept (:data:`MAX_TAILS` of the tails and fields)."""

    def __init__(self) -> None:
        self._figures: dict[tuple[int, ...], tuple[Any, Any, str]] = {}
        self._field_rests: Memo[str] = Memo(MAX_TAILS)
        self._heads, self._tails, self._fields = (Kept(MAX_REMEMBERED), Kept(MAX_TAILS),
                                                  Kept(MAX_TAILS))

    def of(self, layer: LayerExplanation, sep: str) -> str:
        """``sep`` and the layer's JSON, nested one deep."""
        ident, op = layer.id, layer.op
        if not (type(ident) is str is type(op) and type(layer.params) is int
                is type(layer.macs) is type(layer.flops)):
            return sep + encode_indented(layer.to_dict(), 2)
        rf = layer.receptive_field
        return _LAYER % (
            sep, _ENC_STR(ident), _ENC_STR(op), _strings(layer.inputs), self.figures(layer),
            "null" if rf is None else self._fields.of(rf, id(rf), self.field, rf),
            self.steps(layer), _strings(layer.warnings) if layer.warnings else "[]")

    def figures(self, layer: LayerExplanation) -> str:
        """From the input shapes to the FLOPs: once for the layers bound alike (the
        same shape objects, the same int figures)."""
        ins, out = layer.input_shapes, layer.output_shape
        key = (id(ins), id(out), layer.params, layer.macs, layer.flops)
        found = self._figures.get(key)
        if found is not None and found[0] is ins and found[1] is out:
            return found[2]
        text = _FIGURES % (encode_indented([list(s) for s in ins], 3),
                           encode_indented(list(out), 3), int_text(layer.params),
                           int_text(layer.macs), int_text(layer.flops))
        if len(self._figures) >= MAX_REMEMBERED:
            self._figures.clear()
        self._figures[key] = (ins, out, text)
        return text

    def field(self, rf: ReceptiveField) -> str:
        """``encode_indented(rf.to_dict(), 3)``: a field of ints (its starts, floats
        in JSON, within a float's range) filled into its frame, the part after the
        size once per jump, start and alignment (a chain's field only grows)."""
        size, jump, start, aligned = rf.size, rf.jump, rf.start, rf.aligned
        if not (size and jump and start and set(map(type, size + jump + start)) == _INTS
                and type(aligned) is bool and min(start) > -_FLOAT_RANGE
                and max(start) < _FLOAT_RANGE):
            return encode_indented(rf.to_dict(), 3)
        # (ints: equal values, the same text)
        rest = self._field_rests.of((jump, start, aligned), _field_rest, jump, start, aligned)
        return _FIELD % (_AXIS_SEP.join(map(int_text, cast("tuple[int, ...]", size))), rest)

    def steps(self, layer: LayerExplanation) -> str:
        """The ``steps`` list, nested three deep."""
        shared, tail = layer.shared, layer.shared_tail
        texts = [self._heads.of(shared, id(shared), _steps_items, shared)] if shared else []
        own = layer.own_steps() if shared or tail else layer.steps
        if own:
            texts.append(_steps_items(own))
        if tail:
            texts.append(self._tails.of(tail, id(tail), _steps_items, tail))
        return "[\n        " + _STEP_SEP.join(texts) + "\n      ]" if texts else "[]"


def _strings(values: tuple[Any, ...]) -> str:
    """A layer's list of strings (its inputs, its warnings), nested three deep."""
    if not values:
        return "[]"
    try:
        return "[\n        " + _INPUT_SEP.join(map(_ENC_STR, values)) + "\n      ]"
    except TypeError:  # not strings
        return encode_indented(list(values), 3)


def _field_rest(jump: tuple[int, ...], start: tuple[int, ...], aligned: bool) -> str:
    """A field's JSON after its size: its jump, start (floats) and alignment."""
    return _FIELD_REST % (_AXIS_SEP.join(map(int_text, jump)),
                          _AXIS_SEP.join([repr(float(s)) for s in start]),
                          "true" if aligned else "false")


def _steps_items(steps: Steps) -> str:
    """The items of a ``steps`` list, nested four deep, between their commas."""
    return _STEP_SEP.join([_step_json(s) for s in steps])


def _step_json(step: Step) -> str:
    """``encode_indented(step.to_dict(), 4)``: a step of strings with a string or int
    result filled into its frame."""
    result = step.result
    shown = int_text(result) if type(result) is int else _ENC_STR(result) if type(
        result) is str else None
    if shown is not None:
        try:
            return _STEP % (_ENC_STR(step.label), _ENC_STR(step.formula), shown,
                            _ENC_STR(step.symbolic), _ENC_STR(step.kind), _ENC_STR(step.text()))
        except TypeError:  # a field that is no string
            pass
    return encode_indented(step.to_dict(), 4)


_INTS = {int}
_FLOAT_RANGE = 10**300
