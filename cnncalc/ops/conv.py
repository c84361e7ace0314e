"""Convolutions: ``conv`` (incl. groups, depthwise, dilation, LeNet-5's ``connect``
table), ``conv_transpose`` and ``local`` (locally connected, unshared weights)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from pydantic import model_validator

from ..errors import ShapeError
from ..working import RFWorking, Step, axis_rows, dims, letters
from .base import (
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
    Window,
    numel,
    per_axis,
    register,
    resolve_padding,
    same_form,
    saved_input,
    spatial,
    truncation,
    window_size,
)
from .types import ActName, IntPerAxis, NonNegInt, NonNegPerAxis, Padding, PosInt

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class Shorthand(OpArgs):
    """``act`` and ``bn`` expand into their own rows (``ID.bn``, ``ID.act``)."""

    act: ActName = "none"
    bn: bool = False


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


def _conv_window(a: ConvArgs, x: Shape, op: str) -> Window:
    n = spatial(x, op)
    k = per_axis(a.k, len(n), "k")
    d = per_axis(a.dilation, len(n), "dilation")
    s = per_axis(a.stride, len(n), "stride")
    k_eff = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    return Window(n, k, d, s, resolve_padding(a.pad, n, k_eff, s), same=same_form(a.pad))


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise ShapeError(f"groups={groups} does not divide the {c_in} input channels",
                         arg="groups")
    if c_out % groups:
        raise ShapeError(f"groups={groups} does not divide out={c_out}", arg="groups")


@dataclass(frozen=True, slots=True)
class ConvGeometry:
    """A conv's window over its input, and the input maps its output maps read (summed
    over output maps: ``out * C/groups``, or the connect table's entries)."""

    window: Window
    connections: int


class _Convolution(Op[G]):
    """The figures ``conv`` and ``local`` share, given their ``window`` and ``macs``:
    FLOPs (two per MAC, plus one add per output for a bias), the window's receptive-field
    step and the input rows its stride leaves unread."""

    saved_doc = "its input (for the weight gradient, even when the input needs none)"

    args: ConvArgs | LocalArgs

    def window(self, layer: Layer[G]) -> Window:
        raise NotImplementedError

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {"conv": 2 * self.macs(layer), "bias": numel(layer.out) if self.args.bias else 0}

    def rf(self, layer: Layer[G]) -> RFStep:
        return self.window(layer).rf()

    def warnings(self, layer: Layer[G]) -> list[str]:
        return self.window(layer).truncation(self.name)


@register
class Conv(_Convolution[ConvGeometry]):
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
        connections = self.connections(ins[0][0])
        return ConvGeometry(_conv_window(self.args, ins[0], self.name), connections)

    def window(self, layer: Layer[ConvGeometry]) -> Window:
        return layer.geo.window

    def connections(self, c_in: int) -> int:
        """Input maps each output map reads, summed over output maps."""
        a = self.args
        if a.connect is None:
            _check_groups(c_in, a.out, a.groups)
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


def connect_groups(connect: list[list[int]]) -> list[tuple[int, int]]:
    """(output maps, maps each reads) grouped by maps read; LeNet-5's C3 table gives
    ``[(6, 3), (9, 4), (1, 6)]``."""
    counts: dict[int, int] = {}
    for row in connect:
        counts[len(row)] = counts.get(len(row), 0) + 1
    return [(counts[r], r) for r in sorted(counts)]


def _ranges(ids: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2, 5``."""
    out: list[str] = []
    for i in ids:
        if out and int(out[-1].split("-")[-1]) == i - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{i}"
        else:
            out.append(str(i))
    return ", ".join(out)


def connect_working(connect: list[list[int]], k: int, bias: bool, c_in: int,
                    total: int) -> list[Step]:
    """Which maps feed which, and the parameters of a partial connection table:
    ``6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516`` for LeNet-5's C3."""
    groups = connect_groups(connect)
    who = "; ".join(
        f"output map{'s' if n > 1 else ''} "
        f"{_ranges([j for j, row in enumerate(connect) if len(row) == r])} "
        f"read{'' if n > 1 else 's'} {r} of {c_in}" for n, r in groups)
    plus = "+1" if bias else ""
    steps = [Step("connect table", "", who, "", "note"),
             Step("connections", " + ".join(f"{n}x{r}" for n, r in groups),
                  sum(n * r for n, r in groups), "output maps x maps each reads", "params"),
             Step("params", " + ".join(f"{n}x({r}x{k}{plus})" for n, r in groups), total,
                  "sum over output maps of (maps read x k_h x k_w" + (" + 1)" if bias else ")"),
                  "params")]
    gaps, start = [], 0  # spans of unread maps, without listing all c_in of them
    for i in [*sorted({i for row in connect for i in row if i < c_in}), c_in]:
        if i > start:
            gaps.append(f"{start}" if i - 1 == start else f"{start}-{i - 1}")
        start = i + 1
    if gaps:
        steps.append(Step("connect table", "", f"input maps {', '.join(gaps)} are never read",
                          "", "note"))
    return steps


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
        "macs": "C * out/groups * prod(k) * prod(input spatial)",
        "flops": "conv: 2 * macs; bias: numel(out)",
        "rf": "size += d*(k-1)/s*jump; jump /= s; start += (p - d*(k-1)/2)/s*jump",
    }
    Args = ConvTransposeArgs
    args: ConvTransposeArgs

    def geometry(self, ins: list[Shape]) -> TransposedAxes:
        a = self.args
        _check_groups(ins[0][0], a.out, a.groups)
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
                    f"({n}-1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1 = {size}"
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
        return {"conv": 2 * self.macs(layer), "bias": numel(layer.out) if self.args.bias else 0}

    def explain(self, layer: Layer[TransposedAxes]) -> list[Step]:
        """Worked arithmetic: output size per axis, parameters, MACs per input element."""

        a, c_in, g = self.args, layer.x[0], layer.geo
        items = [(f"({nn}-1)*{ss} - 2*{pp} + {dd}*({kk}-1) + {oo} + 1", o)
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


class LocalArgs(Shorthand):
    out: PosInt
    k: IntPerAxis
    stride: IntPerAxis = 1
    pad: Padding = 0
    bias: bool = True


@register
class Local(_Convolution[Window]):
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
        n = spatial(ins[0], self.name)
        k = per_axis(self.args.k, len(n), "k")
        s = per_axis(self.args.stride, len(n), "stride")
        pad = self.args.pad
        return Window(n, k, (1,) * len(n), s, resolve_padding(pad, n, k, s), same=same_form(pad))

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
