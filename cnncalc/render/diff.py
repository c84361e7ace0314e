"""Formats of ``cnncalc diff``: a table for people, markdown for a PR comment, JSON.

Everything a spec supplies (layer ids, op names, labels) is shown visibly escaped, and the
figures are exact at any size, as in ``cnncalc check``'s formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..diff import LayerChange, ReportDiff
from ..safe import safe_text
from ..units import axes, count, human, human_bytes, shape_str, signed_percent
from .text import markdown_table, to_json


def _delta_pct(t: Any) -> str:
    return "" if not t.old else signed_percent(Fraction(t.delta), t.old, 1)


def _total_rows(d: ReportDiff, exact: bool) -> list[list[str]]:
    rows = []
    for t in d.totals:
        show = human_bytes if t.name.endswith("bytes") else human
        sign = "+" if t.delta > 0 else "-"
        rows.append([t.name, show(t.old, exact), show(t.new, exact),
                     sign + show(abs(t.delta), exact) if t.delta else "0",
                     _delta_pct(t) if t.delta else ""])
    return rows


def _arrow(old: str, new: str) -> str:
    return new if old == new else f"{old} -> {new}"


def _layer_cells(c: LayerChange, exact: bool) -> list[str]:
    old, new = c.old, c.new
    mark = {"added": "+", "removed": "-", "changed": "~", "same": " "}[c.kind]

    def pick(f: Callable[[Any], str]) -> str:
        if old is None or new is None:
            return f(old or new)
        return _arrow(f(old), f(new))
    return [mark, safe_text(c.id), pick(lambda r: safe_text(r.op)),
            pick(lambda r: shape_str(r.output_shape)), pick(lambda r: count(r.params, exact)),
            pick(lambda r: count(r.macs, exact)), _what(c) if c.kind == "changed" else c.kind]


_SHOWN = ("op", "output_shape", "params", "macs")
_FOLLOWS = {"trainable_params": "params", "flops": "macs", "activation_bytes": "output_shape"}


def _what(c: LayerChange) -> str:
    """What changed besides the columns shown (wiring spelled out: ``in: a -> b``)."""
    parts = []
    for f in c.fields:
        if f in _SHOWN or _FOLLOWS.get(f) in c.fields:
            continue
        if f == "inputs":
            old, new = c.old.inputs, c.new.inputs  # type: ignore[union-attr]
            old_in, new_in = (", ".join(map(safe_text, ids)) for ids in (old, new))
            parts.append(f"in: {old_in} -> {new_in}")
        else:
            parts.append(f)
    return "; ".join(parts)


def _headline(d: ReportDiff) -> str:
    counts = ", ".join(f"{d.count(k)} {k}" for k in ("added", "removed", "changed"))
    return (f"{safe_text(d.old_label)} -> {safe_text(d.new_label)}: layers {counts}, "
            f"{d.count('same')} unchanged; output {shape_str(d.old.output_shape)} -> "
            f"{shape_str(d.new.output_shape)}")


def _rf_row(d: ReportDiff) -> list[str] | None:
    old, new = d.rf_sizes
    if old == new:
        return None
    return ["receptive field", _axes_or_dash(old), _axes_or_dash(new), "", ""]


def _axes_or_dash(size: tuple[int | Fraction, ...] | None) -> str:
    return axes(size) if size else "-"


_TOTAL_HEAD = ["total", "old", "new", "delta", "delta %"]
_LAYER_HEAD = ["", "layer", "op", "output shape", "params", "MACs", "other changes"]


def diff_table(d: ReportDiff, console: Console, exact: bool = False) -> None:
    """``cnncalc diff --format table`` (cells are plain text: no rich markup from a spec)."""
    console.print(Text(_headline(d), style="bold"))
    if d.identical:
        console.print("no differences")
        return
    totals = Table(*_TOTAL_HEAD, title="totals", title_justify="left", header_style="bold")
    for col in totals.columns[1:]:
        col.justify = "right"
    for row in _total_rows(d, exact) + [r for r in [_rf_row(d)] if r]:
        totals.add_row(*map(Text, row))
    console.print(totals)
    changes = [c for c in d.layers if c.kind != "same"]
    if changes:
        table = Table(*_LAYER_HEAD, title="layers", title_justify="left", header_style="bold")
        styles = {"added": "green", "removed": "red", "changed": "yellow"}
        for c in changes:
            table.add_row(*map(Text, _layer_cells(c, exact)), style=styles[c.kind])
        console.print(table)


def _code(text: str) -> str:
    """A markdown code span around ``text``, whatever backticks it holds."""
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall("`+", text)) + 1)
    return f"{fence} {text} {fence}"


def diff_markdown(d: ReportDiff, exact: bool = False) -> str:
    """``cnncalc diff --format markdown``: a PR comment."""
    old, new = (_code(safe_text(label)) for label in (d.old_label, d.new_label))
    parts = [f"### cnncalc diff: {old} -> {new}", "", _headline(d), ""]
    if d.identical:
        return "\n".join([*parts, "No differences.", ""])
    rows = _total_rows(d, exact) + [r for r in [_rf_row(d)] if r]
    parts += [markdown_table(_TOTAL_HEAD, rows, right=[False, True, True, True, True]), ""]
    changes = [_layer_cells(c, exact) for c in d.layers if c.kind != "same"]
    if changes:
        parts += ["<details><summary>layers</summary>", "",
                  markdown_table(_LAYER_HEAD, [[_code(c[0]) if c[0].strip() else "", _code(c[1]),
                                                *c[2:]] for c in changes],
                                 right=[False] * 4 + [True, True]),
                  "", "</details>", ""]
    return "\n".join(parts)


def diff_json(d: ReportDiff) -> str:
    """``cnncalc diff --format json``."""
    return to_json(d.to_dict())
