"""``cnncalc compare``: network totals side by side, with ratios against the first.

The same module serves several specs (``compare resnet18 resnet50``) and one spec
at several input sizes (``compare resnet50 -i 224 -i 512``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import units
from ..report import Report
from ..safe import safe_text
from .text import csv_text, markdown_table, to_json

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table


@dataclass(frozen=True)
class Metric:
    """One compared row: raw value from a report, its display kind, whether to ratio it."""

    key: str
    label: str
    value: Callable[[Report], Any]
    kind: str = "count"  # count | bytes | shape | text

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "bytes")


def _total(name: str) -> Callable[[Report], Any]:
    return lambda r: getattr(r.totals, name)


def _rf_size(r: Report) -> Any:
    return None if r.receptive_field is None else [units.num(v) for v in r.receptive_field.size]


METRICS: tuple[Metric, ...] = (
    Metric("input_shape", "input", lambda r: list(r.input_shape), "shape"),
    Metric("output_shape", "output", lambda r: list(r.output_shape), "shape"),
    Metric("layers", "layers", lambda r: len(r.layers)),
    Metric("params", "params", _total("params")),
    Metric("trainable_params", "trainable", _total("trainable_params")),
    Metric("buffers", "buffers", _total("buffers")),
    Metric("macs", "MACs", _total("macs")),
    Metric("flops", "FLOPs", _total("flops")),
    Metric("param_bytes", "param memory", _total("param_bytes"), "bytes"),
    Metric("buffer_bytes", "buffer memory", _total("buffer_bytes"), "bytes"),
    Metric("activation_bytes", "activations (sum)", _total("activation_bytes"), "bytes"),
    Metric("peak_activation_bytes", "peak activations", _total("peak_activation_bytes"), "bytes"),
    Metric("receptive_field", "receptive field", _rf_size, "rf"),
)


def labels(reports: list[Report], sources: list[str]) -> list[str]:
    """Column names: network names, plus the input when one network repeats."""
    names = [safe_text(r.name) for r in reports]
    if len(set(names)) < len(names):
        sizes = [units.shape_str(r.input_shape) for r in reports]
        names = [f"{n} @{s}" for n, s in zip(names, sizes)]
    if len(set(names)) < len(names):
        names = [f"{n} ({safe_text(s)})" for n, s in zip(names, sources)]
    return names


def _cell(metric: Metric, value: Any, exact: bool) -> str:
    if value is None:
        return "-"
    if metric.kind == "count":
        return units.human(value, exact)
    if metric.kind == "bytes":
        return units.human_bytes(value, exact)
    if metric.kind in ("shape", "rf"):
        return units.dims(value)
    return safe_text(str(value))


def ratio_value(metric: Metric, value: Any, base: Any) -> Fraction | None:
    """value / base exactly (any size) for numeric metrics with a non-zero base, else None."""
    if not metric.numeric or value is None:
        return None
    return units.quotient(value, base)


def grid(reports: list[Report], names: list[str], exact: bool) -> tuple[list[str], list[list[str]]]:
    """Header and rows: metric | first | second | second/first | ...  (shared by rich
    and markdown)."""
    header = ["", names[0]]
    for name in names[1:]:
        header += [name, f"/ {names[0]}"]
    rows = []
    for m in METRICS:
        values = [m.value(r) for r in reports]
        row = [m.label, _cell(m, values[0], exact)]
        for v in values[1:]:
            ratio = ratio_value(m, v, values[0])
            row += [_cell(m, v, exact), "" if ratio is None else f"x{units.short(ratio)}"]
        rows.append(row)
    return header, rows


def compare_table(reports: list[Report], names: list[str], exact: bool = False) -> Table:
    """A rich table of :func:`grid`; ratio columns dimmed."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = grid(reports, names, exact)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold", show_edge=False,
                  padding=(0, 1, 0, 0), title_justify="left", title_style="dim",
                  title=Text(f"batch {reports[0].batch}, {reports[0].dtype}; ratios against "
                             f"{names[0]}"))
    table.add_column("", style="bold")
    for i, head in enumerate(header[1:]):
        is_ratio = i % 2 == 1
        table.add_column(Text(head), justify="right", style="dim" if is_ratio else None)
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    return table


def compare_markdown(reports: list[Report], names: list[str], exact: bool = False) -> str:
    header, rows = grid(reports, names, exact)
    return markdown_table(header, rows, [False] + [True] * (len(header) - 1)) + "\n"


def compare_dict(reports: list[Report], names: list[str], sources: list[str]) -> dict[str, Any]:
    """The JSON of ``compare``: one entry per column, ratios against the first."""
    base = reports[0]
    columns = []
    for name, source, r in zip(names, sources, reports):
        full = r.to_dict()
        ratios = {m.key: units.ratio_number(ratio_value(m, m.value(r), m.value(base)))
                  for m in METRICS if m.numeric}
        columns.append({
            "label": name, "spec": source, "name": r.name, "source": r.source,
            "input_shape": full["input_shape"], "output_shape": full["output_shape"],
            "batch": r.batch, "dtype": r.dtype, "layers": len(r.layers),
            "totals": full["totals"], "receptive_field": full["receptive_field"],
            "ratios": ratios,
        })
    return {"baseline": names[0], "columns": columns}


def compare_json(reports: list[Report], names: list[str], sources: list[str]) -> str:
    return to_json(compare_dict(reports, names, sources))


def compare_csv(reports: list[Report], names: list[str], sources: list[str]) -> str:
    """One row per compared network: its totals, then each ratio against the first."""
    numeric = [m for m in METRICS if m.numeric]
    header = ["label", "spec", "name", "input_shape", "output_shape", "batch", "dtype"]
    header += [m.key for m in numeric] + [f"{m.key}_ratio" for m in numeric]
    rows = []
    for name, source, r in zip(names, sources, reports):
        row: list[Any] = [name, source, r.name, units.shape_str(r.input_shape),
                          units.shape_str(r.output_shape), r.batch, r.dtype]
        row += [m.value(r) for m in numeric]
        for m in numeric:
            q = ratio_value(m, m.value(r), m.value(reports[0]))
            row.append("" if q is None else units.significant(q))
        rows.append(row)
    return csv_text(header, rows)
