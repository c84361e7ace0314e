"""``zeropad``: explicit zero padding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from ..base import (
    Layer,
    OpArgs,
    RFStep,
    Sample,
    Shape,
    TorchKit,
    register,
    resolve_padding,
    spatial,
)
from ..types import NonNegInt, PadPair
from .moves import Moves

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: (before, after) padding per spatial axis
Pads = tuple[tuple[int, int], ...]


#: every padding form but the same forms / valid
ZeroPadding = (
    NonNegInt
    | Annotated[list[NonNegInt], Field(min_length=1, max_length=3)]
    | Annotated[list[PadPair], Field(min_length=1, max_length=3)]
)


class ZeroPadArgs(OpArgs):
    pad: ZeroPadding


@register
class ZeroPad(Moves[Pads]):
    name = "zeropad"
    notes = (
        "Any padding form of `conv` except `valid` and the `same` forms."
    )
    samples = (Sample({'pad': 1}, ((3, 8, 8),), ""),)
    summary = "pad the spatial axes with zeros: int, per-axis list or [before, after] pairs"
    Args = ZeroPadArgs
    args: ZeroPadArgs
    formulas = {
        "shape": "C, before + n + after per axis",
        "params": "0",
        "macs": "0",
        "flops": "0 (data movement)",
        "rf": "size, jump unchanged; start -= before*jump",
    }

    def geometry(self, ins: list[Shape]) -> Pads:
        n = spatial(ins[0], self.name)
        return resolve_padding(self.args.pad, n, (1,) * len(n), (1,) * len(n))

    def shape(self, ins: list[Shape], geo: Pads) -> Shape:
        n = ins[0][1:]
        return (ins[0][0], *(m + b + a for m, (b, a) in zip(n, geo)))

    def rf(self, layer: Layer[Pads]) -> RFStep:
        pads = layer.geo
        return RFStep.window((1,) * len(pads), (1,) * len(pads), [b for b, _ in pads])

    def torch(self, layer: Layer[Pads], kit: TorchKit) -> nn.Module:
        """``nn.ZeroPadNd`` by rank."""
        pads = layer.geo
        return kit.layer_class("ZeroPad", len(pads))(kit.torch_pad(pads))
