"""The memory of one inference pass or training step, from an analysis and its ops bound
to their input shapes: what autograd saves for the backward, per layer, and the peak of the
step (forward, backward, optimizer step), without running anything.

Each op declares the tensors its backward keeps (:meth:`cnncalc.ops.base.Op.saved`); this
module gives them storages (a view or an in-place ReLU shares its input's, so a tensor two
layers save counts once, under the first), then walks the step in order with every
tensor's lifetime.  ``amp``: the step as ``torch.autocast`` runs it (the rule at
:data:`AUTOCAST_LOWER`).  It sits below the analysis, which works out ``report.memory``
with it; :mod:`cnncalc.memory` is the API (specs, batches, ``--fit``).  No torch import.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from .errors import UsageError
from .graph import INPUT, Network
from .ops.base import Layer, Saved, needs_backward, numel
from .report import DTYPE_BYTES, MemoryPeaks, Mode, Report

#: optimizer state per trainable parameter, in parameter copies
OPTIMIZER_STATES: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: bytes of one element of each kind of saved tensor (``act`` is the activation dtype)
KIND_BYTES = {"index": 8, "mask": 1}
MODES: tuple[str, ...] = get_args(Mode)


@dataclass(frozen=True)
class LayerMemory:
    """One layer's share: its parameters, buffers, gradients, optimizer state and the
    bytes autograd saves for it (a storage two layers save is counted under the first)."""

    id: str
    op: str
    param_bytes: int
    buffer_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    saved_bytes: int
    output_bytes: int


@dataclass(frozen=True)
class Memory:
    """The memory of one inference pass or one training step, in bytes."""

    name: str
    mode: str
    batch: int
    dtype: str
    optimizer: str
    amp: bool
    layers: tuple[LayerMemory, ...]
    param_bytes: int
    buffer_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    saved_activation_bytes: int
    #: live activations at the worst moment (forward or backward), without the weights
    activation_peak_bytes: int
    peak_bytes: int

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in (
            "name", "mode", "batch", "dtype", "optimizer", "amp", "param_bytes", "buffer_bytes",
            "grad_bytes", "optimizer_bytes", "saved_activation_bytes", "activation_peak_bytes",
            "peak_bytes")}
        data["layers"] = [dict(vars(r)) for r in self.layers]
        return data


# ------------------------------------------------------------------ saved storages
#: the value index of the network's input; layer ``i``'s output is value ``i + 1``
INPUT_VALUE = 0


def _numbered(network: Network) -> tuple[list[list[int]], int]:
    """Per layer, the value indices of its inputs, and the output's value (values are
    numbered, not named, so that the walks below index lists instead of hashing ids)."""
    index = {INPUT: INPUT_VALUE}
    for i, node in enumerate(network.nodes):
        index[node.id] = i + 1
    return [[index[name] for name in node.inputs] for node in network.nodes], \
        index[network.output]


def _inplace(network: Network, ins: list[list[int]], output: int) -> set[int]:
    """The layers (indices) the torch build runs in place (``cnncalc.pytorch.model.
    _mark_inplace``: an in-place-capable activation whose input is a fresh tensor nothing
    else reads) whose output is then their input's storage (``Op.inplace_shares``);
    ``ins`` and ``output`` numbered as :func:`_numbered` gives them."""
    nodes = network.nodes
    readers = [0] * (len(nodes) + 1)
    for values in ins:
        for v in values:
            readers[v] += 1
    found = set()
    for i, node in enumerate(nodes):
        op, first = node.op, ins[i][0] if ins[i] else INPUT_VALUE
        if (op.inplace_ok and op.inplace_shares and first != INPUT_VALUE and readers[first] == 1
                and first != output and nodes[first - 1].op.fresh_output):
            found.add(i)
    return found


@dataclass
class Storages:
    """Where every value of a training forward lives, and what each layer saves.  Values
    are numbered (:data:`INPUT_VALUE`, then layer ``i``'s output ``i + 1``); so are
    storages: value ``v``'s own storage is ``v``, a tensor a layer keeps of its own gets
    the next number past the values."""

    #: per layer, the value indices of its inputs
    ins: list[list[int]]
    #: value -> its storage
    store: list[int]
    #: storage -> its bytes
    nbytes: dict[int, int]
    #: value -> whether it requires grad
    grad: list[bool]
    #: value -> its own bytes (a view's, not its base's)
    sizes: list[int]
    #: per layer, the bytes of the storages it saves that no layer before it saved
    saved_bytes: list[int]
    #: the most bytes of activation storages alive at once during the forward
    forward_peak: int
    #: the network's output value
    output: int
    #: the number the next storage of a layer's own gets
    next_own: int
    #: storage -> whether a layer saves it
    kept: defaultdict[int, bool] = field(default_factory=lambda: defaultdict(bool))


def storages(network: Network, layers: Sequence[Layer[Any]], batch: int, size: int,
             input_grad: bool = False, input_bytes: int | None = None,
             amp: bool = False) -> Storages:
    """The storages of a training forward of ``network`` at ``batch``: ``size`` is the
    activation dtype's bytes, ``input_grad`` whether the network's input requires grad
    (it does not when training), ``input_bytes`` the input's (default: the spec's input).
    ``amp``: the forward runs under ``torch.autocast`` to the ``size``-byte dtype, every
    value in the dtype :func:`amp_element_bytes` gives it, the input in float32.

    One pass, in forward order, that also follows the live bytes (:class:`_Live`) for
    the forward's peak: each layer's output is held, what it saves is kept to the end,
    and each value goes once its last reader has run."""
    nodes = network.nodes
    ins, output = _numbered(network)
    inplace = _inplace(network, ins, output)
    elem = [FP32 if amp else size]
    if input_bytes is None:
        input_bytes = numel(network.input_shape) * batch * elem[0]
    where = Storages(ins, [INPUT_VALUE], {INPUT_VALUE: input_bytes}, [input_grad],
                     [input_bytes], [], 0, output, len(nodes) + 1)
    live = _Live(where, len(nodes))
    plans: dict[tuple[Any, ...], _Plan] = {}
    keep = []  # the layers keyed by id() stay alive while their plans are
    grad, store = where.grad, where.store
    for i, layer in enumerate(layers):
        v, values = i + 1, ins[i]
        grads = tuple([grad[j] for j in values])
        key = (id(layer), grads, tuple([elem[j] for j in values])) if amp else (id(layer), grads)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(layer, grads, [elem[j] for j in values], batch, size, amp)
            keep.append(layer)
        elem.append(plan.elem)
        store.append(store[values[0]] if plan.view or i in inplace else v)
        where.nbytes[v] = plan.nbytes
        where.sizes.append(plan.nbytes)
        grad.append(plan.trains)
        keys = _claim(plan, values, v, where)
        where.saved_bytes.append(sum(map(where.nbytes.__getitem__, keys)))
        live.step(i, v, keys)
    where.forward_peak = live.peak
    return where


#: how a tensor a layer saves is stored (:class:`_Plan`): input ``x``'s storage, the
#: output's, or one of its own of ``x`` bytes
SHARE_INPUT, SHARE_OUTPUT, OWN = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one bound layer, on inputs of given grads (and element sizes, under AMP), does
    in a training forward: worked out once and replayed by every node that shares the
    bound layer (the analysis binds equal ops on equal shapes once)."""

    #: bytes of one element of its output
    elem: int
    #: its output's bytes
    nbytes: int
    #: whether autograd records it (:func:`cnncalc.ops.base.needs_backward`)
    trains: bool
    #: its output is a view of its first input
    view: bool
    #: what its backward keeps: (:data:`SHARE_INPUT`, index), (:data:`SHARE_OUTPUT`, 0) or
    #: (:data:`OWN`, bytes)
    saved: tuple[tuple[int, int], ...]


