"""Element-wise activations: one FLOP-counted pass over the tensor each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from ..errors import ShapeError
from .base import (
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Saved,
    Shape,
    TorchKit,
    needs_backward,
    numel,
    pointwise_rf,
    register,
    saved_input,
    saved_output,
)

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class Activation(Op[None]):
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

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        return Params()

    def macs(self, layer: Layer[None]) -> int:
        return 0

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return {"activation": self.per_element * numel(layer.out)}

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)

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


#: activations whose backward reads their output (torch saves ``result``); the others
#: save their input (relu6 is torch's hardtanh, whose backward reads the input)
SAVES = {"relu": "output", "sigmoid": "output", "tanh": "output"}


#: activations whose torch module may overwrite its input (the backward does not need it)
INPLACE_OK = frozenset({"relu", "relu6"})


def _formulas(text: str, per_element: int = 1, params: str = "0") -> dict[str, str]:
    return {"shape": "unchanged", "params": params, "macs": "0",
            "flops": f"activation: {per_element} * numel ({text})", "rf": "unchanged"}


#: what docs/ops.md says after an activation's formulas
NOTES = {"relu": (
             "Every element-wise activation counts one FLOP per element (see docs/counting.md);\n"
             "`softmax` counts three.")}


def _simple(op_name: str, text: str) -> type[Activation]:
    attrs = {"name": op_name, "summary": text, "formulas": _formulas(text),
             "samples": (Sample({}, ((3, 8, 8),), "f"),), "notes": NOTES.get(op_name, ""),
             "inplace_ok": op_name in INPLACE_OK, "inplace_shares": op_name == "relu",
             "saves": SAVES.get(op_name, "input"),
             "saved_doc": f"its {SAVES.get(op_name, 'input')} (nothing when its input needs no "
                          "gradient)"}
    cls = type(op_name.title().replace("_", ""), (Activation,), attrs)
    return register(cls)


for _name, _text in [
    ("relu", "max(x, 0)"),
    ("relu6", "min(max(x, 0), 6)"),
    ("sigmoid", "1 / (1 + exp(-x))"),
    ("tanh", "hyperbolic tangent"),
    ("gelu", "x * Phi(x) (exact erf form)"),
    ("silu", "x * sigmoid(x), a.k.a. swish"),
    ("elu", "x if x > 0 else exp(x) - 1"),
    ("hardswish", "x * relu6(x + 3) / 6 (MobileNetV3)"),
    ("hardsigmoid", "relu6(x + 3) / 6"),
    ("mish", "x * tanh(softplus(x))"),
    ("softplus", "log(1 + exp(x))"),
]:
    _simple(_name, _text)


class LeakyReluArgs(OpArgs):
    slope: float = 0.01


@register
class LeakyRelu(Activation):
    name = "leaky_relu"
    saved_doc = "its input (nothing when its input needs no gradient)"
    samples = (Sample({}, ((3, 8, 8),), "f"),)
    summary = "x if x > 0 else slope * x"
    Args = LeakyReluArgs
    formulas = _formulas("x if x > 0 else slope * x")
    args: LeakyReluArgs

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.LeakyReLU(self.args.slope)


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
    formulas = _formulas("exp, add into the sum, divide", per_element=3)

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
    formulas = _formulas("x if x > 0 else a * x", params="C, or 1 with shared: true")

    def params(self, layer: Layer[None]) -> Params:
        return Params(1 if self.args.shared else layer.x[0])

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.PReLU(1 if self.args.shared else layer.x[0], self.args.init)
