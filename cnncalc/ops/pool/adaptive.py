"""The base of the adaptive pools (a fixed output size), with torch's window rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from ...working import RFWorking
from ..base import (
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Saved,
    Shape,
    TorchKit,
    numel,
    per_axis,
    saved_input,
    spatial,
)
from ..types import IntPerAxis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


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


class AdaptivePool(Op[AdaptiveAxes]):
    saved_doc = ("its input, when that requires grad (torch's pool backward reads it); "
                 "nothing for an output of one position (torch takes a mean)")
    #: a max pool (``nn.AdaptiveMaxPoolNd``) also keeps the argmax of every output, as int64
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
        kind = "Max" if self.max_indices else "Avg"
        cls = kit.layer_class(f"Adaptive{kind}Pool", len(layer.x) - 1)
        return cls(tuple(layer.out[1:]))

    def rf(self, layer: Layer[AdaptiveAxes]) -> RFStep:
        axes = layer.geo
        return RFStep(
            tuple(Fraction(adaptive_longest(n, s) - 1) for n, s in axes),
            tuple(Fraction(n, s) for n, s in axes),
            tuple(Fraction(-(-n // s) - 1, 2) for n, s in axes),  # the first window's length
            whole=all(s == 1 for _, s in axes),
        )
