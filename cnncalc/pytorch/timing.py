"""How to time a step: blocked samples, device synchronisation, latency statistics.

* warm-up iterations are run first and never timed;
* timing is *blocked*, like ``torch.utils.benchmark``'s ``blocked_autorange``: one
  sample times a block of iterations long enough to swamp timer overhead, and the
  per-iteration latency is the block time divided by its length;
* on CUDA every block is bracketed by ``torch.cuda.Event(enable_timing=True)`` records
  and a ``torch.cuda.synchronize()`` before they are read; peak memory is
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LatencyStats:
    """Per-iteration latency over the timed samples, in milliseconds."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    #: (p90 - p10) / median: how much the runs disagree
    spread: float
    #: coefficient of variation: stdev / mean
    cv: float
    samples: int
    iterations: int

    @staticmethod
    def of(per_iter_s: Sequence[float], iterations: int) -> LatencyStats:
        ms = sorted(t * 1e3 for t in per_iter_s)
        med = statistics.median(ms)
        p10, p90 = _quantile(ms, 0.1), _quantile(ms, 0.9)
        mean = statistics.fmean(ms)
        std = statistics.pstdev(ms) if len(ms) > 1 else 0.0
        return LatencyStats(med, p10, p90, mean, ms[0], ms[-1], (p90 - p10) / med if med else 0.0,
                            std / mean if mean else 0.0, len(ms), iterations)


def _quantile(sorted_ms: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted data."""
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    pos = q * (len(sorted_ms) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (pos - lo)


# ------------------------------------------------------------------------ timers
class Timer:
    """Times a block of ``n`` calls of ``fn``; subclasses add device synchronisation."""

    def sync(self) -> None:
        """Wait for queued device work (nothing to wait for on the CPU)."""

    def time_block(self, fn: Callable[[], Any], n: int) -> float:
        self.sync()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        self.sync()
        return time.perf_counter() - t0

    def reset_peak(self) -> None:
        """Start a new peak-memory window."""

    def peak_bytes(self) -> int | None:
        return None


class CudaTimer(Timer):
    """CUDA: device events around the block, synchronised before reading them."""

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def sync(self) -> None:
        self.torch.cuda.synchronize()

    def time_block(self, fn: Callable[[], Any], n: int) -> float:
        cuda = self.torch.cuda
        start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        cuda.synchronize()
        start.record()
        for _ in range(n):
            fn()
        end.record()
        cuda.synchronize()
        return start.elapsed_time(end) / 1e3

    def reset_peak(self) -> None:
        self.torch.cuda.empty_cache()
        self.torch.cuda.reset_peak_memory_stats()

    def peak_bytes(self) -> int | None:
        return int(self.torch.cuda.max_memory_allocated())


class MpsTimer(Timer):
    def sync(self) -> None:
        import torch

        torch.mps.synchronize()

    def peak_bytes(self) -> int | None:
        import torch

        return int(torch.mps.driver_allocated_memory())


def timer_for(device: str) -> Timer:
    return {"cuda": CudaTimer, "mps": MpsTimer}.get(device, Timer)()


# ------------------------------------------------------------------- measurement
@dataclass(frozen=True)
class Budget:
    """How long to measure: ``iters`` fixed iterations, or at least ``min_time`` s."""

    warmup: int = 3
    min_time: float = 1.0
    iters: int | None = None
    #: a timed sample should last at least this long (swamps timer overhead)
    min_sample: float = 0.01
    max_samples: int = 200


def measure(step: Callable[[], Any], timer: Timer, budget: Budget) -> tuple[list[float], int]:
    """Warm up, then time blocked samples; returns per-iteration seconds and the count."""
    for _ in range(budget.warmup):
        step()
    timer.sync()
    if budget.iters is not None:
        samples = [timer.time_block(step, 1) for _ in range(budget.iters)]
        return samples, budget.iters
    block = 1
    first = timer.time_block(step, block)
    while first < budget.min_sample and block < 1 << 16:
        block *= max(2, min(10, int(budget.min_sample / max(first, 1e-9)) + 1))
        first = timer.time_block(step, block)
    per_sample = block
    times = [first / block]
    spent = first
    while spent < budget.min_time and len(times) < budget.max_samples:
        t = timer.time_block(step, block)
        times.append(t / block)
        spent += t
    if len(times) < 5:  # a few samples even when one block overruns the budget
        times += [timer.time_block(step, block) / block for _ in range(5 - len(times))]
    return times, per_sample * len(times)

