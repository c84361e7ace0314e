"""Worked arithmetic: every layer's figures as a teacher writes them on the board.

Plain data, no rich: a layer's explanation is a list of :class:`Step` s, each a label,
the formula with the numbers filled in, and its result::

    output height, width   floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 10
    params                 6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516

The op-specific working lives on the ops themselves (``Op.explain(layer)`` and
``Op.rf_working(layer, step)``, next to the figures they explain; generic steps from
their ``formulas`` by default), written with the text pieces of :mod:`cnncalc.working`.
This module holds what needs the network: the receptive-field recurrence from the
analysed fields, and the walk over a network.

>>> import cnncalc
>>> c3 = explain_network(cnncalc.load("lenet5"), layer="C3")[0]
>>> [s.text() for s in c3.steps if s.label == "params"]
['6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analysis import analyze, for_input, layers_of
from .collector import paused_gc
from .errors import UsageError
from .graph import INPUT, Network, Node
from .ops.base import Layer, RFStep
from .report import LayerReport, ReceptiveField, Report
from .suggest import close_matches
from .working import RFWorking, Step, axis_rows, formula_dims, operand

# ------------------------------------------------------------ receptive fields
#: a layer's receptive-field steps: its own (written for its field), then those it
#: shares with other layers (the same objects, :class:`FieldRows`)
RFSteps = tuple[list[Step], tuple[Step, ...]]
_NO_STEPS: RFSteps = ([], ())


class RFRule:
    """How one bound layer writes its receptive-field steps: what depends on the op and
    its input shapes alone (the inputs it reads, its step and working, whether its axes
    read alike) is worked out once, when first needed, and shared by every layer bound
    alike; the incoming field's numbers are filled in per layer (:meth:`steps`).  The
    recurrence is Araujo et al.'s (2019), written as the op computes it
    (:meth:`Op.rf_working`): for a window ``r = r_in + (k-1)*j_in``, ``j = j_in*s``,
    ``start = start_in + ((k-1)/2 - p)*j_in``."""

    def __init__(self, layer: Layer[Any]) -> None:
        self.layer = layer
        self._reads: list[bool] | None = None
        self._window: tuple[RFStep | None, RFWorking | None] | None = None
        self._alike: bool | None = None

    def reads(self) -> list[bool]:
        """Per input, whether it counts: an input read only for its shape (upsample's
        reference) has no part in the field."""
        if self._reads is None:
            self._reads = self.layer.op.reads(self.layer)
        return self._reads

    def window(self) -> tuple[RFStep | None, RFWorking | None]:
        """The op's step, and its working (None for an identity step)."""
        if self._window is None:
            op, layer = self.layer.op, self.layer
            step = op.rf(layer)
            how = None if step is None or step.is_identity else op.rf_working(layer, step)
            self._window = (step, how)
        return self._window

    def steps(self, rf_ins: Sequence[ReceptiveField | None], rf_out: ReceptiveField | None,
              rows: FieldRows) -> RFSteps:
        """The steps for the fields ``rf_ins`` (one per input) and ``rf_out``: this
        layer's own, and those it shares with layers before it (``rows``)."""
        if rf_out is None:
            return _NO_STEPS
        if len(rf_ins) == 1 and self.reads()[0]:  # (one input, read: as it is)
            rf_in = rf_ins[0]
        else:
            read = [r for r, reads in zip(rf_ins, self.reads()) if reads]
            if any(r is None for r in read):
                return _NO_STEPS
            if len(read) > 1:
                sizes = ", ".join([formula_dims(r.size) for r in read if r])
                return [Step("receptive field", f"the widest input: max({sizes})",
                             formula_dims(rf_out.size), "r = max over inputs", "rf")], ()
            rf_in = read[0]
        step, how = self.window()
        if step is None or rf_in is None:
            return _NO_STEPS
        if how is None:
            return rows.unchanged(rf_in)
        return rows.window(self, self.size_rows(step, how, rf_in), rf_in)

    def size_rows(self, step: RFStep, how: RFWorking, rf_in: ReceptiveField) -> list[Step]:
        """The ``r`` row(s) of a window: the layer's own (the size grows layer by
        layer)."""
        size, jump = rf_in.size, rf_in.jump
        rank = len(size)
        alike = (rank > 1 and self.alike_axes(step, how) and size.count(size[0]) == rank
                 and jump.count(jump[0]) == rank)
        return axis_rows("rf size", _items(alike, rank, lambda i: (
            f"r = {how.size(i, operand(size[i]), operand(jump[i]))}",
            size[i] + step.span[i] * jump[i])), "rf", how.symbolic[0])

    def tail_rows(self, rf_in: ReceptiveField) -> tuple[Step, ...]:
        """The rows after ``r`` of a window: ``j`` and ``start``, and the note of a
        global reduction; they read the incoming field's jump and start alone."""
        step, how = self.window()
        assert step is not None and how is not None  # (a window: see steps)
        jump, start = rf_in.jump, rf_in.start
        rank = len(jump)
        alike = rank > 1 and self.alike_axes(step, how) and jump.count(jump[0]) == rank
        rows = axis_rows("rf jump", _items(alike, rank, lambda i: (
            f"j = {how.jump(i, operand(jump[i]))}", jump[i] * step.factor[i])), "rf",
            how.symbolic[1])
        alike = alike and start.count(start[0]) == rank
        rows += axis_rows("rf start", _items(alike, rank, lambda i: (
            f"start = {how.start(i, operand(start[i]), operand(jump[i]))}",
            start[i] + step.offset[i] * jump[i])), "rf", how.symbolic[2])
        if step.whole:
            rows.append(Step("receptive field", "", "a global reduction: the network's "
                             "receptive field is read before this layer", "", "note"))
        return tuple(rows)

    def alike_axes(self, step: RFStep, how: RFWorking) -> bool:
        """Whether every axis of the step is the first one's: the same span, factor and
        offset, and the same working (written with stand-in operands, which the
        working places as given).  Then on a field whose axes are alike too, each row
        is worked out for the first axis alone (:func:`_items`)."""
        if self._alike is None:
            def axis(i: int) -> tuple[Any, ...]:
                return (step.span[i], step.factor[i], step.offset[i], how.size(i, "r", "j"),
                        how.jump(i, "j"), how.start(i, "s", "j"))

            first = axis(0)
            self._alike = all(axis(i) == first for i in range(1, len(step.span)))
        return self._alike