def _plan(layer: Layer[Any], grads: tuple[bool, ...], elems: list[int], batch: int,
          size: int, amp: bool) -> _Plan:
    e = amp_element_bytes(layer, elems, size) if amp else size
    return _Plan(e, numel(layer.out) * batch * e, needs_backward(layer, grads), layer.op.view,
                 tuple(_saved_by(layer, grads, elems, e, batch, size, amp)))


def _saved_by(layer: Layer[Any], grads: tuple[bool, ...], elems: list[int], out: int,
              batch: int, size: int, amp: bool) -> list[tuple[int, int]]:
    """Where the tensors ``layer``'s backward keeps are stored (:data:`_Plan.saved`), its
    inputs' elements being ``elems`` bytes and its output's ``out``.  Under AMP (``size``:
    the low-precision dtype's bytes) a low-precision op keeps the casts of its float32
    inputs (storages of its own) and of its weight, and statistics are float32
    (:func:`_amp_bytes`)."""
    lowered = amp and (layer.op.name in AUTOCAST_LOWER or layer.op.name in AUTOCAST_PROJECTED)
    found = []
    for s in layer.op.saved(layer, list(grads)):
        if lowered and s.shared == "input" and elems[s.index] != size:
            found.append((OWN, numel(layer.ins[s.index]) * batch * size))
        elif s.shared == "input":
            found.append((SHARE_INPUT, s.index))
        elif s.shared == "output":
            found.append((SHARE_OUTPUT, 0))
        else:
            e = _amp_bytes(layer.op.name, s, out, size) if amp else size
            found.append((OWN, s.elements(batch) * KIND_BYTES.get(s.kind, e)))
    if lowered:
        weight = _cast_weight_elements(layer, grads)
        if weight:
            found.append((OWN, weight * size))
    return found


