"""``identity``: the input passed through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import Free, Layer, Pointwise, Sample, Saved, TorchKit, register

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


@register
class Identity(Free[None], Pointwise):
    name = "identity"
    view = True
    saved_doc = "nothing: its output is its input"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return []
    samples = (Sample({}, ((3, 8, 8),), ""),)
    family = "reshape"
    summary = "pass the input through unchanged"
    formulas = {"shape": "unchanged", "params": "0", "macs": "0", "flops": "0 (the input itself)",
                "rf": "unchanged"}

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        return nn.Identity()