def _items(alike: bool, rank: int, item: Callable[[int], tuple[str, Any]]
           ) -> list[tuple[str, Any]]:
    """A row's (formula, result) per axis, for :func:`axis_rows` to write once or per
    axis: when the axes are known ``alike``, the first axis's item stands for every
    axis (the same object, which :func:`axis_rows` compares at once)."""
    return [item(0)] * rank if alike else [item(i) for i in range(rank)]


#: window tails a walk keeps (a network has a few distinct ones: a chain's jump and
#: start change only at a stride; memory stays bounded)
MAX_FIELD_ROWS = 256


class FieldRows:
    """The receptive-field rows that do not depend on the layer's own field, made once
    and, from their second layer on, shared as the same objects (a renderer lays them
    out once; made for one layer they are its own): a window's ``j`` and ``start``
    rows, by its rule and the incoming jump and start (down a chain, only ``r`` grows;
    at most :data:`MAX_FIELD_ROWS` kept, all let go when full); and an identity step's
    ``unchanged`` row, for the field the last one read (the layers after a window pass
    its field on as it is)."""

    def __init__(self) -> None:
        self._tails: dict[tuple[Any, ...], tuple[Step, ...]] = {}
        self._unchanged: tuple[Any, tuple[Step, ...]] = ((), ())

    def window(self, rule: RFRule, size_rows: list[Step], rf_in: ReceptiveField) -> RFSteps:
        """A window's steps: its ``r`` rows (``size_rows``), then the rows after them."""
        # (a field's numbers are ints and Fractions: equal values write the same text)
        key = (rule, rf_in.jump, rf_in.start)
        found = self._tails.get(key)
        if found is not None:
            return size_rows, found
        if len(self._tails) >= MAX_FIELD_ROWS:
            self._tails.clear()
        found = self._tails[key] = rule.tail_rows(rf_in)
        return size_rows + list(found), ()

    def unchanged(self, rf_in: ReceptiveField) -> RFSteps:
        """An identity step's one row."""
        key = (rf_in.size, rf_in.jump)
        last, rows = self._unchanged
        if key == last:
            return [], rows
        row = Step("receptive field", "", f"unchanged (r = {formula_dims(rf_in.size)}, "
                   f"j = {formula_dims(rf_in.jump)})", "", "rf")
        self._unchanged = (key, (row,))
        return [row], ()


