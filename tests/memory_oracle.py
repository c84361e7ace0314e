"""Oracles for cnncalc.memory: what autograd saves (``saved_tensors_hooks``), per layer,
and the measured peak of one real training step (a ``TorchDispatchMode`` following every
storage until it is freed).  Imported by the tests only (torch needed)."""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import cnncalc


def storage_key(t: torch.Tensor) -> int:
    """One number per live storage, on any device (the meta device's data pointers are all
    0): the address of its StorageImpl, which every view of it shares."""
    return int(t.untyped_storage()._cdata)


def _params_and_buffers(model: torch.nn.Module) -> set[int]:
    return {storage_key(t) for t in (*model.parameters(), *model.buffers())}


def _enter(running: list[str], node_id: str) -> Any:
    def hook(module: Any, args: Any) -> None:
        running.append(node_id)
    return hook


def _leave(running: list[str]) -> Any:
    def hook(module: Any, args: Any, out: Any) -> None:
        running.pop()
    return hook


def saved_storages(model: Any, x: torch.Tensor) -> dict[str, dict[int, int]]:
    """Layer id -> {storage ptr: nbytes} of the tensors autograd saves in a forward pass of
    ``model`` (train mode) on ``x``: each storage once, under the first layer that saves
    it (the layer whose forward is running); parameters and buffers excluded."""
    skip = _params_and_buffers(model)
    running: list[str] = []
    seen: set[int] = set()
    found: dict[str, dict[int, int]] = {i: {} for i in model.ids}
    keep: list[torch.Tensor] = []  # holds storages alive so pointers stay unique

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = storage_key(t)
        if ptr not in skip and ptr not in seen and running:
            seen.add(ptr)
            found[running[-1]][ptr] = t.untyped_storage().nbytes()
            keep.append(t)
        return t

    handles = []
    for node_id in model.ids:
        module = model.layer(node_id)
        handles.append(module.register_forward_pre_hook(_enter(running, node_id)))
        handles.append(module.register_forward_hook(_leave(running)))
    model.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
        del out
    finally:
        for h in handles:
            h.remove()
    return found


def saved_bytes(spec: Any, batch: int, input_shape: Any = None) -> dict[str, int]:
    """Layer id -> bytes autograd saves for it, for ``spec`` (a Network) at ``batch``."""
    torch.manual_seed(0)
    model = cnncalc.build_torch(spec, input_shape)
    x = torch.randn(batch, *model.input_shape)
    return {k: sum(v.values()) for k, v in saved_storages(model, x).items()}


class StorageTracker(TorchDispatchMode):
    """Follows every storage an op returns until it is freed (``weakref.finalize`` on the
    storage): ``peak`` is the most bytes alive at once among the storages created inside
    the mode, on ``device`` (a meta run's storages have sizes too)."""

    def __init__(self, existing: Any = (), device: str = "cpu") -> None:
        super().__init__()
        self.device = device
        self.live = 0
        self.peak = 0
        #: the storages of ``existing`` tensors (parameters, buffers, the input) are not
        #: new when an in-place op returns them
        self._old = [t.untyped_storage() for t in existing]
        self._seen: set[int] = {int(s._cdata) for s in self._old}

    def _free(self, key: int, nbytes: int) -> None:
        self.live -= nbytes
        self._seen.discard(key)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in torch.utils._pytree.tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type == self.device:
                s = t.untyped_storage()
                key = int(s._cdata)
                if key not in self._seen:
                    self._seen.add(key)
                    self.live += s.nbytes()
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(s, self._free, key, s.nbytes())
        return out


OPTIMIZERS = {"sgd": lambda p: torch.optim.SGD(p, lr=0.01),
              "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
              "adam": lambda p: torch.optim.Adam(p, lr=1e-3),
              "adamw": lambda p: torch.optim.AdamW(p, lr=1e-3)}


