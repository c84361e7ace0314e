"""The base of the ops that move data without weights."""

from __future__ import annotations

from collections.abc import Sequence

from ..base import G, Layer, Op, Params, Saved


class Moves(Op[G]):
    """No parameters, no MACs, no FLOPs unless the op counts some (``upsample``)."""

    family = "reshape"
    saved_doc = "nothing (its backward needs only the shapes)"

    def saved(self, layer: Layer[G], grads: Sequence[bool]) -> list[Saved]:
        return []

    def params(self, layer: Layer[G]) -> Params:
        return Params()

    def macs(self, layer: Layer[G]) -> int:
        return 0

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {}
