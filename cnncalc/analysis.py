"""Walk the layer graph once and compute every figure: the static analysis.

No forward pass and no torch: shapes, parameters, MACs and FLOPs come from each
op's own formulas; receptive fields follow Araujo et al.'s recurrence; peak memory
comes from tensor lifetimes in topological order.

>>> import cnncalc
>>> r = cnncalc.analyze(cnncalc.load("lenet5"))
>>> r.layer("C3").params, r.totals.trainable_params
(1516, 60000)
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import CnncalcError, ShapeError, UsageError
from .graph import INPUT, Network, Node
from .ops.base import FLOP_CATEGORIES, Layer, RFStep, Shape, numel
from .report import DType, LayerReport, ReceptiveField, Report, Totals
from .working import bracketed

DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True)
class _RF:
    rf: ReceptiveField | None
    #: True once a global reduction or a flatten has mixed every position
    mixed: bool


def _apply(rf: ReceptiveField, step: RFStep) -> ReceptiveField:
    if step.is_identity:
        return rf
    return ReceptiveField(
        tuple(r + s * j for r, s, j in zip(rf.size, step.span, rf.jump)),
        tuple(j * f for j, f in zip(rf.jump, step.factor)),
        tuple(st + o * j for st, o, j in zip(rf.start, step.offset, rf.jump)),
        rf.aligned,
    )


def _propagate(layer: Layer[Any], states: list[_RF]) -> _RF:
    steps = layer.op.rf_inputs(layer) if len(layer.ins) > 1 else [layer.op.rf(layer)]
    paths = []
    for state, step in zip(states, steps):
        if state.rf is None or step is None or len(step.span) != len(state.rf.size):
            return _RF(None, True)
        paths.append(_apply(state.rf, step))
    mixed = any(s.mixed for s in states) or any(s.whole for s in steps if s)
    if len(paths) == 1:
        return _RF(paths[0], mixed)
    widest = max(paths, key=lambda p: tuple(p.size))
    aligned = all(p.aligned for p in paths) and all(
        p.jump == widest.jump and p.start == widest.start for p in paths)
    return _RF(ReceptiveField(widest.size, widest.jump, widest.start, aligned), mixed)


def _input_rf(shape: Shape) -> _RF:
    if len(shape) < 2:
        return _RF(None, True)
    n = len(shape) - 1
    return _RF(ReceptiveField((1,) * n, (1,) * n, (0,) * n), False)


#: no tensor dimension may have more digits (products of such sizes stay printable)
MAX_DIM_DIGITS = 60


def _figures(node: Node, layer: Layer[Any], batch: int, size: int, strict: bool
             ) -> dict[str, Any]:
    """Every figure of one resolved layer but its receptive field, as LayerReport's fields."""
    op, ins, out = layer.op, layer.ins, layer.out
    if any(d >= 10 ** MAX_DIM_DIGITS for d in out):
        raise ShapeError(f"the output shape has a dimension of more than {MAX_DIM_DIGITS} digits; "
                         "no real tensor is that large")
    p = op.params(layer)
    macs = op.macs(layer)
    breakdown = {k: v * batch for k, v in op.flops(layer).items() if v}
    unknown = set(breakdown) - set(FLOP_CATEGORIES)
    if unknown:  # a programming error in an op, not a user error
        raise RuntimeError(f"op {op.name} reports unknown FLOP categories {sorted(unknown)}")
    warns = tuple(op.warnings(layer))
    if strict and warns:
        raise ShapeError(warns[0] + " (an error when strict)",
                         hints=("change the padding or stride so the windows tile the input, "
                                "or set `strict: false` in the spec if this is intended",))
    return dict(
        id=node.id, op=op.name, inputs=node.inputs, input_shapes=tuple(ins), output_shape=out,
        params=p.total, trainable_params=p.trainable, buffers=p.buffers, macs=macs * batch,
        flops=sum(breakdown.values()), flops_breakdown=breakdown,
        activation_bytes=numel(out) * batch * size, param_bytes=p.total * size, warnings=warns,
        block=node.block, block_name=node.block_name, shorthand=node.shorthand, loc=node.loc,
    )


def _locate(exc: CnncalcError, node: Node, ins: list[Shape]) -> CnncalcError:
    notes = tuple(reversed(node.trace))
    if len(ins) > 1:
        shown = ", ".join(f"{i} {bracketed(s, ',')}" for i, s in zip(node.inputs, ins))
        notes = (f"inputs: {shown}", *notes)
    else:
        notes = (f"input shape {bracketed(ins[0], ',')}", *notes)
    arg = exc.arg if isinstance(exc, ShapeError) else None
    return exc.located(node.arg_locs.get(arg, node.loc) if arg else node.loc, layer=node.id,
                       notes=notes)


