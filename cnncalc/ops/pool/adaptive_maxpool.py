"""``adaptive_maxpool``."""

from __future__ import annotations

from ..base import Layer, Sample, numel, register
from .adaptive import AdaptiveAxes, AdaptivePool


@register
class AdaptiveMaxPool(AdaptivePool):
    max_indices = True
    saved_doc = ("its input and the argmax of every output as int64 (8 bytes each), when its "
                 "input requires grad")
    name = "adaptive_maxpool"
    notes = (
        "Same windows as `adaptive_avgpool`."
    )
    samples = (Sample({'size': [3, 2]}, ((3, 7, 7),), "f"),)
    summary = "max over adaptive windows giving a fixed output size (torch's AdaptiveMaxPool)"
    formulas = {
        "shape": "C, size per axis; output i reads [floor(i*n/size), ceil((i+1)*n/size))",
        "params": "0",
        "macs": "0",
        "flops": "pool: C * (prod over axes of (sum of window lengths) - numel(out)/C) "
                 "(len-1 comparisons per window)",
        "rf": "size += (largest window - 1)*jump; jump *= n/size; "
              "start += (first window - 1)/2*jump",
    }

    def flops(self, layer: Layer[AdaptiveAxes]) -> dict[str, int]:
        return {"pool": layer.x[0] * self.window_elements(layer) - numel(layer.out)}
