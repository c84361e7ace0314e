"""The base of the ops that move data without weights."""

from __future__ import annotations

from collections.abc import Sequence

from ..base import Free, G, Layer, Saved


class Moves(Free[G]):
    """No parameters, no MACs, no FLOPs unless the op counts some (``upsample``), and
    nothing saved for the backward."""

    family = "reshape"
    saved_doc = "nothing (its backward needs only the shapes)"

    def saved(self, layer: Layer[G], grads: Sequence[bool]) -> list[Saved]:
        return []
