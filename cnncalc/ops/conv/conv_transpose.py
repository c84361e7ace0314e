"""``conv_transpose``: transposed (fractionally strided) convolution."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ...errors import ShapeError
from ...working import RFWorking, Step, axis_rows, dims, letters, transposed_formula
from ..base import (
    Layer,
    Op,
    Params,
    RFStep,
    Sample,
    Shape,
    TorchKit,
    numel,
    per_axis,
    register,
    spatial,
    weight_flops,
)
from ..shorthand import Shorthand
from ..types import IntPerAxis, NonNegPerAxis, PosInt
from .convolution import check_groups

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class ConvTransposeArgs(Shorthand):
    out: PosInt
    k: IntPerAxis
    stride: IntPerAxis = 1
    pad: NonNegPerAxis = 0
    output_padding: NonNegPerAxis = 0
    dilation: IntPerAxis = 1
    groups: PosInt = 1
    bias: bool = True


@dataclass(frozen=True, slots=True)
class TransposedAxes:
    """A transposed conv's numbers per spatial axis."""

    n: tuple[int, ...]
    k: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def axes(self) -> Iterator[tuple[int, int, int, int, int, int]]:
        """(n, k, s, p, output_padding, d) per axis."""
        return zip(self.n, self.k, self.stride, self.pad, self.output_padding, self.dilation)


