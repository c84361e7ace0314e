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

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import add, mul
from typing import Any, NamedTuple

from .collector import paused_gc
from .errors import CnncalcError, ShapeError, UsageError
from .footprint import peaks
from .graph import INPUT, Network, Node
from .ops.base import FLOP_CATEGORIES, Layer, RFStep, Shape, numel
from .report import DTYPE_BYTES, DType, LayerReport, ReceptiveField, Report, Totals
from .working import bracketed


class _RF(NamedTuple):
    rf: ReceptiveField | None
    #: True once a global reduction or a flatten has mixed every position
    mixed: bool


def _apply(rf: ReceptiveField, step: RFStep) -> ReceptiveField:
    """The field after one step (the caller skips identity steps)."""
    field: ReceptiveField = object.__new__(ReceptiveField)  # (see _layer_report)
    # per axis: r + s*j, j*f, start + o*j (map over operator's functions: no frame per axis)
    field.__dict__.update(
        size=tuple(map(add, rf.size, map(mul, step.span, rf.jump))),
        jump=tuple(map(mul, rf.jump, step.factor)),
        start=tuple(map(add, rf.start, map(mul, step.offset, rf.jump))),
        aligned=rf.aligned)
    return field


def _propagate(bound: _Bound, states: list[_RF]) -> _RF:
    """The field of a bound layer's output from its inputs' (``states``): each input it
    reads, through its step; several inputs merge (:func:`_merged`)."""
    steps, paths, mixed = bound.steps, [], False
    for i in bound.read:
        state, step = states[i], steps[i]
        if state.rf is None or step is None or len(step.span) != len(state.rf.size):
            return _NO_FIELD
        paths.append(state.rf if bound.identity[i] else _apply(state.rf, step))
        mixed = mixed or state.mixed or step.whole
    return _RF(paths[0] if len(paths) == 1 else _merged(bound, paths), mixed)


#: the state of a value whose positions have no receptive field (or lost it)
_NO_FIELD = _RF(None, True)


def _merged(bound: _Bound, paths: list[ReceptiveField]) -> ReceptiveField:
    """The field of an output that reads several inputs, their fields ``paths``."""
    layer, read = bound.layer, bound.read
    widest = max(paths, key=lambda p: tuple(p.size))
    # a broadcast input (a [C, 1, 1] gate) has one position that every output position
    # reads: its field counts in the size, but the output's positions (jump, start) are
    # those of the inputs that span the output's spatial axes
    full = [p for p, i in zip(paths, read) if layer.ins[i][1:] == layer.out[1:]] or paths
    anchor = max(full, key=lambda p: tuple(p.size))
    aligned = all(p.aligned for p in paths) and all(
        p.jump == anchor.jump and p.start == anchor.start for p in paths)
    return ReceptiveField(widest.size, anchor.jump, anchor.start, aligned)


def _input_rf(shape: Shape) -> _RF:
    if len(shape) < 2:
        return _RF(None, True)
    n = len(shape) - 1
    return _RF(ReceptiveField((1,) * n, (1,) * n, (0,) * n), False)


#: no tensor dimension may have more digits (products of such sizes stay printable)
MAX_DIM_DIGITS = 60


def _strict_hint(warning: str) -> str:
    """What to do about a warning that strict mode makes an error."""
    fix = ("change the padding or stride so the windows tile the input"
           if "does not tile" in warning else "do what the warning says")
    return f"{fix}, or set `strict: false` in the spec if this is intended"


def _figures(layer: Layer[Any], batch: int, size: int) -> dict[str, Any]:
    """Every figure of one resolved layer that its op and input shapes decide, as
    LayerReport's fields (the node's own: :func:`_layer_report`)."""
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
    return dict(
        op=op.name, input_shapes=tuple(ins), output_shape=out,
        params=p.total, trainable_params=p.trainable, buffers=p.buffers, macs=macs * batch,
        flops=sum(breakdown.values()), flops_breakdown=breakdown,
        activation_bytes=numel(out) * batch * size, param_bytes=p.total * size,
        warnings=tuple(op.warnings(layer)),
    )


def locate_error(exc: CnncalcError, node: Node, ins: list[Shape]) -> CnncalcError:
    """``exc``, raised resolving ``node`` on ``ins``, located at the node (its input shapes
    and the blocks around it in notes)."""
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


def for_input(network: Network, input_shape: Shape | None) -> Network:
    """``network`` for ``input_shape``: itself, or, when its expressions read the input
    shape (``groups: "${in_channels}"``) and the shape is another, the spec expanded
    again for it (its layers may then differ).  Every pass that reads ``network.nodes``
    next to a report of another input takes its network from here."""
    if input_shape is None or network.reexpand is None:
        return network
    x = _checked_shape(input_shape)
    if x == network.input_shape:
        return network
    nodes, output = network.reexpand(x)
    return replace(network, input_shape=x, nodes=tuple(nodes), output=output)