def flops_step(layer: Layer[Any]) -> list[Step]:
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
    receptive_field: ReceptiveField | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the leading steps of ``steps`` that the layers bound alike share, the same objects
    #: (:class:`OpWorking`): a renderer lays them out once for all those layers
    shared: tuple[Step, ...] = field(default=(), compare=False, repr=False)
    #: the trailing steps of ``steps`` that it shares with layers on alike fields, the
    #: same objects (:class:`FieldRows`): laid out once too
    shared_tail: tuple[Step, ...] = field(default=(), compare=False, repr=False)

    def own_steps(self) -> tuple[Step, ...]:
        """The steps between :attr:`shared` and :attr:`shared_tail`: this layer's own."""
        return self.steps[len(self.shared):len(self.steps) - len(self.shared_tail)]

    def to_dict(self, steps: bool = True) -> dict[str, Any]:
        """The JSON of the layer; without ``steps``, the ``steps`` key holds None
        (streaming writers fill it)."""
        return {
            "id": self.id, "op": self.op, "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape), "params": self.params, "macs": self.macs,
            "flops": self.flops,
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "steps": [s.to_dict() for s in self.steps] if steps else None,
            "warnings": list(self.warnings),
        }


def explain_layer(node: Node, row: LayerReport, rf_ins: Sequence[ReceptiveField | None]
                  ) -> LayerExplanation:
    """The working of one analysed layer (batch 1 figures), on its own: its op bound
    to the row's input shapes, nothing shared with other layers."""
    return OpWorking(node.op.resolve(row.input_shapes)).explain(node, row, rf_ins, FieldRows())


class OpWorking:
    """What explain writes of one op on one set of input shapes: the bound layer, the
    op's own steps (FLOPs added when it has none) and its receptive-field rule.  All of
    it is a pure function of the op and the shapes, so a walk works it out once for
    the nodes that share both (the analysis binds them to one layer: the expander gives
    equal arguments one op object, and real networks repeat their blocks): only the
    layer's own receptive field is written per node."""

    def __init__(self, layer: Layer[Any]) -> None:
        self.layer = layer  # bound once; every step reads it
        steps = list(layer.op.explain(layer))
        if not any(s.kind == "flops" for s in steps):
            steps += flops_step(layer)
        self.steps = tuple(steps)
        self.rf = RFRule(layer)
        self.ins = tuple(layer.ins)

    def explain(self, node: Node, row: LayerReport, rf_ins: Sequence[ReceptiveField | None],
                rows: FieldRows) -> LayerExplanation:
        """``node``'s explanation: these steps, then its receptive-field steps (those
        that are not its own from ``rows``)."""
        own, tail = self.rf.steps(rf_ins, row.receptive_field, rows)
        steps = self.steps
        if own or tail:
            steps = (*steps, *own, *tail)
        # made without the frozen dataclass's __init__ (14 guarded attribute sets, for
        # 10^5 layers); every field is given, as the dataclass would have it
        made: LayerExplanation = object.__new__(LayerExplanation)
        made.__dict__.update(
            id=node.id, op=node.op.name, inputs=node.inputs, input_shapes=self.ins,
            output_shape=self.layer.out, steps=steps, warnings=row.warnings,
            params=row.params, macs=row.macs, flops=row.flops,
            receptive_field=row.receptive_field, extra={}, shared=self.steps, shared_tail=tail)
        return made


