"""``layernorm``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..base import Layer, OpArgs, Params, Sample, TorchKit, numel, register
from ..types import PosFloat
from .sample_norm import SampleNorm, stat_flops

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LayerNormArgs(OpArgs):
    over: Literal["all", "channels"] = "all"
    eps: PosFloat = 1e-5
    affine: bool = True  # torch's elementwise_affine
    bias: bool = True


@register
class LayerNorm(SampleNorm):
    def groups(self, layer: Layer[None]) -> int:
        """One per sample (``over: all``), one per position (``over: channels``)."""
        return 1 if self.args.over == "all" else numel(layer.x[1:])

    name = "layernorm"
    notes = (
        "`over: all` (the default) is `nn.LayerNorm([C, *spatial])`, the literal layer norm of\n"
        "Ba et al. (2016) over every value of a sample; its parameters grow with the input size.\n"
        "`over: channels` is the channels-last form used by ConvNeXt and transformers,\n"
        "`nn.LayerNorm(C)` at every position, with 2C parameters. Norms that compute statistics\n"
        "at inference count 5 FLOPs per element (mean add, subtract, square, variance add,\n"
        "scale by 1/std) plus one per element for the weight and one for the bias."
    )
    samples = (Sample({}, ((3, 8, 8),), "pf"),)
    fresh_output = True
    summary = ("layer normalisation of each sample: over: all = nn.LayerNorm([C, *spatial]); "
               "over: channels = nn.LayerNorm(C) applied channels-last at every position")
    Args = LayerNormArgs
    args: LayerNormArgs
    formulas = {
        "shape": "unchanged",
        "params": "N (weight, if affine) + N (bias, if affine and bias); N = numel(x) for "
                  "over: all, C for over: channels",
        "macs": "0",
        "flops": "norm: (5 + affine + (affine and bias)) * numel",
        "rf": "unchanged",
    }

    def params(self, layer: Layer[None]) -> Params:
        n = numel(layer.x) if self.args.over == "all" else layer.x[0]
        a = self.args
        return Params(n * int(a.affine) + n * int(a.affine and a.bias))

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return stat_flops(layer.out, self.args.affine, self.args.affine and self.args.bias)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.LayerNorm``; over channels, one applied channels-last at every position."""
        from torch import nn

        a = self.args
        if a.over == "all":
            return nn.LayerNorm(list(layer.x), a.eps, elementwise_affine=a.affine, bias=a.bias)
        return kit.ChannelLayerNorm(layer.x[0], a.eps, elementwise_affine=a.affine, bias=a.bias)
