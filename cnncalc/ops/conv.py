"""Convolutions: ``conv`` (incl. groups, depthwise, dilation, LeNet-5's ``connect``
table), ``conv_transpose`` and ``local`` (locally connected, unshared weights)."""

from __future__ import annotations

from fractions import Fraction

from pydantic import model_validator

from ..errors import ShapeError
from .base import Op, OpArgs, Params, RFStep, Shape, Window, numel, per_axis, register, resolve_padding, spatial
from .types import ActName, IntPerAxis, NonNegInt, NonNegPerAxis, Padding, PosInt


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
    def _connect_fits(self) -> "ConvArgs":
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
    return Window(n, k, d, s, resolve_padding(a.pad, n, k_eff, s))


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise ShapeError(f"groups={groups} does not divide the {c_in} input channels")
    if c_out % groups:
        raise ShapeError(f"groups={groups} does not divide out={c_out}")


class _Convolution(Op):
    """The figures ``conv`` and ``local`` share, given their ``window`` and ``macs``:
    FLOPs (two per MAC, plus one add per output for a bias), the window's receptive-field
    step and the input rows its stride leaves unread."""

    args: "ConvArgs | LocalArgs"

    def window(self, ins: list[Shape]) -> Window:
        raise NotImplementedError

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"conv": 2 * self.macs(ins, out), "bias": numel(out) if self.args.bias else 0}

    def rf(self, ins: list[Shape]) -> RFStep:
        return self.window(ins).rf()

    def warnings(self, ins: list[Shape]) -> list[str]:
        return self.window(ins).truncation(self.name)


@register
class Conv(_Convolution):
    name = "conv"
    family = "conv"
    fresh_output = True
    summary = "N-d convolution (1-D, 2-D or 3-D by input rank); groups, dilation, connect table"
    formulas = {
        "shape": "out, floor((n + pb + pa - d*(k-1) - 1)/s) + 1 per axis",
        "params": "out * C/groups * prod(k) + out (bias); with connect: sum(len(row)) * prod(k) + out",
        "macs": "out * C/groups * prod(k) * prod(out spatial) (connect: sum(len(row)) for out*C/groups)",
        "flops": "conv: 2 * macs; bias: numel(out)",
        "rf": "size += d*(k-1)*jump; jump *= s; start += (d*(k-1)/2 - pb)*jump",
    }
    Args = ConvArgs
    args: ConvArgs

    def window(self, ins: list[Shape]) -> Window:
        # every figure needs the window: resolve it once per input shape
        cached = self.__dict__.get("_window")
        if cached is None or cached[0] != ins[0]:
            cached = self._window = (ins[0], _conv_window(self.args, ins[0], self.name))
        return cached[1]

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
                    f"{c_in} channels (0-{c_in - 1})"
                )
        return sum(len(row) for row in a.connect)

    def shape(self, ins: list[Shape]) -> Shape:
        self.connections(ins[0][0])
        return (self.args.out, *self.window(ins).out(self.name))

    def params(self, ins: list[Shape]) -> Params:
        k = numel(self.window(ins).k)
        return Params(self.connections(ins[0][0]) * k + (self.args.out if self.args.bias else 0))

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return self.connections(ins[0][0]) * numel(self.window(ins).k) * numel(out[1:])

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: output size per axis, parameters (a connect table grouped by
        how many maps each output map reads), MACs, and any input rows never read."""
        from ..explain import Step, dims, letters, truncation, window_size

        a, w, c_in = self.args, self.window(ins), ins[0][0]
        k_sym, m_sym = letters("k", len(w.k)), letters("m", len(w.k))
        if a.connect is not None:
            steps = connect_working(a.connect, numel(w.k), a.bias, c_in, self.params(ins).total)
            macs_text = f"({' + '.join(f'{n}x{r}' for n, r in connect_groups(a.connect))})"
            macs_sym = "connections"
        else:
            per_map = f"{c_in}/{a.groups}" if a.groups > 1 else str(c_in)
            one, sym = f"{dims(w.k)}x{per_map}", f"{k_sym} x c_in/groups"
            text, sym = ((f"({one} + 1) x {a.out}", f"({sym} + 1) x c_out") if a.bias
                         else (f"{one} x {a.out}", f"{sym} x c_out"))
            steps = [Step("params", text, self.params(ins).total, sym, "params")]
            macs_text, macs_sym = f"{per_map} x {a.out}", "c_in/groups x c_out"
        macs = Step("MACs", f"{macs_text} x {dims(w.k, ' x ')} x {dims(out[1:], ' x ')}",
                    self.macs(ins, out), f"{macs_sym} x {k_sym} x {m_sym}", "macs")
        return window_size(w, out[1:]) + steps + [macs] + truncation(w)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """``nn.ConvNd`` by rank (an explicit pad first when asymmetric); with ``connect``,
        a module holding exactly the connected kernels."""
        from ..torch import modules

        a, w = self.args, self.window(ins)
        if a.connect is not None:
            return modules.ConnectConv(a.connect, ins[0][0], w.k, w.stride, w.pad, w.dilation,
                                       a.bias)
        return modules.conv(len(w.n), ins[0][0], a.out, w.k, w.stride, w.pad, w.dilation,
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
                    total: int) -> list["Step"]:
    """Which maps feed which, and the parameters of a partial connection table:
    ``6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516`` for LeNet-5's C3."""
    from ..explain import Step

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
    for i in sorted({i for row in connect for i in row if i < c_in}) + [c_in]:
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


