"""The values the capture's abstract interpreter tracks for each graph node: a tensor
(by the entry computing it), a parameter, a shape, and the symbolic batch size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]


class Batch:
    """The batch size: a symbol (a captured model works at every batch size)."""

    def __repr__(self) -> str:
        return "B"


BATCH = Batch()


@dataclass(frozen=True)
class Tensor_:
    """A tensor value: the entry that computes it; ``layout`` "cf" (channels first, the
    spec's) or "cl" (permuted channels-last); ``view`` a pending reshape."""

    entry: str
    layout: str = "cf"
    #: ("split", groups) after view(B, g, C//g, ...); ("split_t", groups) once transposed
    view: tuple[str, int] | None = None


@dataclass(frozen=True)
class Param:
    """A parameter or buffer read with get_attr: its path and shape."""

    path: str
    shape: Shape


@dataclass(frozen=True)
class ShapeOf:
    """``x.shape`` / ``x.size()`` (batch included) of a tensor, remembering the tensor (so
    ``interpolate(size=ref.shape[-2:])`` resizes to ``ref``)."""

    entry: str
    dims: tuple[Any, ...]
    start: int = 0
