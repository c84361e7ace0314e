"""``dropout``: the identity at inference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import Layer, OpArgs, Sample, Saved, TorchKit, numel, register
from ..types import Prob
from .identity import Identity

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class DropoutArgs(OpArgs):
    p: Prob = 0.5


@register
class Dropout(Identity):
    name = "dropout"
    view = False
    saved_doc = ("its mask, output-sized, in the activation dtype (torch's CPU kernel keeps "
                 "a float mask; CUDA's fused kernel a bool one), when its input requires grad")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return [Saved("mask", numel(layer.out))] if grads[0] else []
    notes = (
        "Identity at inference; `p` is kept for the torch build."
    )
    samples = (Sample({}, ((10,),), ""),)
    family = "reshape"
    summary = "dropout: identity at inference, so no FLOPs are counted"
    formulas = {"shape": "unchanged", "params": "0", "macs": "0",
                "flops": "0 (identity at inference)", "rf": "unchanged"}
    Args = DropoutArgs
    args: DropoutArgs

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Dropout(self.args.p)
