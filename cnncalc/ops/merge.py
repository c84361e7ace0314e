"""Merges of several inputs: element-wise ``add`` / ``mul`` and channel ``concat``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ShapeError
from ..working import Step, axis_names, bracketed, dims
from .base import (
    Free,
    G,
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Saved,
    Shape,
    TorchKit,
    generic_steps,
    numel,
    pointwise_rf,
    register,
    saved_input,
    window_out,
)
from .norm import batch_stats_refusal

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: per input of an add: None, or (in_channels, stride per axis) of its 1x1 projection
Projections = list[tuple[int, tuple[int, ...]] | None]


def _fmt(shape: Shape) -> str:
    return bracketed(shape, ",")


class AddArgs(OpArgs):
    project: Literal["auto", "none"] = "none"


#: the rule a mismatch message ends with
BROADCAST_RULE = "shapes broadcast when each axis is equal or 1"
PROJECT_HINT = ("set `project: auto` (a 1x1 conv + batchnorm on the shortcut), or put a 1x1 "
                "conv with the right stride on it yourself")


RANK_HINT = ("a squeeze-excitation gate keeps its axes: compute it with 1x1 convs on the "
             "globally pooled [C, 1, 1] map rather than flatten + linear")


def _axes(rank: int) -> str:
    return f"{rank} axis" if rank == 1 else f"{rank} axes"


def axis_label(axis: int, rank: int) -> str:
    """``axis 0 (channels)``, ``axis 2 (width)``: an axis of a ``(C, *spatial)`` sample
    (``axis 0 (features)`` of a vector).

    >>> axis_label(0, 3), axis_label(2, 3), axis_label(0, 1)
    ('axis 0 (channels)', 'axis 2 (width)', 'axis 0 (features)')
    """
    if rank == 1:
        return "axis 0 (features)"
    return f"axis {axis} ({'channels' if axis == 0 else axis_names(rank - 1)[axis - 1]})"


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
                f"{name} inputs differ in rank: input 0 is {_fmt(ins[0])} ({_axes(rank)}) but "
                f"input {i} is {_fmt(x)} ({_axes(len(x))}); broadcasting adds no axis",
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


class _Elementwise(Op[G]):
    arity = (2, None)

    def shape(self, ins: list[Shape], geo: G) -> Shape:
        return broadcast(self.name, ins)

    def params(self, layer: Layer[G]) -> Params:
        return Params()

    def macs(self, layer: Layer[G]) -> int:
        return 0

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {"merge": (len(layer.ins) - 1) * numel(layer.out)}

    def rf(self, layer: Layer[G]) -> RFStep | None:
        return pointwise_rf(layer.out)

    def explain(self, layer: Layer[G]) -> list[Step]:
        """The formula steps, and which inputs broadcast along which axes."""
        steps = generic_steps(layer)
        return steps[:1] + broadcast_steps(layer) + steps[1:]

    def rf_inputs(self, layer: Layer[G]) -> list[RFStep | None]:
        """Every input maps its field unchanged: an input of size 1 along an axis (a
        ``[C, 1, 1]`` gate) has one position there, which every output position reads, so
        its field (a global pool's: the whole input) is carried as it is."""
        return [pointwise_rf(x) for x in layer.ins]


@register
class Add(_Elementwise[Projections]):
    saved_doc = ("nothing (a sum's gradient is the output's); a projected input's 1x1 conv "
                 "keeps that input, its batchnorm the conv's output and 2C statistics")

    def saved(self, layer: Layer[Projections], grads: Sequence[bool]) -> list[Saved]:
        found = []
        c = layer.ins[-1][0]
        for i, proj in enumerate(layer.geo):
            if proj is not None:
                found += [saved_input(layer, i, f"input {i} (projection conv)"),
                          Saved(f"projection {i} conv output", numel(layer.ins[-1])),
                          Saved("save_mean", c, per_sample=False),
                          Saved("save_invstd", c, per_sample=False)]
        return found
    name = "add"
    notes = (
        "The inputs broadcast as numpy's do, on the `(C, *spatial)` shape of one sample: the\n"
        "same number of axes, and along each axis every size equal or 1 (a `[C, 1, 1]` input\n"
        "adds one value per channel at every position). With `project: auto`, an input that\n"
        "neither matches nor broadcasts with the last input gets ResNet's projection shortcut\n"
        "(1x1 conv with the needed stride, no bias, then batchnorm) onto the last input's\n"
        "shape; its figures are counted in this row."
    )
    samples = (Sample({}, ((3, 8, 8), (3, 8, 8)), "f"),
               Sample({}, ((3, 8, 8), (3, 1, 1)), "f"),
               Sample({"project": "auto"}, ((8, 8, 8), (16, 4, 4)), "pbmf"))
    family = "merge"
    fresh_output = True
    summary = ("element-wise sum of inputs that broadcast (each axis equal or 1); project: "
               "auto puts a 1x1 conv (no bias) + batchnorm on each input that neither matches "
               "nor broadcasts with the last input (ResNet's shortcut)")
    formulas = {
        "shape": "the inputs' broadcast shape (each axis equal or 1); an input that does not "
                 "broadcast needs project: auto",
        "params": "per projected input: C_in * C + 2C (conv + batchnorm); buffers 2C + 1",
        "macs": "per projected input: C_in * numel(last input)",
        "flops": "merge: (inputs - 1) * numel(out); conv: 2 * macs; norm: 2 * numel(last "
                 "input) per projection",
        "rf": "largest of the inputs' fields; a projection is a 1x1 window with its stride",
    }
    Args = AddArgs
    args: AddArgs

    def geometry(self, ins: list[Shape]) -> Projections:
        """Per input: None, or (in_channels, stride per axis) of its projection onto the
        last input's shape (only an input that neither matches nor broadcasts has one)."""
        target = ins[-1]
        if self.args.project == "none":
            return [None] * len(ins)
        found: Projections = []
        for i, x in enumerate(ins):
            if broadcasts(x, target):
                found.append(None)
                continue
            if len(x) != len(target):
                raise ShapeError(f"add inputs differ in rank: input {i} is {_fmt(x)}, the last "
                                 f"is {_fmt(target)}")
            strides = []
            for n, m in zip(x[1:], target[1:]):
                s = max(1, -(-n // m))
                if window_out(n, 1, s, 0, 0) != m:
                    raise ShapeError(
                        f"add: no 1x1 projection maps input {i} {_fmt(x)} onto {_fmt(target)} "
                        f"(spatial {n} cannot become {m} with an integer stride)"
                    )
                strides.append(s)
            found.append((x[0], tuple(strides)))
        return found

    def shape(self, ins: list[Shape], geo: Projections) -> Shape:
        """The broadcast of the inputs, a projected one counting as the last input's shape."""
        hints = (PROJECT_HINT,) if self.args.project == "none" else ()
        return broadcast(self.name, [ins[-1] if p else x for x, p in zip(ins, geo)], hints)

    def explain(self, layer: Layer[Projections]) -> list[Step]:
        """Worked arithmetic: the 1x1 conv + batchnorm projection of each input that does
        not broadcast with the last input (ResNet's shortcut)."""

        out, target = layer.out, layer.ins[-1]
        c, m = target[0], dims(target[1:], " x ")
        proj = [(i, p) for i, p in enumerate(layer.geo) if p]
        shape = ("the last input's shape" if all(x == out for x in layer.ins)
                 else "the inputs' broadcast shape (each axis equal or 1)")
        steps = [Step("output shape", "", dims(out), shape, "shape"), *broadcast_steps(layer)]
        for i, (_, stride) in proj:
            steps.append(Step("projection", "", f"input {i} ({dims(layer.ins[i])}): 1x1 conv, "
                              f"stride {dims(stride)}, + batchnorm -> {dims(target)}", "", "note"))
        if proj:
            p = self.params(layer)

            def wrap(term: str) -> str:
                return f"({term})" if len(proj) > 1 else term

            steps += [
                Step("params", " + ".join(wrap(f"{ci}x{c} + 2x{c}") for _, (ci, _) in proj),
                     p.total, "per projection: C_in x C (1x1 conv) + 2C (batchnorm)", "params"),
                Step("buffers", " + ".join(wrap(f"2x{c} + 1") for _ in proj), p.buffers,
                     "per projection: 2C + 1 (batchnorm statistics)", "params"),
                Step("MACs", " + ".join(f"{ci} x {c} x {m}" for _, (ci, _) in proj),
                     self.macs(layer), "per projection: C_in x C x m_h x m_w", "macs")]
        return steps

    def params(self, layer: Layer[Projections]) -> Params:
        c = layer.ins[-1][0]
        projected = [p for p in layer.geo if p]
        return Params(
            trainable=sum(c_in * c + 2 * c for c_in, _ in projected),
            buffers=sum(2 * c + 1 for _ in projected),
        )

    def macs(self, layer: Layer[Projections]) -> int:
        return sum(c_in * numel(layer.ins[-1]) for c_in, _ in filter(None, layer.geo))

    def flops(self, layer: Layer[Projections]) -> dict[str, int]:
        n_proj = sum(1 for p in layer.geo if p)
        return {
            "conv": 2 * self.macs(layer),
            "norm": 2 * numel(layer.ins[-1]) * n_proj,
            "merge": (len(layer.ins) - 1) * numel(layer.out),
        }

    def torch_refusal(self, layer: Layer[Projections], batch: int, training: bool) -> str | None:
        """A projected shortcut runs a batchnorm on the last input's shape."""
        if not any(layer.geo):
            return None
        return batch_stats_refusal(layer.ins[-1], batch, training,
                                   "the batchnorm of the projected shortcut")

    def rf_inputs(self, layer: Layer[Projections]) -> list[RFStep | None]:
        steps = []
        for x, proj in zip(layer.ins, layer.geo):
            if proj is None:
                steps.append(pointwise_rf(x))
            else:
                steps.append(RFStep.window((1,) * len(proj[1]), proj[1], (0,) * len(proj[1])))
        return steps

    def torch(self, layer: Layer[Projections], kit: TorchKit) -> nn.Module:
        """The sum (torch broadcasts); a projected input's shortcut is the submodule
        ``proj``."""
        projected = {i: kit.projection(len(stride), c_in, layer.ins[-1][0], stride)
                     for i, p in enumerate(layer.geo) if p for c_in, stride in [p]}
        return kit.Add(projected)


@register
class Mul(_Elementwise[None]):
    name = "mul"
    samples = (Sample({}, ((3, 8, 8), (3, 8, 8)), "f"),
               Sample({}, ((4, 6, 6), (4, 1, 1)), "f"),
               Sample({}, ((1, 5, 1), (3, 1, 4), (3, 5, 4)), "f"))
    family = "merge"
    fresh_output = True
    summary = ("element-wise product of inputs that broadcast (each axis equal or 1): a "
               "[C, 1, 1] gate times a [C, H, W] map is squeeze-excitation's scale")
    notes = (
        "The inputs broadcast as numpy's do, on the `(C, *spatial)` shape of one sample: the\n"
        "same number of axes, and along each axis every size equal or 1. A `[C, 1, 1]` gate\n"
        "from a global pool's branch scales every position of a `[C, H, W]` map: that gate's\n"
        "receptive field is the whole input, so the product's is too (see docs/counting.md)."
    )
    formulas = {"shape": "the inputs' broadcast shape (each axis equal or 1)", "params": "0",
                "macs": "0", "flops": "merge: (inputs - 1) * numel(out)",
                "rf": "largest of the inputs' fields (a broadcast input's one position is read "
                      "by every output position)"}

    saved_doc = ("each factor whose partner needs a gradient: `x0 * x1 * ...` runs left to "
                 "right, each product keeping its right operand when the left requires grad "
                 "and its left (input 0, then the partial product) when the right does")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        found: list[Saved] = []
        acc, acc_grad = layer.ins[0], grads[0]
        for j in range(1, len(layer.ins)):
            if acc_grad:
                found.append(saved_input(layer, j))
            if grads[j]:
                found.append(saved_input(layer, 0) if j == 1 else
                             Saved(f"product of inputs 0-{j - 1}", numel(acc)))
            acc = broadcast(self.name, [acc, layer.ins[j]])
            acc_grad = acc_grad or grads[j]
        return found

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        return kit.Mul()


@register
class Concat(Free):
    name = "concat"
    saved_doc = "nothing (its backward only slices the gradient)"

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        return []
    samples = (Sample({}, ((3, 8, 8), (5, 8, 8)), ""),)
    family = "merge"
    fresh_output = True
    summary = "join inputs along the channel axis; the other axes must agree"
    formulas = {"shape": "(sum of C, *spatial); spatial axes must agree", "params": "0",
                "macs": "0", "flops": "0", "rf": "largest of the inputs' fields"}
    arity = (1, None)

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        rest = ins[0][1:]
        for i, x in enumerate(ins):
            if x[1:] != rest or len(x) != len(ins[0]):
                raise ShapeError(
                    f"concat inputs differ beyond the channel axis: input 0 is {_fmt(ins[0])}, "
                    f"input {i} is {_fmt(x)}"
                )
        return (sum(x[0] for x in ins), *rest)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        return kit.Concat()

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)