def resolve_layers(network: Network, report: Report) -> list[Layer[Any]]:
    """Every node's op bound again to the input shapes the analysis found (the torch
    build's own binding; :func:`layers_of` for the passes that read the analysis's)."""
    network = for_input(network, report.input_shape)
    return [node.op.resolve(row.input_shapes) for node, row in zip(network.nodes, report.layers)]


def layers_of(network: Network, report: Report) -> Sequence[Layer[Any]]:
    """Every node's op bound to its input shapes, in the order of the report's rows, for
    the passes that follow an analysis (explain, the memory figures): the layers the
    analysis bound (:attr:`Report.bound_layers`), or, for a report made otherwise, bound
    again (:func:`resolve_layers`)."""
    if report.bound_layers is not None:
        return report.bound_layers
    return resolve_layers(network, report)


# ------------------------------------------------------------------ dead branches
def dead_branches(network: Network) -> list[list[int]]:
    """The layers from which the network's output is not reachable, as branches: each a
    connected group of such layers (by their wiring among themselves), as node indices in
    definition order; branches ordered by their first layer."""
    index = {node.id: i for i, node in enumerate(network.nodes)}
    live = [False] * len(network.nodes)
    todo = [index[network.output]] if network.output in index else []
    while todo:
        i = todo.pop()
        if not live[i]:
            live[i] = True
            todo.extend(index[name] for name in network.nodes[i].inputs if name in index)
    parent = {i: i for i, alive in enumerate(live) if not alive}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in parent:
        for name in network.nodes[i].inputs:
            j = index.get(name)
            if j is not None and j in parent:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in parent:  # definition order, so each group is too
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _quoted(layer_id: str, limit: int = 60) -> str:
    """A layer id quoted for a message: escaped when not printable, cut in the middle when
    long."""
    text = layer_id if layer_id.isprintable() else repr(layer_id)[1:-1]
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit // 2]}...{text[-limit // 2:]}'"


def _named(ids: Sequence[str]) -> str:
    """``layer 'a'``, ``layers 'a' and 'b'``, ``layers 'a', 'b' and 7 more (9 layers)``."""
    quoted = [_quoted(i) for i in ids[:3]]
    if len(ids) == 1:
        return f"layer {quoted[0]}"
    if len(ids) <= 3:
        return f"layers {', '.join(quoted[:-1])} and {quoted[-1]}"
    return f"layers {', '.join(quoted[:2])} and {len(ids) - 2} more ({len(ids)} layers)"


def dead_warning(network: Network, branch: Sequence[LayerReport]) -> str:
    """What a dead branch is told: which layers, and that their figures stay counted."""
    own = [r.id for r in branch if r.shorthand is None] or [r.id for r in branch]
    many = len(own) > 1
    params, macs = sum(r.params for r in branch), sum(r.macs for r in branch)
    head = (f"{_named(own)} never reach{'' if many else 'es'} the output "
            f"{_quoted(network.output)}")
    if not params and not macs:
        return head + f"; {'they hold' if many else 'it holds'} no params and no MACs"
    return (head + f"; {'their' if many else 'its'} {params:,} params and "
            f"{macs:,} MACs are still counted in the totals, as torch counts a module "
            "it never calls")


def _warn_dead(network: Network, rows: list[LayerReport], strict: bool) -> list[LayerReport]:
    """Each dead branch's warning on its first layer (an error when strict); none when
    the spec lays its layers side by side."""
    if network.side_by_side:
        return rows
    for branch in dead_branches(network):
        first = branch[0]
        text = dead_warning(network, [rows[i] for i in branch])
        if strict:
            node = network.nodes[first]
            exc = ShapeError(text + " (an error when strict)", hints=(
                "remove the branch or wire it into the output, or set `strict: false` in the "
                "spec if this is intended",))
            raise locate_error(exc, node, list(rows[first].input_shapes)) from None
        rows[first] = replace(rows[first], warnings=(*rows[first].warnings, text))
    return rows


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
    size = _checked_settings(batch, dtype)
    strict = bool(network.strict if strict is None else strict)
    x = _checked_shape(input_shape) if input_shape is not None else network.input_shape
    network = for_input(network, x)
    walk = _Walk(x, batch, size, strict)
    rows = _warn_dead(network, [walk.row(node) for node in network.nodes], strict)
    rf, rf_layer = walk.rf_at
    layers = tuple(walk.layers)
    return Report(
        name=network.name, input_shape=x, output_shape=walk.shapes[network.output],
        batch=batch, dtype=dtype, layers=tuple(rows),
        totals=_totals(network, rows, walk, x, batch, size),
        receptive_field=rf, receptive_field_layer=rf_layer,
        warnings=tuple(f"{r.id}: {w}" for r in rows for w in r.warnings), source=network.source,
        # the peaks, worked out when first asked for, on the layers the analysis bound
        memory_of=functools.partial(peaks, network, layers=layers), bound_layers=layers,
    )


def _checked_settings(batch: int, dtype: DType) -> int:
    """The bytes of one element of ``dtype``, once ``batch`` and ``dtype`` are checked."""
    if dtype not in DTYPE_BYTES:
        raise UsageError(f"dtype '{dtype}' is unknown (choose from {', '.join(DTYPE_BYTES)})")
    if type(batch) is not int or batch < 1:
        raise UsageError(f"batch must be an integer >= 1, got {batch!r}")
    return DTYPE_BYTES[dtype]


