"""The base of the element-wise activations: one FLOP-counted pass over the tensor each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from ..base import (
    Layer,
    Pointwise,
    Saved,
    TorchKit,
    needs_backward,
    numel,
    saved_input,
    saved_output,
)

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class Activation(Pointwise):
    family = "activation"
    #: what the backward reads: the output (relu, sigmoid, tanh, softmax) or the input
    saves: ClassVar[str] = "input"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        """Its output or its input, as the backward formula needs; nothing on a path that
        needs no gradient."""
        if not needs_backward(layer, grads):
            return []
        return [saved_output(layer) if self.saves == "output" else saved_input(layer)]
    #: FLOPs per element (docs/counting.md explains the choice)
    per_element = 1

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return {"activation": self.per_element * numel(layer.out)}

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """The matching ``torch.nn`` activation (``nn.ReLU``, ``nn.GELU``, ...)."""
        from torch import nn

        cls: type[nn.Module] = getattr(nn, TORCH_NAMES[self.name])
        return cls()


#: op name -> torch.nn class of the activations that take no arguments
TORCH_NAMES = {
    "relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU",
    "silu": "SiLU", "elu": "ELU", "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid",
    "mish": "Mish", "softplus": "Softplus",
}


#: why an activation's FLOPs are one per element (docs/counting.md): the function itself is
#: the op's summary
ONE_PASS = "one pass over the tensor, whatever the function costs"


def activation_formulas(per_element: int = 1, why: str = ONE_PASS,
                        params: str = "0") -> dict[str, str]:
    """An activation's formulas: shape and rf unchanged, no MACs, ``per_element`` FLOPs
    per element for the reason ``why``."""
    return {"shape": "unchanged", "params": params, "macs": "0",
            "flops": f"activation: {per_element} * numel ({why})", "rf": "unchanged"}
