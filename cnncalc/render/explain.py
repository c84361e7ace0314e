"""Rendering worked arithmetic (``cnncalc explain`` / ``cnncalc calc``): rich for
people, markdown for notes, JSON for programs.  Input: :class:`cnncalc.explain.LayerExplanation` s.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

from .units import shape_str

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..explain import LayerExplanation

_STYLE = {"shape": "cyan", "params": "green", "macs": "magenta", "flops": "magenta",
          "rf": "blue", "truncation": "bold yellow", "note": "dim"}


def _shapes(layer: "LayerExplanation") -> str:
    ins = ", ".join(shape_str(s) for s in layer.input_shapes)
    return f"{ins} -> {shape_str(layer.output_shape)}"


def render_explain(console: "Console", layers: Sequence["LayerExplanation"],
                   title: str | None = None, symbolic: bool = True) -> None:
    """Each layer as a heading and a two-column grid: what, and the working.  (Warnings
    go to stderr with the CLI's other warnings; the tiling steps explain them.)"""
    from rich.table import Table
    from rich.text import Text

    if title:
        console.print(Text(title, style="bold"))
    for layer in layers:
        console.print()
        head = Text()
        head.append(layer.id, style="bold")
        head.append(f"  {layer.op}  ", style="dim")
        head.append(_shapes(layer))
        console.print(head)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for step in layer.steps:
            grid.add_row(Text(step.label, style=_STYLE.get(step.kind, "")), Text(step.text()))
            if symbolic and step.symbolic:
                grid.add_row("", Text(step.symbolic, style="dim"))
        console.print(grid)


def explain_markdown(layers: Sequence["LayerExplanation"], title: str | None = None) -> str:
    """A section per layer with one bullet per step, the working in code spans."""
    lines = [f"# {title}", ""] if title else []
    for layer in layers:
        lines += [f"## {layer.id} ({layer.op}): {_shapes(layer)}", ""]
        for step in layer.steps:
            sym = f" — {step.symbolic}" if step.symbolic else ""
            lines.append(f"- **{step.label}**: `{step.text()}`{sym}")
        lines.append("")
    return "\n".join(lines)


def explain_json(layers: Sequence["LayerExplanation"], header: dict[str, Any]) -> str:
    """``{...header, "layers": [LayerExplanation.to_dict(), ...]}``."""
    return json.dumps({**header, "layers": [layer.to_dict() for layer in layers]}, indent=2) + "\n"


# ------------------------------------------------------------------- solvers
def solve_pad_text(sol: Any) -> str:
    """``cnncalc solve pad``: the working range of total padding, each split, ``same``."""
    from ..explain import window_formula

    head = (f"input {sol.n}, k {sol.k}" + (f", dilation {sol.dilation} (k_eff {sol.k_eff})"
                                           if sol.dilation > 1 else "")
            + f", stride {sol.stride} -> output {sol.output}")
    lines = [head]
    if not sol.paddings:
        lines.append(f"no padding gives {sol.output}: padding only grows the output, and "
                     f"the smallest size reachable is {sol.smallest}")
        lines.append(f"  {window_formula(sol.n, sol.k, sol.dilation, sol.stride, 0, 0)} = "
                     f"{sol.smallest}" if sol.n >= sol.k_eff else
                     f"  (the input is smaller than the kernel {sol.k_eff}: pad to fit it)")
        lines.append(f"nearest achievable: {sol.smallest} (no padding)")
        if sol.strides:
            lines.append(f"without padding, stride {' or '.join(map(str, sol.strides))} "
                         f"gives {sol.output}")
    else:
        lo, hi = sol.totals[0], sol.totals[-1]
        span = f"P = {lo}" if lo == hi else f"P = {lo}..{hi}"
        lines.append(f"total padding {span}: ({sol.output}-1)*{sol.stride} <= {sol.n} + P - "
                     f"{sol.k_eff} <= {sol.output}*{sol.stride} - 1")
        for p in sol.paddings:
            split = (f"pad {p.before} each side" if p.before == p.after
                     else f"[{p.before}, {p.after}] before/after")
            formula = window_formula(sol.n, sol.k, sol.dilation, sol.stride, p.before, p.after)
            lost = f"  (drops {p.dropped} input row{'s' if p.dropped > 1 else ''})" if p.dropped else ""
            lines.append(f"  P = {p.total}: {split:<26} {formula} = {sol.output}{lost}")
        lines.append(f"symmetric: pad {sol.symmetric}" if sol.symmetric is not None else
                     "symmetric: none works; pad [before, after]")
    b, a = sol.same
    odd = ", the extra one leading" if (a + b) % 2 else ""
    lines.append(f"same: [{b}, {a}] before/after (total {a + b}{odd}) -> "
                 f"{sol.same_output} = ceil({sol.n} / {sol.stride})")
    return "\n".join(lines) + "\n"


def candidates_text(what: str, found: Sequence[Any], wanted: int, given: str) -> str:
    """``cnncalc solve stride|kernel``: the values that give the size."""
    if not found:
        return f"no {what} gives {wanted} ({given})\n"
    lines = [f"{what}s giving {wanted} ({given}):"]
    for c in found:
        lost = f"  (drops {c.dropped} input row{'s' if c.dropped > 1 else ''})" if c.dropped else ""
        lines.append(f"  {what} {c.value}{lost}")
    if what == "stride" and wanted == 1:
        lines.append("  (and every larger stride)")
    return "\n".join(lines) + "\n"


def render_sizes(console: "Console", results: Sequence[Any], show_all: bool) -> None:
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