def _claim(plan: _Plan, values: list[int], v: int, where: Storages) -> list[int]:
    """The storages the layer of value ``v`` (its inputs ``values``) saves that no layer
    before it saved (``where.kept``), each once; its own get new storages."""
    keys: list[int] = []
    for how, x in plan.saved:
        if how == SHARE_INPUT:
            key = where.store[values[x]]
        elif how == SHARE_OUTPUT:
            key = where.store[v]
        else:
            key = _new_storage(where, x)
        if not where.kept[key] and key not in keys:
            keys.append(key)
    return keys


def _amp_bytes(op: str, s: Saved, out: int, low: int) -> int:
    """The bytes of one element of a tensor of its own (``s``) that an ``op`` keeps under
    AMP, its output's being ``out``: statistics (a norm's mean and inverse deviation,
    per sample or per channel) are float32; a projection's conv output is low-precision;
    the rest (masks, a softmax's output) are in the output's dtype."""
    if not s.per_sample or op in AUTOCAST_STATS:
        return FP32
    if op in AUTOCAST_PROJECTED:
        return low
    return out


def _new_storage(where: Storages, nbytes: int) -> int:
    """A storage of its own that a layer keeps (numbered past every value)."""
    key = where.next_own
    where.next_own += 1
    where.nbytes[key] = nbytes
    return key


# ---------------------------------------------------------------------------- AMP
#: bytes of a float32 element: under AMP the input, the parameters, their gradients, the
#: optimizer's state and the outputs of AUTOCAST_FP32 ops
FP32 = 4
#: the ops torch.autocast runs in the low-precision dtype (on CPU and CUDA alike): their
#: float32 inputs and their weight are cast, and autograd saves the casts.  The rule is the
#: CPU's, the oracle's (tests/test_memory.py); CUDA's autocast also runs layer_norm,
#: group_norm, softmax and softplus in float32, which this counts in their inputs' dtype
AUTOCAST_LOWER = frozenset({"conv", "conv_transpose", "linear", "prelu"})
#: the ops whose output is float32 under autocast whatever their input: float32 parameters
#: applied elementwise promote a low-precision input (layer_scale, subsample, local's bias,
#: rbf's centres), or the op runs in float32 (lrn)
AUTOCAST_FP32 = frozenset({"layer_scale", "subsample", "local", "rbf", "lrn"})
#: ops whose every tensor of its own that the backward keeps is a statistic (float32)
AUTOCAST_STATS = frozenset({"layernorm", "groupnorm", "instancenorm", "batchnorm"})
#: ops with projection convs inside (add's ``project: auto``): the convs are lowered, their
#: inputs and weights cast, their outputs low-precision, their batchnorms' statistics
#: float32; the op then follows its (projected) inputs
AUTOCAST_PROJECTED = frozenset({"add"})
#: every other op runs in its inputs' dtype (the widest of them: torch's type promotion)
AUTOCAST_FOLLOW = frozenset({
    "adaptive_avgpool", "adaptive_maxpool", "avgpool", "batchnorm", "channel_shuffle",
    "concat", "drop_path", "dropout", "elu", "flatten", "gelu", "groupnorm", "hardsigmoid",
    "hardswish", "identity", "instancenorm", "layernorm", "leaky_relu", "maxpool", "mish", "mul",
    "relu", "relu6", "sigmoid", "silu", "slice", "softmax", "softplus", "tanh", "upsample",
    "zeropad"})
