"""Numpy's broadcasting on sample shapes, and its wording."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ShapeError
from ...working import Step, axis_label, bracketed, dims
from ..base import Layer, Shape


def shape_text(shape: Shape) -> str:
    return bracketed(shape, ",")


#: the rule a mismatch message ends with
BROADCAST_RULE = "shapes broadcast when each axis is equal or 1"


RANK_HINT = ("a squeeze-excitation gate keeps its axes: compute it with 1x1 convs on the "
             "globally pooled [C, 1, 1] map rather than flatten + linear")


def _axes(rank: int) -> str:
    return f"{rank} axis" if rank == 1 else f"{rank} axes"


def broadcast(name: str, ins: Sequence[Shape], hints: tuple[str, ...] = ()) -> Shape:
    """The numpy broadcast of the inputs' sample shapes: equal ranks, and along each axis
    every size equal or 1 (the batch axis is the same on all).  A mismatch names the axis
    and the two inputs whose sizes differ.

    >>> broadcast("mul", [(64, 7, 7), (64, 1, 1)])
    (64, 7, 7)
    """
    rank = len(ins[0])
    for i, x in enumerate(ins):
        if len(x) != rank:
            raise ShapeError(
                f"{name} inputs differ in rank: input 0 is {shape_text(ins[0])} ({_axes(rank)}) "
                f"but input {i} is {shape_text(x)} ({_axes(len(x))}); broadcasting adds no axis",
                hints=(*hints, RANK_HINT))
    out = []
    for axis in range(rank):
        first: tuple[int, int] | None = None  # (input, size) of the first size that is not 1
        for i, x in enumerate(ins):
            n = x[axis]
            if n == 1:
                continue
            if first is None:
                first = (i, n)
            elif n != first[1]:
                raise ShapeError(
                    f"{name} inputs do not broadcast: {axis_label(axis, rank)} is {first[1]} "
                    f"in input {first[0]} and {n} in input {i}; {BROADCAST_RULE}",
                    hints=hints)
        out.append(1 if first is None else first[1])
    return tuple(out)


def broadcasts(a: Shape, b: Shape) -> bool:
    """``a`` and ``b`` broadcast together (same rank, each axis equal or 1)."""
    return len(a) == len(b) and all(m == n or 1 in (m, n) for m, n in zip(a, b))


def broadcast_steps(layer: Layer[Any]) -> list[Step]:
    """A note per input that broadcasts: the axes of size 1 it is repeated along."""
    out, steps = layer.out, []
    for i, x in enumerate(layer.ins):
        spread = [axis_label(a, len(out)) for a, (n, m) in enumerate(zip(x, out))
                  if n == 1 and m != 1]
        if spread and len(x) == len(out):
            steps.append(Step("broadcast", "", f"input {i} ({dims(x)}) is repeated along "
                              f"{', '.join(spread)}", "an axis of size 1 is repeated to the "
                              "output's size (numpy's broadcasting)", "note"))
    return steps