@register
class ConvTranspose(Op[TransposedAxes]):
    saved_doc = "its input (for the weight gradient, even when the input needs none)"
    name = "conv_transpose"
    notes = (
        "MACs count every input element times every weight it touches, once. That is what\n"
        "`torch.utils.flop_counter.FlopCounterMode` counts for transposed convolutions (its\n"
        "count is `2 * C * out/groups * prod(k) * prod(input spatial)`), so our MACs are\n"
        "exactly half of it, as for every conv and linear layer."
    )
    samples = (Sample({'out': 4, 'k': 3, 'stride': 2}, ((3, 8, 8),), "pmf"),)
    family = "conv"
    fresh_output = True
    summary = "transposed (fractionally strided) convolution; MACs counted per input element"
    formulas = {
        "shape": "out, (n-1)*s - 2p + d*(k-1) + output_padding + 1 per axis",
        "params": "C * out/groups * prod(k) + out (bias)",
        "macs": "C * out/groups * prod(k) * prod(input spatial) (each input element meets each "
                "weight once)",
        "flops": "conv: 2 * macs; bias: numel(out)",
        "rf": "size += d*(k-1)/s*jump; jump /= s; start += (p - d*(k-1)/2)/s*jump",
    }
    Args = ConvTransposeArgs
    args: ConvTransposeArgs

    def geometry(self, ins: list[Shape]) -> TransposedAxes:
        a = self.args
        check_groups(ins[0][0], a.out, a.groups)
        n = spatial(ins[0], self.name)
        r = len(n)
        return TransposedAxes(n, per_axis(a.k, r, "k"), per_axis(a.stride, r, "stride"),
                              per_axis(a.pad, r, "pad"),
                              per_axis(a.output_padding, r, "output_padding"),
                              per_axis(a.dilation, r, "dilation"))

    def shape(self, ins: list[Shape], geo: TransposedAxes) -> Shape:
        sizes = []
        for n, k, s, p, op, d in geo.axes():
            if op >= max(s, d):
                raise ShapeError(
                    f"output_padding {op} must be smaller than stride {s} or dilation {d}",
                    arg="output_padding"
                )
            size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            if size < 1:
                raise ShapeError(
                    f"output size is {max(size, 0)}: "
                    f"{transposed_formula(n, k, s, p, op, d)} = {size}"
                )
            sizes.append(size)
        return (self.args.out, *sizes)

    def params(self, layer: Layer[TransposedAxes]) -> Params:
        a = self.args
        return Params(layer.x[0] * (a.out // a.groups) * numel(layer.geo.k)
                      + (a.out if a.bias else 0))

    def macs(self, layer: Layer[TransposedAxes]) -> int:
        # every input element is multiplied by every weight it touches, once
        a = self.args
        return layer.x[0] * (a.out // a.groups) * numel(layer.geo.k) * numel(layer.x[1:])

    def flops(self, layer: Layer[TransposedAxes]) -> dict[str, int]:
        return weight_flops("conv", self.macs(layer), layer.out, self.args.bias)

    def explain(self, layer: Layer[TransposedAxes]) -> list[Step]:
        """Worked arithmetic: output size per axis, parameters, MACs per input element."""

        a, c_in, g = self.args, layer.x[0], layer.geo
        items = [(transposed_formula(nn, kk, ss, pp, oo, dd), o)
                 for (nn, kk, ss, pp, oo, dd), o in zip(g.axes(), layer.out[1:])]
        per_map = f"{a.out}/{a.groups}" if a.groups > 1 else str(a.out)
        k_sym = letters("k", len(g.k))
        one = f"{dims(g.k)}x{c_in}x{per_map}"
        total = self.params(layer).total
        params = (Step("params", f"{one} + {a.out}", total,
                       f"{k_sym} x c_in x c_out/groups + c_out", "params") if a.bias else
                  Step("params", one, total, f"{k_sym} x c_in x c_out/groups", "params"))
        macs = Step("MACs", f"{c_in} x {per_map} x {dims(g.k, ' x ')} x {dims(g.n, ' x ')}",
                    self.macs(layer), f"c_in x c_out/groups x {k_sym} x {letters('n', len(g.k))} "
                    "(every input element meets every weight once)", "macs")
        return [*axis_rows("output", items, "shape",
                           "(n-1)*s - 2p + d*(k-1) + output_padding + 1"), params, macs]

    def rf(self, layer: Layer[TransposedAxes]) -> RFStep:
        g = layer.geo
        k_eff = [dd * (kk - 1) + 1 for kk, dd in zip(g.k, g.dilation)]
        return RFStep(
            tuple(Fraction(ke - 1, ss) for ke, ss in zip(k_eff, g.stride)),
            tuple(Fraction(1, ss) for ss in g.stride),
            tuple((pp - Fraction(ke - 1, 2)) / ss for pp, ke, ss in zip(g.pad, k_eff, g.stride)),
        )

    def rf_working(self, layer: Layer[TransposedAxes], step: RFStep) -> RFWorking:
        """A transposed convolution (what ``ConvTranspose.rf`` computes): each output row
        sits ``1/s`` input rows from the next, and ``d*(k-1)`` output rows of the kernel
        span ``d*(k-1)/s`` input rows: ``r = r_in + (d*(k-1)/s)*j_in``, ``j = j_in/s``,
        ``start = start_in + ((p - d*(k-1)/2)/s)*j_in``."""
        g = layer.geo
        k, s, p, d = g.k, g.stride, g.pad, g.dilation

        def k_term(i: int) -> str:
            return f"{d[i]}*({k[i]}-1)"

        return RFWorking(
            lambda i, r, j: f"{r} + ({k_term(i)}/{s[i]})*{j}",
            lambda i, j: f"{j}/{s[i]}",
            lambda i, st, j: f"{st} + (({p[i]} - {k_term(i)}/2)/{s[i]})*{j}",
            ("r = r_in + (d*(k-1)/s)*j_in", "j = j_in/s",
             "start = start_in + ((p - d*(k-1)/2)/s)*j_in"))

    def torch(self, layer: Layer[TransposedAxes], kit: TorchKit) -> nn.Module:
        """``nn.ConvTransposeNd`` by rank."""
        a, g = self.args, layer.geo
        cls = kit.layer_class("ConvTranspose", len(g.n))
        return cls(layer.x[0], a.out, g.k, g.stride, g.pad, g.output_padding, a.groups, a.bias,
                   g.dilation)
