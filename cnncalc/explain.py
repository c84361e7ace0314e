"""Worked arithmetic: every layer's figures as a teacher writes them on the board.

Plain data, no rich: a layer's explanation is a list of :class:`Step` s, each a label,
the formula with the numbers filled in, and its result::

    output height, width   floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 10
    params                 6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516

The op-specific formulas live on the ops themselves (``Op.explain(ins, out)``, next
to the figures they explain); this module holds the pieces every windowed op shares
(output size, truncation), the receptive-field recurrence, which needs the network,
and the walk over a network.  Ops without an ``explain`` method get generic steps
built from their ``formulas`` and figures.

>>> import cnncalc
>>> c3 = explain_network(cnncalc.load("lenet5"), layer="C3")[0]
>>> [s.text() for s in c3.steps if s.label == "params"]
['6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .suggest import close_matches

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Network, Node
    from .ops.base import Layer, RFStep, Window
    from .report import LayerReport, ReceptiveField, Report

Number = int | float | Fraction

#: what a step is about (renderers may colour by it; JSON carries it)
KINDS = ("shape", "params", "macs", "flops", "rf", "truncation", "note")


@dataclass(frozen=True)
class Step:
    """One line of worked arithmetic: ``label: formula = result``.

    ``symbolic`` is the same formula in letters (``(k_h x k_w x c_in/groups + 1) x
    c_out``); ``formula`` may be empty when the result is a plain statement.
    """

    label: str
    formula: str
    result: Number | str
    symbolic: str = ""
    kind: str = "note"

    def text(self) -> str:
        """``formula = result`` (or the result alone), numbers with thousands commas.

        >>> Step("params", "(5x5x1 + 1) x 6", 156).text()
        '(5x5x1 + 1) x 6 = 156'
        """
        return f"{self.formula} = {fmt(self.result)}" if self.formula else fmt(self.result)

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        if isinstance(result, Fraction):
            result = int(result) if result.denominator == 1 else float(result)
        return {"label": self.label, "formula": self.formula, "result": result,
                "symbolic": self.symbolic, "kind": self.kind, "text": self.text()}


# ------------------------------------------------------------------ number text
def fmt(x: Number | str) -> str:
    """A result: ``1,516``, ``3/2``, ``0.5``; strings as they are."""
    if isinstance(x, Fraction):
        return f"{x.numerator:,}" if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, bool) or isinstance(x, str):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:g}"


def num(x: Number) -> str:
    """A number inside a formula: no thousands commas, fractions as ``a/b``."""
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def dims(values: Sequence[int], sep: str = "x") -> str:
    """``(5, 5)`` -> ``5x5``; with ``sep=" x "``: ``5 x 5``."""
    return sep.join(str(v) for v in values)


_AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_LETTER = {"length": "l", "height": "h", "width": "w", "depth": "d"}


def axis_names(rank: int) -> tuple[str, ...]:
    """Names of the spatial axes: ``height, width`` for 2-D inputs."""
    return _AXES.get(rank, tuple(f"axis {i}" for i in range(rank)))


def letters(base: str, rank: int, sep: str = " x ") -> str:
    """Per-axis symbols: ``letters("k", 2)`` -> ``k_h x k_w``; 1-D: ``k``."""
    if rank == 1:
        return base
    return sep.join(f"{base}_{_LETTER.get(a, str(i))}" for i, a in enumerate(axis_names(rank)))


def per_axis(label: str, items: Sequence[tuple[str, Number | str]], kind: str,
             symbolic: str = "") -> list[Step]:
    """One step per spatial axis, or one for all axes when their working is the same."""
    names = axis_names(len(items))
    if len(items) > 1 and len(set(items)) == 1:
        return [Step(f"{label} {', '.join(names)}", items[0][0], items[0][1], symbolic, kind)]
    return [Step(f"{label} {name}", f, r, symbolic, kind) for name, (f, r) in zip(names, items)]


# -------------------------------------------------------- shared window working
WINDOW_SYMBOLIC = "floor((n + 2p - d*(k-1) - 1) / s) + 1"
#: the same with a [before, after] padding, and the -1 of torch's ceil_mode rule
WINDOW_SYMBOLIC_PAIR = "floor((n + (p_before+p_after) - d*(k-1) - 1) / s) + 1"
CEIL_LAST = " - 1"


def window_formula(n: int | str, k: int, d: int, s: int, before: int | str, after: int | str,
                   ceil_mode: bool = False, pair: bool = False) -> str:
    """``floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1``; an asymmetric pad (or any, with
    ``pair``) as ``(3+2)``.

    >>> window_formula(6, 4, 1, 1, 2, 1)
    'floor((6 + (2+1) - 1*(4-1) - 1) / 1) + 1'
    """
    pad = f"2*{before}" if before == after and not pair else f"({before}+{after})"
    return f"{'ceil' if ceil_mode else 'floor'}(({n} + {pad} - {d}*({k}-1) - 1) / {s}) + 1"


def window_size(w: "Window", outs: Sequence[int]) -> list[Step]:
    """The output size of a sliding window along each axis, numbers filled in, each
    with the formula in letters it follows.

    >>> from cnncalc.ops.base import Window
    >>> window_size(Window((224,), (7,), (1,), (2,), ((3, 3),)), (112,))[0].text()
    'floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112'
    """
    pair = any(b != a for b, a in w.pad)
    symbolic = WINDOW_SYMBOLIC_PAIR if pair else WINDOW_SYMBOLIC
    if w.ceil_mode:
        symbolic = symbolic.replace("floor", "ceil")
    items = []
    for n, k, d, s, (b, a), ke, o in zip(w.n, w.k, w.dilation, w.stride, w.pad, w.k_eff, outs):
        text, sym = window_formula(n, k, d, s, b, a, w.ceil_mode, pair), symbolic
        if w.ceil_mode and -(-(n + b + a - ke) // s) + 1 != o:
            # the last window would start in the trailing padding: torch drops it
            text, sym = text + CEIL_LAST, sym + CEIL_LAST + " (a last window in the padding)"
        items.append((text, o, sym))
    return axis_steps("output", items, "shape")


def axis_steps(label: str, items: Sequence[tuple[str, Number | str, str]], kind: str) -> list[Step]:
    """Like :func:`per_axis`, each axis with its own formula in letters."""
    names = axis_names(len(items))
    if len(items) > 1 and len(set(items)) == 1:
        f, r, sym = items[0]
        return [Step(f"{label} {', '.join(names)}", f, r, sym, kind)]
    return [Step(f"{label} {name}", f, r, sym, kind) for name, (f, r, sym) in zip(names, items)]


def truncation(w: "Window") -> list[Step]:
    """Per axis: positions left over after the last window, and whether they are real
    input rows that are never read (truncation) or only trailing padding."""
    items: list[tuple[str, str] | None] = []
    kinds = set()
    unit_of = {"height": "row", "width": "column"}
    for name, n, s, (b, a), ke in zip(axis_names(len(w.n)), w.n, w.stride, w.pad, w.k_eff):
        rest = (n + b + a - ke) % s
        if rest == 0 or w.ceil_mode:
            items.append(None)
            continue
        unit = unit_of.get(name, "position")
        working = f"({n} + {b}+{a} - {ke}) % {s}"
        dropped = rest - a
        if dropped > 0:
            rows = f"{n - dropped}" if dropped == 1 else f"{n - dropped}-{n - 1}"
            plural = "s" if dropped > 1 else ""
            items.append((working, f"{rest} left over, trailing pad {a}: input {unit}{plural} "
                                   f"{rows} (of 0-{n - 1}) never read, truncation"))
            kinds.add("truncation")
        else:
            items.append((working, f"{rest} left over, within the trailing pad {a}: "
                                   "no input lost"))
    if all(i is None for i in items):
        return []
    sym = "(n + p_before + p_after - k_eff) % s"
    if len(items) > 1 and len(set(items)) == 1:
        return per_axis("tiling", items, "truncation" if kinds else "note", sym)
    names = axis_names(len(w.n))
    return [Step(f"tiling {names[i]}", f, r, sym, "truncation" if "never read" in r else "note")
            for i, it in enumerate(items) if it is not None for f, r in [it]]


# ------------------------------------------------------------ receptive fields
def operand(x: Number) -> str:
    """A number as an operand of a formula: fractions and negatives in parentheses, so
    ``(1/2)/2`` reads as one value divided by 2.

    >>> operand(3), operand(Fraction(5, 2)), operand(-1)
    ('3', '(5/2)', '(-1)')
    """
    text = num(x)
    return f"({text})" if "/" in text or text.startswith("-") else text


@dataclass(frozen=True)
class RFWorking:
    """How one layer's receptive-field step is written: per axis, the right-hand sides
    of ``r``, ``j`` and ``start`` with the layer's numbers, given the incoming values as
    operands; and the same three in letters.  The numbers an op's ``rf`` computes are
    what these formulas compute (tests/test_explain.py evaluates every one)."""

    size: Callable[[int, str, str], str]
    jump: Callable[[int, str], str]
    start: Callable[[int, str, str], str]
    symbolic: tuple[str, str, str]


GENERIC_RF_SYMBOLIC = ("r = r_in + span*j_in", "j = j_in*factor", "start = start_in + offset*j_in")


def rf_working(layer: "Layer[Any]", step: "RFStep") -> RFWorking:
    """The formulas behind ``op.rf(layer)``: a sliding window's (k, d, s, p), a
    transposed convolution's, an adaptive pool's or a resize's; for any other op the
    step's own span, factor and offset as numbers."""
    writer = _RF_WRITERS.get(layer.op.name)
    found = writer(layer, step) if writer is not None else _window_rf(layer, step)
    return found if found is not None else _generic_rf(step)


