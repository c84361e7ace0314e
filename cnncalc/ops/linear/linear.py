"""``linear``: a fully connected layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step, axis_names, bracketed, dims
from ..base import (
    Layer,
    Op,
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
    weight_flops,
)
from ..shorthand import Shorthand
from ..types import LinearAxis, PosInt

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LinearArgs(Shorthand):
    out: PosInt
    bias: bool = True
    axis: LinearAxis = -1


@register
class Linear(Op[None]):
    name = "linear"
    saved_doc = ("its input (for the weight gradient); with `axis: 0` on a map, the "
                 "channels-last copy the matmul reads")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if self.args.axis == -1 or len(layer.x) == 1:
            return [saved_input(layer)]
        return [Saved("channels-last input", numel(layer.x))]
    notes = (
        "`axis: -1` (the default) acts on the last axis, as `nn.Linear` does: on a vector\n"
        "the classic fully connected layer, on a map `[C, H, W]` a layer over the width.\n"
        "`axis: 0` acts on the channels at every position (`[C, *spatial]` to\n"
        "`[out, *spatial]`, ConvNeXt's `pwconv`): the figures of a 1x1 conv, built as\n"
        "`nn.Linear` applied channels-last (cnncalc's `ChannelLinear`, holding the `nn.Linear`\n"
        "as its child `linear`: keys `ID.linear.weight`, `ID.linear.bias`; peers that count by\n"
        "module type count it as a torch user's `nn.Linear`). Its receptive field is\n"
        "unchanged (a pointwise op), and `bn`/`act` shorthand normalises its `out` channels.\n"
        "A `linear` on a map without `axis` is a warning (an error under `--strict`): write\n"
        "`axis: -1` to mean the last axis, `axis: 0` for the channels, or `flatten` first\n"
        "for the classic classifier head."
    )
    samples = (Sample({'out': 10}, ((20,),), "pmf"),
               Sample({'out': 6, 'axis': 0}, ((4, 5, 3),), "pmf"),
               Sample({'out': 5, 'axis': -1, 'bias': False}, ((3, 4, 7),), "pmf"))
    family = "linear"
    fresh_output = True
    summary = ("fully connected layer over the last axis (axis: -1) or over the channels at "
               "every position (axis: 0)")
    formulas = {
        "shape": "axis -1: (*x[:-1], out); axis 0: (out, *x[1:])",
        "params": "in * out + out (bias); in = x[axis]",
        "macs": "numel(x) * out",
        "flops": "linear: 2 * macs; bias: numel(out)",
        "rf": "axis 0 on a map: unchanged (pointwise); else none (no spatial layout)",
    }
    Args = LinearArgs
    args: LinearArgs

    def features(self, x: Shape) -> int:
        """The length of the axis the layer acts on."""
        return x[self.args.axis]

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        x = ins[0]
        if self.args.axis == 0:
            return (self.args.out, *x[1:])
        return (*x[:-1], self.args.out)

    def params(self, layer: Layer[None]) -> Params:
        return Params(self.features(layer.x) * self.args.out
                      + (self.args.out if self.args.bias else 0))

    def macs(self, layer: Layer[None]) -> int:
        return numel(layer.x) * self.args.out

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return weight_flops("linear", self.macs(layer), layer.out, self.args.bias)

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x) if self.args.axis == 0 else None

    def warnings(self, layer: Layer[None]) -> list[str]:
        x = layer.x
        if len(x) < 2 or "axis" in self.args.model_fields_set:
            return []
        last = axis_names(len(x) - 1)[-1]
        return [f"linear on {bracketed(x)} acts on the last axis ({last}, {x[-1]}); write axis: -1 "
                "to mean it, axis: 0 for the channels, or flatten first"]

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: a weight per (input, output) pair plus a bias per output, at
        every position of the other axes."""

        n, o = self.features(layer.x), self.args.out
        what = "C" if self.args.axis == 0 and len(layer.x) > 1 else "in"
        text, sym = (f"{n} x {o} + {o}", f"{what} x out + out") if self.args.bias else (
            f"{n} x {o}", f"{what} x out")
        others = layer.x[1:] if self.args.axis == 0 else layer.x[:-1]
        rows = numel(others)
        macs = f"{rows} x {n} x {o}" if rows > 1 else f"{n} x {o}"
        steps = [Step("params", text, self.params(layer).total, sym, "params"),
                 Step("MACs", macs, self.macs(layer), "numel(x) x out", "macs")]
        if self.args.axis == 0 and len(layer.x) > 1:
            shape = Step("output shape", f"{o}, {dims(others, ', ')}", dims(layer.out),
                         "out, *x[1:]", "shape")
            steps.insert(0, shape)
        return steps

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.Linear``; over the channels of a map, ``ChannelLinear`` (the same layer
        applied channels-last; its ``nn.Linear`` is the child ``linear``)."""
        n, a = self.features(layer.x), self.args
        cls = kit.ChannelLinear if a.axis == 0 and len(layer.x) > 1 else kit.nn.Linear
        module: nn.Module = cls(n, a.out, a.bias)
        return module
