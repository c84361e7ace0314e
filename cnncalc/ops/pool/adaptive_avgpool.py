"""``adaptive_avgpool``."""

from __future__ import annotations

from ..base import Layer, Sample, register
from .adaptive import AdaptiveAxes, AdaptivePool


@register
class AdaptiveAvgPool(AdaptivePool):
    name = "adaptive_avgpool"
    notes = (
        "`size` is the output size (an int for every axis, or one per axis). Output `i` reads\n"
        "`[floor(i*n/size), ceil((i+1)*n/size))`: windows may differ in length and overlap,\n"
        "e.g. `n = 5`, `size = 3` gives windows of 2, 3 and 2. FLOPs use the real window lengths.\n"
        "The receptive-field jump is the fraction `n / size`; `size: 1` on every axis is a global\n"
        "pool."
    )
    samples = (Sample({'size': 3}, ((3, 7, 7),), "f"),)
    summary = "mean over adaptive windows giving a fixed output size (torch's AdaptiveAvgPool)"
    formulas = {
        "shape": "C, size per axis; output i reads [floor(i*n/size), ceil((i+1)*n/size))",
        "params": "0",
        "macs": "0",
        "flops": "pool: C * prod over axes of (sum of window lengths) "
                 "(len-1 adds + 1 divide per window)",
        "rf": "size += (largest window - 1)*jump; jump *= n/size; "
              "start += (first window - 1)/2*jump",
    }

    def flops(self, layer: Layer[AdaptiveAxes]) -> dict[str, int]:
        return {"pool": layer.x[0] * self.window_elements(layer)}