def _generic_rf(step: "RFStep") -> RFWorking:
    return RFWorking(
        lambda i, r, j: f"{r} + {operand(step.span[i])}*{j}",
        lambda i, j: f"{j}*{operand(step.factor[i])}",
        lambda i, st, j: f"{st} + {operand(step.offset[i])}*{j}",
        GENERIC_RF_SYMBOLIC)


def _window_rf(layer: "Layer[Any]", step: "RFStep") -> RFWorking | None:
    """``r = r_in + d*(k-1)*j_in``, ``j = j_in*s``, ``start = start_in + (d*(k-1)/2 -
    p)*j_in`` of a sliding window (``d*`` left out when no axis is dilated), when the
    step is the window's."""
    w = layer.op.window(layer)
    if w is None:
        return None
    own = w.rf()
    if (own.span, own.factor, own.offset) != (step.span, step.factor, step.offset):
        return None
    dilated = any(d != 1 for d in w.dilation)

    def k_term(i: int) -> str:
        return f"{w.dilation[i]}*({w.k[i]}-1)" if dilated else f"({w.k[i]}-1)"

    kd = "d*(k-1)" if dilated else "(k-1)"
    return RFWorking(
        lambda i, r, j: f"{r} + {k_term(i)}*{j}",
        lambda i, j: f"{j}*{w.stride[i]}",
        lambda i, st, j: f"{st} + ({k_term(i)}/2 - {w.pad[i][0]})*{j}",
        (f"r = r_in + {kd}*j_in", "j = j_in*s", f"start = start_in + ({kd}/2 - p)*j_in"))