#: the dtypes --amp can run the activations in
AMP_DTYPES = ("float16", "bfloat16")


def amp_element_bytes(layer: Layer[Any], inputs: Sequence[int], low: int) -> int:
    """The bytes of one element of ``layer``'s output under torch.autocast to a
    ``low``-byte dtype, its inputs' elements being ``inputs`` bytes."""
    op = layer.op.name
    if op in AUTOCAST_LOWER:
        return low
    if op in AUTOCAST_FP32:
        return FP32
    if op in AUTOCAST_PROJECTED:  # a projected input is its conv's low-precision output
        inputs = [low if proj is not None else e for e, proj in zip(inputs, layer.geo)]
    return max(inputs)


def _cast_weight_elements(layer: Layer[Any], grads: Sequence[bool]) -> int:
    """The elements of the low-precision copy of a lowered op's weight that its backward
    keeps: a convolution's and a PReLU's always (the input's gradient and the weight's
    both read it), a linear's when its input requires grad (the weight's gradient reads
    only the input), a projection conv's (1x1, no bias); the bias is cast but not kept."""
    if layer.op.name in AUTOCAST_PROJECTED:
        c = layer.ins[-1][0]
        return sum(layer.ins[i][0] * c for i, proj in enumerate(layer.geo) if proj is not None)
    trainable = layer.op.params(layer).trainable
    args = layer.op.args
    weight = trainable - (int(getattr(args, "out", 0)) if getattr(args, "bias", False) else 0)
    if layer.op.name == "linear" and not grads[0]:
        return 0
    return max(weight, 0)


def saved_layer_bytes(network: Network, layers: Sequence[Layer[Any]], batch: int, size: int,
                      input_grad: bool = False, input_bytes: int | None = None,
                      amp: bool = False) -> list[int]:
    """Per layer, the bytes of what autograd saves for it, each storage under the first
    layer (in forward order) that saves it (see :func:`storages`)."""
    return storages(network, layers, batch, size, input_grad, input_bytes, amp).saved_bytes


# ----------------------------------------------------------------------- the step
def check_settings(mode: str, optimizer: str) -> None:
    """UsageError for an unknown mode or optimizer."""
    if mode not in MODES:
        raise UsageError(f"mode '{mode}' is unknown (choose from {', '.join(MODES)})")
    if optimizer not in OPTIMIZER_STATES:
        raise UsageError(f"optimizer '{optimizer}' is unknown "
                         f"(choose from {', '.join(OPTIMIZER_STATES)})")


