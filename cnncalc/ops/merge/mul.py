"""``mul``: element-wise product (squeeze-excitation's scale)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import Layer, Sample, Saved, TorchKit, numel, register, saved_input
from .broadcast import broadcast
from .elementwise import Elementwise

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class Mul(Elementwise[None]):
    name = "mul"
    samples = (Sample({}, ((3, 8, 8), (3, 8, 8)), "f"),
               Sample({}, ((4, 6, 6), (4, 1, 1)), "f"),
               Sample({}, ((1, 5, 1), (3, 1, 4), (3, 5, 4)), "f"))
    family = "merge"
    fresh_output = True
    summary = ("element-wise product of inputs that broadcast (each axis equal or 1): a "
               "[C, 1, 1] gate times a [C, H, W] map is squeeze-excitation's scale")
    notes = (
        "The inputs broadcast as numpy's do, on the `(C, *spatial)` shape of one sample: the\n"
        "same number of axes, and along each axis every size equal or 1. A `[C, 1, 1]` gate\n"
        "from a global pool's branch scales every position of a `[C, H, W]` map: that gate's\n"
        "receptive field is the whole input, so the product's is too (see docs/counting.md)."
    )
    formulas = {"shape": "the inputs' broadcast shape (each axis equal or 1)", "params": "0",
                "macs": "0",
                "flops": "merge: (inputs - 1) * numel(out) (out is the broadcast shape: a "
                         "[C, 1, 1] gate times a [C, H, W] map costs C * H * W)",
                "rf": "largest of the inputs' fields (a broadcast input's one position is read "
                      "by every output position)"}

    saved_doc = ("each factor whose partner needs a gradient: `x0 * x1 * ...` runs left to "
                 "right, each product keeping its right operand when the left requires grad "
                 "and its left (input 0, then the partial product) when the right does")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        found: list[Saved] = []
        acc, acc_grad = layer.ins[0], grads[0]
        for j in range(1, len(layer.ins)):
            if acc_grad:
                found.append(saved_input(layer, j))
            if grads[j]:
                found.append(saved_input(layer, 0) if j == 1 else
                             Saved(f"product of inputs 0-{j - 1}", numel(acc)))
            acc = broadcast(self.name, [acc, layer.ins[j]])
            acc_grad = acc_grad or grads[j]
        return found

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        return kit.Mul()