def _transposed_rf(layer: "Layer[Any]", step: "RFStep") -> RFWorking:
    """A transposed convolution (what ``ConvTranspose.rf`` computes): each output row
    sits ``1/s`` input rows from the next, and ``d*(k-1)`` output rows of the kernel
    span ``d*(k-1)/s`` input rows: ``r = r_in + (d*(k-1)/s)*j_in``, ``j = j_in/s``,
    ``start = start_in + ((p - d*(k-1)/2)/s)*j_in``."""
    g = layer.geo  # cnncalc.ops.conv.TransposedAxes
    k, s, p, d = g.k, g.stride, g.pad, g.dilation

    def k_term(i: int) -> str:
        return f"{d[i]}*({k[i]}-1)"

    return RFWorking(
        lambda i, r, j: f"{r} + ({k_term(i)}/{s[i]})*{j}",
        lambda i, j: f"{j}/{s[i]}",
        lambda i, st, j: f"{st} + (({p[i]} - {k_term(i)}/2)/{s[i]})*{j}",
        ("r = r_in + (d*(k-1)/s)*j_in", "j = j_in/s", "start = start_in + ((p - d*(k-1)/2)/s)*j_in"))


def _adaptive_rf(layer: "Layer[Any]", step: "RFStep") -> RFWorking:
    """An adaptive pool: the longest window spans ``L - 1`` more rows, positions are
    ``n/size`` rows apart, the first window of ``ceil(n/size)`` rows is centred."""
    from .ops.pool import adaptive_longest

    n, size = [a for a, _ in layer.geo], [b for _, b in layer.geo]  # (input, output) per axis
    return RFWorking(
        lambda i, r, j: f"{r} + ({adaptive_longest(n[i], size[i])}-1)*{j}",
        lambda i, j: f"{j}*{n[i]}/{size[i]}",
        lambda i, st, j: f"{st} + ({-(-n[i] // size[i])}-1)/2*{j}",
        ("r = r_in + (longest window - 1)*j_in", "j = j_in*n/size",
         "start = start_in + (first window - 1)/2*j_in"))


