"""``prelu``: a leaky ReLU with learned slopes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Layer, OpArgs, Params, Sample, TorchKit, register
from .elementwise import Activation, activation_formulas

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class PreluArgs(OpArgs):
    shared: bool = False
    init: float = 0.25


@register
class Prelu(Activation):
    name = "prelu"
    saved_doc = "its input (always: the slopes are trainable)"
    notes = (
        "Unlike torch's `nn.PReLU()` (one shared slope by default), cnncalc's default learns one\n"
        "slope per channel (`nn.PReLU(C)`); `shared: true` is torch's default."
    )
    samples = (Sample({}, ((3, 8, 8),), "pf"),)
    summary = ("x if x > 0 else a * x with a learned slope a per channel, or one for the "
               "whole layer with shared: true (torch's PReLU default is one)")
    Args = PreluArgs
    args: PreluArgs
    formulas = activation_formulas(params="C, or 1 with shared: true")

    def params(self, layer: Layer[None]) -> Params:
        return Params(1 if self.args.shared else layer.x[0])

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.PReLU(1 if self.args.shared else layer.x[0], self.args.init)