def from_layers(net: Network, report: Report, layers: Sequence[Layer[Any]], *, mode: str,
                optimizer: str, amp: bool) -> Memory:
    """The memory of one inference pass or training step of ``net`` (already for the
    report's input, :func:`cnncalc.analysis.for_input`), its ops bound to their input
    shapes (``layers``), for the analysis ``report``."""
    check_settings(mode, optimizer)
    size = DTYPE_BYTES[report.dtype]
    if amp and report.dtype not in AMP_DTYPES:
        raise UsageError(f"--amp runs the activations in {' or '.join(AMP_DTYPES)} under "
                         f"torch.autocast, not {report.dtype}: pass --dtype float16 or "
                         "--dtype bfloat16 with it")
    training = mode == "training"
    inputs = numel(report.input_shape) * report.batch * FP32 if amp else report.totals.input_bytes
    where = storages(net, layers, report.batch, size, False, inputs, amp)
    states = OPTIMIZER_STATES[optimizer] if training else 0
    rows = _layer_rows(report, layers, where, training, FP32 if amp else size, states)
    params, buffers = sum(r.param_bytes for r in rows), sum(r.buffer_bytes for r in rows)
    grads = sum(r.grad_bytes for r in rows)
    opt_bytes = sum(r.optimizer_bytes for r in rows)
    if training:
        acts, peak = _training_peak(where, [r.grad_bytes for r in rows],
                                    params + buffers + opt_bytes, optimizer)
    else:
        acts = report.totals.peak_activation_bytes
        peak = params + buffers + acts
    return Memory(report.name, mode, report.batch, report.dtype, optimizer if training else "",
                  amp, tuple(rows), params, buffers, grads, opt_bytes,
                  sum(r.saved_bytes for r in rows), acts, peak)


def _training_peak(where: Storages, param_grads: list[int], resident: int,
                   optimizer: str) -> tuple[int, int]:
    """(the activations' peak, the step's peak) of a training step whose parameter
    gradients are ``param_grads`` per layer, with ``resident`` bytes of parameters,
    buffers and optimizer state alive throughout: the backward's worst moment, or the
    optimizer step's (every gradient and its temporaries), whichever is higher."""
    acts = _backward_peak(where, param_grads)
    step = sum(param_grads) + STEP_TEMPORARIES[optimizer] * max(param_grads, default=0)
    return acts, resident + max(acts, step)


def _layer_rows(report: Report, layers: Sequence[Layer[Any]], where: Storages, training: bool,
                wsize: int, states: int) -> list[LayerMemory]:
    """Each layer's share; ``wsize``: the bytes of a parameter, buffer, gradient or
    optimizer-state element (float32 under AMP), ``states``: the optimizer's per parameter."""
    rows = []
    for i, (row, layer) in enumerate(zip(report.layers, layers)):
        trainable = row.trainable_params if training else 0
        rows.append(LayerMemory(row.id, row.op, row.params * wsize,
                                _buffer_bytes(row.buffers, layer, wsize), trainable * wsize,
                                trainable * wsize * states,
                                where.saved_bytes[i] if training else 0, where.sizes[i + 1]))
    return rows


def _buffer_bytes(buffers: int, layer: Layer[Any], wsize: int) -> int:
    """The bytes of a layer's ``buffers``: ``wsize`` each, but a norm's step counter is
    int64 whatever the dtype (:func:`int64_buffers`)."""
    counters = int64_buffers(layer)
    return (buffers - counters) * wsize + counters * INT64


#: bytes of an int64 element: a norm's ``num_batches_tracked``
INT64 = 8


def int64_buffers(layer: Layer[Any]) -> int:
    """How many of ``layer``'s buffers torch keeps in int64: the ``num_batches_tracked`` of
    each norm with running statistics (a batchnorm, an instancenorm that tracks them, the
    batchnorm of each projection of an ``add``); the other buffers are floats."""
    op = layer.op.name
    if op == "batchnorm":
        return 1
    if op == "instancenorm":
        return 1 if getattr(layer.op.args, "track_running_stats", False) else 0
    if op in AUTOCAST_PROJECTED:
        return sum(proj is not None for proj in layer.geo)
    return 0


#: the optimizer of the training step ``summary`` shows next to the inference pass
SUMMARY_OPTIMIZER = "sgd"


