"""Merges of several inputs: element-wise ``add`` / ``mul`` and channel ``concat``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..errors import ShapeError
from ..working import Step, bracketed, dims
from .base import (
    Free,
    G,
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Shape,
    TorchKit,
    numel,
    pointwise_rf,
    register,
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


def check_same(name: str, ins: list[Shape]) -> None:
    """Every input of an element-wise merge has the last input's shape."""
    target = ins[-1]
    for i, x in enumerate(ins[:-1]):
        if x != target:
            hints = (("set `project: auto` (a 1x1 conv + batchnorm on the shortcut), or put "
                      "a 1x1 conv with the right stride on it yourself",)
                     if name == "add" else ())
            raise ShapeError(f"{name} inputs differ: input {i} is {_fmt(x)} but the last "
                             f"is {_fmt(target)}", hints=hints)


class _Elementwise(Op[G]):
    arity = (2, None)

    def shape(self, ins: list[Shape], geo: G) -> Shape:
        check_same(self.name, ins)
        return ins[-1]

    def params(self, layer: Layer[G]) -> Params:
        return Params()

    def macs(self, layer: Layer[G]) -> int:
        return 0

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {"merge": (len(layer.ins) - 1) * numel(layer.out)}

    def rf(self, layer: Layer[G]) -> RFStep | None:
        return pointwise_rf(layer.ins[-1])


@register
class Add(_Elementwise[Projections]):
    name = "add"
    notes = (
        "With `project: auto`, an input whose shape differs from the last input's gets ResNet's\n"
        "projection shortcut (1x1 conv with the needed stride, no bias, then batchnorm); its\n"
        "figures are counted in this row."
    )
    samples = (Sample({}, ((3, 8, 8), (3, 8, 8)), "f"),)
    family = "merge"
    fresh_output = True
    summary = ("element-wise sum; project: auto puts a 1x1 conv (no bias) + batchnorm on "
               "each input whose shape differs from the last input's (ResNet's shortcut)")
    formulas = {
        "shape": "the last input's shape; every input must match it (or be projected)",
        "params": "per projected input: C_in * C + 2C (conv + batchnorm); buffers 2C + 1",
        "macs": "per projected input: C_in * numel(out)",
        "flops": "merge: (inputs - 1) * numel(out); conv: 2 * macs; norm: 2 * numel(out) "
                 "per projection",
        "rf": "largest of the inputs' fields; a projection is a 1x1 window with its stride",
    }
    Args = AddArgs
    args: AddArgs

    def geometry(self, ins: list[Shape]) -> Projections:
        """Per input: None, or (in_channels, stride per axis) of its projection."""
        target = ins[-1]
        if self.args.project == "none":
            check_same(self.name, ins)
            return [None] * len(ins)
        found: Projections = []
        for i, x in enumerate(ins):
            if x == target:
                found.append(None)
                continue
            if len(x) != len(target):
                raise ShapeError(f"add inputs differ in rank: input {i} is {_fmt(x)}, "
                                 f"the last is {_fmt(target)}")
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
        return ins[-1]  # the geometry has checked every input against it

    def explain(self, layer: Layer[Projections]) -> list[Step]:
        """Worked arithmetic: the 1x1 conv + batchnorm projection of each input whose
        shape differs from the last input's (ResNet's shortcut)."""

        out = layer.out
        c, m = out[0], dims(out[1:], " x ")
        proj = [(i, p) for i, p in enumerate(layer.geo) if p]
        steps = [Step("output shape", "", dims(out), "the last input's shape", "shape")]
        for i, (_c_in, stride) in proj:
            steps.append(Step("projection", "", f"input {i} ({dims(layer.ins[i])}): 1x1 conv, "
                              f"stride {dims(stride)}, + batchnorm -> {dims(out)}", "", "note"))
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
        c = layer.out[0]
        projected = [p for p in layer.geo if p]
        return Params(
            trainable=sum(c_in * c + 2 * c for c_in, _ in projected),
            buffers=sum(2 * c + 1 for _ in projected),
        )

    def macs(self, layer: Layer[Projections]) -> int:
        return sum(c_in * numel(layer.out) for c_in, _ in filter(None, layer.geo))

    def flops(self, layer: Layer[Projections]) -> dict[str, int]:
        n_proj = sum(1 for p in layer.geo if p)
        return {
            "conv": 2 * self.macs(layer),
            "norm": 2 * numel(layer.out) * n_proj,
            "merge": (len(layer.ins) - 1) * numel(layer.out),
        }

    def torch_refusal(self, layer: Layer[Projections], batch: int, training: bool) -> str | None:
        """A projected shortcut runs a batchnorm on the output's shape."""
        if not any(layer.geo):
            return None
        return batch_stats_refusal(layer.out, batch, training,
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
        """The sum; a projected input's shortcut is the submodule ``proj``."""
        projected = {i: kit.projection(len(stride), c_in, layer.out[0], stride)
                     for i, p in enumerate(layer.geo) if p for c_in, stride in [p]}
        return kit.Add(projected)


@register
class Mul(_Elementwise[None]):
    name = "mul"
    samples = (Sample({}, ((3, 8, 8), (3, 8, 8)), "f"),)
    family = "merge"
    fresh_output = True
    summary = "element-wise product of inputs of one shape"
    formulas = {"shape": "the inputs' common shape", "params": "0", "macs": "0",
                "flops": "merge: (inputs - 1) * numel(out)", "rf": "largest of the inputs' fields"}

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        return kit.Mul()


@register
class Concat(Free):
    name = "concat"
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
