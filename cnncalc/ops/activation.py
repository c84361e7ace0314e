"""Element-wise activations: one FLOP-counted pass over the tensor each."""

from __future__ import annotations

from .base import Op, OpArgs, Params, RFStep, Shape, numel, pointwise_rf, register
from .types import PosFloat


class Activation(Op):
    family = "activation"
    #: FLOPs per element (docs/counting.md explains the choice)
    per_element = 1

    def shape(self, ins: list[Shape]) -> Shape:
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        return Params()

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"activation": self.per_element * numel(out)}

    def rf(self, ins: list[Shape]) -> RFStep | None:
        return pointwise_rf(ins[0])


def _simple(op_name: str, text: str) -> type[Activation]:
    cls = type(op_name.title().replace("_", ""), (Activation,), {"name": op_name, "summary": text})
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
    summary = "x if x > 0 else slope * x"
    Args = LeakyReluArgs


class SoftmaxArgs(OpArgs):
    dim: int = 0  # axis of the sample (batch excluded): 0 = channels / features


@register
class Softmax(Activation):
    name = "softmax"
    summary = "exp(x) / sum(exp(x)) over `dim` (0 = channels/features)"
    Args = SoftmaxArgs
    per_element = 3  # exp, add into the sum, divide
