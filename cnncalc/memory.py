"""Training memory, statically: what autograd saves for the backward, per layer, and the
peak of one training step (forward, backward, optimizer step), without running anything;
and the largest batch that fits.  The walk itself is :mod:`cnncalc.footprint`; this is its
API on specs.  No torch import (tests/test_memory.py holds the torch oracles).

>>> import cnncalc
>>> from cnncalc.memory import estimate
>>> m = estimate(cnncalc.load("lenet5"), mode="training", batch=8, optimizer="adam")
>>> m.optimizer_bytes == 2 * m.grad_bytes
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .analysis import analyze, for_input, layers_of
from .footprint import (  # noqa: F401 - the rules' names, for their tests and callers
    AUTOCAST_FOLLOW,
    AUTOCAST_FP32,
    AUTOCAST_LOWER,
    AUTOCAST_PROJECTED,
    FP32,
    OPTIMIZER_STATES,
    LayerMemory,
    Memory,
    amp_element_bytes,
    check_settings,
    from_layers,
    saved_layer_bytes,
)
from .graph import Network
from .ops.base import Layer, numel
from .report import DTYPE_BYTES, DType, Report


def saved_bytes(network: Network, batch: int = 1, dtype: DType = "float32",
                input_shape: Any = None, input_grad: bool = False,
                amp: bool = False) -> dict[str, int]:
    """Layer id -> bytes autograd saves for it in training at ``batch`` (``amp``: under
    torch.autocast to ``dtype``, the input in float32)."""
    report = analyze(network, input_shape, batch=batch, dtype=dtype)
    net = for_input(network, report.input_shape)
    layers = layers_of(net, report)
    inputs = numel(report.input_shape) * batch * FP32 if amp else report.totals.input_bytes
    per = saved_layer_bytes(net, layers, batch, DTYPE_BYTES[dtype], input_grad, inputs, amp)
    return {node.id: nbytes for node, nbytes in zip(net.nodes, per)}


# ----------------------------------------------------------------------- estimate
def estimate(network: Network, input_shape: Any = None, *, mode: str = "training",
             batch: int = 1, dtype: DType = "float32", optimizer: str = "sgd",
             amp: bool = False) -> Memory:
    """The memory of one inference pass or one training step of ``network``."""
    check_settings(mode, optimizer)  # before the analysis is spent
    report = analyze(network, input_shape, batch=batch, dtype=dtype)
    return from_report(network, report, mode=mode, optimizer=optimizer, amp=amp)


def from_report(network: Network, report: Report, *, mode: str, optimizer: str,
                amp: bool, layers: Sequence[Layer[Any]] | None = None) -> Memory:
    """:func:`estimate` for an analysis already made (``layers``: its ops bound to their
    input shapes, when the caller has them)."""
    net = for_input(network, report.input_shape)
    if layers is None:
        layers = layers_of(net, report)
    return from_layers(net, report, layers, mode=mode, optimizer=optimizer, amp=amp)


# ---------------------------------------------------------------------------- fit
#: the largest batch ``largest_batch`` reports
MAX_FIT_BATCH = 10**9


def largest_batch(network: Network, input_shape: Any, limit: int, *, mode: str = "training",
                  dtype: DType = "float32", optimizer: str = "sgd", amp: bool = False
                  ) -> dict[str, int]:
    """The largest batch (at most :data:`MAX_FIT_BATCH`) whose peak fits ``limit`` bytes.

    Each part of the peak is affine in the batch, so the answer is solved from batches 1
    and 2; the peak being the larger of two affine parts (forward and backward, or the
    optimizer step), the solution is then checked and, where the other part decides,
    found by bisection (the peak never falls as the batch grows): a few dozen analyses at
    most."""

    def peak(batch: int) -> int:
        return estimate(network, input_shape, mode=mode, batch=batch, dtype=dtype,
                        optimizer=optimizer, amp=amp).peak_bytes

    one = peak(1)
    if one > limit:
        return {"batch": 0, "peak_bytes": one, "limit_bytes": limit}
    per = max(peak(2) - one, 1)
    guess = max(1, min(1 + (limit - one) // per, MAX_FIT_BATCH))
    lo, hi = 1, MAX_FIT_BATCH + 1  # peak(lo) fits; hi is the first batch known not to
    if peak(guess) <= limit:
        lo = guess
        if guess < MAX_FIT_BATCH and peak(guess + 1) > limit:
            hi = guess + 1
    else:
        hi = guess
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if peak(mid) <= limit else (lo, mid)
    return {"batch": lo, "peak_bytes": peak(lo), "limit_bytes": limit}