@register
class ConvTranspose(Op):
    name = "conv_transpose"
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

    def _axes(self, x: Shape) -> tuple[tuple[int, ...], ...]:
        a = self.args
        n = spatial(x, self.name)
        r = len(n)
        return (n, per_axis(a.k, r, "k"), per_axis(a.stride, r, "stride"), per_axis(a.pad, r, "pad"),
                per_axis(a.output_padding, r, "output_padding"), per_axis(a.dilation, r, "dilation"))

    def shape(self, ins: list[Shape]) -> Shape:
        _check_groups(ins[0][0], self.args.out, self.args.groups)
        sizes = []
        for n, k, s, p, op, d in zip(*self._axes(ins[0])):
            if op >= max(s, d):
                raise ShapeError(
                    f"output_padding {op} must be smaller than stride {s} or dilation {d}"
                )
            size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            if size < 1:
                raise ShapeError(
                    f"output size is {max(size, 0)}: ({n}-1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1 = {size}"
                )
            sizes.append(size)
        return (self.args.out, *sizes)

    def params(self, ins: list[Shape]) -> Params:
        a = self.args
        k = numel(self._axes(ins[0])[1])
        return Params(ins[0][0] * (a.out // a.groups) * k + (a.out if a.bias else 0))

    def macs(self, ins: list[Shape], out: Shape) -> int:
        # every input element is multiplied by every weight it touches, once
        a = self.args
        return ins[0][0] * (a.out // a.groups) * numel(self._axes(ins[0])[1]) * numel(ins[0][1:])

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"conv": 2 * self.macs(ins, out), "bias": numel(out) if self.args.bias else 0}

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: output size per axis, parameters, MACs per input element."""
        from ..explain import Step, dims, letters, per_axis

        a, c_in = self.args, ins[0][0]
        n, k, s, p, op, d = self._axes(ins[0])
        items = [(f"({nn}-1)*{ss} - 2*{pp} + {dd}*({kk}-1) + {oo} + 1", o)
                 for nn, kk, ss, pp, oo, dd, o in zip(n, k, s, p, op, d, out[1:])]
        per_map = f"{a.out}/{a.groups}" if a.groups > 1 else str(a.out)
        k_sym = letters("k", len(k))
        one = f"{dims(k)}x{c_in}x{per_map}"
        params = (Step("params", f"{one} + {a.out}", self.params(ins).total,
                       f"{k_sym} x c_in x c_out/groups + c_out", "params") if a.bias else
                  Step("params", one, self.params(ins).total, f"{k_sym} x c_in x c_out/groups",
                       "params"))
        macs = Step("MACs", f"{c_in} x {per_map} x {dims(k, ' x ')} x {dims(n, ' x ')}",
                    self.macs(ins, out), f"c_in x c_out/groups x {k_sym} x {letters('n', len(k))} "
                    "(every input element meets every weight once)", "macs")
        return per_axis("output", items, "shape",
                        "(n-1)*s - 2p + d*(k-1) + output_padding + 1") + [params, macs]

    def rf(self, ins: list[Shape]) -> RFStep:
        n, k, s, p, _, d = self._axes(ins[0])
        k_eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        return RFStep(
            tuple(Fraction(ke - 1, ss) for ke, ss in zip(k_eff, s)),
            tuple(Fraction(1, ss) for ss in s),
            tuple((pp - Fraction(ke - 1, 2)) / ss for pp, ke, ss in zip(p, k_eff, s)),
        )

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """``nn.ConvTransposeNd`` by rank."""
        from ..torch import modules

        a = self.args
        n, k, s, p, op, d = self._axes(ins[0])
        cls = modules.layer_class("ConvTranspose", len(n))
        return cls(ins[0][0], a.out, k, s, p, op, a.groups, a.bias, d)


class LocalArgs(Shorthand):
    out: PosInt
    k: IntPerAxis
    stride: IntPerAxis = 1
    pad: Padding = 0
    bias: bool = True


@register
class Local(_Convolution):
    name = "local"
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

    def window(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        k = per_axis(self.args.k, len(n), "k")
        s = per_axis(self.args.stride, len(n), "stride")
        return Window(n, k, (1,) * len(n), s, resolve_padding(self.args.pad, n, k, s))

    def shape(self, ins: list[Shape]) -> Shape:
        return (self.args.out, *self.window(ins).out(self.name))

    def params(self, ins: list[Shape]) -> Params:
        out = self.shape(ins)
        bias = numel(out) if self.args.bias else 0  # untied: one bias per output unit
        return Params(self.macs(ins, out) + bias)

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return numel(out) * ins[0][0] * numel(self.window(ins).k)

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: output size, one kernel (and bias) per output unit, MACs."""
        from ..explain import Step, dims, letters, truncation, window_size

        w, c_in, c_out = self.window(ins), ins[0][0], self.args.out
        k_sym, m_sym = letters("k", len(w.k)), letters("m", len(w.k))
        unit = f"{dims(w.k)}x{c_in}"
        text, sym = ((f"({unit} + 1) x {c_out} x {dims(out[1:])}",
                      f"({k_sym} x c_in + 1) x c_out x {m_sym}") if self.args.bias else
                     (f"{unit} x {c_out} x {dims(out[1:])}", f"{k_sym} x c_in x c_out x {m_sym}"))
        return window_size(w, out[1:]) + [
            Step("params", text, self.params(ins).total, sym + " (unshared weights)", "params"),
            Step("MACs", f"{c_in} x {c_out} x {dims(w.k, ' x ')} x {dims(out[1:], ' x ')}",
                 self.macs(ins, out), f"c_in x c_out x {k_sym} x {m_sym}", "macs"),
        ] + truncation(w)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """Unshared weights via unfold + one batched matmul (cnncalc.torch.modules)."""
        from ..torch import modules

        w = self.window(ins)
        return modules.LocallyConnected(ins[0][0], self.args.out, w.k, w.stride, w.pad, out[1:],
                                        self.args.bias)
