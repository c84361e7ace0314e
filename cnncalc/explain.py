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

from .analysis import analyze, for_input
from .collector import paused_gc
from .errors import UsageError
from .graph import INPUT, Network, Node
from .ops.base import Layer, RFStep, Shape
from .report import LayerReport, ReceptiveField, Report
from .suggest import close_matches
from .working import RFWorking, Step, all_axes_label, axis_rows, formula_dims, operand


# ------------------------------------------------------------ receptive fields
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

    def steps(self, rf_ins: Sequence[ReceptiveField | None],
              rf_out: ReceptiveField | None) -> list[Step]:
        """The steps for the fields ``rf_ins`` (one per input) and ``rf_out``."""
        if rf_out is None:
            return []
        if len(rf_ins) != 1 or not self.reads()[0]:  # (one input, read: as it is)
            rf_ins = [r for r, read in zip(rf_ins, self.reads()) if read]
        if None in rf_ins:
            return []
        if len(rf_ins) > 1:
            sizes = ", ".join(formula_dims(r.size) for r in rf_ins if r)
            return [Step("receptive field", f"the widest input: max({sizes})",
                         formula_dims(rf_out.size), "r = max over inputs", "rf")]
        step, how = self.window()
        rf_in = rf_ins[0]
        if step is None or rf_in is None:
            return []
        if how is None:
            return [Step("receptive field", "", f"unchanged (r = {formula_dims(rf_in.size)}, "
                         f"j = {formula_dims(rf_in.jump)})", "", "rf")]
        return self._window_steps(step, how, rf_in)

    def _window_steps(self, step: RFStep, how: RFWorking, rf_in: ReceptiveField) -> list[Step]:
        """``r``, ``j`` and ``start`` per axis, or once for all axes when every axis
        reads alike (each axis its own step when they differ, as :func:`axis_rows` has
        it); a square layer on a square field is written once, not per axis."""
        rank = len(rf_in.size)
        alike = rank > 1 and self._alike_axes(step, how, rank) and all(
            vs.count(vs[0]) == rank for vs in (rf_in.size, rf_in.jump, rf_in.start))
        r_items, j_items, s_items = [], [], []
        for i, (r, j, st) in enumerate(zip(rf_in.size, rf_in.jump, rf_in.start)):
            r_text, j_text, st_text = operand(r), operand(j), operand(st)
            r_items.append((f"r = {how.size(i, r_text, j_text)}", r + step.span[i] * j))
            j_items.append((f"j = {how.jump(i, j_text)}", j * step.factor[i]))
            s_items.append((f"start = {how.start(i, st_text, j_text)}", st + step.offset[i] * j))
            if alike:  # every other axis gives the same three items
                break
        r_sym, j_sym, s_sym = how.symbolic
        if alike:
            steps = [Step(all_axes_label(label, rank), *items[0], sym, "rf") for label, items, sym
                     in (("rf size", r_items, r_sym), ("rf jump", j_items, j_sym),
                         ("rf start", s_items, s_sym))]
        else:
            steps = (axis_rows("rf size", r_items, "rf", r_sym)
                     + axis_rows("rf jump", j_items, "rf", j_sym)
                     + axis_rows("rf start", s_items, "rf", s_sym))
        if step.whole:
            steps.append(Step("receptive field", "", "a global reduction: the network's "
                              "receptive field is read before this layer", "", "note"))
        return steps

    def _alike_axes(self, step: RFStep, how: RFWorking, rank: int) -> bool:
        """Whether every axis of the step is the first one's: the same span, factor and
        offset, and the same working (written with stand-in operands, which the
        working places as given)."""
        if self._alike is None:
            def axis(i: int) -> tuple[Any, ...]:
                return (step.span[i], step.factor[i], step.offset[i], how.size(i, "r", "j"),
                        how.jump(i, "j"), how.start(i, "s", "j"))

            first = axis(0)
            self._alike = all(axis(i) == first for i in range(1, rank))
        return self._alike


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
    """The working of one analysed layer (batch 1 figures)."""
    return OpWorking(node.op.resolve(row.input_shapes)).explain(node, row, rf_ins)


class OpWorking:
    """What explain writes of one op on one set of input shapes: the bound layer, the
    op's own steps (FLOPs added when it has none) and its receptive-field rule.  All of
    it is a pure function of the op and the shapes, so a walk works it out once for
    the nodes that share both (the expander gives equal arguments one op object, and
    real networks repeat their blocks): only the layer's own receptive field is written
    per node."""

    def __init__(self, layer: Layer[Any]) -> None:
        self.layer = layer  # bound once; every step reads it
        steps = list(layer.op.explain(layer))
        if not any(s.kind == "flops" for s in steps):
            steps += flops_step(layer)
        self.steps = tuple(steps)
        self.rf = RFRule(layer)
        self.ins = tuple(layer.ins)

    def explain(self, node: Node, row: LayerReport, rf_ins: Sequence[ReceptiveField | None]
                ) -> LayerExplanation:
        """``node``'s explanation: these steps, then its receptive-field steps."""
        rf = self.rf.steps(rf_ins, row.receptive_field)
        # made without the frozen dataclass's __init__ (13 guarded attribute sets, for
        # 10^5 layers); every field is given, as the dataclass would have it
        made: LayerExplanation = object.__new__(LayerExplanation)
        made.__dict__.update(
            id=node.id, op=node.op.name, inputs=node.inputs, input_shapes=self.ins,
            output_shape=self.layer.out, steps=self.steps + tuple(rf) if rf else self.steps,
            warnings=row.warnings, params=row.params, macs=row.macs, flops=row.flops,
            receptive_field=row.receptive_field, extra={}, shared=self.steps)
        return made


#: op workings a walk keeps (a network of that many distinct layers and more gains
#: nothing from keeping them all: memory stays bounded)
MAX_WORKINGS = 4096


def _workings() -> Callable[[Node, tuple[Shape, ...]], OpWorking]:
    """A lookup of the :class:`OpWorking` of a node on its input shapes, each made once
    per op object and shapes (as the analysis binds them), at most
    :data:`MAX_WORKINGS` kept at a time."""
    known: dict[tuple[Any, tuple[Shape, ...]], OpWorking] = {}

    def working(node: Node, ins: tuple[Shape, ...]) -> OpWorking:
        key = (node.op, ins)
        found = known.get(key)
        if found is None:
            if len(known) >= MAX_WORKINGS:
                known.clear()
            found = known[key] = OpWorking(node.op.resolve(ins))
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
    return _explained(nodes, report)


def _explained(nodes: Sequence[Node], report: Report) -> Iterator[LayerExplanation]:
    """Each of ``nodes`` explained, in turn, from its row of ``report``."""
    rfs: dict[str, Any] = {r.id: r.receptive_field for r in report.layers}
    rank = len(report.input_shape) - 1
    rfs[INPUT] = _input_rf(rank) if rank >= 1 else None
    working = _workings()
    # every node: the report's rows are in the same order
    rows = report.layers if len(nodes) == len(report.layers) else map(report.layer, (
        node.id for node in nodes))
    for node, row in zip(nodes, rows):
        yield working(node, row.input_shapes).explain(node, row, [rfs[i] for i in node.inputs])


def _input_rf(rank: int) -> ReceptiveField:
    return ReceptiveField((1,) * rank, (1,) * rank, (0,) * rank)
