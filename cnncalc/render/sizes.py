"""``cnncalc sizes``: the input sizes every layer tiles exactly, as a table (the JSON is
each result's ``to_dict``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..units import shape_str

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


def render_sizes(console: Console, results: Sequence[Any], show_all: bool) -> None:
    """``cnncalc sizes``: the sizes every layer tiles exactly, and their outputs."""
    from rich.table import Table

    good = [r for r in results if r.ok]
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("input", justify="right")
    table.add_column("output")
    if show_all:
        table.add_column("problem")
    for r in results if show_all else good:
        row = [shape_str(r.input_shape),
               shape_str(r.output_shape) if r.output_shape else "-"]
        if show_all:
            row.append(r.problems[0] if r.problems else "")
        table.add_row(*row)
    if table.row_count:
        console.print(table)
    console.print(f"{len(good)} of {len(results)} sizes tiled exactly by every layer"
                  + (": " + ", ".join(str(r.size) for r in good[:40]) if good else "")
                  + (", ..." if len(good) > 40 else ""))
