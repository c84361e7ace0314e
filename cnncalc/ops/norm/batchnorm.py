"""``batchnorm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step, dims
from ..base import (
    Layer,
    OpArgs,
    Params,
    Pointwise,
    Sample,
    Saved,
    TorchKit,
    needs_backward,
    numel,
    register,
    saved_input,
)
from ..batch_stats import batch_stats_refusal

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class BatchNormArgs(OpArgs):
    eps: float = 1e-5
    momentum: float = 0.1
    affine: bool = True


@register
class BatchNorm(Pointwise):
    name = "batchnorm"
    saved_doc = ("its input and the batch statistics `save_mean`, `save_invstd` (2C values, "
                 "whatever the batch); nothing with `affine: false` on an input that needs no "
                 "gradient")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not needs_backward(layer, grads):
            return []
        c = layer.x[0]
        return [saved_input(layer), Saved("save_mean", c, per_sample=False),
                Saved("save_invstd", c, per_sample=False)]
    notes = (
        "Counted for inference: the running statistics fold into one scale and one shift per\n"
        "element. Buffers are torch's: running mean and variance (C each) plus\n"
        "`num_batches_tracked`, so 2C + 1."
    )
    samples = (Sample({}, ((3, 8, 8),), "pbf"),)
    fresh_output = True
    family = "norm"
    summary = "batch normalisation over channels; running statistics are buffers"
    Args = BatchNormArgs
    formulas = {
        "shape": "unchanged",
        "params": "2C if affine (weight, bias); buffers 2C + 1 (running mean, var, "
                  "num_batches_tracked)",
        "macs": "0",
        "flops": "norm: 2 * numel (inference: statistics folded into one scale and one shift)",
        "rf": "unchanged",
    }
    args: BatchNormArgs

    def params(self, layer: Layer[None]) -> Params:
        c = layer.x[0]
        return Params(trainable=2 * c if self.args.affine else 0, buffers=2 * c + 1)

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        # inference: statistics folded into one scale and one shift per element
        return {"norm": 2 * numel(layer.out)}

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """Why torch cannot run this layer at ``batch`` in this mode, or None."""
        return batch_stats_refusal(layer.x, batch, training)

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: a weight and a bias per channel; running mean and variance
        per channel plus one batch counter as buffers."""

        c, p = layer.x[0], self.params(layer)
        steps = [Step("output shape", "", dims(layer.out), "unchanged", "shape")]
        if self.args.affine:
            steps.append(Step("params", f"2 x {c}", p.total, "2 x C (weight and bias)", "params"))
        return [*steps, Step("buffers", f"2 x {c} + 1", p.buffers,
                             "2 x C + 1 (running mean, running var, num_batches_tracked)",
                             "params")]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.BatchNormNd`` by rank (1d for vectors and sequences)."""
        a = self.args
        cls = kit.layer_class("BatchNorm", max(len(layer.x) - 1, 1))
        return cls(layer.x[0], a.eps, a.momentum, a.affine)
