"""``cnncalc solve pad|stride|kernel``: the answers of :mod:`cnncalc.solve` as text
(the JSON is each result's ``to_dict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..units import grouped, plural, window_formula

if TYPE_CHECKING:  # pragma: no cover
    from ..solve import Candidates, PadSolution, Span


def solve_pad_text(sol: PadSolution) -> str:
    """``cnncalc solve pad``: the working range of total padding, each split (the first
    ``MAX_LISTED``), what is unusual about them, ``same``."""
    who = f"{sol.op}: " if sol.op != "conv" else ""
    head = (f"{who}input {sol.n}, k {sol.k}"
            + (f", dilation {sol.dilation} (k_eff {sol.k_eff})" if sol.dilation > 1 else "")
            + f", stride {sol.stride} -> output {sol.output}")
    lines = [head] + (_pad_rows(sol) if sol.solved else _no_padding(sol))
    if sol.op == "conv":
        b, a = sol.same
        odd = ", the extra one leading" if (a + b) % 2 else ""
        lines.append(f"same: [{b}, {a}] before/after (total {a + b}{odd}) -> "
                     f"{sol.same_output} = ceil({sol.n} / {sol.stride})")
        if (a + b) % 2:  # same_upper differs only when the total is odd
            lines.append(f"same_upper: {list(sol.same_upper)} before/after (the extra one "
                         "trailing, as TensorFlow's SAME)")
    return "\n".join(lines) + "\n"


def _pad_rows(sol: PadSolution) -> list[str]:
    assert sol.totals is not None
    lo, hi = sol.totals
    span = f"P = {lo}" if lo == hi else f"P = {lo}..{hi}"
    lines = [f"total padding {span}: ({sol.output}-1)*{sol.stride} <= {sol.n} + P - "
             f"{sol.k_eff} <= {sol.output}*{sol.stride} - 1"]
    if sol.max_pad is not None:
        lines.append(f"  {sol.op} pads p on both sides, p <= k // 2 = {sol.max_pad}: "
                     "even totals only")
    for p in sol.paddings:
        split = (f"pad {p.before} each side" if p.before == p.after
                 else f"[{p.before}, {p.after}] before/after")
        formula = window_formula(sol.n, sol.k, sol.dilation, sol.stride, p.before, p.after)
        lost = f"  (drops {plural(p.dropped, 'input row')})" if p.dropped else ""
        odd = "  (unusual)" if p.unusual else ""
        lines.append(f"  P = {p.total}: {split:<26} {formula} = {sol.output}{lost}{odd}")
    more = sol.count - len(sol.paddings)
    if more > 0:
        lines.append(f"  ... and {grouped(more)} more, up to P = {hi}")
    odd_one = next((p for p in sol.paddings if p.unusual), None)
    if odd_one is not None:
        first = odd_one is sol.paddings[0]
        lines.append("note: even the smallest padding is unusual:" if first else
                     f"note: from P = {odd_one.total} the padding is unusual:")
        lines += [f"  {why}" for why in odd_one.unusual]
        if first and sol.output > sol.n:
            lines.append(f"  (to grow {sol.n} into {sol.output}, a transposed conv or an "
                         "upsample is the usual layer)")
    lines.append(f"symmetric: pad {sol.symmetric}" if sol.symmetric is not None else
                 "symmetric: none works; pad [before, after]")
    return lines


def _no_padding(sol: PadSolution) -> list[str]:
    if sol.refused is not None:
        lo, hi = sol.refused
        span = f"P = {lo}" if lo == hi else f"P = {lo}..{hi}"
        cap, has_even = sol.max_pad or 0, lo % 2 == 0 or hi > lo
        why = (f"at most k // 2 = {cap} each side (P <= {2 * cap})" if has_even
               else "so the total is even")
        return [f"no {sol.op} padding gives {sol.output}: it needs a total padding of {span}, "
                f"and {sol.op} pads p on both sides, {why}"]
    working = (f"  {window_formula(sol.n, sol.k, sol.dilation, sol.stride, 0, 0)} = "
               f"{sol.smallest}" if sol.n >= sol.k_eff else
               f"  (the input is smaller than the kernel {sol.k_eff}: pad to fit it)")
    lines = [f"no padding gives {sol.output}: padding only grows the output, and the "
             f"smallest size reachable is {sol.smallest}", working,
             f"nearest achievable: {sol.smallest} (no padding)"]
    if not sol.strides.empty:
        lines.append(f"without padding, stride {_span_text(sol.strides)} gives {sol.output}")
    return lines


def _span_text(span: Span) -> str:
    """``3``, ``3 or 4``, ``3 to 10``, ``3 or more``."""
    first, last = span.first or 0, span.last
    if last is None:
        return f"{first} or more"
    if last == first:
        return str(first)
    return f"{first} or {last}" if last == first + 1 else f"{first} to {last}"


def candidates_text(found: Candidates, wanted: int, given: str) -> str:
    """``cnncalc solve stride|kernel``: the values that give the size (the first
    ``MAX_LISTED`` one by one, the rest as a range)."""
    what = found.what
    if found.span.empty:
        return f"no {what} gives {wanted} ({given}): {found.reason}\n"
    lines = [f"{what}s giving {wanted} ({given}): {_span_text(found.span)}"]
    for c in found.listed:
        lost = f"  (drops {plural(c.dropped, 'input row')})" if c.dropped else ""
        lines.append(f"  {what} {c.value}{lost}")
    if found.last is None:
        lines.append(f"  (and every larger {what})")
    elif not found.complete:
        lines.append(f"  ... and {grouped((found.count or 0) - len(found.listed))} more, "
                     f"up to {what} {found.last}")
    return "\n".join(lines) + "\n"
