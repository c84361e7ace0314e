"""Fully connected layers and the shape-only ops around them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..working import Step, dims
from .base import (
    Free,
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Shape,
    TorchKit,
    numel,
    pointwise_rf,
    register,
)
from .conv import Shorthand
from .types import PosInt, Prob

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LinearArgs(Shorthand):
    out: PosInt
    bias: bool = True


@register
class Linear(Op[None]):
    name = "linear"
    notes = (
        "On a feature map it acts on the last axis, as `nn.Linear` does; `flatten` first for\n"
        "the classic classifier head."
    )
    samples = (Sample({'out': 10}, ((20,),), "pmf"),)
    family = "linear"
    fresh_output = True
    summary = "fully connected layer over the last axis (flatten first for a feature map)"
    formulas = {
        "shape": "(*x[:-1], out)",
        "params": "in * out + out (bias)",
        "macs": "numel(x) * out",
        "flops": "linear: 2 * macs; bias: numel(out)",
        "rf": "none (no spatial layout)",
    }
    Args = LinearArgs
    args: LinearArgs

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return (*ins[0][:-1], self.args.out)

    def params(self, layer: Layer[None]) -> Params:
        return Params(layer.x[-1] * self.args.out + (self.args.out if self.args.bias else 0))

    def macs(self, layer: Layer[None]) -> int:
        return numel(layer.x) * self.args.out

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return {"linear": 2 * self.macs(layer), "bias": numel(layer.out) if self.args.bias else 0}

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return None

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: a weight per (input, output) pair plus a bias per output."""

        n, o = layer.x[-1], self.args.out
        text, sym = (f"{n} x {o} + {o}", "in x out + out") if self.args.bias else (
            f"{n} x {o}", "in x out")
        rows = numel(layer.x[:-1])
        macs = f"{rows} x {n} x {o}" if rows > 1 else f"{n} x {o}"
        return [Step("params", text, self.params(layer).total, sym, "params"),
                Step("MACs", macs, self.macs(layer), "numel(x) x out", "macs")]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Linear(layer.x[-1], self.args.out, self.args.bias)


@register
class Flatten(Free):
    name = "flatten"
    samples = (Sample({}, ((3, 8, 8),), ""),)
    family = "reshape"
    summary = "flatten everything but the batch axis into one vector"
    formulas = {"shape": "(numel(x),)", "params": "0", "macs": "0", "flops": "0",
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


@register
class Identity(Free):
    name = "identity"
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


class DropoutArgs(OpArgs):
    p: Prob = 0.5


@register
class Dropout(Identity):
    name = "dropout"
    notes = (
        "Identity at inference; `p` is kept for the torch build."
    )
    samples = (Sample({}, ((10,),), ""),)
    family = "reshape"
    summary = "dropout: identity at inference, so no FLOPs are counted"
    formulas = {"shape": "unchanged", "params": "0", "macs": "0",
                "flops": "0 (identity at inference)", "rf": "unchanged"}
    Args = DropoutArgs
    args: DropoutArgs

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Dropout(self.args.p)