def measured_step(spec: Any, batch: int, optimizer: str = "sgd", input_shape: Any = None,
                  autocast: str | None = None) -> int:
    """Bytes at the peak of one real training step (forward, backward, ``optimizer.step()``)
    of the module ``spec`` builds, in the steady state (after a first step made the
    optimizer's state, and ``zero_grad`` freed the gradients): parameters, buffers,
    optimizer state and the input, plus the peak of the storages made during the step
    (activations, their gradients, parameter gradients, the step's temporaries).
    ``autocast``: the forwards run under ``torch.autocast`` on the CPU to that dtype."""
    torch.manual_seed(0)
    model = cnncalc.build_torch(spec, input_shape)
    model.train()
    x = torch.randn(batch, *model.input_shape)
    opt = OPTIMIZERS[optimizer](model.parameters())
    cast = (lambda: torch.autocast("cpu", dtype=getattr(torch, autocast))) if autocast else (
        contextlib.nullcontext)
    with cast():
        out = model(x)
    backward(out)  # a first step makes the optimizer's state
    del out
    opt.step()
    opt.zero_grad(set_to_none=True)
    state = [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    fixed = sum(t.untyped_storage().nbytes()
                for t in (*model.parameters(), *model.buffers(), *state))
    tracker = StorageTracker((*model.parameters(), *model.buffers(), *state, x))
    with tracker:
        with cast():
            out = model(x)
        backward(out)
        del out
        opt.step()
    return fixed + x.untyped_storage().nbytes() + tracker.peak


class _DenseLoss(torch.autograd.Function):
    """``out.sum()`` whose backward hands the engine a dense gradient of ``out``'s size, as
    a real loss does (MSE, a pixel-wise cross-entropy): the engine owns it and frees it
    once the last layer's backward has read it."""

    @staticmethod
    def forward(ctx: Any, out: torch.Tensor) -> torch.Tensor:
        ctx.shape = out.shape
        return out.sum()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.expand(ctx.shape).contiguous()


def backward(out: torch.Tensor) -> None:
    """The backward of a training step from its output ``out``, as a real loss starts it: a
    dense gradient of the output's size that the engine owns (``out.sum().backward()``
    starts from an expanded scalar, one element, and misses the output-sized gradient a
    pixel-wise loss makes; ``out.backward(torch.ones_like(out))`` keeps that gradient alive
    in the caller through the whole backward)."""
    _DenseLoss.apply(out).backward()


def build_uninitialised(spec: Any, input_shape: Any = None, device: str = "cpu") -> Any:
    """The module ``spec`` builds, its parameters and buffers allocated on the CPU but not
    initialised (built on the meta device, then ``to_empty``): the memory of a step does
    not depend on the values, and initialising 100 M parameters costs seconds."""
    with torch.device("meta"):
        model = cnncalc.build_torch(spec, input_shape)
    return model if device == "meta" else model.to_empty(device=device)


def saved_and_step(spec: Any, batch: int, input_shape: Any = None, device: str = "cpu",
                   autocast: str | None = None) -> tuple[dict[str, int], int, int]:
    """Both oracles in one real SGD training step of ``spec`` (no optimizer state, so no
    first step is needed): per layer the bytes of the storages autograd saves (each once,
    under the first layer that saves it; parameters and buffers excluded), the peak bytes
    of the step as :func:`measured_step` counts them, and the bytes of the parameters and
    buffers.  The pack hook keeps no tensor: every saved storage is alive until the
    backward, so its pointer is unique through the forward.  On the ``meta`` device
    nothing is allocated or computed: autograd saves the same tensors and the step makes
    the same storages (``tests/test_memory.py`` checks it against the CPU), at a cost that
    does not grow with the parameters.  ``autocast``: the forward runs under
    ``torch.autocast`` to that dtype (``bfloat16`` on the CPU), the input in float32."""
    model = build_uninitialised(spec, input_shape, device)
    model.train()
    x = torch.randn(batch, *model.input_shape, device=device)
    weights = (*model.parameters(), *model.buffers())
    skip = _params_and_buffers(model)
    running: list[str] = []
    seen: set[int] = set()
    found: dict[str, int] = {i: 0 for i in model.ids}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = storage_key(t)
        if ptr not in skip and ptr not in seen and running:
            seen.add(ptr)
            found[running[-1]] += t.untyped_storage().nbytes()
        return t

    handles = []
    for node_id in model.ids:
        module = model.layer(node_id)
        handles.append(module.register_forward_pre_hook(_enter(running, node_id)))
        handles.append(module.register_forward_hook(_leave(running)))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    tracker = StorageTracker((*weights, x), device)
    cast = (torch.autocast(device, dtype=getattr(torch, autocast)) if autocast else
            contextlib.nullcontext())
    try:
        with tracker:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), cast:
                out = model(x)
            backward(out)
            del out
            opt.step()
    finally:
        for h in handles:
            h.remove()
    fixed = sum(t.untyped_storage().nbytes() for t in weights)
    return found, fixed + x.untyped_storage().nbytes() + tracker.peak, fixed
