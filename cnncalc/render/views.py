"""What each analysis command shows: its columns, and its JSON subset.  No rich here.

A :class:`Column` knows how to read one raw value from a layer row (for CSV and
JSON) and how to show it in a table (humanised unless ``exact``).  A :class:`View`
is the column list of one command (``shapes``, ``params``, ``flops``, ``rf``,
``summary``) plus the layer and totals fields its ``--format json`` keeps.

>>> [c.key for c in VIEWS["shapes"].columns]
['id', 'op', 'inputs', 'input_shapes', 'output_shape']
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .. import units
from ..report import LayerReport, Report
from ..safe import safe_text

Kind = Literal["text", "shape", "shapes", "count", "bytes", "rf", "percent"]


@dataclass(frozen=True)
class Column:
    """One column: ``key`` heads CSV, ``header`` heads tables."""

    key: str
    header: str
    value: Callable[[LayerReport], Any]
    kind: Kind = "text"
    #: the footer value, read from the report's totals
    total: Callable[[Report], Any] | None = None
    #: shown in tables and markdown (CSV always has every column)
    table: bool = True
    #: shown only when some layer has a non-zero value
    optional: bool = False

    def cell(self, row: LayerReport, report: Report, exact: bool) -> str:
        return show(self.kind, self.value(row), exact, report)

    def footer(self, report: Report, exact: bool) -> str:
        if self.total is None:
            return ""
        return show(self.kind, self.total(report), exact, report)


def show(kind: Kind, value: Any, exact: bool, report: Report | None = None) -> str:
    """Format a raw value of ``kind`` for a table or markdown cell."""
    if value is None:
        return ""
    if kind == "count":
        return units.count(value, exact)
    if kind == "bytes":
        return "-" if value == 0 else units.human_bytes(value, exact)
    if kind == "shape":
        return units.shape_str(value)
    if kind == "shapes":
        return " + ".join(units.shape_str(s) for s in value)
    if kind == "percent":
        return units.percent(value, report.totals.macs if report else 0)
    if kind == "rf":  # (values per axis, a mark)
        return units.axes(value[0]) + value[1]
    return safe_text(str(value))


def raw(kind: Kind, value: Any) -> Any:
    """The CSV form of a raw value: shapes as ``6x28x28``, lists joined by ``;``."""
    if value is None:
        return ""
    if kind == "shape":
        return units.shape_str(value)
    if kind == "shapes":
        return ";".join(units.shape_str(s) for s in value)
    if isinstance(value, (tuple, list)):  # (text.csv_column joins lists of strings itself)
        return ";".join(units.num(v) if not isinstance(v, str) else v for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return value


class ByValue(dict[Any, Any]):
    """What ``format`` makes of each raw value of one column, made once per distinct
    value (a figure repeats down a column: 10^5 layers show a few hundred distinct
    values), and emptied when it holds ``limit`` of them, so memory stays bounded.

    A chunk of rows is converted a column at a time (:meth:`of`): ``map`` looks the
    values up in C, so a value already seen costs no Python call.  Equal values of one
    column are of one type (a field of :class:`LayerReport`), so they share what they
    make; an unhashable value is converted each time."""

    def __init__(self, format: Callable[[Any], Any], limit: int) -> None:
        super().__init__()
        self.format, self.limit = format, limit

    def __missing__(self, value: Any) -> Any:
        if len(self) >= self.limit:
            self.clear()
        made = self[value] = self.format(value)
        return made

    def of(self, values: list[Any]) -> list[Any]:
        """``format`` of each value, in order."""
        try:
            return list(map(self.__getitem__, values))
        except TypeError:  # an unhashable value
            return list(map(self.format, values))


def _rf(part: str) -> Callable[[LayerReport], Any]:
    def get(row: LayerReport) -> Any:
        rf = row.receptive_field
        return None if rf is None else getattr(rf, part)
    return get


def _rf_cell(part: str) -> Callable[[LayerReport], Any]:
    """A table's receptive-field cell as a raw value (``show`` writes it, kind ``rf``):
    the part's values, and ``*`` after a size whose merged paths do not align (hashable,
    so a table formats each distinct field once)."""
    def get(row: LayerReport) -> Any:
        rf = row.receptive_field
        if rf is None:
            return None
        return getattr(rf, part), "*" if part == "size" and not rf.aligned else ""
    return get


def _net_rf(part: str) -> Callable[[Report], Any]:
    def get(report: Report) -> Any:
        rf = report.receptive_field
        return None if rf is None else (getattr(rf, part), "")
    return get


def _totals(name: str) -> Callable[[Report], Any]:
    return lambda report: getattr(report.totals, name)


def _attr(name: str) -> Callable[[LayerReport], Any]:
    return operator.attrgetter(name)  # (in C: a table reads it for every row)


ID = Column("id", "id", _attr("id"))
OP = Column("op", "op", _attr("op"))
INPUTS = Column("inputs", "inputs", _attr("inputs"), table=False)
IN_SHAPES = Column("input_shapes", "input", _attr("input_shapes"), "shapes")
OUT = Column("output_shape", "output", _attr("output_shape"), "shape")
PARAMS = Column("params", "params", _attr("params"), "count", _totals("params"))
TRAINABLE = Column("trainable_params", "trainable", _attr("trainable_params"), "count",
                   _totals("trainable_params"), table=False)
FIXED = Column("fixed_params", "fixed", _attr("fixed_params"), "count", _totals("fixed_params"),
               optional=True)
BUFFERS = Column("buffers", "buffers", _attr("buffers"), "count", _totals("buffers"), optional=True)
BUFFERS_RAW = Column("buffers", "buffers", _attr("buffers"), "count", table=False)
PARAM_BYTES = Column("param_bytes", "param memory", _attr("param_bytes"), "bytes",
                     _totals("param_bytes"))
PARAM_BYTES_RAW = Column("param_bytes", "param memory", _attr("param_bytes"), "bytes",
                         _totals("param_bytes"), table=False)
MACS = Column("macs", "MACs", _attr("macs"), "count", _totals("macs"))
MAC_SHARE = Column("macs_share", "% MACs", _attr("macs"), "percent", table=True)
FLOPS = Column("flops", "FLOPs", _attr("flops"), "count", _totals("flops"))
ACT_BYTES = Column("activation_bytes", "act mem", _attr("activation_bytes"), "bytes",
                   _totals("activation_bytes"))
RF_SIZE = Column("rf_size", "RF", _rf_cell("size"), "rf", _net_rf("size"))
RF_JUMP = Column("rf_jump", "jump", _rf_cell("jump"), "rf", _net_rf("jump"))
RF_START = Column("rf_start", "start", _rf_cell("start"), "rf", _net_rf("start"))
RF_SIZE_RAW = Column("rf_size", "RF", _rf("size"), table=False)
RF_JUMP_RAW = Column("rf_jump", "jump", _rf("jump"), table=False)
RF_START_RAW = Column("rf_start", "start", _rf("start"), table=False)
RF_ALIGNED = Column("rf_aligned", "aligned",
                    lambda r: None if r.receptive_field is None else r.receptive_field.aligned,
                    table=False)
BLOCK = Column("block", "block", _attr("block"), table=False)


@dataclass(frozen=True)
class View:
    """The columns of one command and the fields its JSON keeps."""

    name: str
    columns: tuple[Column, ...]
    layer_fields: tuple[str, ...]
    total_fields: tuple[str, ...]
    #: what the footer row is called
    footer_label: str = "total"

    def table_columns(self, report: Report) -> list[Column]:
        """Columns for tables and markdown; optional ones only when some row needs them."""
        return [c for c in self.columns if c.table and (
            not c.optional or any(c.value(r) for r in report.layers))]

    def csv_columns(self) -> list[Column]:
        """Columns for CSV: raw values, one per key (table-only duplicates dropped)."""
        seen: dict[str, Column] = {}
        for c in self.columns:
            if c.kind == "percent":
                continue
            if c.key not in seen or not c.table:
                seen[c.key] = c
        return list(seen.values())


_RF_COLS = (RF_SIZE, RF_JUMP, RF_START, RF_SIZE_RAW, RF_JUMP_RAW, RF_START_RAW, RF_ALIGNED)
_HEAD = ("id", "op", "inputs")

VIEWS: dict[str, View] = {
    "shapes": View("shapes", (ID, OP, INPUTS, IN_SHAPES, OUT),
                   (*_HEAD, "input_shapes", "output_shape", "block"), ()),
    "params": View("params", (ID, OP, OUT, PARAMS, TRAINABLE, FIXED, BUFFERS, PARAM_BYTES),
                   (*_HEAD, "output_shape", "params", "trainable_params", "buffers",
                    "param_bytes", "block"),
                   ("params", "trainable_params", "fixed_params", "buffers", "param_bytes",
                    "buffer_bytes")),
    "flops": View("flops", (ID, OP, OUT, MACS, MAC_SHARE, FLOPS),
                  (*_HEAD, "output_shape", "macs", "flops", "flops_breakdown", "block"),
                  ("macs", "flops", "flops_breakdown")),
    "rf": View("rf", (ID, OP, OUT, *_RF_COLS),
               (*_HEAD, "output_shape", "receptive_field", "block"), (), "network"),
    "summary": View("summary", (ID, OP, INPUTS, OUT, PARAMS, TRAINABLE, FIXED, BUFFERS_RAW, MACS,
                                FLOPS, RF_SIZE, RF_JUMP, RF_SIZE_RAW, RF_JUMP_RAW, RF_START_RAW,
                                RF_ALIGNED, ACT_BYTES, PARAM_BYTES_RAW, BLOCK),
                    (), ()),
}

def memory_text(report: Report, exact: bool = False) -> str:
    """``param memory 44.59 MiB, buffer memory 37.58 KiB as float32``: the one wording
    of parameter and buffer memory (summary, params; compare has the same two rows)."""
    t = report.totals
    text = f"param memory {units.human_bytes(t.param_bytes, exact)}"
    if t.buffers:
        text += f", buffer memory {units.human_bytes(t.buffer_bytes, exact)}"
    return f"{text} as {report.dtype}"


def peaks_text(report: Report, exact: bool = False) -> str:
    """``inference 274.41 KiB, training 506.25 KiB (one SGD step, batch 1, float32)``: the
    peaks of one inference pass and one training step side by side (summary's table and
    markdown), the training settings stated."""
    m = report.memory
    if m is None:
        return "not worked out"
    return (f"inference {units.human_bytes(m.inference_peak_bytes, exact)}, training "
            f"{units.human_bytes(m.training_peak_bytes, exact)} (one {m.optimizer.upper()} step, "
            f"batch {report.batch}, {report.dtype})")


#: report-level keys every command's JSON keeps
HEADER_FIELDS = ("name", "source", "input_shape", "output_shape", "batch", "dtype")


def json_subset(report: Report, view: View, layers: bool = True) -> dict[str, Any]:
    """The JSON of ``view``: ``summary`` is exactly ``Report.to_dict()`` (the contract);
    the others keep the header fields, their layer fields, their totals and warnings.
    Without ``layers``, the ``layers`` key holds None (its rows: :func:`layer_dicts`)."""
    full = report.to_dict(layers=False)
    if layers:
        full["layers"] = list(layer_dicts(report, view))
    if view.name == "summary":
        return full
    out = {k: full[k] for k in HEADER_FIELDS}
    out["layers"] = full["layers"]
    if view.total_fields:
        out["totals"] = {k: full["totals"][k] for k in view.total_fields}
    if view.name == "rf":
        out["receptive_field"] = full["receptive_field"]
    out["warnings"] = full["warnings"]
    return out


def layer_dicts(report: Report, view: View) -> Iterator[dict[str, Any]]:
    """The ``layers`` of :func:`json_subset`, one dict at a time."""
    for layer in report.layers:
        yield layer_dict(layer, view)


def layer_dict(layer: LayerReport, view: View) -> dict[str, Any]:
    """One row of :func:`layer_dicts`: ``to_dict``, or the view's fields of it."""
    row = layer.to_dict()
    return row if view.name == "summary" else {k: row[k] for k in view.layer_fields}
