"""Solvers for the sliding-window formula: which padding (or stride, or kernel) gives
an output size, and which input sizes a whole network tiles exactly.

``out = floor((n + P - d*(k-1) - 1) / s) + 1`` with ``P`` the total padding: a given
``out`` holds for every ``P`` with ``(out-1)*s <= n + P - k_eff <= out*s - 1``, so the
answer is a range of totals, each split before/after (the extra row of an odd total
on the leading side, as ``same`` does; see :func:`cnncalc.ops.base.resolve_padding`).
The same inequality solved for ``s`` or for ``k`` gives an interval too, so every
solver costs O(1) arithmetic (plus at most :data:`MAX_LISTED` listed values) whatever
the size of the numbers.

>>> sol = solve_pad(224, 7, 2, 112)
>>> sol.totals, sol.symmetric, solve_pad(6, 4, 1, 6).same
((5, 6), 3, (2, 1))
>>> c = solve_stride(10**18, 3, (0, 0), 2)
>>> c.first, c.last, c.count
(499999999999999999, 999999999999999997, 499999999999999999)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from .errors import CnncalcError, UsageError

# the window arithmetic (ops.base) is imported where it is used: `cnncalc --help` imports this
# module for its Literals (solve --op's choices) and must not pay for the op registry
if TYPE_CHECKING:  # pragma: no cover
    from .graph import Network

#: values ``solve`` lists one by one (paddings, strides, kernels); past it the answer
#: is given as its range and count (docs/errors.md, limits)
MAX_LISTED = 50
#: input sizes one ``sizes --range`` analyses (one row, one whole analysis each)
MAX_SIZES = 1000
#: layer analyses one ``sizes`` run may do: sizes x layers (1,000 sizes of a 1,000-layer
#: network; a 12,500-layer one gets 80 sizes)
MAX_SIZE_WORK = 1_000_000
#: the ops whose padding rules ``solve`` knows: conv takes any padding (and
#: before/after pairs), pools only ``p`` each side with ``p <= k // 2`` (torch's rule)
#: (the ops' window arithmetic is imported where it is used, so that the CLI reads these
#: choices without loading the op registry: `cnncalc --help` stays light)
SolveOpName = Literal["conv", "maxpool", "avgpool"]
SOLVE_OPS: tuple[str, ...] = get_args(SolveOpName)


@dataclass(frozen=True)
class Padding:
    """One total padding that gives the wanted size, split before/after."""

    total: int
    before: int
    after: int
    #: input rows never read with this split (0: the windows tile the input)
    dropped: int
    #: why this padding is legal but odd (a side wider than the input, windows that
    #: read only padding); empty when it is an ordinary padding
    unusual: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "before": self.before, "after": self.after,
                "dropped": self.dropped, "unusual": list(self.unusual)}


def split(total: int) -> tuple[int, int]:
    """Before/after of a total padding, the extra one leading: ``split(5) == (3, 2)``."""
    return total - total // 2, total // 2


def dropped_rows(n: int, k_eff: int, stride: int, before: int, after: int) -> int:
    """Input rows the last window never reaches (:func:`cnncalc.ops.base.leftover`)."""
    from .ops.base import leftover

    return leftover(n, k_eff, stride, before, after).dropped


def min_output(n: int, k_eff: int, stride: int) -> int:
    """The smallest output size any padding gives (none, or just enough to fit k)."""
    from .ops.base import window_out

    return window_out(n, k_eff, stride, 0, 0) if n >= k_eff else 1


def unusual_padding(n: int, k_eff: int, stride: int, before: int, after: int) -> tuple[str, ...]:
    """What is odd about a legal padding: a side wider than the input, or windows
    that lie wholly in the padding (their outputs read no input at all).

    >>> unusual_padding(4, 3, 1, 9, 9)
    ('9 padding rows each side, more than the input 4', '7 outputs each side read only padding')
    >>> unusual_padding(224, 7, 2, 3, 3)
    ()
    """
    from .ops.base import window_out

    found = []
    wide = [side for side in (before, after) if side > n]
    if wide:
        found.append(f"{before} padding rows each side, more than the input {n}"
                     if before == after else
                     f"padding [{before}, {after}] is wider than the input {n}")
    out = window_out(n, k_eff, stride, before, after)
    # window i covers [i*s, i*s + k_eff) of the padded axis, the input [before, before + n)
    lead = min(out, max(0, -(-(before - k_eff + 1) // stride)))  # i*s + k_eff <= before
    trail = max(0, out + (-(before + n) // stride))  # i*s >= before + n
    if lead or trail:
        found.append(f"{lead} outputs each side read only padding" if lead == trail else
                     f"{lead} leading and {trail} trailing outputs read only padding")
    return tuple(found)


@dataclass(frozen=True)
class Span:
    """The integers ``first..last`` (both included) that answer a question, ``last``
    None for "and every larger one"; ``first`` None when nothing does.

    >>> Span(3, 7).count, Span(2, None).count, Span(None, None).count
    (5, None, 0)
    """

    first: int | None
    last: int | None

    @staticmethod
    def of(lo: int, hi: int | None) -> Span:
        """``lo..hi``, or the empty span when ``hi < lo``."""
        return Span(lo, hi) if hi is None or hi >= lo else Span(None, None)

    @property
    def empty(self) -> bool:
        return self.first is None

    def bounds(self) -> tuple[int, int] | None:
        """``(first, last)`` of a finite span that holds something, else None."""
        return None if self.first is None or self.last is None else (self.first, self.last)

    @property
    def count(self) -> int | None:
        if self.first is None:
            return 0
        return None if self.last is None else self.last - self.first + 1

    def head(self, limit: int = MAX_LISTED) -> range:
        """The first ``limit`` values (all of them when there are fewer)."""
        if self.first is None:
            return range(0)
        stop = self.first + limit if self.last is None else min(self.last + 1, self.first + limit)
        return range(self.first, stop)


@dataclass(frozen=True)
class PadSolution:
    """Every padding that gives ``output`` for one axis (the first :data:`MAX_LISTED`
    listed, the rest as the range ``totals``)."""

    n: int
    k: int
    stride: int
    dilation: int
    output: int
    k_eff: int
    paddings: tuple[Padding, ...]
    #: what ``pad: same`` resolves to here, and the size it gives (ceil(n / s)); ``pad:
    #: same_upper`` is the same split mirrored (the extra row trailing)
    same: tuple[int, int]
    same_output: int
    #: the smallest size padding can reach (when ``output`` is below it: no padding can)
    smallest: int
    #: symmetric padding per side (``pad: p``) that works without dropping rows, if any
    symmetric: int | None = None
    #: the first and last total padding that works (None: none does)
    totals: tuple[int, int] | None = None
    #: how many totals work (pools: only even totals, ``p`` each side)
    count: int = 0
    op: str = "conv"
    #: the most padding per side the op accepts (pools: k // 2), None for no limit
    max_pad: int | None = None
    #: totals the window formula allows but the op refuses (a pool: odd, or past k // 2)
    refused: tuple[int, int] | None = None
    #: strides that give ``output`` without padding (offered when no padding can)
    strides: Span = field(default=Span(None, None))

    @property
    def solved(self) -> bool:
        return self.count > 0

    @property
    def same_upper(self) -> tuple[int, int]:
        """What ``pad: same_upper`` resolves to: ``same`` mirrored (the extra row trailing)."""
        return self.same[1], self.same[0]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "k": self.k, "stride": self.stride, "dilation": self.dilation,
                "op": self.op, "output": self.output, "k_eff": self.k_eff, "solved": self.solved,
                "paddings": [p.to_dict() for p in self.paddings],
                "totals": [p.total for p in self.paddings], "count": self.count,
                "total_min": self.totals[0] if self.totals else None,
                "total_max": self.totals[1] if self.totals else None,
                "symmetric": self.symmetric, "same": list(self.same),
                "same_upper": list(self.same_upper),
                "same_output": self.same_output, "smallest_output": self.smallest,
                "max_pad": self.max_pad,
                "strides": {"first": self.strides.first, "last": self.strides.last,
                            "count": self.strides.count}}


def _check(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise UsageError(f"--{name} must be >= 1, got {value}")


def _check_op(op: str, dilation: int) -> None:
    if op not in SOLVE_OPS:
        raise UsageError(f"--op {op}: solve knows {', '.join(SOLVE_OPS)}")
    if op == "avgpool" and dilation != 1:
        raise UsageError(f"--dilation {dilation}: avgpool has no dilation")


def pool_pad_limit(op: str, k: int) -> int | None:
    """The most padding per side ``op`` accepts: ``k // 2`` for pools (torch refuses
    more), None (no limit) for conv."""
    return k // 2 if op != "conv" else None


def pad_totals(n: int, k_eff: int, stride: int, output: int) -> Span:
    """The total paddings ``P`` with ``window_out(n, k_eff, stride, P) == output``:
    ``(output-1)*s <= n + P - k_eff <= output*s - 1``, ``P >= 0``."""
    return Span.of(max(0, (output - 1) * stride + k_eff - n), output * stride + k_eff - n - 1)


def _symmetric(n: int, k_eff: int, stride: int, output: int, per_side: Span) -> int | None:
    """The smallest ``p`` of ``per_side`` whose split ``[p, p]`` drops no rows.

    With ``P = 2p`` in the working range, ``(n + 2p - k_eff) % s`` is
    ``n + 2p - k_eff - (output-1)*s``, and no row is dropped while that is ``<= p``:
    ``p <= (output-1)*s + k_eff - n``."""
    if per_side.first is None:
        return None
    p, bound = per_side.first, (output - 1) * stride + k_eff - n
    return p if p <= bound else None


def _halves(totals: Span, cap: int | None = None) -> Span:
    """The ``p`` with ``2p`` in ``totals`` (and ``p <= cap``)."""
    if totals.first is None or totals.last is None:
        return totals
    return Span.of(-(-totals.first // 2), totals.last // 2 if cap is None
                   else min(totals.last // 2, cap))


def solve_pad(n: int, k: int, stride: int, output: int, dilation: int = 1,
              op: str = "conv") -> PadSolution:
    """The total paddings (and their splits) that make ``n`` become ``output``; for a
    pool (``op`` maxpool/avgpool) only ``p`` each side with ``p <= k // 2``."""
    from .ops.base import resolve_padding, window_out

    _check(input=n, k=k, stride=stride, output=output, dilation=dilation)
    _check_op(op, dilation)
    k_eff = dilation * (k - 1) + 1
    totals = pad_totals(n, k_eff, stride, output)
    max_pad = pool_pad_limit(op, k)
    if max_pad is None:  # conv: every total, split with the extra row leading
        per_side = _halves(totals)
        listed = tuple(_padding(n, k_eff, stride, t, *split(t)) for t in totals.head())
        found, count = totals.bounds(), totals.count or 0
    else:  # a pool: p each side, p <= k // 2
        per_side = _halves(totals, max_pad)
        listed = tuple(_padding(n, k_eff, stride, 2 * p, p, p) for p in per_side.head())
        sides = per_side.bounds()
        found, count = (2 * sides[0], 2 * sides[1]) if sides else None, per_side.count or 0
    refused = totals.bounds() if count == 0 else None
    ((b, a),) = resolve_padding("same", (n,), (k_eff,), (stride,))
    return PadSolution(
        n, k, stride, dilation, output, k_eff, listed, (b, a), window_out(n, k_eff, stride, b, a),
        min_output(n, k_eff, stride), _symmetric(n, k_eff, stride, output, per_side),
        found, count, op, max_pad, refused,
        Span(None, None) if count else _stride_span(n, k_eff, 0, output))


