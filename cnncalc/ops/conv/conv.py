"""``conv``: N-d convolution (groups, depthwise, dilation, LeNet-5's ``connect`` table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import model_validator

from ...errors import ShapeError
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
    saved_input,
    truncation,
    window_size,
)
from ..shorthand import Shorthand
from ..types import IntPerAxis, NonNegInt, Padding, PosInt
from .connect import connect_groups, connect_working
from .convolution import Convolution, check_groups, sliding_window

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class ConvArgs(Shorthand):
    out: PosInt
    k: IntPerAxis
    stride: IntPerAxis = 1
    pad: Padding = 0
    dilation: IntPerAxis = 1
    groups: PosInt = 1
    bias: bool = True
    connect: list[list[NonNegInt]] | None = None

    @model_validator(mode="after")
    def _connect_fits(self) -> ConvArgs:
        if self.connect is not None:
            if self.groups != 1:
                raise ValueError("connect and groups cannot be combined")
            if len(self.connect) != self.out:
                rows = len(self.connect)
                raise ValueError(f"connect has {rows} row{'s' if rows != 1 else ''} but out is "
                                 f"{self.out}: one row per output map")
            for j, row in enumerate(self.connect):
                if not row:
                    raise ValueError(f"connect row {j} is empty")
                if len(set(row)) != len(row):
                    raise ValueError(f"connect row {j} lists a map twice: {row}")
        return self


@dataclass(frozen=True, slots=True)
class ConvGeometry:
    """A conv's window over its input, and the input maps its output maps read (summed
    over output maps: ``out * C/groups``, or the connect table's entries)."""

    window: Window
    connections: int


