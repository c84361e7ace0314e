"""Oracles for cnncalc.memory: what autograd saves (``saved_tensors_hooks``), per layer,
and the measured peak of one real training step (a ``TorchDispatchMode`` following every
storage until it is freed).  Imported by the tests only (torch needed)."""

from __future__ import annotations

from typing import Any

import torch

import cnncalc


def _params_and_buffers(model: torch.nn.Module) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}


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
        s = t.untyped_storage()
        ptr = s.data_ptr()
        if ptr not in skip and ptr not in seen and running:
            seen.add(ptr)
            found[running[-1]][ptr] = s.nbytes()
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
