"""``add``: element-wise sum, with ResNet's projection shortcut on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ...errors import ShapeError
from ...working import Step, dims
from ..base import (
    Layer,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Saved,
    Shape,
    TorchKit,
    numel,
    pointwise_rf,
    register,
    saved_input,
    window_out,
)
from ..batch_stats import batch_stats_refusal
from .broadcast import broadcast, broadcast_steps, broadcasts, shape_text
from .elementwise import Elementwise

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: per input of an add: None, or (in_channels, stride per axis) of its 1x1 projection
Projections = list[tuple[int, tuple[int, ...]] | None]


class AddArgs(OpArgs):
    project: Literal["auto", "none"] = "none"


PROJECT_HINT = ("set `project: auto` (a 1x1 conv + batchnorm on the shortcut), or put a 1x1 "
                "conv with the right stride on it yourself")


@register
class Add(Elementwise[Projections]):
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
                raise ShapeError(f"add inputs differ in rank: input {i} is {shape_text(x)}, "
                                 f"the last is {shape_text(target)}")
            strides = []
            for n, m in zip(x[1:], target[1:]):
                s = max(1, -(-n // m))
                if window_out(n, 1, s, 0, 0) != m:
                    raise ShapeError(
                        f"add: no 1x1 projection maps input {i} {shape_text(x)} onto "
                        f"{shape_text(target)} (spatial {n} cannot become {m} with an integer "
                        "stride)"
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