@register
class Conv(Convolution[ConvGeometry]):
    saved_doc = ("its input (for the weight gradient, even when the input needs none): the "
                 "zero-padded copy when the padding is asymmetric; a connection table adds the "
                 "dense `out * C * prod(k)` weight and its int64 index of the connections")

    def saved(self, layer: Layer[ConvGeometry], grads: Sequence[bool]) -> list[Saved]:
        w = layer.geo.window
        if all(b == a for b, a in w.pad):
            found = [saved_input(layer)]
        else:
            padded = layer.x[0] * numel(tuple(n + b + a for n, (b, a) in zip(w.n, w.pad)))
            found = [Saved("padded input", padded)]
        if self.args.connect is not None:
            found += [Saved("dense weight", self.args.out * layer.x[0] * numel(w.k),
                            per_sample=False),
                      Saved("connection index", layer.geo.connections, "index",
                            per_sample=False)]
        return found
    name = "conv"
    notes = (
        "`pad` takes every padding form: an int, one value per axis, a `[before, after]` pair per\n"
        "axis, `valid` (no padding) or `same` (`ceil(n / s)` outputs; for an odd total the extra\n"
        "row goes on the leading side, top/left, as with `same_lower`; `same_upper` puts it on\n"
        "the trailing side, as torch's `padding='same'` and TensorFlow's SAME do). A stride\n"
        "that does not tile the padded input\n"
        "drops rows; that is a warning, and an error under `--strict`. With `connect` (LeNet-5's\n"
        "partial connection table) output map `j` reads only the input maps listed in row `j`:\n"
        "C3 has 60 connections x 25 + 16 biases = **1,516** parameters and 150,000 MACs (the\n"
        "paper's 151,600 \"connections\" add the 1,600 bias additions)."
    )
    samples = (Sample({'out': 4, 'k': 3}, ((3, 8, 8),), "pmf"),)
    family = "conv"
    fresh_output = True
    summary = "N-d convolution (1-D, 2-D or 3-D by input rank); groups, dilation, connect table"
    formulas = {
        "shape": "out, floor((n + pb + pa - d*(k-1) - 1)/s) + 1 per axis",
        "params": "out * C/groups * prod(k) + out (bias); "
                  "with connect: sum(len(row)) * prod(k) + out",
        "macs": "out * C/groups * prod(k) * prod(out spatial) "
                "(connect: sum(len(row)) for out*C/groups)",
        "flops": "conv: 2 * macs; bias: numel(out)",
        "rf": "size += d*(k-1)*jump; jump *= s; start += (d*(k-1)/2 - pb)*jump",
    }
    Args = ConvArgs
    args: ConvArgs

    def geometry(self, ins: list[Shape]) -> ConvGeometry:
        a = self.args
        connections = self.connections(ins[0][0])
        window = sliding_window(ins[0], self.name, a.k, a.stride, a.pad, a.dilation)
        return ConvGeometry(window, connections)

    def window(self, layer: Layer[ConvGeometry]) -> Window:
        return layer.geo.window

    def connections(self, c_in: int) -> int:
        """Input maps each output map reads, summed over output maps."""
        a = self.args
        if a.connect is None:
            check_groups(c_in, a.out, a.groups)
            return a.out * (c_in // a.groups)
        for j, row in enumerate(a.connect):
            bad = [i for i in row if i >= c_in]
            if bad:
                raise ShapeError(
                    f"connect: row {j} lists input map {bad[0]}, but the input has "
                    f"{c_in} channels (0-{c_in - 1})", arg="connect"
                )
        return sum(len(row) for row in a.connect)

    def shape(self, ins: list[Shape], geo: ConvGeometry) -> Shape:
        return (self.args.out, *geo.window.out(self.name))

    def params(self, layer: Layer[ConvGeometry]) -> Params:
        k = numel(layer.geo.window.k)
        return Params(layer.geo.connections * k + (self.args.out if self.args.bias else 0))

    def macs(self, layer: Layer[ConvGeometry]) -> int:
        return layer.geo.connections * numel(layer.geo.window.k) * numel(layer.out[1:])

    def explain(self, layer: Layer[ConvGeometry]) -> list[Step]:
        """Worked arithmetic: output size per axis, parameters (a connect table grouped by
        how many maps each output map reads), MACs, and any input rows never read."""

        a, w, c_in, out = self.args, layer.geo.window, layer.x[0], layer.out
        k_sym, m_sym = letters("k", len(w.k)), letters("m", len(w.k))
        if a.connect is not None:
            steps = connect_working(a.connect, numel(w.k), a.bias, c_in, self.params(layer).total)
            macs_text = f"({' + '.join(f'{n}x{r}' for n, r in connect_groups(a.connect))})"
            macs_sym = "connections"
        else:
            per_map = f"{c_in}/{a.groups}" if a.groups > 1 else str(c_in)
            one, sym = f"{dims(w.k)}x{per_map}", f"{k_sym} x c_in/groups"
            text, sym = ((f"({one} + 1) x {a.out}", f"({sym} + 1) x c_out") if a.bias
                         else (f"{one} x {a.out}", f"{sym} x c_out"))
            steps = [Step("params", text, self.params(layer).total, sym, "params")]
            macs_text, macs_sym = f"{per_map} x {a.out}", "c_in/groups x c_out"
        macs = Step("MACs", f"{macs_text} x {dims(w.k, ' x ')} x {dims(out[1:], ' x ')}",
                    self.macs(layer), f"{macs_sym} x {k_sym} x {m_sym}", "macs")
        return window_size(w, out[1:]) + steps + [macs] + truncation(w)

    def torch(self, layer: Layer[ConvGeometry], kit: TorchKit) -> nn.Module:
        """``nn.ConvNd`` by rank (an explicit pad first when asymmetric); with ``connect``,
        a module holding exactly the connected kernels."""
        a, w, c_in = self.args, layer.geo.window, layer.x[0]
        if a.connect is not None:
            return kit.ConnectConv(a.connect, c_in, w.k, w.stride, w.pad, w.dilation, a.bias)
        return kit.conv(len(w.n), c_in, a.out, w.k, w.stride, w.pad, w.dilation,
                            a.groups, a.bias)
