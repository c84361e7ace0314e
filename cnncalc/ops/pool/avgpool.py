"""``avgpool``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import Layer, Sample, Shape, TorchKit, Window, numel, register
from .window_pool import PoolArgs, WindowPool

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class AvgPool(WindowPool):
    name = "avgpool"
    notes = (
        "Like `maxpool` without dilation. torch's 3-D average pool (only that one) also refuses\n"
        "an input smaller than the kernel along any axis, even when padding or `ceil_mode` would\n"
        "make the output valid; cnncalc reports the same error."
    )
    samples = (Sample({'k': 2}, ((3, 8, 8),), "f"),)
    summary = "mean over each window (k, stride = k by default, pad, ceil_mode, global)"
    Args = PoolArgs
    formulas = {
        "shape": "C, floor((n + 2p - k)/s) + 1 per axis (ceil with ceil_mode, minus a last "
                 "window starting in the trailing pad); pad <= k//2",
        "params": "0",
        "macs": "0",
        "flops": "pool: prod(k) * numel(out) (prod(k)-1 adds + 1 divide per output; global: "
                 "true: k is the whole input)",
        "rf": "size += (k-1)*jump; jump *= s; start += ((k-1)/2 - p)*jump",
    }

    def geometry(self, ins: list[Shape]) -> Window:
        w = super().geometry(ins)
        if len(w.n) == 3 and any(n < k for n, k in zip(w.n, w.k)):
            # torch's avg_pool3d (only the 3-D one) checks the unpadded input against k
            raise ShapeError(
                f"the input {list(w.n)} is smaller than the 3-D kernel {list(w.k)}; torch's "
                "AvgPool3d needs every spatial axis >= k, even with padding or ceil_mode")
        return w

    def flops(self, layer: Layer[Window]) -> dict[str, int]:
        return {"pool": numel(layer.geo.k) * numel(layer.out)}  # k-1 adds + 1 divide

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        return self._torch_pool(layer, kit, "Avg")
