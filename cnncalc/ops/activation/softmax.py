"""``softmax`` over one axis of the sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import Layer, OpArgs, Sample, Shape, TorchKit, register
from .elementwise import Activation, activation_formulas

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class SoftmaxArgs(OpArgs):
    dim: int = 0  # axis of the sample (batch excluded): 0 = channels / features


@register
class Softmax(Activation):
    name = "softmax"
    saves = "output"
    saved_doc = "its output (nothing when its input needs no gradient)"
    notes = (
        "`dim` is an axis of the sample, batch excluded: 0 is the channel or feature axis."
    )
    samples = (Sample({}, ((10,),), "f"),)
    summary = "exp(x) / sum(exp(x)) over `dim` (0 = channels/features)"
    Args = SoftmaxArgs
    args: SoftmaxArgs
    per_element = 3  # exp, add into the sum, divide
    formulas = activation_formulas(3, "exp, add into the sum, divide")

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        rank = len(ins[0])
        if not -rank <= self.args.dim < rank:
            raise ShapeError(f"softmax dim {self.args.dim} is out of range for the input "
                             f"{list(ins[0])} (dims 0-{rank - 1}, batch excluded)")
        return ins[0]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        dim = self.args.dim
        return nn.Softmax(dim + 1 if dim >= 0 else dim)  # + 1: the batch axis
