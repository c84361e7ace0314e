"""Solvers for the sliding-window formula: which padding (or stride, or kernel) gives
an output size, and which input sizes a whole network tiles exactly.

``out = floor((n + P - d*(k-1) - 1) / s) + 1`` with ``P`` the total padding: a given
``out`` holds for every ``P`` with ``(out-1)*s <= n + P - k_eff <= out*s - 1``, so the
answer is a range of totals, each split before/after (the extra row of an odd total
on the leading side, as ``same`` does; see :func:`cnncalc.ops.base.resolve_padding`).

>>> sol = solve_pad(224, 7, 2, 112)
>>> sol.totals, sol.symmetric, solve_pad(6, 4, 1, 6).same
((5, 6), 3, (2, 1))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CnncalcError, UsageError
from .ops.base import resolve_padding, window_out

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Network


@dataclass(frozen=True)
class Padding:
    """One total padding that gives the wanted size, split before/after."""

    total: int
    before: int
    after: int
    #: input rows never read with this split (0: the windows tile the input)
    dropped: int

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "before": self.before, "after": self.after,
                "dropped": self.dropped}


def split(total: int) -> tuple[int, int]:
    """Before/after of a total padding, the extra one leading: ``split(5) == (3, 2)``."""
    return total - total // 2, total // 2


def dropped_rows(n: int, k_eff: int, stride: int, before: int, after: int) -> int:
    """Input rows the last window never reaches (leftover beyond the trailing pad)."""
    return max((n + before + after - k_eff) % stride - after, 0)


def min_output(n: int, k_eff: int, stride: int) -> int:
    """The smallest output size any padding gives (none, or just enough to fit k)."""
    return window_out(n, k_eff, stride, 0, 0) if n >= k_eff else 1


@dataclass(frozen=True)
class PadSolution:
    """Every padding that gives ``output`` for one axis."""

    n: int
    k: int
    stride: int
    dilation: int
    output: int
    k_eff: int
    paddings: tuple[Padding, ...]
    #: what ``pad: same`` resolves to here, and the size it gives (ceil(n / s))
    same: tuple[int, int]
    same_output: int
    #: the smallest size padding can reach (when ``output`` is below it: no padding can)
    smallest: int
    #: symmetric padding per side (``pad: p``) that works without dropping rows, if any
    symmetric: int | None = None
    totals: tuple[int, ...] = field(default=())
    #: strides that give ``output`` without padding (offered when no padding can)
    strides: tuple[int, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "k": self.k, "stride": self.stride, "dilation": self.dilation,
                "output": self.output, "k_eff": self.k_eff,
                "paddings": [p.to_dict() for p in self.paddings], "totals": list(self.totals),
                "symmetric": self.symmetric, "same": list(self.same),
                "same_output": self.same_output, "smallest_output": self.smallest,
                "strides": list(self.strides)}


def _check(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise UsageError(f"--{name} must be >= 1, got {value}")


def solve_pad(n: int, k: int, stride: int, output: int, dilation: int = 1) -> PadSolution:
    """The total paddings (and their splits) that make ``n`` become ``output``."""
    _check(input=n, k=k, stride=stride, output=output, dilation=dilation)
    k_eff = dilation * (k - 1) + 1
    lo = max(0, (output - 1) * stride + k_eff - n)
    hi = output * stride + k_eff - n - 1
    pads = tuple(Padding(t, *split(t), dropped_rows(n, k_eff, stride, *split(t)))
                 for t in range(lo, hi + 1))
    sym = next((t // 2 for t in range(lo, hi + 1)
                if t % 2 == 0 and not dropped_rows(n, k_eff, stride, t // 2, t // 2)), None)
    ((b, a),) = resolve_padding("same", (n,), (k_eff,), (stride,))
    strides = () if pads else tuple(c.value for c in solve_stride(n, k, (0, 0), output, dilation))
    return PadSolution(n, k, stride, dilation, output, k_eff, pads, (b, a),
                       window_out(n, k_eff, stride, b, a), min_output(n, k_eff, stride), sym,
                       tuple(p.total for p in pads), strides)


@dataclass(frozen=True)
class Candidate:
    """A stride or kernel size that gives the wanted output (``solve stride/kernel``)."""

    value: int
    dropped: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "dropped": self.dropped}


def solve_stride(n: int, k: int, pad: tuple[int, int], output: int,
                 dilation: int = 1) -> tuple[Candidate, ...]:
    """Strides with ``window_out(...) == output``, up to ``n + pad - k_eff + 1`` (every
    larger stride gives an output of 1 as well)."""
    _check(input=n, k=k, output=output, dilation=dilation)
    k_eff, (b, a) = dilation * (k - 1) + 1, pad
    if n + b + a < k_eff:
        return ()
    return tuple(Candidate(s, dropped_rows(n, k_eff, s, b, a))
                 for s in range(1, n + b + a - k_eff + 2)
                 if window_out(n, k_eff, s, b, a) == output)


def solve_kernel(n: int, stride: int, pad: tuple[int, int], output: int,
                 dilation: int = 1) -> tuple[Candidate, ...]:
    """Kernel sizes with ``window_out(...) == output``."""
    _check(input=n, stride=stride, output=output, dilation=dilation)
    b, a = pad
    found = []
    for k in range(1, n + b + a + 1):
        k_eff = dilation * (k - 1) + 1
        if k_eff > n + b + a:
            break
        if window_out(n, k_eff, stride, b, a) == output:
            found.append(Candidate(k, dropped_rows(n, k_eff, stride, b, a)))
    return tuple(found)


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
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        raise UsageError(f"--range {text}: write it as START:STOP or START:STOP:STEP "
                         "(integers, both ends included)") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) not in (2, 3) or parts[0] < 1 or parts[1] < parts[0] or (
            len(parts) == 3 and parts[2] < 1):
        raise UsageError(f"--range {text}: need 1 <= START <= STOP and STEP >= 1")
    return range(parts[0], parts[1] + 1, parts[2] if len(parts) == 3 else 1)


def _shape_for(base: tuple[int, ...], size: int, axis: int | None) -> tuple[int, ...]:
    if axis is None:
        return (base[0],) + (size,) * (len(base) - 1)
    return tuple(size if i == axis + 1 else d for i, d in enumerate(base))


def input_sizes(net: "Network", sizes: range, axis: int | None = None,
                base: tuple[int, ...] | None = None) -> list[SizeResult]:
    """Analyse ``net`` at every size (every spatial axis, or only ``axis``) and record
    the output shape and any truncation; ``ok`` sizes are tiled exactly by every layer."""
    from .analysis import analyze

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
