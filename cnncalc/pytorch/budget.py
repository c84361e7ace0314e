"""Memory and size bounds checked *before* torch allocates anything.

Everything here works from the static analysis (:class:`~cnncalc.report.Report`), so a
run that cannot fit is refused with the figures instead of being started:

* :func:`check_int64`: torch indexes tensors with int64; a dimension, a tensor's element
  count or a layer's parameter count of 2**63 or more is refused (exit 2) before it
  reaches torch (which would print a C++ stack dump);
* :func:`estimate`: the bytes a run needs, an upper bound from the analysis: parameters
  and buffers, the input, and the peak of live activations (inference) or every
  activation kept for the backward pass plus gradients (training);
* :func:`check_fits`: that estimate against a budget, ``--max-memory`` when given, else
  the memory available on the device (:func:`available_memory`); refused with exit 3.

Nothing here imports torch except :func:`available_memory` for a CUDA device.

>>> parse_size("8GiB"), parse_size("512MB"), parse_size("1000")
(8589934592, 512000000, 1000)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import EnvironmentUnavailable, UsageError
from ..ops.base import numel
from ..report import DTYPE_BYTES, LayerReport, Report
from ..units import grouped, sci
from . import Mode

#: the largest element count (and dimension) torch can index: int64
INT64_MAX = 2**63 - 1
#: bytes per element the estimates assume: float32 (parameters stay float32 under autocast)
ELEMENT_BYTES = 4

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


def parse_size(text: str, option: str = "--max-memory") -> int:
    """``8GiB``, ``512MB``, ``1.5G``, ``1000`` (bytes) -> bytes; UsageError otherwise.

    Decimal units (kB, MB, GB, TB; K, M, G, T) are powers of 1000, binary ones (KiB,
    MiB, GiB, TiB) powers of 1024.
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise UsageError(f"{option} {text}: write a size like 8GiB, 512MB or 1000000 (bytes)")
    value = int(float(m.group(1)) * _UNITS[unit]) if "." in m.group(1) \
        else int(m.group(1)) * _UNITS[unit]
    if value < 1:
        raise UsageError(f"{option} {text}: the size must be at least 1 byte")
    return value


def size_text(n: int) -> str:
    """``381.5 GiB``: a figure for messages in binary units with one decimal, as the
    analysis shows memory (``--max-memory`` reads both 400GiB and 409GB); plain bytes
    under 1 KiB."""
    for scale, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} B"


# ------------------------------------------------------------------- int64 bounds
def check_int64(report: Report, batch: int = 1) -> None:
    """Refuse (UsageError, exit 2) a tensor torch cannot represent: torch counts a
    tensor's elements and its bytes in int64, so any tensor (the input or a layer's
    output, batch included) or any layer's parameters of more than int64 bytes in
    float32 are refused before torch sees them (on the meta device too)."""
    if batch > INT64_MAX:
        raise UsageError(f"batch size {batch:,} is more than torch can index "
                         f"(int64: at most {INT64_MAX:,})")
    shapes = [("the input", report.input_shape)] + [(r.id, r.output_shape) for r in report.layers]
    for where, shape in shapes:
        elements = batch * numel(shape)
        if elements * ELEMENT_BYTES > INT64_MAX:
            raise UsageError(
                f"{where}: a tensor of shape [{batch}, {', '.join(map(str, shape))}] has "
                f"{_sci(elements)} elements, {_sci(elements * ELEMENT_BYTES)} bytes in float32; "
                f"torch counts both in int64 (at most {INT64_MAX:,} = 9.2e18)",
                hints=(ANALYSIS_HINT,))
    for row in report.layers:
        if row.params * ELEMENT_BYTES > INT64_MAX:
            raise UsageError(f"{row.id}: {_sci(row.params)} parameters, "
                             f"{_sci(row.params * ELEMENT_BYTES)} bytes in float32; torch counts "
                             f"both in int64 (at most {INT64_MAX:,})", hints=(ANALYSIS_HINT,))


def _sci(n: int) -> str:
    """Grouped digits, or scientific notation past 10^21 (exact: no float, any size)."""
    return grouped(n) if n < 10**21 else sci(n)


ANALYSIS_HINT = ("the analysis commands (summary, shapes, params, flops, rf) handle any size "
                  "without building the network")


# ----------------------------------------------------------------------- estimate
@dataclass(frozen=True)
class Estimate:
    """What a run needs, in bytes, and its parts (for the message)."""

    weights: int
    inputs: int
    activations: int
    gradients: int
    #: the largest temporary a layer makes beyond its output (a ``local`` layer's patches)
    workspace: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.inputs + self.activations + self.gradients + self.workspace

    def parts(self) -> str:
        shown = [("weights", self.weights), ("input", self.inputs),
                 ("activations", self.activations), ("gradients", self.gradients),
                 ("workspace", self.workspace)]
        return ", ".join(f"{name} {size_text(v)}" for name, v in shown if v)


