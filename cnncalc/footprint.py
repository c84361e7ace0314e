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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from .errors import UsageError
from .graph import INPUT, Network, Node
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
def inplace_ids(network: Network) -> set[str]:
    """The layers the torch build runs in place (``cnncalc.pytorch.model._mark_inplace``: an
    in-place-capable activation whose input is a fresh tensor nothing else reads) whose
    output is then their input's storage (``Op.inplace_shares``)."""
    readers: dict[str, int] = {}
    for node in network.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    fresh = {n.id: n.op.fresh_output for n in network.nodes}
    return {node.id for node in network.nodes
            if node.op.inplace_ok and node.op.inplace_shares and node.inputs[0] != INPUT
            and readers[node.inputs[0]] == 1 and node.inputs[0] != network.output
            and fresh[node.inputs[0]]}


@dataclass(frozen=True)
class _Storage:
    key: str
    nbytes: int


@dataclass
class Storages:
    """Where every value of a training forward lives, and what each layer saves."""

    #: value (INPUT or a layer id) -> its storage
    store: dict[str, _Storage]
    #: value -> whether it requires grad
    grad: dict[str, bool]
    #: per layer, {storage key: bytes} it saves (each storage under its first saver)
    saved: list[dict[str, int]]
    #: value -> its own bytes (a view's, not its base's)
    sizes: dict[str, int]


def storages(network: Network, layers: Sequence[Layer[Any]], batch: int, size: int,
             input_grad: bool = False, input_bytes: int | None = None,
             amp: bool = False) -> Storages:
    """The storages of a training forward of ``network`` at ``batch``: ``size`` is the
    activation dtype's bytes, ``input_grad`` whether the network's input requires grad
    (it does not when training), ``input_bytes`` the input's (default: the spec's input).
    ``amp``: the forward runs under ``torch.autocast`` to the ``size``-byte dtype, every
    value in the dtype :func:`amp_element_bytes` gives it, the input in float32."""
    inplace = inplace_ids(network)
    elem = {INPUT: FP32 if amp else size}
    if input_bytes is None:
        input_bytes = numel(network.input_shape) * batch * elem[INPUT]
    store = {INPUT: _Storage(INPUT, input_bytes)}
    sizes = {INPUT: input_bytes}
    grad = {INPUT: input_grad}
    claimed: set[str] = set()
    found: list[dict[str, int]] = []
    for node, layer in zip(network.nodes, layers):
        grads = [grad[i] for i in node.inputs]
        e = elem[node.id] = (amp_element_bytes(layer, [elem[i] for i in node.inputs], size)
                             if amp else size)
        if layer.op.view or node.id in inplace:
            store[node.id] = store[node.inputs[0]]
        else:
            store[node.id] = _Storage(node.id, numel(layer.out) * batch * e)
        sizes[node.id] = numel(layer.out) * batch * e
        grad[node.id] = needs_backward(layer, grads)
        mine: dict[str, int] = {}
        for st in _saved_by(node, layer, grads, store, elem, batch, size, amp):
            if st.key not in claimed:
                claimed.add(st.key)
                mine[st.key] = st.nbytes
        found.append(mine)
    return Storages(store, grad, found, sizes)


def _saved_by(node: Node, layer: Layer[Any], grads: list[bool], store: dict[str, _Storage],
              elem: dict[str, int], batch: int, size: int, amp: bool) -> list[_Storage]:
    """The storages ``layer``'s backward keeps.  Under AMP (``size``: the low-precision
    dtype's bytes) a low-precision op keeps the casts of its float32 inputs (new storages)
    and of its weight, and statistics are float32 (:func:`_amp_bytes`)."""
    lowered = amp and (layer.op.name in AUTOCAST_LOWER or layer.op.name in AUTOCAST_PROJECTED)
    found = []
    for k, s in enumerate(layer.op.saved(layer, grads)):
        if lowered and s.shared == "input" and elem[node.inputs[s.index]] != size:
            found.append(_Storage(f"{node.id}#cast{s.index}",
                                  numel(layer.ins[s.index]) * batch * size))
        else:
            e = _amp_bytes(layer.op.name, s, elem[node.id], size) if amp else size
            found.append(_storage_of(s, k, node, store, batch, e))
    if lowered:
        weight = _cast_weight_elements(layer, grads)
        if weight:
            found.append(_Storage(f"{node.id}#weight", weight * size))
    return found


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


def saved_storages(network: Network, layers: Sequence[Layer[Any]], batch: int, size: int,
                   input_grad: bool = False, input_bytes: int | None = None,
                   amp: bool = False) -> list[dict[str, int]]:
    """Per layer, {storage key: bytes} of what autograd saves for it, each storage under
    the first layer (in forward order) that saves it (see :func:`storages`)."""
    return storages(network, layers, batch, size, input_grad, input_bytes, amp).saved


