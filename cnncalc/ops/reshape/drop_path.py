"""``drop_path``: stochastic depth (Huang et al., 2016), torchvision's ``StochasticDepth``.

The identity at inference, so it is counted as nothing; the torch build is a real
stochastic-depth module for training.

>>> from cnncalc.ops import get_op
>>> op = get_op("drop_path").from_args({"p": 0.1})
>>> layer = op.resolve([(96, 56, 56)])
>>> layer.out, op.flops(layer), op.params(layer).total
((96, 56, 56), {}, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ...working import Step, dims
from ..base import Free, Layer, OpArgs, Pointwise, Sample, Saved, TorchKit, register

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


#: a drop probability below 1 (p = 1 would drop the path always: 1/(1-p) has no value)
DropProb = Annotated[float, Field(ge=0, lt=1)]


class DropPathArgs(OpArgs):
    p: DropProb
    mode: Literal["row", "batch"] = "row"


@register
class DropPath(Free[None], Pointwise):
    name = "drop_path"
    saved_doc = ("its keep mask in the activation dtype: one value per sample (`mode: row`) or "
                 "one in all (`mode: batch`), when its input requires grad; nothing when `p` is "
                 "0 (the module returns its input)")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not grads[0] or self.args.p == 0:
            return []
        return [Saved("keep mask", 1, per_sample=self.args.mode == "row")]
    family = "reshape"
    summary = ("stochastic depth (torchvision's StochasticDepth): the identity at inference, "
               "so counted as nothing; in training it drops a residual branch per sample "
               "(row) or per batch")
    notes = (
        "Put it on a residual branch, before the `add` (ConvNeXt, EfficientNet, RegNet, Swin).\n"
        "At inference it is the identity: no params, no MACs, no FLOPs. In training (`cnncalc\n"
        "build --mode training`, `profile --mode training`) the module draws, with `mode: row`,\n"
        "one Bernoulli(1 - p) keep per sample of the batch, and with `mode: batch` one for the\n"
        "whole batch, and multiplies the input by keep / (1 - p), so the expected output is the\n"
        "input: exactly `torchvision.ops.stochastic_depth`. `p` is the drop probability, in\n"
        "[0, 1) (p = 1 would always drop the path: leave the branch out instead)."
    )
    samples = (Sample({"p": 0.2}, ((4, 6, 6),), ""),
               Sample({"p": 0.1, "mode": "batch"}, ((16,),), ""))
    Args = DropPathArgs
    args: DropPathArgs
    formulas = {"shape": "unchanged", "params": "0", "macs": "0",
                "flops": "0 (identity at inference)", "rf": "unchanged"}

    def explain(self, layer: Layer[None]) -> list[Step]:
        """What it does at inference (nothing) and in training (the keep rate and scale)."""
        p, mode = self.args.p, self.args.mode
        who = "each sample" if mode == "row" else "the whole batch"
        return [
            Step("output shape", "", dims(layer.out), "unchanged", "shape"),
            Step("inference", "", "the identity: no params, no arithmetic", "", "note"),
            Step("training", f"keep {who} with 1 - {p} = {1 - p:g}, scale by 1 / {1 - p:g}",
                 f"x {1 / (1 - p):.6g}", "keep ~ Bernoulli(1 - p), y = x * keep / (1 - p)",
                 "note"),
        ]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """:class:`cnncalc.pytorch.modules.DropPath`: stochastic depth in training, the
        identity in eval mode."""
        return kit.DropPath(self.args.p, self.args.mode, len(layer.x))
