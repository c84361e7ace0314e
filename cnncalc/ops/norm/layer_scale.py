"""``layer_scale``: a learned per-channel multiplier (CaiT's LayerScale, ConvNeXt's gamma).

>>> from cnncalc.ops import get_op
>>> op = get_op("layer_scale").from_args({})
>>> layer = op.resolve([(96, 56, 56)])
>>> op.params(layer).trainable, op.macs(layer), op.flops(layer)
(96, 0, {'other': 301056})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...working import Step, bracketed, dims
from ..base import Layer, OpArgs, Params, Pointwise, Sample, TorchKit, numel, register

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LayerScaleArgs(OpArgs):
    #: the value every multiplier starts at (ConvNeXt: 1e-6)
    init: float = 1e-6


@register
class LayerScale(Pointwise):
    name = "layer_scale"
    saved_doc = "its input (for gamma's gradient)"
    family = "norm"
    fresh_output = True
    summary = ("a learned multiplier per channel (ConvNeXt's layer scale gamma): a [C, 1, ..., "
               "1] parameter on a map, [F] on a vector, starting at init")
    notes = (
        "ConvNeXt's `self.layer_scale * self.block(x)`, CaiT's LayerScale: one trainable value\n"
        "per channel (per feature of a vector), every one starting at `init`, multiplied into\n"
        "every position. No normalisation: it sits here as the affine half of a norm, and is\n"
        "counted as `other` FLOPs (one multiply per element; no MACs, since it is an\n"
        "element-wise product, not a weight sum). The torch module holds it as the parameter\n"
        "`gamma`, shaped `[C, 1, 1]` on a `[C, H, W]` map (torchvision's shape) and `[F]` on a\n"
        "vector."
    )
    samples = (Sample({}, ((8, 5, 5),), "pf"),
               Sample({"init": 0.5}, ((6,),), "pf"),
               Sample({"init": 1e-5}, ((3, 4, 2, 2),), "pf"))
    Args = LayerScaleArgs
    args: LayerScaleArgs
    formulas = {"shape": "unchanged", "params": "C (one per channel; F on a vector)",
                "macs": "0",
                "flops": "other: numel(out) (one multiply per element: a product with a "
                         "parameter, not a weight sum, so no MACs)",
                "rf": "unchanged"}

    def params(self, layer: Layer[None]) -> Params:
        return Params(trainable=layer.x[0])

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return {"other": numel(layer.out)}

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: one parameter per channel, one multiply per element."""
        x = layer.x
        shape = [x[0], *([1] * (len(x) - 1))]
        return [
            Step("output shape", "", dims(layer.out), "unchanged", "shape"),
            Step("params", "", x[0], f"C: a gamma of shape {bracketed(shape)}, "
                 f"every value starting at {self.args.init:g}", "params"),
            Step("FLOPs", dims(x, " x "), numel(layer.out),
                 "numel(out): one multiply per element (other)", "flops"),
        ]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """:class:`cnncalc.pytorch.modules.LayerScale`."""
        return kit.LayerScale(layer.x[0], len(layer.x) - 1, self.args.init)
