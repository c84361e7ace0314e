"""Pooling: max and average, windowed, global or adaptive (fixed output size)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator

from ..errors import ShapeError
from ..working import RFWorking, Step
from .base import (
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Saved,
    Shape,
    TorchKit,
    Window,
    numel,
    per_axis,
    register,
    saved_input,
    spatial,
    truncation,
    window_size,
)
from .types import IntPerAxis, NonNegPerAxis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class PoolArgs(OpArgs):
    k: IntPerAxis | None = None
    stride: IntPerAxis | None = None
    pad: NonNegPerAxis = 0
    ceil_mode: bool = False
    # 'global' is a Python keyword, hence the alias
    global_: bool = Field(False, alias="global")

    @model_validator(mode="after")
    def _k_or_global(self) -> PoolArgs:
        if self.k is None and not self.global_:
            raise ValueError("give k (the window), or global: true")
        return self


class MaxPoolArgs(PoolArgs):
    dilation: IntPerAxis = 1


class _Pool(Op[Window]):
    saved_doc = "its input, when that requires grad (torch's pool backward reads it)"

    def saved(self, layer: Layer[Window], grads: Sequence[bool]) -> list[Saved]:
        if not grads[0]:
            return []
        found = [saved_input(layer)]
        if self.max_indices:
            found.append(Saved("indices", numel(layer.out), "index"))
        return found

    #: a max pool also keeps the argmax of every output, as int64
    max_indices: ClassVar[bool] = False
    family = "pool"
    args: PoolArgs

    def geometry(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        r = len(n)
        a = self.args
        if a.global_:
            return Window(n, n, (1,) * r, n, ((0, 0),) * r)
        assert a.k is not None  # PoolArgs._k_or_global: k is given unless global
        k = per_axis(a.k, r, "k")
        s = per_axis(a.stride, r, "stride") if a.stride is not None else k
        d = per_axis(getattr(a, "dilation", 1), r, "dilation")
        p = per_axis(a.pad, r, "pad")
        w = Window(n, k, d, s, tuple((x, x) for x in p), a.ceil_mode)
        for pp, kk in zip(p, k):
            if pp > kk // 2:  # torch's rule: the kernel size, not the dilated span
                raise ShapeError(f"pad {pp} is more than half the pooling window {kk} "
                                 f"(pad must be <= k // 2 = {kk // 2})", arg="pad")
        return w

    def window(self, layer: Layer[Window]) -> Window:
        return layer.geo

    def shape(self, ins: list[Shape], geo: Window) -> Shape:
        return (ins[0][0], *geo.out(self.name))

    def params(self, layer: Layer[Window]) -> Params:
        return Params()

    def macs(self, layer: Layer[Window]) -> int:
        return 0

    def rf(self, layer: Layer[Window]) -> RFStep:
        step = layer.geo.rf()
        return RFStep(step.span, step.factor, step.offset, whole=self.args.global_)

    def warnings(self, layer: Layer[Window]) -> list[str]:
        return layer.geo.truncation(self.name)

    def explain(self, layer: Layer[Window]) -> list[Step]:
        """Worked arithmetic: output size per axis (no weights) and any rows never read."""

        w = layer.geo
        steps = window_size(w, layer.out[1:])
        if self.args.global_:
            steps.append(Step("global", "", "one window covers the whole map", "", "note"))
        return steps + truncation(w)

    def _torch_pool(self, layer: Layer[Window], kit: TorchKit, kind: str,
                    **extra: object) -> nn.Module:
        """``nn.{kind}PoolNd`` by rank; ``nn.Adaptive{kind}PoolNd(1)`` when global."""
        w = layer.geo
        if self.args.global_:
            return kit.layer_class(f"Adaptive{kind}Pool", len(w.n))(1)
        cls = kit.layer_class(f"{kind}Pool", len(w.n))
        return cls(w.k, w.stride, tuple(b for b, _ in w.pad), ceil_mode=self.args.ceil_mode,
                   **extra)


@register
class MaxPool(_Pool):
    max_indices = True
    saved_doc = ("its input and the argmax of every output as int64 (8 bytes each), when its "
                 "input requires grad")
    name = "maxpool"
    notes = (
        "`stride` defaults to `k`. As in torch, `pad` may be at most `k // 2` (the kernel size,\n"
        "not the dilated span); with `ceil_mode` a last, partial window is kept unless it would\n"
        "start inside the trailing padding. `global: true` pools the whole input to one value\n"
        "per channel."
    )
    samples = (Sample({'k': 2}, ((3, 8, 8),), "f"),)
    summary = "max over each window (k, stride = k by default, pad, dilation, ceil_mode, global)"
    Args = MaxPoolArgs
    formulas = {
        "shape": "C, floor((n + 2p - d*(k-1) - 1)/s) + 1 per axis (ceil with ceil_mode, "
                 "minus a last window starting in the trailing pad); pad <= k//2",
        "params": "0",
        "macs": "0",
        "flops": "pool: (prod(k) - 1) * numel(out) comparisons",
        "rf": "size += d*(k-1)*jump; jump *= s; start += (d*(k-1)/2 - p)*jump",
    }

    def flops(self, layer: Layer[Window]) -> dict[str, int]:
        return {"pool": (numel(layer.geo.k) - 1) * numel(layer.out)}

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        return self._torch_pool(layer, kit, "Max", dilation=layer.geo.dilation)


@register
class AvgPool(_Pool):
    name = "avgpool"
    notes = (
        "Like `maxpool` without dilation. torch's 3-D average pool (only that one) also refuses\n"
        "an input smaller than the kernel along any axis, even when padding or `ceil_mode` would\n"
        "make the output valid; cnncalc reports the same error."
    )
    samples = (Sample({'k': 2}, ((3, 8, 8),), "f"),)
    summary = "mean over each window (k, stride = k by default, pad, ceil_mode, global)"
    Args = PoolArgs
    formulas = {
        "shape": "C, floor((n + 2p - k)/s) + 1 per axis (ceil with ceil_mode, minus a last "
                 "window starting in the trailing pad); pad <= k//2",
        "params": "0",
        "macs": "0",
        "flops": "pool: prod(k) * numel(out) (prod(k)-1 adds + 1 divide per output)",
        "rf": "size += (k-1)*jump; jump *= s; start += ((k-1)/2 - p)*jump",
    }

    def geometry(self, ins: list[Shape]) -> Window:
        w = super().geometry(ins)
        if len(w.n) == 3 and any(n < k for n, k in zip(w.n, w.k)):
            # torch's avg_pool3d (only the 3-D one) checks the unpadded input against k
            raise ShapeError(
                f"the input {list(w.n)} is smaller than the 3-D kernel {list(w.k)}; torch's "
                "AvgPool3d needs every spatial axis >= k, even with padding or ceil_mode")
        return w

    def flops(self, layer: Layer[Window]) -> dict[str, int]:
        return {"pool": numel(layer.geo.k) * numel(layer.out)}  # k-1 adds + 1 divide

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        return self._torch_pool(layer, kit, "Avg")


# ----------------------------------------------------------------- adaptive pools
class AdaptiveArgs(OpArgs):
    size: IntPerAxis


def adaptive_windows(n: int, size: int) -> list[int]:
    """Window lengths along one axis, torch's rule: output ``i`` reads
    ``[floor(i*n/size), ceil((i+1)*n/size))``.

    >>> adaptive_windows(5, 3)
    [2, 3, 2]
    """
    return [-(-(i + 1) * n // size) - (i * n // size) for i in range(size)]


def adaptive_total(n: int, size: int) -> int:
    """``sum(adaptive_windows(n, size))`` in O(1): ``n + size - gcd(n, size)`` (a size of
    10^9 must not build a list of 10^9 windows).

    >>> adaptive_total(5, 3), adaptive_total(10**12, 10**9)
    (7, 1000000000000)
    """
    return n + size - math.gcd(n, size)


def adaptive_longest(n: int, size: int) -> int:
    """``max(adaptive_windows(n, size))`` in O(1): with ``n = q*size + r``, ``q`` when
    ``r == 0``, ``q + 1`` when ``r`` divides ``size``, else ``q + 2``.

    >>> adaptive_longest(5, 3), adaptive_longest(7, 3)
    (3, 3)
    """
    q, r = divmod(n, size)
    return q if r == 0 else q + 1 if size % r == 0 else q + 2


#: an adaptive pool's (input size, output size) per spatial axis
AdaptiveAxes = list[tuple[int, int]]


class _AdaptivePool(Op[AdaptiveAxes]):
    saved_doc = ("its input, when that requires grad (torch's pool backward reads it); "
                 "nothing for an output of one position (torch takes a mean)")
    #: a max pool also keeps the argmax of every output, as int64
    max_indices: ClassVar[bool] = False

    def saved(self, layer: Layer[AdaptiveAxes], grads: Sequence[bool]) -> list[Saved]:
        if not grads[0] or (not self.max_indices and numel(layer.out[1:]) == 1):
            return []  # torch takes a mean for a 1x1 output: its backward needs shapes only
        found = [saved_input(layer)]
        if self.max_indices:
            found.append(Saved("indices", numel(layer.out), "index"))
        return found
    family = "pool"
    Args = AdaptiveArgs
    args: AdaptiveArgs

    def geometry(self, ins: list[Shape]) -> AdaptiveAxes:
        n = spatial(ins[0], self.name)
        return list(zip(n, per_axis(self.args.size, len(n), "size")))

    def shape(self, ins: list[Shape], geo: AdaptiveAxes) -> Shape:
        return (ins[0][0], *(s for _, s in geo))

    def params(self, layer: Layer[AdaptiveAxes]) -> Params:
        return Params()

    def macs(self, layer: Layer[AdaptiveAxes]) -> int:
        return 0

    def window_elements(self, layer: Layer[AdaptiveAxes]) -> int:
        """Input elements read over all output positions of one channel."""
        return math.prod(adaptive_total(n, s) for n, s in layer.geo)

    def rf_working(self, layer: Layer[AdaptiveAxes], step: RFStep) -> RFWorking:
        """An adaptive pool: the longest window spans ``L - 1`` more rows, positions are
        ``n/size`` rows apart, the first window of ``ceil(n/size)`` rows is centred."""
        n, size = [a for a, _ in layer.geo], [b for _, b in layer.geo]  # (input, output) per axis
        return RFWorking(
            lambda i, r, j: f"{r} + ({adaptive_longest(n[i], size[i])}-1)*{j}",
            lambda i, j: f"{j}*{n[i]}/{size[i]}",
            lambda i, st, j: f"{st} + ({-(-n[i] // size[i])}-1)/2*{j}",
            ("r = r_in + (longest window - 1)*j_in", "j = j_in*n/size",
             "start = start_in + (first window - 1)/2*j_in"))

    def torch(self, layer: Layer[AdaptiveAxes], kit: TorchKit) -> nn.Module:
        """``nn.AdaptiveAvgPoolNd`` / ``nn.AdaptiveMaxPoolNd`` by rank."""
        kind = "Max" if isinstance(self, AdaptiveMaxPool) else "Avg"
        return kit.layer_class(f"Adaptive{kind}Pool", len(layer.x) - 1)(tuple(layer.out[1:]))

    def rf(self, layer: Layer[AdaptiveAxes]) -> RFStep:
        axes = layer.geo
        return RFStep(
            tuple(Fraction(adaptive_longest(n, s) - 1) for n, s in axes),
            tuple(Fraction(n, s) for n, s in axes),
            tuple(Fraction(-(-n // s) - 1, 2) for n, s in axes),  # the first window's length
            whole=all(s == 1 for _, s in axes),
        )


@register
class AdaptiveAvgPool(_AdaptivePool):
    name = "adaptive_avgpool"
    notes = (
        "`size` is the output size (an int for every axis, or one per axis). Output `i` reads\n"
        "`[floor(i*n/size), ceil((i+1)*n/size))`: windows may differ in length and overlap,\n"
        "e.g. `n = 5`, `size = 3` gives windows of 2, 3 and 2. FLOPs use the real window lengths.\n"
        "The receptive-field jump is the fraction `n / size`; `size: 1` on every axis is a global\n"
        "pool."
    )
    samples = (Sample({'size': 3}, ((3, 7, 7),), "f"),)
    summary = "mean over adaptive windows giving a fixed output size (torch's AdaptiveAvgPool)"
    formulas = {
        "shape": "C, size per axis; output i reads [floor(i*n/size), ceil((i+1)*n/size))",
        "params": "0",
        "macs": "0",
        "flops": "pool: C * prod over axes of (sum of window lengths) "
                 "(len-1 adds + 1 divide per window)",
        "rf": "size += (largest window - 1)*jump; jump *= n/size; "
              "start += (first window - 1)/2*jump",
    }

    def flops(self, layer: Layer[AdaptiveAxes]) -> dict[str, int]:
        return {"pool": layer.x[0] * self.window_elements(layer)}


@register
class AdaptiveMaxPool(_AdaptivePool):
    max_indices = True
    saved_doc = ("its input and the argmax of every output as int64 (8 bytes each), when its "
                 "input requires grad")
    name = "adaptive_maxpool"
    notes = (
        "Same windows as `adaptive_avgpool`."
    )
    samples = (Sample({'size': [3, 2]}, ((3, 7, 7),), "f"),)
    summary = "max over adaptive windows giving a fixed output size (torch's AdaptiveMaxPool)"
    formulas = {
        "shape": "C, size per axis; output i reads [floor(i*n/size), ceil((i+1)*n/size))",
        "params": "0",
        "macs": "0",
        "flops": "pool: C * (prod over axes of (sum of window lengths) - numel(out)/C) "
                 "(len-1 comparisons per window)",
        "rf": "size += (largest window - 1)*jump; jump *= n/size; "
              "start += (first window - 1)/2*jump",
    }

    def flops(self, layer: Layer[AdaptiveAxes]) -> dict[str, int]:
        return {"pool": layer.x[0] * self.window_elements(layer) - numel(layer.out)}
