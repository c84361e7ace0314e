"""``flatten``: everything but the batch axis into one vector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step, dims
from ..base import Free, Layer, RFStep, Sample, Saved, Shape, TorchKit, numel, register

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class Flatten(Free[None]):
    name = "flatten"
    view = True
    saved_doc = "nothing: its output is a view of its input"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return []
    samples = (Sample({}, ((3, 8, 8),), ""),)
    family = "reshape"
    summary = "flatten everything but the batch axis into one vector"
    formulas = {"shape": "(numel(x),)", "params": "0", "macs": "0", "flops": "0 (data movement)",
                "rf": "none (every position mixed)"}

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return (numel(ins[0]),)

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: the vector's length is the product of the input's sizes."""

        return [Step("output length", dims(layer.x, " x "), layer.out[0], "C x h x w", "shape")]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Flatten()

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return None
