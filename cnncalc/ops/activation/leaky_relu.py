"""``leaky_relu``: ``x if x > 0 else slope * x``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Layer, OpArgs, Sample, TorchKit, register
from .elementwise import Activation, activation_formulas

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LeakyReluArgs(OpArgs):
    slope: float = 0.01


@register
class LeakyRelu(Activation):
    name = "leaky_relu"
    saved_doc = "its input (nothing when its input needs no gradient)"
    samples = (Sample({}, ((3, 8, 8),), "f"),)
    summary = "x if x > 0 else slope * x"
    Args = LeakyReluArgs
    formulas = activation_formulas()
    args: LeakyReluArgs

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.LeakyReLU(self.args.slope)
