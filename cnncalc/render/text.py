"""Plain-text writers: JSON, CSV and markdown (no rich, so they pipe cleanly).

>>> print(markdown_table(["a", "b"], [["1", "x|y"]]))
| a | b |
| --- | --- |
| 1 | x\\|y |
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from typing import Any

from ..report import Report
from ..safe import safe_text
from ..units import int_text, shape_str
from .views import ByValue, Column, Kind, View, json_subset, memory_text, peaks_text, raw, show


@contextlib.contextmanager
def any_int_size() -> Iterator[None]:
    """Lift Python's int-to-str digit limit (4,300 digits) while JSON is written: a figure
    is exact at any size, and JSON numbers have no size limit."""
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:  # an interpreter without the limit
        yield
        return
    old = get()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def to_json(data: Any) -> str:
    """Indented JSON with a trailing newline; integers exact at any size."""
    with any_int_size():
        return json.dumps(data, indent=2) + "\n"


def report_json(report: Report, view: View) -> str:
    """``--format json`` of an analysis command (see :func:`views.json_subset`)."""
    return "".join(report_json_chunks(report, view))


#: layer rows of ``--format json`` written out at a time
JSON_CHUNK_ROWS = 2000


def report_json_chunks(report: Report, view: View) -> Iterator[str]:
    """:func:`report_json` in pieces of :data:`JSON_CHUNK_ROWS` layers: the text of
    ``to_json(json_subset(report, view))``, byte for byte, without ever holding every
    layer's dict or the whole text (10^5 layers make about 10^8 bytes of JSON)."""
    yield from object_chunks(json_subset(report, view, layers=False),
                             {"layers": lambda: _layers_json(report, view)})


def object_chunks(head: Mapping[str, Any], streamed: Mapping[str, Callable[[], Iterable[str]]]
                  ) -> Iterator[str]:
    """``to_json(head)`` in pieces, byte for byte, the value of each key in ``streamed``
    written by its writer instead (the text of that value nested one deep, in pieces
    as they are made): a streaming writer's one JSON object frame."""
    for i, (key, value) in enumerate(head.items()):
        yield ("{\n  " if i == 0 else ",\n  ") + _ENC_STR(key) + ": "
        writer = streamed.get(key)
        if writer is None:
            yield encode_indented(value, 1)
        else:
            yield from writer()
    yield "\n}\n" if head else "{}\n"


def _layers_json(report: Report, view: View) -> Iterator[str]:
    """The ``layers`` array, :data:`JSON_CHUNK_ROWS` rows a piece (:mod:`.json_rows`)."""
    from .json_rows import LayerRows

    layers = report.layers
    if not layers:
        yield "[]"
        return
    rows = LayerRows.of(report, view, 2)
    for start in range(0, len(layers), JSON_CHUNK_ROWS):
        texts = rows.texts(layers[start:start + JSON_CHUNK_ROWS])
        yield ("[\n    " if start == 0 else ",\n    ") + ",\n    ".join(texts)
    yield "\n  ]"


_ENC_STR = json.encoder.encode_basestring_ascii  # (json.dumps's own, in C)
_INF = float("inf")


def encode_indented(value: Any, level: int) -> str:
    """``json.dumps(value, indent=2)`` of a value nested ``level`` deep, the same text,
    faster (json's C encoder takes no indent; its Python one is a generator per value);
    integers are written at any size.

    >>> data = {"a": [1, [2, 3], []], "b": {"c": None, "d": 1.5, "e": True}, "f": "é"}
    >>> encode_indented(data, 0) == json.dumps(data, indent=2)
    True
    """
    kind = type(value)
    if kind is dict:
        return _encode_dict(value, level)
    if kind is list or kind is tuple:
        return _encode_list(value, level)
    return _encode_scalar(value, kind, level)


def indent_text(level: int) -> str:
    """A line break and the indent of ``level`` (json.dumps's ``indent=2``)."""
    while len(_INDENTS) <= level:
        _INDENTS.append("\n" + "  " * len(_INDENTS))
    return _INDENTS[level]