def _padding(n: int, k_eff: int, stride: int, total: int, before: int, after: int) -> Padding:
    return Padding(total, before, after, dropped_rows(n, k_eff, stride, before, after),
                   unusual_padding(n, k_eff, stride, before, after))


@dataclass(frozen=True)
class Candidate:
    """A stride or kernel size that gives the wanted output (``solve stride/kernel``)."""

    value: int
    dropped: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "dropped": self.dropped}


@dataclass(frozen=True)
class Candidates:
    """The strides (or kernel sizes) that give the wanted output: every value of
    ``span``, the first :data:`MAX_LISTED` of them listed with the rows they drop."""

    what: str
    span: Span
    listed: tuple[Candidate, ...]
    #: why no value works (empty when some do)
    reason: str = ""

    @property
    def first(self) -> int | None:
        return self.span.first

    @property
    def last(self) -> int | None:
        return self.span.last

    @property
    def count(self) -> int | None:
        return self.span.count

    @property
    def complete(self) -> bool:
        """Every value is listed."""
        return self.span.count is not None and self.span.count == len(self.listed)

    def values(self) -> list[int]:
        return [c.value for c in self.listed]

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": [c.to_dict() for c in self.listed], "first": self.first,
                "last": self.last, "count": self.count, "unbounded": self.last is None
                and self.first is not None, "complete": self.complete, "reason": self.reason}


