"""``subsample``: LeNet-5's trainable subsampling layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step, dims, letters
from ..base import (
    Layer,
    Op,
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
from ..shorthand import Shorthand
from ..types import IntPerAxis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class SubsampleArgs(Shorthand):
    k: IntPerAxis = 2


@register
class Subsample(Op[Window]):
    name = "subsample"
    saved_doc = ("its window sums (output-sized) and the coefficients broadcast (C), and its "
                 "input when that requires grad")

    def saved(self, layer: Layer[Window], grads: Sequence[bool]) -> list[Saved]:
        """``avg_pool(x) * k*k * w + b``: the pool keeps its input, the product its other
        operand (the sums, for ``w``'s gradient, and ``w`` broadcast, for the sums')."""
        found = [Saved("window sums", numel(layer.out))]
        if grads[0]:
            found += [saved_input(layer), Saved("coefficients", layer.x[0], per_sample=False)]
        return found
    notes = (
        "LeNet-5's S2 and S4 (LeCun et al. 1998): non-overlapping `k x k` windows."
    )
    samples = (Sample({}, ((6, 28, 28),), "pmf"),)
    family = "lenet"
    fresh_output = True
    summary = ("LeNet-5 sub-sampling: each map's k x k window sum times one trainable "
               "coefficient plus one trainable bias (2 params per map), stride k")
    formulas = {
        "shape": "C, floor(n / k) per axis",
        "params": "2C (one coefficient and one bias per map)",
        "macs": "numel(out) (one coefficient multiply per output)",
        "flops": "pool: (prod(k) - 1) * numel(out); conv: numel(out); bias: numel(out)",
        "rf": "size += (k-1)*jump; jump *= k; start += (k-1)/2*jump",
    }
    Args = SubsampleArgs
    args: SubsampleArgs

    def geometry(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        k = per_axis(self.args.k, len(n), "k")
        return Window(n, k, (1,) * len(n), k, ((0, 0),) * len(n))

    def window(self, layer: Layer[Window]) -> Window:
        return layer.geo

    def shape(self, ins: list[Shape], geo: Window) -> Shape:
        return (ins[0][0], *geo.out(self.name))

    def params(self, layer: Layer[Window]) -> Params:
        return Params(2 * layer.x[0])

    def macs(self, layer: Layer[Window]) -> int:
        return numel(layer.out)  # one coefficient multiply per output unit

    def flops(self, layer: Layer[Window]) -> dict[str, int]:
        window = numel(layer.geo.k)
        m = numel(layer.out)
        return {"pool": (window - 1) * m, "conv": m, "bias": m}

    def rf(self, layer: Layer[Window]) -> RFStep:
        return layer.geo.rf()

    def warnings(self, layer: Layer[Window]) -> list[str]:
        return layer.geo.truncation(self.name)

    def explain(self, layer: Layer[Window]) -> list[Step]:
        """Worked arithmetic: output size (stride k), 2 params per map, 1 multiply per output."""

        w, c = layer.geo, layer.x[0]
        return [
            *window_size(w, layer.out[1:]),
            Step("params", f"2 x {c}", self.params(layer).total,
                 "2 x C (a coefficient and a bias per map)", "params"),
            Step("MACs", f"{c} x {dims(layer.out[1:], ' x ')}", self.macs(layer),
                 f"C x {letters('m', len(w.k))} (the coefficient times each window sum)", "macs"),
            *truncation(w),
        ]

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        """Window sum * coefficient + bias per map (cnncalc.pytorch.modules.Subsample)."""
        return kit.Subsample(layer.x[0], layer.geo.k)
