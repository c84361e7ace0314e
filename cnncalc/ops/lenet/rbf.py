"""``rbf``: LeNet-5's Euclidean radial basis output layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step
from ..base import (
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
    register,
    saved_input,
)
from ..types import PosInt

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class RbfArgs(OpArgs):
    out: PosInt
    trainable: bool = False


@register
class Rbf(Op[None]):
    name = "rbf"
    saved_doc = ("with an input that requires grad (or trainable centres), its input and its "
                 "output-sized squared distances; nothing otherwise")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not needs_backward(layer, grads):
            return []
        return [saved_input(layer), Saved("distances", numel(layer.out))]
    notes = (
        "With `trainable: false` (the paper's fixed 7x12 bitmaps) the centres count in `params`\n"
        "but not in `trainable_params`: LeNet-5 has 60,840 parameters, 60,000 trainable."
    )
    samples = (Sample({'out': 10}, ((84,),), "pmf"),)
    family = "lenet"
    summary = ("LeNet-5 Euclidean RBF output: y_i = sum_j (x_j - w_ij)^2; the centres are "
               "fixed (trainable: false) as in the paper")
    formulas = {
        "shape": "(*x[:-1], out)",
        "params": "in * out centres (fixed unless trainable: true)",
        "macs": "numel(x) * out",
        "flops": "other: 3 * macs (subtract, square, add per input and centre)",
        "rf": "none (no spatial layout)",
    }
    Args = RbfArgs
    args: RbfArgs

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return (*ins[0][:-1], self.args.out)

    def params(self, layer: Layer[None]) -> Params:
        n = layer.x[-1] * self.args.out
        return Params(trainable=n) if self.args.trainable else Params(fixed=n)

    def macs(self, layer: Layer[None]) -> int:
        return numel(layer.x) * self.args.out

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        # per (input, centre) pair: a subtraction, a square and an add
        return {"other": 3 * self.macs(layer)}

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return None

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: one centre per (input, class) pair."""

        n, o = layer.x[-1], self.args.out
        kind = "trainable" if self.args.trainable else "fixed"
        return [Step("params", f"{n} x {o}", self.params(layer).total, f"in x out ({kind} centres)",
                     "params"),
                Step("MACs", f"{numel(layer.x)} x {o}", self.macs(layer), "numel(x) x out",
                     "macs")]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """Centres as a parameter, ``requires_grad=trainable`` (cnncalc.pytorch.modules.RBF)."""
        return kit.RBF(layer.x[-1], self.args.out, self.args.trainable)