def _stride_span(n: int, k_eff: int, pad_total: int, output: int) -> Span:
    """Strides ``s`` with ``floor(L / s) + 1 == output``, ``L = n + pad - k_eff``:
    ``L/output < s <= L/(output-1)``; every ``s > L`` gives 1."""
    span = n + pad_total - k_eff
    if span < 0:
        return Span(None, None)
    lo = span // output + 1
    hi = None if output == 1 else span // (output - 1)
    return Span.of(lo, hi)


def solve_stride(n: int, k: int, pad: tuple[int, int], output: int,
                 dilation: int = 1, op: str = "conv") -> Candidates:
    """Strides with ``window_out(...) == output``: an interval (unbounded for an output
    of 1: every stride past ``n + pad - k_eff`` gives 1)."""
    _check(input=n, k=k, output=output, dilation=dilation)
    _check_op(op, dilation)
    _check_pool_pad(op, k, pad)
    k_eff, (b, a) = dilation * (k - 1) + 1, pad
    span = _stride_span(n, k_eff, b + a, output)
    # an output of 1: every stride from the first one on works alike (one window)
    shown = span.head(1 if span.last is None else MAX_LISTED)
    listed = tuple(Candidate(s, dropped_rows(n, k_eff, s, b, a)) for s in shown)
    return Candidates("stride", span, listed,
                      _stride_gap(n + b + a, k_eff, output) if span.empty else "")