def _resize_rf(layer: "Layer[Any]", step: "RFStep") -> RFWorking:
    """A resize (upsample): outputs ``n/out`` input rows apart; linear modes read one
    more row (``reach`` 1), nearest none."""
    n, out = layer.x[1:], layer.out[1:]
    reach = operand(step.span[0]) if step.span else "0"
    return RFWorking(
        lambda i, r, j: f"{r} + {reach}*{j}",
        lambda i, j: f"{j}*{n[i]}/{out[i]}",
        lambda i, st, j: f"{st} + {reach}/2*{j}",
        ("r = r_in + reach*j_in (reach: 0 nearest, 1 linear)", "j = j_in*n_in/n_out",
         "start = start_in + reach/2*j_in"))


_RF_WRITERS: dict[str, Callable[["Layer[Any]", "RFStep"], RFWorking]] = {
    "conv_transpose": _transposed_rf, "adaptive_avgpool": _adaptive_rf,
    "adaptive_maxpool": _adaptive_rf, "upsample": _resize_rf,
}


def rf_steps(layer: "Layer[Any]", rf_ins: Sequence["ReceptiveField | None"],
             rf_out: "ReceptiveField | None") -> list[Step]:
    """The receptive-field recurrence of one layer (Araujo et al., 2019), written as the
    op computes it (:func:`rf_working`): for a window ``r = r_in + (k-1)*j_in``,
    ``j = j_in*s``, ``start = start_in + ((k-1)/2 - p)*j_in``."""
    if rf_out is None or any(r is None for r in rf_ins):
        return []
    if len(layer.ins) > 1:
        sizes = ", ".join(dims([num(v) for v in r.size]) for r in rf_ins if r)
        return [Step("receptive field", f"the widest input: max({sizes})",
                     dims([num(v) for v in rf_out.size]), "r = max over inputs", "rf")]
    step = layer.op.rf(layer)
    rf_in = rf_ins[0]
    if step is None or rf_in is None:
        return []
    if step.is_identity:
        return [Step("receptive field", "", f"unchanged (r = {dims([num(v) for v in rf_in.size])}, "
                                            f"j = {dims([num(v) for v in rf_in.jump])})", "", "rf")]
    how = rf_working(layer, step)
    r_items, j_items, s_items = [], [], []
    for i, (r, j, st) in enumerate(zip(rf_in.size, rf_in.jump, rf_in.start)):
        r_text, j_text, st_text = operand(r), operand(j), operand(st)
        r_items.append((f"r = {how.size(i, r_text, j_text)}", r + step.span[i] * j))
        j_items.append((f"j = {how.jump(i, j_text)}", j * step.factor[i]))
        s_items.append((f"start = {how.start(i, st_text, j_text)}", st + step.offset[i] * j))
    r_sym, j_sym, s_sym = how.symbolic
    steps = (per_axis("rf size", r_items, "rf", r_sym) + per_axis("rf jump", j_items, "rf", j_sym)
             + per_axis("rf start", s_items, "rf", s_sym))
    if step.whole:
        steps.append(Step("receptive field", "", "a global reduction: the network's receptive "
                          "field is read before this layer", "", "note"))
    return steps