def peaks(net: Network, report: Report, layers: Sequence[Layer[Any]]) -> MemoryPeaks:
    """The peaks ``summary`` shows side by side, at the report's batch and dtype: one
    inference pass, and one training step with plain SGD (no optimizer state, no AMP);
    ``net`` and ``layers`` as :func:`from_layers` takes them (this is its training step's
    peak, without the per-layer rows)."""
    size = DTYPE_BYTES[report.dtype]
    weights = report.totals.param_bytes + sum(
        _buffer_bytes(row.buffers, layer, size) for row, layer in zip(report.layers, layers))
    where = storages(net, layers, report.batch, size, False, report.totals.input_bytes)
    grads = [row.trainable_params * size for row in report.layers]
    _, train = _training_peak(where, grads, weights, SUMMARY_OPTIMIZER)
    return MemoryPeaks(SUMMARY_OPTIMIZER, weights + report.totals.peak_activation_bytes, train)


#: parameter-sized temporaries ``optimizer.step()`` holds at once, in copies of the largest
#: layer's parameters (torch's single-tensor Adam: ``exp_avg_sq.sqrt()`` and its quotient)
STEP_TEMPORARIES = {"sgd": 0, "momentum": 0, "adam": 2, "adamw": 2}


class _Live:
    """The storages alive during a training forward, followed layer by layer: those of
    values still to be read (a storage counted once however many values share it) and
    every storage saved so far; :attr:`peak` is the most bytes alive at once."""

    def __init__(self, where: Storages, n_layers: int) -> None:
        self.where = where
        #: value -> the index of the last layer that reads it (the output: past the end)
        self.last_use = [-1] * (n_layers + 1)
        for i, values in enumerate(where.ins):
            for v in values:
                self.last_use[v] = i
        self.last_use[where.output] = n_layers
        self.held = bytearray(n_layers + 1)  # value -> held
        self.readers: dict[int, int] = {}  # storage -> values held on it
        self.bytes = self.peak = 0
        self.hold(INPUT_VALUE)

    def step(self, i: int, v: int, saved: list[int]) -> None:
        """Layer ``i`` ran: its output (value ``v``) is held and what it saves kept, then
        the values it read last (and its output, if nothing reads it) go."""
        self.hold(v)
        for key in saved:
            self.where.kept[key] = True
            if not self.readers.get(key):
                self.bytes += self.where.nbytes[key]
        if self.bytes > self.peak:
            self.peak = self.bytes
        last, values = self.last_use, self.where.ins[i]
        for u in values if len(values) == 1 else set(values):
            if last[u] == i:
                self.release(u)
        if last[v] < i:
            self.release(v)

    def hold(self, value: int) -> None:
        if self.held[value]:
            return
        self.held[value] = 1
        key = self.where.store[value]
        if not self.readers.get(key) and not self.where.kept[key]:
            self.bytes += self.where.nbytes[key]
        self.readers[key] = self.readers.get(key, 0) + 1

    def release(self, value: int) -> None:
        if not self.held[value]:
            return
        self.held[value] = 0
        key = self.where.store[value]
        self.readers[key] -= 1
        if not self.readers[key] and not self.where.kept[key]:
            self.bytes -= self.where.nbytes[key]


def _backward_peak(where: Storages, param_grads: list[int]) -> int:
    """The most bytes alive at once during the forward and the backward, parameter
    gradients included: the backward runs the layers in reverse, each keeping until it has
    run the storages saved for it (and those of the layers before it), the gradient of its
    output (alive from its first reader's backward on) and the gradients it makes for its
    inputs, while every parameter gradient made so far lives on to the optimizer step."""
    peak = where.forward_peak
    remaining = sum(where.saved_bytes)
    out = where.store[where.output]
    kept = 0 if where.kept[out] else where.nbytes[out]
    grad, sizes, saved_bytes = where.grad, where.sizes, where.saved_bytes
    pending: dict[int, int] = {where.output: where.nbytes[out]} if grad[where.output] else {}
    grads = sum(pending.values())  # the bytes of the pending activation gradients
    made = 0
    for i in range(len(where.ins) - 1, -1, -1):
        for v in where.ins[i]:
            if grad[v] and v not in pending:
                pending[v] = sizes[v]
                grads += sizes[v]
        made += param_grads[i]
        peak = max(peak, remaining + kept + grads + made)
        grads -= pending.pop(i + 1, 0)
        remaining -= saved_bytes[i]
    return peak
