"""``identity``: the input passed through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import Free, Layer, RFStep, Sample, Saved, Shape, TorchKit, pointwise_rf, register

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class Identity(Free):
    name = "identity"
    view = True
    saved_doc = "nothing: its output is its input"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return []
    samples = (Sample({}, ((3, 8, 8),), ""),)
    family = "reshape"
    summary = "pass the input through unchanged"
    formulas = {"shape": "unchanged", "params": "0", "macs": "0", "flops": "0", "rf": "unchanged"}

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return ins[0]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Identity()

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)