def _stride_gap(padded: int, k_eff: int, output: int) -> str:
    """Why no stride gives ``output``: the window does not fit, stride 1 gives less, or
    two neighbouring strides step over it."""
    span = padded - k_eff
    if span < 0:
        return f"the padded input {padded} is smaller than the kernel {k_eff}"
    if output > span + 1:
        return f"stride 1 gives the largest output, {span + 1}"
    s = span // (output - 1)  # the largest stride giving more than output
    return (f"stride {s} gives {span // s + 1} and stride {s + 1} gives {span // (s + 1) + 1}")


def solve_kernel(n: int, stride: int, pad: tuple[int, int], output: int,
                 dilation: int = 1, op: str = "conv") -> Candidates:
    """Kernel sizes with ``window_out(...) == output``.  With ``m = d*(k-1)`` and
    ``N = n + pad``: ``N - output*s <= m <= N - 1 - (output-1)*s``, ``m >= 0``; a pool's
    padding also needs ``k >= 2*p``."""
    _check(input=n, stride=stride, output=output, dilation=dilation)
    _check_op(op, dilation)
    _check_pool_pad(op, None, pad)
    b, a = pad
    total = n + b + a
    m_lo, m_hi = max(0, total - output * stride), total - 1 - (output - 1) * stride
    k_lo = -(-m_lo // dilation) + 1
    k_min = 2 * b if op != "conv" else 1  # a pool's pad is at most k // 2
    span = Span.of(max(k_lo, k_min), m_hi // dilation + 1) if m_hi >= 0 else Span(None, None)
    listed = tuple(Candidate(k, dropped_rows(n, dilation * (k - 1) + 1, stride, b, a))
                   for k in span.head())
    reason = ""
    if span.empty:
        reason = _kernel_gap(total, stride, dilation, output, k_lo, m_hi, k_min)
    return Candidates("kernel", span, listed, reason)


def _kernel_gap(padded: int, stride: int, dilation: int, output: int, k_lo: int, m_hi: int,
                k_min: int) -> str:
    """Why no kernel gives ``output``: kernel 1 gives less, the pool's padding needs a
    larger kernel, or two neighbouring (dilated) kernels step over it."""
    if m_hi < 0:
        return f"kernel 1 gives the largest output, {(padded - 1) // stride + 1}"
    k_hi = m_hi // dilation + 1
    if k_lo <= k_hi:
        return f"pad {k_min // 2} each side needs a pooling kernel of at least {k_min}"
    def out(k: int) -> int:
        return (padded - dilation * (k - 1) - 1) // stride + 1
    return f"kernel {k_hi} gives {out(k_hi)} and kernel {k_lo} gives {out(k_lo)}"


def _check_pool_pad(op: str, k: int | None, pad: tuple[int, int]) -> None:
    """A pool pads ``p`` on both sides, and (given its kernel ``k``) ``p <= k // 2``."""
    b, a = pad
    if op == "conv":
        return
    if b != a:
        raise UsageError(f"--pad {b},{a}: {op} pads the same on both sides (give one p)")
    if k is not None and b > k // 2:
        raise UsageError(f"--pad {b}: {op} takes at most k // 2 = {k // 2} per side "
                         "(torch refuses more)")


# ------------------------------------------------------------ valid input sizes
@dataclass(frozen=True)
class SizeResult:
    """One input size tried by :func:`input_sizes`."""

    size: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    #: truncation warnings (``layer: message``) or the error that stopped the analysis
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.output_shape is not None and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "input_shape": list(self.input_shape),
                "output_shape": list(self.output_shape) if self.output_shape else None,
                "ok": self.ok, "problems": list(self.problems)}


def parse_range(text: str) -> range:
    """``200:300`` (both ends included) or ``200:300:2``; a single ``224`` too.

    >>> parse_range("200:204"), parse_range("8:16:4")
    (range(200, 205), range(8, 17, 4))
    """
    from .units import foreign_digit

    foreign = foreign_digit(text)
    if foreign is not None:
        raise UsageError(f"--range {text}: {foreign}")
    if not re.fullmatch(r"[0-9]{1,30}(:[0-9]{1,30}){0,2}", text):
        raise UsageError(f"--range {text}: write it as START:STOP or START:STOP:STEP "
                         "(integers of at most 30 digits, both ends included)")
    parts = [int(p) for p in text.split(":")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) not in (2, 3) or parts[0] < 1 or parts[1] < parts[0] or (
            len(parts) == 3 and parts[2] < 1):
        raise UsageError(f"--range {text}: need 1 <= START <= STOP and STEP >= 1")
    sizes = range(parts[0], parts[1] + 1, parts[2] if len(parts) == 3 else 1)
    check_size_count(sizes, f"--range {text}")
    return sizes


def size_count(sizes: range) -> int:
    """``len(sizes)`` without its overflow past ``sys.maxsize`` (a 10^30-wide range)."""
    return max(0, -(-(sizes.stop - sizes.start) // sizes.step))


def check_size_count(sizes: range, what: str = "the range", layers: int = 1) -> None:
    """Refuse more than :data:`MAX_SIZES` sizes (each is one analysis and one row), or
    more than :data:`MAX_SIZE_WORK` layer analyses in all, with a STEP that would fit."""
    count = size_count(sizes)
    if count > MAX_SIZES:
        raise UsageError(
            f"{what} is {count:,} sizes; sizes analyses at most {MAX_SIZES:,} (one row each)",
            hints=(_step_hint(sizes, MAX_SIZES),))
    if count * layers > MAX_SIZE_WORK:
        fit = max(MAX_SIZE_WORK // layers, 1)
        raise UsageError(
            f"{what}: {count:,} sizes x {layers:,} layers is {count * layers:,} layer "
            f"analyses; sizes does at most {MAX_SIZE_WORK:,} ({fit:,} sizes of this network)",
            hints=(_step_hint(sizes, fit),))


def _step_hint(sizes: range, fit: int) -> str:
    """A ``--range`` over the same span in at most ``fit`` sizes."""
    last = sizes.start + (size_count(sizes) - 1) * sizes.step
    step = max(-(-(last - sizes.start) // (fit - 1)) if fit > 1 else last - sizes.start + 1,
               sizes.step)
    return f"narrow the range, or sample it with a step: --range {sizes.start}:{last}:{step}"


def _shape_for(base: tuple[int, ...], size: int, axis: int | None) -> tuple[int, ...]:
    if axis is None:
        return (base[0],) + (size,) * (len(base) - 1)
    return tuple(size if i == axis + 1 else d for i, d in enumerate(base))


def input_sizes(net: Network, sizes: range, axis: int | None = None,
                base: tuple[int, ...] | None = None, what: str = "the range") -> list[SizeResult]:
    """Analyse ``net`` at every size (every spatial axis, or only ``axis``) and record
    the output shape and any truncation; ``ok`` sizes are tiled exactly by every layer.
    At most :data:`MAX_SIZES` sizes and :data:`MAX_SIZE_WORK` layer analyses, refused
    before any is done (``what`` names the range in the message)."""
    from .analysis import analyze

    check_size_count(sizes, what, layers=len(net))
    base = base or net.input_shape
    if len(base) < 2:
        raise UsageError(f"{net.name} has no spatial axes (input {list(base)})")
    if axis is not None and not 0 <= axis < len(base) - 1:
        raise UsageError(f"--axis {axis}: the input has {len(base) - 1} spatial axes "
                         f"(0-{len(base) - 2})")
    results = []
    for size in sizes:
        shape = _shape_for(base, size, axis)
        try:
            report = analyze(net, shape, strict=False)
        except CnncalcError as exc:
            who = f"{exc.layer}: " if exc.layer else ""
            results.append(SizeResult(size, shape, None, (who + exc.message,)))
            continue
        results.append(SizeResult(size, shape, report.output_shape, report.warnings))
    return results
