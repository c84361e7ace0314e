"""Pooling: max and average, windowed or global."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..errors import ShapeError
from .base import Op, OpArgs, Params, RFStep, Shape, Window, numel, per_axis, register, spatial
from .types import IntPerAxis, NonNegPerAxis


class PoolArgs(OpArgs):
    k: IntPerAxis | None = None
    stride: IntPerAxis | None = None
    pad: NonNegPerAxis = 0
    ceil_mode: bool = False
    # 'global' is a Python keyword, hence the alias
    global_: bool = Field(False, alias="global")

    @model_validator(mode="after")
    def _k_or_global(self) -> "PoolArgs":
        if self.k is None and not self.global_:
            raise ValueError("give k (the window), or global: true")
        return self


class MaxPoolArgs(PoolArgs):
    dilation: IntPerAxis = 1


class _Pool(Op):
    family = "pool"
    args: PoolArgs

    def window(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        r = len(n)
        a = self.args
        if a.global_:
            return Window(n, n, (1,) * r, n, ((0, 0),) * r)
        k = per_axis(a.k, r, "k")
        s = per_axis(a.stride, r, "stride") if a.stride is not None else k
        d = per_axis(getattr(a, "dilation", 1), r, "dilation")
        p = per_axis(a.pad, r, "pad")
        w = Window(n, k, d, s, tuple((x, x) for x in p), a.ceil_mode)
        for pp, ke in zip(p, w.k_eff):
            if 2 * pp > ke:
                raise ShapeError(f"pad {pp} is more than half the pooling window {ke}")
        return w

    def shape(self, ins: list[Shape]) -> Shape:
        return (ins[0][0], *self.window(ins).out(self.name))

    def params(self, ins: list[Shape]) -> Params:
        return Params()

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def rf(self, ins: list[Shape]) -> RFStep:
        step = self.window(ins).rf()
        return RFStep(step.span, step.factor, step.offset, whole=self.args.global_)

    def warnings(self, ins: list[Shape]) -> list[str]:
        return self.window(ins).truncation(self.name)


@register
class MaxPool(_Pool):
    name = "maxpool"
    summary = "max over each window (k, stride = k by default, pad, dilation, ceil_mode, global)"
    Args = MaxPoolArgs

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"pool": (numel(self.window(ins).k) - 1) * numel(out)}


@register
class AvgPool(_Pool):
    name = "avgpool"
    summary = "mean over each window (k, stride = k by default, pad, ceil_mode, global)"
    Args = PoolArgs

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"pool": numel(self.window(ins).k) * numel(out)}  # k-1 adds + 1 divide