@dataclass(frozen=True)
class _Bound:
    """What one op gives on one set of input shapes: the layer, its figures (as
    LayerReport's fields), its receptive-field steps and the inputs it reads."""

    layer: Layer[Any]
    figures: dict[str, Any]
    steps: list[RFStep | None]
    read: list[int]
    #: per input: whether its step leaves the field as it is
    identity: list[bool]


class _Walk:
    """The analysis's one pass over the nodes, in topological order: each node's op bound
    to its input shapes and its figures, receptive fields carried along.  Nodes that
    share an op object (the expander gives equal arguments one op) on the same shapes
    share the work: the figures are the op's and the shapes' alone."""

    def __init__(self, x: Shape, batch: int, size: int, strict: bool) -> None:
        self.batch, self.size, self.strict = batch, size, strict
        self.shapes: dict[str, Shape] = {INPUT: x}
        self.rfs: dict[str, _RF] = {INPUT: _input_rf(x)}
        #: the last field read before positions were mixed, and its layer
        self.rf_at: tuple[ReceptiveField | None, str | None] = (None, None)
        self.bound: dict[tuple[Any, tuple[Shape, ...]], _Bound] = {}
        #: each node's bound layer, in order (nodes that share the work share it)
        self.layers: list[Layer[Any]] = []

    def row(self, node: Node) -> LayerReport:
        ins = tuple([self.shapes[i] for i in node.inputs])
        try:
            bound = self._bind(node, ins)
            state = _propagate(bound, [self.rfs[i] for i in node.inputs])
        except CnncalcError as exc:
            raise locate_error(exc, node, list(ins)) from None
        out = bound.layer.out
        self.layers.append(bound.layer)
        self.shapes[node.id], self.rfs[node.id] = out, state
        if state.rf is not None and not state.mixed:
            self.rf_at = (state.rf, node.id)
        return _layer_report(bound.figures, node, state.rf)

    def _bind(self, node: Node, ins: tuple[Shape, ...]) -> _Bound:
        key = (node.op, ins)
        bound = self.bound.get(key)
        if bound is None:
            layer = node.op.resolve(ins)  # the only place the analysis binds an op to shapes
            figures = _figures(layer, self.batch, self.size)
            warns = figures["warnings"]
            if self.strict and warns:  # a bound layer is kept only once it passed this
                raise ShapeError(warns[0] + " (an error when strict)",
                                 hints=(_strict_hint(warns[0]),))
            op = layer.op
            steps = op.rf_inputs(layer) if len(layer.ins) > 1 else [op.rf(layer)]
            # an input read only for its shape (upsample's reference) adds nothing to it
            read = [i for i, reads in enumerate(op.reads(layer)) if reads]
            identity = [step is not None and step.is_identity for step in steps]
            bound = self.bound[key] = _Bound(layer, figures, steps, read, identity)
        return bound


def _layer_report(figures: dict[str, Any], node: Node, rf: ReceptiveField | None
                  ) -> LayerReport:
    """The row of ``node``: its op's figures and its own id, wiring, place and field.
    Made without the frozen dataclass's ``__init__`` (19 guarded attribute sets, for 10^5
    rows); every field is given, as the dataclass would have it."""
    row: LayerReport = object.__new__(LayerReport)
    row.__dict__.update(figures)
    row.__dict__.update(
        id=node.id, inputs=node.inputs, block=node.block, block_name=node.block_name,
        shorthand=node.shorthand, loc=node.loc, receptive_field=rf)
    return row


def _totals(network: Network, rows: list[LayerReport], walk: _Walk, x: Shape, batch: int,
            size: int) -> Totals:
    """The network's totals: each bound layer's figures times the nodes that share it
    (a network of 10^5 layers repeats a few), and the activation peak along the rows."""
    sizes = {INPUT: numel(x) * batch * size} | {r.id: r.activation_bytes for r in rows}
    figures = {bound.layer: bound.figures for bound in walk.bound.values()}
    uses = [(figures[layer], n) for layer, n in Counter(walk.layers).items()]  # (by identity)
    breakdown = dict.fromkeys(FLOP_CATEGORIES, 0)
    for fig, n in uses:
        for c, v in fig["flops_breakdown"].items():
            breakdown[c] += v * n

    def column(name: str) -> int:
        return sum([fig[name] * n for fig, n in uses])

    return Totals(
        params=column("params"), trainable_params=column("trainable_params"),
        buffers=column("buffers"), macs=column("macs"), flops=sum(breakdown.values()),
        flops_breakdown={c: v for c, v in breakdown.items() if v},
        param_bytes=column("param_bytes"), buffer_bytes=column("buffers") * size,
        input_bytes=sizes[INPUT], activation_bytes=column("activation_bytes"),
        peak_activation_bytes=_peak(network.nodes, sizes, network.output),
    )