def _peak(net_nodes: tuple[Node, ...], sizes: dict[str, int], output: str) -> int:
    last_use = {INPUT: -1}
    for i, node in enumerate(net_nodes):
        for name in node.inputs:
            last_use[name] = i
    last_use[output] = len(net_nodes)
    live = sizes[INPUT]
    peak = live
    for i, node in enumerate(net_nodes):
        live += sizes[node.id]
        peak = max(peak, live)
        for name in set(node.inputs):
            if last_use.get(name) == i:
                live -= sizes[name]
        if last_use.get(node.id, -1) < i:  # produced but never read: freed at once
            live -= sizes[node.id]
    return peak


def _checked_shape(shape: Any) -> Shape:
    """An input shape given to :func:`analyze`: 1 to 4 positive integers."""
    x = tuple(shape) if isinstance(shape, (tuple, list)) else None
    if not x or len(x) > 4 or any(type(d) is not int or d < 1 for d in x):
        raise UsageError(f"input shape must be 1 to 4 positive integers ([F], [C, L], [C, H, W] "
                         f"or [C, D, H, W], no batch axis), got {shape!r}")
    return x


def resolve_layers(network: Network, report: Report) -> list[Layer[Any]]:
    """Every node's op bound to the input shapes the analysis found (for the passes that
    follow one: explain, the torch build), one resolution per layer."""
    return [node.op.resolve(row.input_shapes) for node, row in zip(network.nodes, report.layers)]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while building many acyclic objects: at 10^5 layers
    the collector's repeated passes over everything alive cost a third of the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def analyze(network: Network, input_shape: Shape | None = None, *, batch: int = 1,
            dtype: DType = "float32", strict: bool | None = None) -> Report:
    """Analyse ``network`` statically and return a :class:`Report`.

    ``input_shape`` overrides the spec's input (no batch axis); figures that scale
    with the batch (MACs, FLOPs, activation bytes) are for ``batch`` samples.
    """
    with paused_gc():
        return _analyze(network, input_shape, batch, dtype, strict)


def _analyze(network: Network, input_shape: Shape | None, batch: int, dtype: DType,
             strict: bool | None) -> Report:
    if dtype not in DTYPE_BYTES:
        raise UsageError(f"dtype '{dtype}' is unknown (choose from {', '.join(DTYPE_BYTES)})")
    if type(batch) is not int or batch < 1:
        raise UsageError(f"batch must be an integer >= 1, got {batch!r}")
    size = DTYPE_BYTES[dtype]
    strict = bool(network.strict if strict is None else strict)
    x = _checked_shape(input_shape) if input_shape is not None else network.input_shape
    shapes: dict[str, Shape] = {INPUT: x}
    rfs: dict[str, _RF] = {INPUT: _input_rf(x)}
    rows: list[LayerReport] = []
    warnings: list[str] = []
    rf_at: tuple[ReceptiveField | None, str | None] = (None, None)
    for node in network.nodes:
        ins = [shapes[i] for i in node.inputs]
        try:
            layer = node.op.resolve(ins)  # the only place the analysis binds an op to shapes
            figures = _figures(node, layer, batch, size, strict)
            state = _propagate(layer, [rfs[i] for i in node.inputs])
        except CnncalcError as exc:
            raise _locate(exc, node, ins) from None
        row = LayerReport(**figures, receptive_field=state.rf)
        shapes[node.id], rfs[node.id] = row.output_shape, state
        if state.rf is not None and not state.mixed:
            rf_at = (state.rf, node.id)
        warnings.extend(f"{node.id}: {w}" for w in row.warnings)
        rows.append(row)
    sizes = {INPUT: numel(x) * batch * size} | {r.id: r.activation_bytes for r in rows}
    breakdown = dict.fromkeys(FLOP_CATEGORIES, 0)
    for r in rows:
        for c, v in r.flops_breakdown.items():
            breakdown[c] += v
    totals = Totals(
        params=sum(r.params for r in rows),
        trainable_params=sum(r.trainable_params for r in rows),
        buffers=sum(r.buffers for r in rows),
        macs=sum(r.macs for r in rows),
        flops=sum(breakdown.values()),
        flops_breakdown={c: v for c, v in breakdown.items() if v},
        param_bytes=sum(r.param_bytes for r in rows),
        buffer_bytes=sum(r.buffers for r in rows) * size,
        input_bytes=sizes[INPUT],
        activation_bytes=sum(r.activation_bytes for r in rows),
        peak_activation_bytes=_peak(network.nodes, sizes, network.output),
    )
    return Report(
        name=network.name, input_shape=x, output_shape=shapes[network.output], batch=batch,
        dtype=dtype, layers=tuple(rows), totals=totals, receptive_field=rf_at[0],
        receptive_field_layer=rf_at[1], warnings=tuple(warnings), source=network.source,
    )
