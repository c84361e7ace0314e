"""The one place where an exception raised *by torch* becomes a user-facing error.

torch reports what a user can fix with plain Python exceptions and C++ messages:
running out of memory (``RuntimeError: ... DefaultCPUAllocator: can't allocate
memory``, ``torch.cuda.OutOfMemoryError``, ``MemoryError``), sizes it cannot index
(``OverflowError``, "integer multiplication overflow"), and shapes a layer refuses at
run time ("Expected more than 1 value per channel when training").  :func:`translate`
maps each to a :class:`~cnncalc.errors.CnncalcError` with the right exit code:

* out of memory -> EnvironmentUnavailable (exit 3), with the bytes torch asked for;
* too large to index -> UsageError (exit 2);
* a layer refusing its input -> ShapeError (exit 2), located at the layer when known;
* a file torch cannot write -> UsageError (exit 2: the path the user gave);

anything else is returned as None (a bug: the CLI reports it as an internal error).
Every torch entry point (build, verify, export, profile) runs under :func:`torch_errors`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from ..errors import CnncalcError, EnvironmentUnavailable, Loc, ShapeError, UsageError

#: message fragments of an allocation failure (CPU allocator, CUDA, MPS, the OS)
OOM_FRAGMENTS = ("out of memory", "can't allocate memory", "cannot allocate memory",
                 "not enough memory", "defaultcpuallocator")
#: message fragments of a size torch cannot represent (int64 overflow)
OVERFLOW_FRAGMENTS = ("overflow", "too large to convert", "int too big")
#: message fragments of torch failing to write a file (torch.save, jit's archive writer)
WRITE_FRAGMENTS = ("open file failed", "file write failed")
#: message fragments of a layer refusing the shape it is given at run time
SHAPE_FRAGMENTS = ("expected more than 1 value per channel",
                   "expected more than 1 spatial element")

MEMORY_HINT = ("lower --batch-size or --input, or check what else uses the memory; "
               "`cnncalc summary` shows the figures without allocating")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without what torch adds for a terminal:
    C++ frames below it, an ``[enforce fail at file:line]`` prefix, colour escapes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    text = re.sub(r"^\[enforce fail at [^\]]*\]\s*", "", text)
    return (text.splitlines() or [type(exc).__name__])[0]


def is_oom(exc: BaseException) -> bool:
    """An out-of-memory error from any backend (CPU, CUDA, MPS) or from Python."""
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        cuda_oom = getattr(torch.cuda, "OutOfMemoryError", None)
        if cuda_oom is not None and isinstance(exc, cuda_oom):
            return True
    except ImportError:  # pragma: no cover - torch is there when torch raised
        pass
    return isinstance(exc, RuntimeError) and any(f in str(exc).lower() for f in OOM_FRAGMENTS)


def requested_bytes(exc: BaseException) -> int | None:
    """The allocation size an OOM message names ("you tried to allocate N bytes",
    CUDA's "Tried to allocate 1.50 GiB"), or None."""
    text = str(exc)
    m = re.search(r"allocate (\d+) bytes", text)
    if m:
        return int(m.group(1))
    m = re.search(r"allocate ([\d.]+) (KiB|MiB|GiB|TiB)", text)
    if m:
        return int(float(m.group(1)) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30,
                                         "TiB": 2**40}[m.group(2)])
    return None


def translate(exc: BaseException, *, layer: str | None = None, loc: Loc | None = None,
              device: str | None = None) -> CnncalcError | None:
    """The user-facing error for an exception torch raised, or None if it is not one
    a user can act on (then it is a bug in cnncalc)."""
    if isinstance(exc, CnncalcError):
        return exc.located(loc, layer=layer)
    if is_oom(exc):
        asked = requested_bytes(exc)
        from .budget import size_text

        amount = f" allocating {size_text(asked)}" if asked else ""
        on = f" on {device}" if device else ""
        return EnvironmentUnavailable(f"out of memory{on}: torch failed{amount} "
                                      f"({first_line(exc)})", loc=loc, layer=layer,
                                      hints=(MEMORY_HINT,))
    text = str(exc).lower()
    if isinstance(exc, OverflowError) or (
            isinstance(exc, RuntimeError) and any(f in text for f in OVERFLOW_FRAGMENTS)):
        return UsageError(f"a size is too large for torch, which indexes tensors with int64: "
                          f"{first_line(exc)}", loc=loc, layer=layer)
    if isinstance(exc, RuntimeError) and any(f in text for f in WRITE_FRAGMENTS):
        return UsageError(f"cannot write the file: {first_line(exc)}", loc=loc, layer=layer)
    if isinstance(exc, (ValueError, RuntimeError)) and any(f in text for f in SHAPE_FRAGMENTS):
        return ShapeError(f"torch cannot run this layer on its input: {first_line(exc)}",
                          loc=loc, layer=layer)
    return None


@contextlib.contextmanager
def torch_errors(*, layer: str | None = None, loc: Loc | None = None,
                 device: str | None = None) -> Iterator[None]:
    """Run a block that calls torch; re-raise what :func:`translate` maps as that error."""
    try:
        yield
    except (RuntimeError, ValueError, OverflowError, MemoryError) as exc:
        mapped = translate(exc, layer=layer, loc=loc, device=device)
        if mapped is None:
            raise
        raise mapped from exc