def _storage_of(s: Saved, k: int, node: Node, store: dict[str, _Storage], batch: int,
                size: int) -> _Storage:
    if s.shared == "input":
        return store[node.inputs[s.index]]
    if s.shared == "output":
        return store[node.id]
    return _Storage(f"{node.id}#{k}", s.elements(batch) * KIND_BYTES.get(s.kind, size))


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
    weights = params + buffers
    grads = sum(r.grad_bytes for r in rows)
    opt_bytes = sum(r.optimizer_bytes for r in rows)
    if training:
        acts = _backward_peak(net, where, [r.grad_bytes for r in rows])
        largest = max((r.grad_bytes for r in rows), default=0)
        step = grads + STEP_TEMPORARIES[optimizer] * largest
        peak = weights + opt_bytes + max(acts, step)
    else:
        acts = report.totals.peak_activation_bytes
        peak = weights + acts
    return Memory(report.name, mode, report.batch, report.dtype, optimizer if training else "",
                  amp, tuple(rows), params, buffers, grads, opt_bytes,
                  sum(r.saved_bytes for r in rows), acts, peak)


def _layer_rows(report: Report, layers: Sequence[Layer[Any]], where: Storages, training: bool,
                wsize: int, states: int) -> list[LayerMemory]:
    """Each layer's share; ``wsize``: the bytes of a parameter, buffer, gradient or
    optimizer-state element (float32 under AMP), ``states``: the optimizer's per parameter.
    A norm's step counter is int64 whatever the dtype (:func:`int64_buffers`)."""
    rows = []
    for row, layer, mine in zip(report.layers, layers, where.saved):
        trainable = row.trainable_params if training else 0
        counters = int64_buffers(layer)
        rows.append(LayerMemory(row.id, row.op, row.params * wsize,
                                (row.buffers - counters) * wsize + counters * INT64,
                                trainable * wsize, trainable * wsize * states,
                                sum(mine.values()) if training else 0, where.sizes[row.id]))
    return rows


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
    ``net`` and ``layers`` as :func:`from_layers` takes them."""
    train = from_layers(net, report, layers, mode="training", optimizer=SUMMARY_OPTIMIZER,
                        amp=False)
    weights = train.param_bytes + train.buffer_bytes
    return MemoryPeaks(SUMMARY_OPTIMIZER, weights + report.totals.peak_activation_bytes,
                       train.peak_bytes)


#: parameter-sized temporaries ``optimizer.step()`` holds at once, in copies of the largest
#: layer's parameters (torch's single-tensor Adam: ``exp_avg_sq.sqrt()`` and its quotient)
STEP_TEMPORARIES = {"sgd": 0, "momentum": 0, "adam": 2, "adamw": 2}


def _forward_peak(net: Network, where: Storages) -> int:
    """The most bytes of activation storages alive at once during the forward: every
    storage saved so far, and the storages of the values still to be read (one pass over
    the layers, the live bytes kept up to date as storages come and go)."""
    nodes = net.nodes
    last_use = {INPUT: -1}
    for i, node in enumerate(nodes):
        for name in node.inputs:
            last_use[name] = i
    last_use[net.output] = len(nodes)
    live = _LiveStorages(where)
    live.hold(INPUT)
    peak = 0
    for i, node in enumerate(nodes):
        live.hold(node.id)
        live.save(where.saved[i])
        peak = max(peak, live.bytes)
        for name in set(node.inputs):
            if last_use.get(name) == i:
                live.release(name)
        if last_use.get(node.id, -1) < i:
            live.release(node.id)
    return peak


class _LiveStorages:
    """The storages alive during the forward: those of values still to be read (a
    storage counted once however many values share it) and every storage saved so far."""

    def __init__(self, where: Storages) -> None:
        self.where = where
        self.values: set[str] = set()
        self.readers: dict[str, int] = {}
        self.saved: set[str] = set()
        self.bytes = 0

    def hold(self, value: str) -> None:
        if value in self.values:
            return
        self.values.add(value)
        st = self.where.store[value]
        if not self.readers.get(st.key) and st.key not in self.saved:
            self.bytes += st.nbytes
        self.readers[st.key] = self.readers.get(st.key, 0) + 1

    def release(self, value: str) -> None:
        if value not in self.values:
            return
        self.values.discard(value)
        st = self.where.store[value]
        self.readers[st.key] -= 1
        if not self.readers[st.key] and st.key not in self.saved:
            self.bytes -= st.nbytes

    def save(self, storages: dict[str, int]) -> None:
        for key, nbytes in storages.items():
            if key not in self.saved:
                self.saved.add(key)
                if not self.readers.get(key):
                    self.bytes += nbytes


def _backward_peak(net: Network, where: Storages, param_grads: list[int]) -> int:
    """The most bytes alive at once during the forward and the backward, parameter
    gradients included: the backward runs the layers in reverse, each keeping until it has
    run the storages saved for it (and those of the layers before it), the gradient of its
    output (alive from its first reader's backward on) and the gradients it makes for its
    inputs, while every parameter gradient made so far lives on to the optimizer step."""
    nodes = net.nodes
    peak = _forward_peak(net, where)
    remaining = sum(sum(m.values()) for m in where.saved)
    out = where.store[net.output]
    kept = out.nbytes if all(out.key not in m for m in where.saved) else 0
    pending: dict[str, int] = {net.output: out.nbytes} if where.grad[net.output] else {}
    grads = sum(pending.values())  # the bytes of the pending activation gradients
    made = 0
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        for name in node.inputs:
            if where.grad[name] and name not in pending:
                pending[name] = where.sizes[name]
                grads += pending[name]
        made += param_grads[i]
        peak = max(peak, remaining + kept + grads + made)
        grads -= pending.pop(node.id, 0)
        remaining -= sum(where.saved[i].values())
    return peak


