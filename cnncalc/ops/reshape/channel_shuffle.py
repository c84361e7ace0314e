"""``channel_shuffle`` (ShuffleNet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import Layer, OpArgs, RFStep, Sample, Shape, TorchKit, register, spatial
from ..types import PosInt
from .moves import Moves

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class ChannelShuffleArgs(OpArgs):
    groups: PosInt


@register
class ChannelShuffle(Moves[None]):
    name = "channel_shuffle"
    notes = (
        "Needs spatial axes, as torch's `nn.ChannelShuffle` does."
    )
    samples = (Sample({'groups': 2}, ((4, 3, 3),), ""),)
    summary = "ShuffleNet's channel shuffle: view C as (groups, C/groups), transpose, flatten"
    Args = ChannelShuffleArgs
    args: ChannelShuffleArgs
    formulas = {
        "shape": "unchanged; groups must divide C",
        "params": "0",
        "macs": "0",
        "flops": "0 (data movement)",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        spatial(ins[0], self.name)
        c = ins[0][0]
        if c % self.args.groups:
            raise ShapeError(f"groups={self.args.groups} does not divide the {c} input channels")
        return ins[0]

    def rf(self, layer: Layer[None]) -> RFStep:
        return RFStep.identity(len(layer.x) - 1)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.ChannelShuffle(self.args.groups)