def estimate(report: Report, batch: int = 1, mode: Mode = "inference",
             weights_only: bool = False) -> Estimate:
    """An upper bound of the bytes a forward pass (``inference``) or a training step
    (``training``: forward, backward and an SGD step) needs at ``batch``, in float32.

    ``report`` may be for any batch: its per-batch figures are rescaled.  Inference:
    parameters + buffers + the peak of live tensors (the input included).  Training:
    parameters + buffers, the input and every layer's output (what autograd keeps for
    the backward pass), and gradients: one per parameter plus the backward's live
    activation gradients (bounded by the forward peak).  Both add the largest
    temporary one layer makes beyond its output (:func:`workspace_elements`; in
    training it is kept for the backward pass, so every layer's counts).
    """
    scale = ELEMENT_BYTES * batch
    weights = (report.totals.params + report.totals.buffers) * ELEMENT_BYTES
    if weights_only:
        return Estimate(weights, 0, 0, 0)
    inputs = numel(report.input_shape) * scale
    peak = _per_sample(report.totals.peak_activation_bytes, report) * scale  # input included
    temporaries = [workspace_elements(row, report.batch) for row in report.layers]
    if mode == "inference":
        return Estimate(weights, inputs, max(peak - inputs, 0), 0,
                        max(temporaries, default=0) * scale)
    saved = _per_sample(report.totals.activation_bytes, report) * scale
    return Estimate(weights, inputs, saved, report.totals.params * ELEMENT_BYTES + peak,
                    sum(temporaries) * scale)


def workspace_elements(row: LayerReport, batch: int) -> int:
    """Elements per sample a layer allocates beyond its output: a ``local`` layer copies
    its input patches (positions x C_in x prod(k), i.e. its MACs / C_out) for one
    batched matmul; other layers' temporaries are bounded by their outputs."""
    if row.op == "local" and row.output_shape[0]:
        return row.macs // batch // row.output_shape[0]
    return 0


def _per_sample(batch_bytes: int, report: Report) -> int:
    """Elements per sample of a byte figure the analysis computed for its batch/dtype."""
    return -(-batch_bytes // (report.batch * DTYPE_BYTES[report.dtype]))  # exact ceil


# ----------------------------------------------------------------------- available
def available_memory(device: str = "cpu") -> int | None:
    """Bytes free for a new allocation on ``device``: CUDA's ``mem_get_info`` free bytes;
    on a CPU, /proc/meminfo's MemAvailable on Linux, else ``os.sysconf`` available pages
    (None where the OS says nothing: then no check is made)."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    if device == "meta":
        return None
    return _meminfo_available() or _sysconf_available()


MEMINFO = "/proc/meminfo"


def _meminfo_available(path: str = MEMINFO) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB (KiB)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sysconf_available() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


# ----------------------------------------------------------------------- the check
@dataclass(frozen=True)
class MemoryBudget:
    """The bytes a command may use: ``--max-memory`` if given, else what is available."""

    limit: int | None = None

    def resolve(self, device: str) -> tuple[int | None, str]:
        """``(bytes, where the figure comes from)``; bytes None: nothing to check against."""
        if self.limit is not None:
            return self.limit, "--max-memory"
        return available_memory(device), "available"


def check_fits(report: Report, budget: MemoryBudget = MemoryBudget(), *, device: str = "cpu",
               batch: int = 1, mode: Mode = "inference", weights_only: bool = False,
               what: str = "this run", batch_hint: str | None = "--batch-size") -> Estimate:
    """Refuse (exit 3, with the figures) a run whose :func:`estimate` exceeds the budget;
    returns the estimate.  Sizes torch cannot index are refused first (exit 2)."""
    check_int64(report, batch)
    need = estimate(report, batch, mode, weights_only)
    have, source = budget.resolve(device)
    if have is None or need.total <= have:
        return need
    hints = []
    if not weights_only:
        fits = largest_batch(lambda b: estimate(report, b, mode).total, have)
        if fits and fits < batch:
            hints.append(f"at most batch {fits:,} fits in {size_text(have)}")
        lower = f"{batch_hint} or --input" if batch_hint else "--input"
        hints.append(f"lower {lower}, or pass --max-memory SIZE (e.g. 64GiB) to allow more")
    else:
        hints.append("pass --max-memory SIZE to allow more; " + ANALYSIS_HINT)
    device_name = "on the GPU" if device == "cuda" else ""
    raise EnvironmentUnavailable(
        f"{what} needs ~{size_text(need.total)} ({need.parts()}); {size_text(have)} {source}"
        f"{(' ' + device_name) if device_name else ''}", hints=tuple(hints))


def largest_batch(need: Callable[[int], int], have: int) -> int:
    """The largest batch whose ``need(batch)`` fits in ``have`` bytes (0 if none does);
    ``need`` grows with the batch, so a binary search over [1, 2**62] finds it."""
    if need(1) > have:
        return 0
    lo, hi = 1, 2**62
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if need(mid) <= have:
            lo = mid
        else:
            hi = mid - 1
    return lo