_INDENTS: list[str] = []
_KEYS: dict[str, str] = {}  # a key's JSON text (reports repeat the same few keys)


def _encode_dict(value: dict[Any, Any], level: int) -> str:
    if not value:
        return "{}"
    inner = indent_text(level + 1)
    parts = []
    for key, item in value.items():
        if type(key) is not str:
            return _encode_other(value, level)
        name = _KEYS.get(key)
        if name is None:
            name = _ENC_STR(key) + ": "
            if len(_KEYS) < 1000:
                _KEYS[key] = name
        kind = type(item)
        text = (int_text(item) if kind is int else _ENC_STR(item) if kind is str
                else _encode_list(item, level + 1) if kind is list
                else encode_indented(item, level + 1))
        parts.append(name + text)
    return "{" + inner + ("," + inner).join(parts) + indent_text(level) + "}"


def _encode_list(value: list[Any] | tuple[Any, ...], level: int) -> str:
    if not value:
        return "[]"
    inner = indent_text(level + 1)
    kinds = set(map(type, value))
    if kinds == _INT_ONLY:  # a shape, a field's sizes: remembered
        key = (level, tuple(value))
        known = _INT_LISTS.get(key)
        if known is None:
            known = "[" + inner + ("," + inner).join([int_text(v) for v in value]) \
                + indent_text(level) + "]"
            if len(_INT_LISTS) < 4096:
                _INT_LISTS[key] = known
        return known
    if kinds <= SCALARS:
        texts = flat_list_texts([value], level)
        if texts is not None:
            return texts[0]
    parts = [encode_indented(v, level + 1) for v in value]
    return "[" + inner + ("," + inner).join(parts) + indent_text(level) + "]"


#: the types json's C encoder writes as :func:`encode_indented` does, in a flat list
SCALARS = frozenset({str, int, float, bool, type(None)})


def flat_list_texts(values: Sequence[Any], level: int) -> list[str] | None:
    """The texts of non-empty lists (or tuples) of :data:`SCALARS`, each nested ``level``
    deep; None without json's C encoder, or for an int past the digit limit.

    The C encoder takes no indent, but puts its item separator, here a line break and
    the next level's indent, between items: it writes the whole list of lists at once,
    and the lists come apart at ``]``, separator, ``[`` (which no string's text holds:
    it has no raw line break)."""
    encode = _flat_encoder(level)
    if encode is None or not values:
        return None
    separator = "," + indent_text(level + 1)
    try:
        whole = "".join(encode(values, 0))
    except ValueError:  # an int past the digit limit
        return None
    frame = "[" + indent_text(level + 1) + "%s" + indent_text(level) + "]"
    return list(map(frame.__mod__, whole[2:-2].split("]" + separator + "[")))


def _flat_encoder(level: int) -> Callable[[Any, int], Sequence[str]] | None:
    encoder = _FLAT_ENCODERS.get(level)
    if encoder is None and c_make_encoder is not None:
        encoder = _FLAT_ENCODERS[level] = c_make_encoder(
            None, _not_scalar, _ENC_STR, None, ": ", "," + indent_text(level + 1),
            False, False, True)
    return encoder