# ------------------------------------------------------------- generic steps
def generic_steps(layer: "Layer[Any]") -> list[Step]:
    """Steps for an op without its own ``explain``: the formula in words and the figure."""
    op = layer.op
    f = op.formulas
    steps = [Step("output shape", "", dims(layer.out), f.get("shape", ""), "shape")]
    params = op.params(layer)
    if params.total or params.buffers:
        steps.append(Step("params", "", params.total, f.get("params", ""), "params"))
    if params.buffers:
        steps.append(Step("buffers", "", params.buffers, "", "params"))
    macs = op.macs(layer)
    if macs:
        steps.append(Step("MACs", "", macs, f.get("macs", ""), "macs"))
    return steps


def flops_step(layer: "Layer[Any]") -> list[Step]:
    """FLOPs as the sum of their categories: ``conv 300,000 + bias 1,600 = 301,600``."""
    parts = [(k, v) for k, v in layer.op.flops(layer).items() if v]
    if not parts:
        return []
    text = " + ".join(f"{k} {v:,}" for k, v in parts) if len(parts) > 1 else ""
    return [Step("FLOPs", text, sum(v for _, v in parts), layer.op.formulas.get("flops", ""),
                 "flops")]


# ------------------------------------------------------------ the network walk
@dataclass(frozen=True)
class LayerExplanation:
    """One layer's figures and the working behind them."""

    id: str
    op: str
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()
    params: int = 0
    macs: int = 0
    flops: int = 0
    receptive_field: "ReceptiveField | None" = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "op": self.op, "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape), "params": self.params, "macs": self.macs,
            "flops": self.flops,
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "steps": [s.to_dict() for s in self.steps], "warnings": list(self.warnings),
        }


def explain_layer(node: "Node", row: "LayerReport", rf_ins: Sequence["ReceptiveField | None"]
                  ) -> LayerExplanation:
    """The working of one analysed layer (batch 1 figures)."""
    layer = node.op.resolve(row.input_shapes)  # bound once; every step below reads it
    steps = list(node.op.explain(layer))
    if not any(s.kind == "flops" for s in steps):
        steps += flops_step(layer)
    steps += rf_steps(layer, rf_ins, row.receptive_field)
    return LayerExplanation(node.id, node.op.name, node.inputs, tuple(layer.ins), layer.out,
                            tuple(steps), row.warnings, row.params, row.macs, row.flops,
                            row.receptive_field)


def select(net: "Network", layer: str | None) -> list["Node"]:
    """The nodes ``--layer`` names: an id, or a block scope / layer with its
    shorthand rows (``conv3[0]``, ``C1``).  A UsageError with a suggestion otherwise."""
    if layer is None:
        return list(net.nodes)
    chosen = [n for n in net.nodes if n.id == layer or n.id.startswith(layer + ".")]
    if not chosen:
        from .errors import UsageError

        near = close_matches(layer, [n.id for n in net.nodes], n=1, cutoff=0.5)
        raise UsageError(f"--layer {layer}: no such layer in {net.name}",
                         hints=(f"did you mean '{near[0]}'?",) if near else
                         ("`cnncalc shapes SPEC` lists the layer ids",))
    return chosen


def explain_network(net: "Network", input_shape: tuple[int, ...] | None = None,
                    layer: str | None = None, report: "Report | None" = None
                    ) -> list[LayerExplanation]:
    """Explain every layer of ``net`` (or those ``layer`` selects)."""
    from .analysis import analyze, paused_gc
    from .graph import INPUT

    report = report or analyze(net, input_shape, strict=False)
    rfs: dict[str, Any] = {r.id: r.receptive_field for r in report.layers}
    x = report.input_shape
    rank = len(x) - 1
    rfs[INPUT] = _input_rf(rank) if rank >= 1 else None
    with paused_gc():  # many small acyclic objects (steps), as in the analysis
        return [explain_layer(node, report.layer(node.id), [rfs[i] for i in node.inputs])
                for node in select(net, layer)]


def _input_rf(rank: int) -> "ReceptiveField":
    from .report import ReceptiveField

    return ReceptiveField((1,) * rank, (1,) * rank, (0,) * rank)
