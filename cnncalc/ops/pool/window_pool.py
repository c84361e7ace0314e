"""The base of the windowed pools ``maxpool`` and ``avgpool`` (``global: true`` too)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator

from ...errors import ShapeError
from ...working import Step
from ..base import (
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Saved,
    Shape,
    TorchKit,
    Window,
    numel,
    per_axis,
    saved_input,
    spatial,
    truncation,
    window_size,
)
from ..types import IntPerAxis, NonNegPerAxis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class PoolArgs(OpArgs):
    k: IntPerAxis | None = None
    stride: IntPerAxis | None = None
    pad: NonNegPerAxis = 0
    ceil_mode: bool = False
    # 'global' is a Python keyword, hence the alias
    global_: bool = Field(False, alias="global")

    @model_validator(mode="after")
    def _k_or_global(self) -> PoolArgs:
        if self.k is None and not self.global_:
            raise ValueError("give k (the window), or global: true")
        return self


class WindowPool(Op[Window]):
    saved_doc = "its input, when that requires grad (torch's pool backward reads it)"

    def saved(self, layer: Layer[Window], grads: Sequence[bool]) -> list[Saved]:
        if not grads[0]:
            return []
        found = [saved_input(layer)]
        if self.max_indices:
            found.append(Saved("indices", numel(layer.out), "index"))
        return found

    #: a max pool also keeps the argmax of every output, as int64
    max_indices: ClassVar[bool] = False
    family = "pool"
    args: PoolArgs

    def geometry(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        r = len(n)
        a = self.args
        if a.global_:
            return Window(n, n, (1,) * r, n, ((0, 0),) * r)
        assert a.k is not None  # PoolArgs._k_or_global: k is given unless global
        k = per_axis(a.k, r, "k")
        s = per_axis(a.stride, r, "stride") if a.stride is not None else k
        d = per_axis(getattr(a, "dilation", 1), r, "dilation")
        p = per_axis(a.pad, r, "pad")
        w = Window(n, k, d, s, tuple((x, x) for x in p), a.ceil_mode)
        for pp, kk in zip(p, k):
            if pp > kk // 2:  # torch's rule: the kernel size, not the dilated span
                raise ShapeError(f"pad {pp} is more than half the pooling window {kk} "
                                 f"(pad must be <= k // 2 = {kk // 2})", arg="pad")
        return w

    def window(self, layer: Layer[Window]) -> Window:
        return layer.geo

    def shape(self, ins: list[Shape], geo: Window) -> Shape:
        return (ins[0][0], *geo.out(self.name))

    def params(self, layer: Layer[Window]) -> Params:
        return Params()

    def macs(self, layer: Layer[Window]) -> int:
        return 0

    def rf(self, layer: Layer[Window]) -> RFStep:
        step = layer.geo.rf()
        return RFStep(step.span, step.factor, step.offset, whole=self.args.global_)

    def warnings(self, layer: Layer[Window]) -> list[str]:
        return layer.geo.truncation(self.name)

    def explain(self, layer: Layer[Window]) -> list[Step]:
        """Worked arithmetic: output size per axis (no weights) and any rows never read."""

        w = layer.geo
        steps = window_size(w, layer.out[1:])
        if self.args.global_:
            steps.append(Step("global", "", "one window covers the whole map", "", "note"))
        return steps + truncation(w)

    def _torch_pool(self, layer: Layer[Window], kit: TorchKit, kind: str,
                    **extra: object) -> nn.Module:
        """``nn.{kind}PoolNd`` by rank; ``nn.Adaptive{kind}PoolNd(1)`` when global."""
        w = layer.geo
        if self.args.global_:
            return kit.layer_class(f"Adaptive{kind}Pool", len(w.n))(1)
        cls = kit.layer_class(f"{kind}Pool", len(w.n))
        return cls(w.k, w.stride, tuple(b for b, _ in w.pad), ceil_mode=self.args.ceil_mode,
                   **extra)
