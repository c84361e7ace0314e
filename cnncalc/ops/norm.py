"""Normalisation layers."""

from __future__ import annotations

from .base import Op, OpArgs, Params, RFStep, Shape, numel, pointwise_rf, register


class BatchNormArgs(OpArgs):
    eps: float = 1e-5
    momentum: float = 0.1
    affine: bool = True


@register
class BatchNorm(Op):
    name = "batchnorm"
    family = "norm"
    summary = "batch normalisation over channels; running statistics are buffers"
    Args = BatchNormArgs
    args: BatchNormArgs

    def shape(self, ins: list[Shape]) -> Shape:
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        c = ins[0][0]
        return Params(trainable=2 * c if self.args.affine else 0, buffers=2 * c + 1)

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        # inference: statistics folded into one scale and one shift per element
        return {"norm": 2 * numel(out)}

    def rf(self, ins: list[Shape]) -> RFStep | None:
        return pointwise_rf(ins[0])
