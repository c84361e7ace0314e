"""``maxpool``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Layer, Sample, TorchKit, Window, numel, register
from ..types import IntPerAxis
from .window_pool import PoolArgs, WindowPool

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class MaxPoolArgs(PoolArgs):
    dilation: IntPerAxis = 1


@register
class MaxPool(WindowPool):
    max_indices = True
    saved_doc = ("its input and the argmax of every output as int64 (8 bytes each), when its "
                 "input requires grad")
    name = "maxpool"
    notes = (
        "`stride` defaults to `k`. As in torch, `pad` may be at most `k // 2` (the kernel size,\n"
        "not the dilated span); with `ceil_mode` a last, partial window is kept unless it would\n"
        "start inside the trailing padding. `global: true` pools the whole input to one value\n"
        "per channel."
    )
    samples = (Sample({'k': 2}, ((3, 8, 8),), "f"),)
    summary = "max over each window (k, stride = k by default, pad, dilation, ceil_mode, global)"
    Args = MaxPoolArgs
    formulas = {
        "shape": "C, floor((n + 2p - d*(k-1) - 1)/s) + 1 per axis (ceil with ceil_mode, "
                 "minus a last window starting in the trailing pad); pad <= k//2",
        "params": "0",
        "macs": "0",
        "flops": "pool: (prod(k) - 1) * numel(out) comparisons (global: true: k is the whole "
                 "input)",
        "rf": "size += d*(k-1)*jump; jump *= s; start += (d*(k-1)/2 - p)*jump",
    }

    def flops(self, layer: Layer[Window]) -> dict[str, int]:
        return {"pool": (numel(layer.geo.k) - 1) * numel(layer.out)}

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        return self._torch_pool(layer, kit, "Max", dilation=layer.geo.dilation)