def _not_scalar(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not a scalar")


_FLAT_ENCODERS: dict[int, Callable[[Any, int], Sequence[str]]] = {}


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value == _INF else "-Infinity" if value == -_INF else repr(value)


_INT_LISTS: dict[tuple[int, tuple[int, ...]], str] = {}
_INT_ONLY = {int}


def _encode_scalar(value: Any, kind: type, level: int) -> str:
    if kind is str:
        return _ENC_STR(value)
    if kind is int:
        return int_text(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float:
        return _float_text(value)
    return _encode_other(value, level)


def _encode_other(value: Any, level: int) -> str:
    """Anything else: as json.dumps writes it (or refuses it)."""
    with any_int_size():
        return json.dumps(value, indent=2).replace("\n", indent_text(level))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """RFC 4180 CSV with ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def report_csv(report: Report, view: View) -> str:
    """One row per layer with the view's raw values (exact numbers, shapes as 6x28x28)."""
    return "".join(report_csv_chunks(report, view))


#: CSV rows written out at a time
CSV_CHUNK_ROWS = 2000
#: raw values a CSV column remembers (:class:`views.ByValue`)
CSV_CACHE = 4096
#: the types of raw values csv writes as :func:`views.raw` would (None as an empty field)
_AS_THEY_ARE = frozenset({int, str, type(None)})
_SEQUENCES = frozenset({tuple, list})


def report_csv_chunks(report: Report, view: View) -> Iterator[str]:
    """:func:`report_csv` in pieces of :data:`CSV_CHUNK_ROWS` rows, each converted a
    column at a time (:func:`csv_column`)."""
    cols: list[Column] = view.csv_columns()
    layers = report.layers
    yield csv_text([c.key for c in cols], [])
    raws = [ByValue(functools.partial(raw, c.kind), CSV_CACHE) for c in cols]
    for start in range(0, len(layers), CSV_CHUNK_ROWS):
        chunk = layers[start:start + CSV_CHUNK_ROWS]
        columns = [csv_column(c, list(map(c.value, chunk)), by_value)
                   for c, by_value in zip(cols, raws)]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(zip(*columns))
        yield buf.getvalue()


def csv_column(col: Column, values: list[Any], by_value: ByValue) -> list[Any]:
    """:func:`views.raw` of a column's values, with no call per value where that is the
    same: values as they are when each is an int, a string or None (csv writes None as
    an empty field), sequences of strings (the inputs) joined by ``;``, else looked up
    by value."""
    if col.kind not in ("shape", "shapes"):
        types = set(map(type, values))
        if types <= _AS_THEY_ARE:
            return values
        if types <= _SEQUENCES:
            try:
                return list(map(";".join, values))
            except TypeError:  # not strings: numbers (a receptive field)
                pass
    return by_value.of(values)


def _md_shown(kind: Kind, exact: bool, report: Report) -> Callable[[Any], str]:
    """A markdown cell of a raw value of ``kind``: shown as in tables, escaped."""
    return lambda value: _md_cell(show(kind, value, exact, report))


def _md_cell(text: Any) -> str:
    return safe_text(str(text).replace("\n", " ")).replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
                   right: Sequence[bool] = ()) -> str:
    """A GitHub-flavoured markdown table; ``right`` marks right-aligned columns."""
    return _markdown_lines([_md_cell(h) for h in header],
                           ([_md_cell(c) for c in row] for row in rows), right)


def _markdown_lines(header: Sequence[str], rows: Iterable[Sequence[str]],
                    right: Sequence[bool]) -> str:
    """:func:`markdown_table` of cells already escaped (:func:`_md_cell`)."""
    align = ["---:" if i < len(right) and right[i] else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


#: markdown cells a column remembers (:class:`views.ByValue`)
MD_CACHE = 4096


def report_markdown(report: Report, view: View, exact: bool) -> str:
    """One row per layer (formatted as in tables) and a bold totals row; the cells are
    made a column at a time, each distinct value once (as the table's grid makes them)."""
    cols = view.table_columns(report)
    columns = [ByValue(_md_shown(c.kind, exact, report), MD_CACHE).of(
        list(map(c.value, report.layers))) for c in cols]
    rows: list[Sequence[str]] = list(zip(*columns))
    footer = [c.footer(report, exact) for c in cols]
    if any(footer):
        footer[0] = view.footer_label
        rows.append([_md_cell(f"**{f}**") if f else "" for f in footer])
    right = [c.kind in ("count", "bytes", "percent") for c in cols]
    title = (f"**{_md_cell(report.name)}**: input {shape_str(report.input_shape)}, "
             f"output {shape_str(report.output_shape)}, batch {report.batch}, "
             f"{report.dtype}\n\n")
    body = title + _markdown_lines([_md_cell(c.header) for c in cols], rows, right) + "\n"
    if view.name == "params":
        body += f"\n{memory_text(report, exact)}\n"
    elif view.name == "summary":
        body += f"\npeak memory: {peaks_text(report, exact)}\n"
    return body
