"""``local``: a locally connected layer (unshared weights)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...working import Step, dims, letters
from ..base import (
    Layer,
    Params,
    Sample,
    Saved,
    Shape,
    TorchKit,
    Window,
    numel,
    register,
    truncation,
    window_size,
)
from ..shorthand import Shorthand
from ..types import IntPerAxis, Padding, PosInt
from .convolution import Convolution, sliding_window

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LocalArgs(Shorthand):
    out: PosInt
    k: IntPerAxis
    stride: IntPerAxis = 1
    pad: Padding = 0
    bias: bool = True


@register
class Local(Convolution[Window]):
    name = "local"
    saved_doc = ("its patches, a copy of `prod(out spatial) * C * prod(k)` elements per sample "
                 "(the batched matmul's operand), not its input")

    def saved(self, layer: Layer[Window], grads: Sequence[bool]) -> list[Saved]:
        patches = numel(layer.out[1:]) * layer.x[0] * numel(self.window(layer).k)
        return [Saved("patches", patches)]
    notes = (
        "Unshared weights: the parameter count grows with the output size."
    )
    samples = (Sample({'out': 2, 'k': 3}, ((3, 8, 8),), "pmf"),)
    family = "conv"
    fresh_output = True
    summary = "locally connected layer: a convolution whose weights differ at every position"
    formulas = {
        "shape": "out, floor((n + pb + pa - k)/s) + 1 per axis",
        "params": "numel(out) * C * prod(k) + numel(out) (bias: one per output unit)",
        "macs": "numel(out) * C * prod(k)",
        "flops": "conv: 2 * macs; bias: numel(out)",
        "rf": "size += (k-1)*jump; jump *= s; start += ((k-1)/2 - pb)*jump",
    }
    Args = LocalArgs
    args: LocalArgs

    def geometry(self, ins: list[Shape]) -> Window:
        a = self.args
        return sliding_window(ins[0], self.name, a.k, a.stride, a.pad)

    def window(self, layer: Layer[Window]) -> Window:
        return layer.geo

    def shape(self, ins: list[Shape], geo: Window) -> Shape:
        return (self.args.out, *geo.out(self.name))

    def params(self, layer: Layer[Window]) -> Params:
        bias = numel(layer.out) if self.args.bias else 0  # untied: one bias per output unit
        return Params(self.macs(layer) + bias)

    def macs(self, layer: Layer[Window]) -> int:
        return numel(layer.out) * layer.x[0] * numel(layer.geo.k)

    def explain(self, layer: Layer[Window]) -> list[Step]:
        """Worked arithmetic: output size, one kernel (and bias) per output unit, MACs."""

        w, c_in, c_out, out = layer.geo, layer.x[0], self.args.out, layer.out
        k_sym, m_sym = letters("k", len(w.k)), letters("m", len(w.k))
        unit = f"{dims(w.k)}x{c_in}"
        text, sym = ((f"({unit} + 1) x {c_out} x {dims(out[1:])}",
                      f"({k_sym} x c_in + 1) x c_out x {m_sym}") if self.args.bias else
                     (f"{unit} x {c_out} x {dims(out[1:])}", f"{k_sym} x c_in x c_out x {m_sym}"))
        return [
            *window_size(w, out[1:]),
            Step("params", text, self.params(layer).total, sym + " (unshared weights)", "params"),
            Step("MACs", f"{c_in} x {c_out} x {dims(w.k, ' x ')} x {dims(out[1:], ' x ')}",
                 self.macs(layer), f"c_in x c_out x {k_sym} x {m_sym}", "macs"),
            *truncation(w),
        ]

    def torch(self, layer: Layer[Window], kit: TorchKit) -> nn.Module:
        """Unshared weights via unfold + one batched matmul (cnncalc.pytorch.modules)."""
        w = layer.geo
        return kit.LocallyConnected(layer.x[0], self.args.out, w.k, w.stride, w.pad,
                                        layer.out[1:], self.args.bias)
