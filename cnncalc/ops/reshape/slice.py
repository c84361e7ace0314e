"""``slice``: one range of one axis (the channels by default), as ``start``/``stop`` or
as torch.chunk's ``part`` of ``parts`` (ShuffleNetV2's channel split).

>>> from cnncalc.ops import get_op
>>> op = get_op("slice").from_args({"part": 1, "parts": 2})
>>> op.resolve([(116, 28, 28)]).out
(58, 28, 28)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import model_validator

from ...errors import ShapeError
from ...working import Step, axis_label, bracketed, dims
from ..base import Layer, OpArgs, RFStep, Sample, Shape, TorchKit, register
from ..types import NonNegInt, PosInt
from .moves import Moves

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: (start, stop) of the range kept along the sliced axis
Range = tuple[int, int]


class SliceArgs(OpArgs):
    start: NonNegInt | None = None
    stop: PosInt | None = None
    part: NonNegInt | None = None
    parts: PosInt | None = None
    axis: NonNegInt = 0

    @model_validator(mode="after")
    def _one_form(self) -> SliceArgs:
        chunked = self.part is not None or self.parts is not None
        if not chunked and self.start is None and self.stop is None:
            raise ValueError("give start and/or stop (a range), or part and parts (torch.chunk's "
                             "pieces): a slice of the whole axis is the identity")
        if chunked and (self.start is not None or self.stop is not None):
            raise ValueError("give start/stop (a range) or part/parts (torch.chunk's pieces), "
                             "not both")
        if (self.part is None) != (self.parts is None):
            raise ValueError("part and parts go together: part: 1, parts: 2 is the second of "
                             "two chunks")
        if self.part is not None and self.parts is not None and self.part >= self.parts:
            raise ValueError(f"part {self.part} is outside parts: {self.parts} (parts are "
                             f"numbered 0 to {self.parts - 1})")
        if self.start is not None and self.stop is not None and self.stop <= self.start:
            raise ValueError(f"the slice is empty: stop {self.stop} <= start {self.start} "
                             "(stop is exclusive, as in Python)")
        return self


def chunk_size(n: int, parts: int) -> int:
    """The length of torch.chunk's pieces of ``n`` items (the last may be shorter):
    ``ceil(n / parts)``."""
    return -(-n // parts)


def chunk_range(n: int, part: int, parts: int) -> Range | None:
    """Where torch.chunk(x, parts) puts piece ``part`` of ``n`` items: pieces of
    ``ceil(n / parts)``, the last smaller; None when there are fewer pieces than ``part``
    needs (torch.chunk returns fewer than ``parts`` when the rest would be empty).

    >>> chunk_range(116, 1, 2), chunk_range(10, 2, 3), chunk_range(5, 3, 4)
    ((58, 116), (8, 10), None)
    """
    size = chunk_size(n, parts)
    start = part * size
    return (start, min(start + size, n)) if start < n else None


@register
class Slice(Moves[Range]):
    name = "slice"
    view = True
    saved_doc = "nothing: its output is a view of its input"

    summary = ("keep one range of one axis (channels by default): start/stop, or part of "
               "parts as torch.chunk splits it; a view, no arithmetic")
    notes = (
        "Two forms. `start`/`stop` keep positions `start` to `stop - 1` of the axis (`start`\n"
        "defaults to 0, `stop` to the axis' end; stop is exclusive, as in Python). `part`/`parts`\n"
        "keep the piece `part` (from 0) of `torch.chunk(x, parts, dim)`: pieces of\n"
        "`ceil(n / parts)` positions, the last smaller, so ShuffleNetV2's `x.chunk(2, dim=1)` is\n"
        "`{op: slice, part: 0, parts: 2}` and `{op: slice, part: 1, parts: 2}`. torch.chunk\n"
        "returns fewer pieces than `parts` when the rest would be empty (5 positions in 4 parts\n"
        "are 2 + 2 + 1): a part it does not return is an error. `axis: 0` is the channels (the\n"
        "features of a vector), `axis: 1` the first spatial axis, and so on. Built as\n"
        "`Tensor.narrow` (a view: nothing is copied or computed)."
    )
    samples = (Sample({"start": 1, "stop": 3}, ((8, 6, 6),), ""),
               Sample({"part": 1, "parts": 3}, ((10, 4, 4),), ""),
               Sample({"start": 2, "axis": 2}, ((3, 6, 7),), ""),
               Sample({"part": 0, "parts": 2}, ((12,),), ""))
    Args = SliceArgs
    args: SliceArgs
    formulas = {
        "shape": "the input's, with the sliced axis stop - start long (part of parts: "
                 "ceil(n / parts), the last piece the rest)",
        "params": "0",
        "macs": "0",
        "flops": "0 (a view)",
        "rf": "unchanged; a slice of a spatial axis moves start by start*jump",
    }

    def geometry(self, ins: list[Shape]) -> Range:
        """The range kept, checked against the input's axis."""
        x, a = ins[0], self.args
        if a.axis >= len(x):
            raise ShapeError(f"axis {a.axis} is outside the input {bracketed(x, ',')}, which has "
                             f"axes 0 to {len(x) - 1} (0 = channels)")
        n, label = x[a.axis], axis_label(a.axis, len(x))
        if a.part is not None and a.parts is not None:
            found = chunk_range(n, a.part, a.parts)
            if found is None:
                size = chunk_size(n, a.parts)
                pieces = -(-n // size)
                raise ShapeError(
                    f"part {a.part} of {a.parts} does not exist along {label}: torch.chunk "
                    f"splits its {n} positions into {pieces} piece{'s' if pieces > 1 else ''} "
                    f"of {size} (ceil({n} / {a.parts})), numbered 0 to {pieces - 1}")
            return found
        start, stop = a.start or 0, n if a.stop is None else a.stop
        if start >= n:
            raise ShapeError(f"start {start} is outside {label}, which has {n} positions "
                             f"(0 to {n - 1})")
        if stop > n:
            raise ShapeError(f"stop {stop} is past the end of {label}, which has {n} positions "
                             f"(stop may be at most {n})")
        return start, stop

    def shape(self, ins: list[Shape], geo: Range) -> Shape:
        x, axis = ins[0], self.args.axis
        return (*x[:axis], geo[1] - geo[0], *x[axis + 1:])

    def rf(self, layer: Layer[Range]) -> RFStep | None:
        rank = len(layer.x) - 1
        if rank < 1:
            return None
        offset = [0] * rank
        if self.args.axis >= 1:
            offset[self.args.axis - 1] = layer.geo[0]
        return RFStep((0,) * rank, (1,) * rank, tuple(offset))

    def explain(self, layer: Layer[Range]) -> list[Step]:
        """Worked arithmetic: which positions of which axis are kept, and for a torch.chunk
        piece, the piece size."""
        a, (start, stop) = self.args, layer.geo
        x = layer.x
        n, label = x[a.axis], axis_label(a.axis, len(x))
        steps = []
        if a.part is not None and a.parts is not None:
            size = chunk_size(n, a.parts)
            steps.append(Step("piece size", f"ceil({n} / {a.parts})", size,
                              "ceil(n / parts) (torch.chunk; the last piece is the rest)",
                              "shape"))
            steps.append(Step("range", f"part {a.part}: {a.part} x {size} to "
                              f"min({a.part + 1} x {size}, {n}) - 1", f"{start} to {stop - 1}",
                              "part*size to min((part+1)*size, n) - 1", "shape"))
        else:
            steps.append(Step("range", f"{label}: {start} to {stop} - 1", f"{start} to {stop - 1}",
                              "start to stop - 1", "shape"))
        steps.append(Step("output shape", f"{stop} - {start} = {stop - start} along {label}",
                          dims(layer.out), "the input's shape with the axis stop - start long",
                          "shape"))
        steps.append(Step("cost", "", "a view (Tensor.narrow): no params, no arithmetic", "",
                          "note"))
        return steps

    def torch(self, layer: Layer[Range], kit: TorchKit) -> nn.Module:
        """``Tensor.narrow`` on the batch-first tensor (a view)."""
        start, stop = layer.geo
        return kit.Narrow(self.args.axis + 1, start, stop - start)
