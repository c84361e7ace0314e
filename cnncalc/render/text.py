"""Plain-text writers: JSON, CSV and markdown (no rich, so they pipe cleanly).

>>> print(markdown_table(["a", "b"], [["1", "x|y"]]))
| a | b |
| --- | --- |
| 1 | x\\|y |
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..report import Report
from ..safe import safe_text
from ..units import shape_str
from .views import Column, View, json_subset, memory_text, peaks_text, raw


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
    return to_json(json_subset(report, view))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """RFC 4180 CSV with ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def report_csv(report: Report, view: View) -> str:
    """One row per layer with the view's raw values (exact numbers, shapes as 6x28x28)."""
    cols: list[Column] = view.csv_columns()
    rows = ([raw(c.kind, c.value(layer)) for c in cols] for layer in report.layers)
    return csv_text([c.key for c in cols], rows)


def _md_cell(text: Any) -> str:
    return safe_text(str(text).replace("\n", " ")).replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
                   right: Sequence[bool] = ()) -> str:
    """A GitHub-flavoured markdown table; ``right`` marks right-aligned columns."""
    align = ["---:" if i < len(right) and right[i] else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report_markdown(report: Report, view: View, exact: bool) -> str:
    """One row per layer (formatted as in tables) and a bold totals row."""
    cols = view.table_columns(report)
    rows = [[c.cell(layer, report, exact) for c in cols] for layer in report.layers]
    footer = [c.footer(report, exact) for c in cols]
    if any(footer):
        footer[0] = view.footer_label
        rows.append([f"**{f}**" if f else "" for f in footer])
    right = [c.kind in ("count", "bytes", "percent") for c in cols]
    title = (f"**{_md_cell(report.name)}**: input {shape_str(report.input_shape)}, "
             f"output {shape_str(report.output_shape)}, batch {report.batch}, "
             f"{report.dtype}\n\n")
    body = title + markdown_table([c.header for c in cols], rows, right) + "\n"
    if view.name == "params":
        body += f"\n{memory_text(report, exact)}\n"
    elif view.name == "summary":
        body += f"\npeak memory: {peaks_text(report, exact)}\n"
    return body
