"""``groupnorm``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ...working import bracketed
from ..base import Layer, OpArgs, Params, Sample, Shape, TorchKit, numel, register
from ..types import PosFloat, PosInt
from .sample_norm import SampleNorm, stat_flops

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class GroupNormArgs(OpArgs):
    groups: PosInt
    eps: PosFloat = 1e-5
    affine: bool = True


@register
class GroupNorm(SampleNorm):
    def groups(self, layer: Layer[None]) -> int:
        return int(self.args.groups)

    name = "groupnorm"
    notes = (
        "`groups` must divide the channels; `groups: 1` normalises all channels together and\n"
        "`groups: C` is an instance norm with affine parameters."
    )
    samples = (Sample({'groups': 3}, ((6, 4, 4),), "pf"),)
    fresh_output = True
    summary = "group normalisation: channels split into `groups`, each normalised per sample"
    Args = GroupNormArgs
    args: GroupNormArgs
    formulas = {
        "shape": "unchanged; groups must divide C",
        "params": "2C if affine",
        "macs": "0",
        "flops": "norm: (5 + 2*affine) * numel",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        c = ins[0][0]
        if c % self.args.groups:
            raise ShapeError(f"groups={self.args.groups} does not divide the {c} input channels")
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        return Params(2 * layer.x[0] if self.args.affine else 0)

    def _group_values(self, x: Shape) -> int:
        """Values each group's statistics are taken over, per sample."""
        return x[0] // self.args.groups * numel(x[1:])

    def warnings(self, layer: Layer[None]) -> list[str]:
        if self._group_values(layer.x) > 1:
            return []
        return [f"groupnorm with groups={self.args.groups} on {bracketed(layer.x)}: each group "
                "holds one value per sample, its own mean, so the output is 0; torch refuses it at "
                "batch 1"]

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """torch checks batch x (C / groups) x spatial > 1 in every mode."""
        values = batch * self._group_values(layer.x)
        if values > 1:
            return None
        return (f"groupnorm with groups={self.args.groups} takes each group's statistics over "
                f"(C / groups) x spatial values: at batch {batch} the input {bracketed(layer.x)} "
                f"gives {values}, and torch needs more than 1 (in any mode)")

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.GroupNorm`` (a subclass that avoids a torch crash on channels-last input)."""
        return kit.GroupNorm(self.args.groups, layer.x[0], self.args.eps, self.args.affine)

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return stat_flops(layer.out, self.args.affine, self.args.affine)
