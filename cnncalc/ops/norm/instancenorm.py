"""``instancenorm``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...working import bracketed
from ..base import Layer, OpArgs, Params, Sample, Shape, TorchKit, numel, register, spatial
from ..types import PosFloat
from .sample_norm import SampleNorm, stat_flops

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class InstanceNormArgs(OpArgs):
    eps: PosFloat = 1e-5
    momentum: float = 0.1
    affine: bool = False
    track_running_stats: bool = False


@register
class InstanceNorm(SampleNorm):
    def groups(self, layer: Layer[None]) -> int:
        return layer.x[0]

    name = "instancenorm"
    notes = (
        "As torch: no affine parameters and no running statistics unless asked. With\n"
        "`track_running_stats: true` inference uses the running statistics, counted like\n"
        "`batchnorm`."
    )
    samples = (Sample({}, ((3, 8, 8),), "f"),)
    fresh_output = True
    summary = ("instance normalisation: each channel of each sample over its spatial axes; "
               "affine and running statistics off by default, as in torch")
    Args = InstanceNormArgs
    args: InstanceNormArgs
    formulas = {
        "shape": "unchanged (needs spatial axes)",
        "params": "2C if affine; buffers 2C + 1 if track_running_stats",
        "macs": "0",
        "flops": "norm: 2 * numel with track_running_stats (folded, as batchnorm), "
                 "else (5 + 2*affine) * numel",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        spatial(ins[0], self.name)
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        c = layer.x[0]
        a = self.args
        return Params(2 * c if a.affine else 0, buffers=2 * c + 1 if a.track_running_stats else 0)

    def warnings(self, layer: Layer[None]) -> list[str]:
        if numel(layer.x[1:]) > 1:
            return []
        return [f"instancenorm over a single spatial element {bracketed(layer.x)}: each value "
                "is its own mean, so the output is 0; torch refuses it in training mode"
                + ("" if self.args.track_running_stats else
                   " and, without track_running_stats, in eval mode too")]

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """torch takes instance statistics (training, or eval without running statistics)
        over the spatial axes and refuses a single element."""
        uses_input_stats = training or not self.args.track_running_stats
        if not uses_input_stats or numel(layer.x[1:]) > 1:
            return None
        mode = "training mode" if training else "eval mode without track_running_stats"
        return (f"instancenorm in {mode} takes each channel's statistics over the spatial "
                f"axes, but the input {bracketed(layer.x)} has one spatial element, and torch "
                "needs more than 1 (\"Expected more than 1 spatial element\")")

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        if self.args.track_running_stats:
            return {"norm": 2 * numel(layer.out)}
        return stat_flops(layer.out, self.args.affine, self.args.affine)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.InstanceNormNd`` by rank."""
        a = self.args
        cls = kit.layer_class("InstanceNorm", len(layer.x) - 1)
        return cls(layer.x[0], a.eps, a.momentum, a.affine, a.track_running_stats)