#: op workings a walk keeps (a network of that many distinct layers and more gains
#: nothing from keeping them all: memory stays bounded)
MAX_WORKINGS = 4096


def _workings() -> Callable[[Layer[Any]], OpWorking]:
    """A lookup of the :class:`OpWorking` of a bound layer, each made once per layer
    object (the analysis binds the nodes that share an op object and input shapes to
    one), at most :data:`MAX_WORKINGS` kept at a time."""
    known: dict[Layer[Any], OpWorking] = {}  # (a layer hashes by identity)

    def working(layer: Layer[Any]) -> OpWorking:
        found = known.get(layer)
        if found is None:
            if len(known) >= MAX_WORKINGS:
                known.clear()
            found = known[layer] = OpWorking(layer)
        return found

    return working


def select(net: Network, layer: str | None) -> list[Node]:
    """The nodes ``--layer`` names: an id, or a block scope / layer with its
    shorthand rows (``conv3[0]``, ``C1``).  A UsageError with a suggestion otherwise."""
    if layer is None:
        return list(net.nodes)
    chosen = [n for n in net.nodes if n.id == layer or n.id.startswith(layer + ".")]
    if not chosen:
        near = close_matches(layer, [n.id for n in net.nodes], n=1, cutoff=0.5)
        raise UsageError(f"--layer {layer}: no such layer in {net.name}",
                         hints=(f"did you mean '{near[0]}'?",) if near else
                         ("`cnncalc shapes SPEC` lists the layer ids",))
    return chosen


def explain_network(net: Network, input_shape: tuple[int, ...] | None = None,
                    layer: str | None = None, report: Report | None = None
                    ) -> list[LayerExplanation]:
    """Explain every layer of ``net`` (or those ``layer`` selects)."""
    with paused_gc():  # many small acyclic objects (steps), as in the analysis
        return list(explain_layers(net, input_shape, layer, report))


def explain_layers(net: Network, input_shape: tuple[int, ...] | None = None,
                   layer: str | None = None, report: Report | None = None
                   ) -> Iterator[LayerExplanation]:
    """:func:`explain_network` one layer at a time, as they are read (a renderer that
    writes them as they come holds a few, not 10^5).  The analysis and ``layer``'s
    selection happen now, so that their errors come before any output."""
    report = report or analyze(net, input_shape, strict=False)
    net = for_input(net, report.input_shape)  # (its layers may depend on the input)
    nodes = select(net, layer)
    rows: Sequence[LayerReport] = report.layers
    layers = layers_of(net, report)
    if len(nodes) != len(rows):  # a selection: the rows and layers of its nodes
        chosen = [report.position(node.id) for node in nodes]
        rows, layers = [rows[i] for i in chosen], [layers[i] for i in chosen]
    return _explained(nodes, rows, layers, report)


def _explained(nodes: Sequence[Node], rows: Sequence[LayerReport],
               layers: Sequence[Layer[Any]], report: Report) -> Iterator[LayerExplanation]:
    """Each of ``nodes`` explained, in turn, from its row and bound layer."""
    rfs: dict[str, Any] = {r.id: r.receptive_field for r in report.layers}
    rank = len(report.input_shape) - 1
    rfs[INPUT] = _input_rf(rank) if rank >= 1 else None
    working, field_rows, field_of = _workings(), FieldRows(), rfs.__getitem__
    for node, row, bound in zip(nodes, rows, layers):
        yield working(bound).explain(node, row, list(map(field_of, node.inputs)), field_rows)


def _input_rf(rank: int) -> ReceptiveField:
    return ReceptiveField((1,) * rank, (1,) * rank, (0,) * rank)
