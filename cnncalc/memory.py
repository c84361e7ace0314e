"""Training memory, statically: what autograd saves for the backward, per layer, and the
peak of one training step (forward, backward, optimizer step), without running anything.

Each op declares the tensors its backward keeps (:meth:`cnncalc.ops.base.Op.saved`); this
module gives them storages (a view or an in-place ReLU shares its input's, so a tensor two
layers save counts once, under the first), then walks the step in order with every
tensor's lifetime.  No torch import (tests/test_memory.py holds the torch oracles).

>>> import cnncalc
>>> from cnncalc.memory import estimate
>>> m = estimate(cnncalc.load("lenet5"), mode="training", batch=8, optimizer="adam")
>>> m.optimizer_bytes == 2 * m.grad_bytes
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .analysis import DTYPE_BYTES, DType, analyze, for_input, resolve_layers
from .errors import UsageError
from .graph import INPUT, Network, Node
from .ops.base import Layer, Saved, needs_backward, numel
from .report import Report

Mode = Literal["inference", "training"]
Optimizer = Literal["sgd", "momentum", "adam", "adamw"]
#: optimizer state per trainable parameter, in parameter copies
OPTIMIZER_STATES: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: bytes of one element of each kind of saved tensor (``act`` is the activation dtype)
KIND_BYTES = {"index": 8, "mask": 1}
MODES = ("inference", "training")


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
        data["layers"] = [vars(r) | {} for r in self.layers]
        return data


# ------------------------------------------------------------------ saved storages
def inplace_ids(network: Network) -> set[str]:
    """The layers the torch build runs in place (``cnncalc.torch.model._mark_inplace``: an
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


def saved_storages(network: Network, layers: Sequence[Layer[Any]], batch: int, size: int,
                   input_grad: bool = False, input_bytes: int | None = None
                   ) -> list[dict[str, int]]:
    """Per layer, {storage key: bytes} of what autograd saves for it, each storage under
    the first layer (in forward order) that saves it.  ``size`` is the activation dtype's
    bytes; ``input_grad`` whether the network's input requires grad (it does not when
    training)."""
    inplace = inplace_ids(network)
    if input_bytes is None:
        input_bytes = numel(network.input_shape) * batch * size
    store = {INPUT: _Storage(INPUT, input_bytes)}
    grad = {INPUT: input_grad}
    claimed: set[str] = set()
    found: list[dict[str, int]] = []
    for node, layer in zip(network.nodes, layers):
        grads = [grad[i] for i in node.inputs]
        if layer.op.view or node.id in inplace:
            store[node.id] = store[node.inputs[0]]
        else:
            store[node.id] = _Storage(node.id, numel(layer.out) * batch * size)
        grad[node.id] = needs_backward(layer, grads)
        mine: dict[str, int] = {}
        for k, s in enumerate(layer.op.saved(layer, grads)):
            st = _storage_of(s, k, node, store, batch, size)
            if st.key not in claimed:
                claimed.add(st.key)
                mine[st.key] = st.nbytes
        found.append(mine)
    return found


def _storage_of(s: Saved, k: int, node: Node, store: dict[str, _Storage], batch: int,
                size: int) -> _Storage:
    if s.shared == "input":
        return store[node.inputs[s.index]]
    if s.shared == "output":
        return store[node.id]
    return _Storage(f"{node.id}#{k}", s.elements(batch) * KIND_BYTES.get(s.kind, size))


def saved_bytes(network: Network, batch: int = 1, dtype: DType = "float32",
                input_shape: Any = None, input_grad: bool = False) -> dict[str, int]:
    """Layer id -> bytes autograd saves for it in training at ``batch``."""
    report = analyze(network, input_shape, batch=batch, dtype=dtype)
    net = for_input(network, report.input_shape)
    layers = resolve_layers(net, report)
    per = saved_storages(net, layers, batch, DTYPE_BYTES[dtype], input_grad,
                         report.totals.input_bytes)
    return {node.id: sum(m.values()) for node, m in zip(net.nodes, per)}


# ----------------------------------------------------------------------- estimate
def estimate(network: Network, input_shape: Any = None, *, mode: str = "training",
             batch: int = 1, dtype: DType = "float32", optimizer: str = "sgd",
             amp: bool = False) -> Memory:
    """The memory of one inference pass or one training step of ``network``."""
    if mode not in MODES:
        raise UsageError(f"mode '{mode}' is unknown (choose from {', '.join(MODES)})")
    if optimizer not in OPTIMIZER_STATES:
        raise UsageError(f"optimizer '{optimizer}' is unknown "
                         f"(choose from {', '.join(OPTIMIZER_STATES)})")
    report = analyze(network, input_shape, batch=batch, dtype=dtype)
    return from_report(network, report, mode=mode, optimizer=optimizer, amp=amp)


def from_report(network: Network, report: Report, *, mode: str, optimizer: str,
                amp: bool) -> Memory:
    """:func:`estimate` for an analysis already made."""
    net = for_input(network, report.input_shape)
    size = DTYPE_BYTES[report.dtype]
    training = mode == "training"
    layers = resolve_layers(net, report)
    per = (saved_storages(net, layers, report.batch, size, False, report.totals.input_bytes)
           if training
           else [{} for _ in layers])
    states = OPTIMIZER_STATES[optimizer] if training else 0
    rows = []
    for row, mine in zip(report.layers, per):
        trainable = row.trainable_params if training else 0
        # under AMP the optimizer updates fp32 master weights: states and a copy in fp32
        opt = trainable * 4 * (states + 1) if amp else trainable * size * states
        rows.append(LayerMemory(row.id, row.op, row.param_bytes, row.buffers * size,
                                trainable * size, opt if training else 0, sum(mine.values()),
                                row.activation_bytes))
    weights = sum(r.param_bytes + r.buffer_bytes for r in rows)
    grads = sum(r.grad_bytes for r in rows)
    opt_bytes = sum(r.optimizer_bytes for r in rows)
    if training:
        acts = _training_peak(net, report, per)
        peak = weights + opt_bytes + max(acts, grads)
        peak = weights + opt_bytes + _with_grads(acts, grads)
    else:
        acts = report.totals.peak_activation_bytes
        peak = weights + acts
    return Memory(report.name, mode, report.batch, report.dtype, optimizer if training else "",
                  amp, tuple(rows), sum(r.param_bytes for r in rows),
                  sum(r.buffer_bytes for r in rows), grads, opt_bytes,
                  sum(r.saved_bytes for r in rows), acts, peak)


def _with_grads(acts: int, grads: int) -> int:
    """Parameter gradients are allocated during the backward and live to the step; the
    activation peak of training is during the backward, so they add to it."""
    return acts + grads


def _training_peak(net: Network, report: Report, per: list[dict[str, int]]) -> int:
    """The most activation bytes alive at once in one training step: the forward keeps
    every saved storage (and the live outputs), the backward frees a layer's saved
    storages once it has passed it, while the gradient of each live output exists between
    the layer that makes it and the layers that read it."""
    nodes = net.nodes
    sizes = {INPUT: report.totals.input_bytes} | {r.id: r.activation_bytes for r in report.layers}
    saved_all = sum(sum(m.values()) for m in per)
    # forward: saved storages accumulate; outputs not saved are live only while read
    last_use = {INPUT: -1}
    for i, node in enumerate(nodes):
        for name in node.inputs:
            last_use[name] = i
    last_use[net.output] = len(nodes)
    keys: set[str] = set()
    saved_so_far = 0
    live: dict[str, int] = {INPUT: sizes[INPUT]}
    peak = 0
    for i, node in enumerate(nodes):
        live[node.id] = sizes[node.id]
        saved_so_far += sum(per[i].values())
        keys |= set(per[i])
        peak = max(peak, saved_so_far + sum(v for k, v in live.items() if k not in keys))
        for name in set(node.inputs):
            if last_use.get(name) == i:
                live.pop(name, None)
        if last_use.get(node.id, -1) < i:
            live.pop(node.id, None)
    # backward, from the last layer: gradients of outputs alive until every reader is done
    pending = {net.output: sizes[net.output]}
    remaining = saved_all
    out_alive = sizes[net.output] if net.output not in keys else 0
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        grad_out = pending.pop(node.id, 0)
        for name in node.inputs:
            if name != INPUT and name not in pending:
                pending[name] = sizes[name]
        peak = max(peak, remaining + out_alive + grad_out + sum(pending.values()))
        remaining -= sum(per[i].values())
    return peak
