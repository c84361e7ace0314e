"""``concat``: inputs joined along the channel axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import Free, Layer, RFStep, Sample, Saved, Shape, TorchKit, pointwise_rf, register
from .broadcast import shape_text

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class Concat(Free[None]):
    name = "concat"
    saved_doc = "nothing (its backward only slices the gradient)"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return []
    samples = (Sample({}, ((3, 8, 8), (5, 8, 8)), ""),)
    family = "merge"
    fresh_output = True
    summary = "join inputs along the channel axis; the other axes must agree"
    formulas = {"shape": "(sum of C, *spatial); spatial axes must agree", "params": "0",
                "macs": "0", "flops": "0 (data movement)", "rf": "largest of the inputs' fields"}
    arity = (1, None)

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        rest = ins[0][1:]
        for i, x in enumerate(ins):
            if x[1:] != rest or len(x) != len(ins[0]):
                raise ShapeError(
                    "concat inputs differ beyond the channel axis: input 0 is "
                    f"{shape_text(ins[0])}, input {i} is {shape_text(x)}"
                )
        return (sum(x[0] for x in ins), *rest)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        return kit.Concat()

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)
