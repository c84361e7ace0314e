"""Reading specs: file / stdin / zoo name -> validated, expanded :class:`Network`."""

from __future__ import annotations

import gc
import os
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from ..errors import LimitError, Loc, SpecError, UsageError
from ..graph import Network
from .diagnose import explain
from .expand import expand
from .schema import SPEC_VERSION, Spec
from .yamlio import DEFAULT_LIMITS, Limits, MDict, load_yaml_bytes
from .zoo import suggest, suggest_file, zoo_path

__all__ = ["Limits", "load_network", "parse_network", "read_source"]


def read_source(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, str]:
    """The bytes and display name of a path, ``-`` (stdin) or a built-in name.

    Regular files are read, and FIFOs (``<(cmd)``, ``mkfifo``) without ever blocking: a
    FIFO that nobody writes to reads as empty instead of hanging in ``open()``.  Devices
    and sockets are refused (a device may never end); ``-`` and ``/dev/stdin`` read stdin.
    Reads are bounded by ``max_bytes``."""
    text = str(source)
    if not text.strip():
        raise UsageError("SPEC is empty; give a spec file, `-` for stdin or a built-in name "
                         "(`cnncalc zoo` lists them)")
    if "\x00" in text:
        raise UsageError("SPEC contains a NUL character, which no file name can hold")
    if text in ("-", "/dev/stdin"):
        return _read_stdin(limits), "<stdin>"
    path = Path(text)
    if not _exists(path) and "/" not in text and not text.endswith((".yaml", ".yml")):
        zoo = zoo_path(text)
        if zoo is not None:
            return zoo.read_bytes(), f"{text}.yaml"
        raise UsageError(f"'{text}' is neither a file nor a built-in spec{suggest(text)} "
                         "(`cnncalc zoo` lists the built-ins)")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{text}: no such file{suggest_file(path)}") from None
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{text} is a folder; give a spec file (or use `cnncalc check` on folders)")
    if stat.S_ISFIFO(info.st_mode):
        return _read_fifo(path, limits), text
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{text} is not a regular file ({_file_kind(info.st_mode)}); "
                         "cnncalc reads spec files, or stdin with `-` (e.g. `cmd | cnncalc "
                         "summary -`)")
    if info.st_size > limits.max_bytes:
        raise LimitError(f"the file is {info.st_size:,} bytes, over the limit of "
                         f"{limits.max_bytes:,}", loc=Loc(text, 1, 1),
                         hints=("raise the limit with --max-bytes if the file is genuine",))
    try:
        with path.open("rb") as f:
            data = read_bounded(f, limits.max_bytes)
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from None
    if len(data) > limits.max_bytes:
        raise LimitError(f"the file is more than {limits.max_bytes:,} bytes, over the limit",
                         loc=Loc(text, 1, 1),
                         hints=("raise the limit with --max-bytes if the file is genuine",))
    return data, text


def _read_fifo(path: Path, limits: Limits) -> bytes:
    """A FIFO's bytes: opened non-blocking (a plain ``open()`` waits for a writer forever),
    then read blocking, so a writer that is there (process substitution) is read to its
    end, and a FIFO with no writer reads as empty at once."""
    text = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from None
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as f:
        data = read_bounded(f, limits.max_bytes)
    if len(data) > limits.max_bytes:
        raise LimitError(f"the FIFO gave more than {limits.max_bytes:,} bytes, over the limit",
                         loc=Loc(text, 1, 1),
                         hints=("raise the limit with --max-bytes if the input is genuine",))
    if not data:
        raise UsageError(f"{text} is a FIFO that nothing wrote to; give a spec file, or pipe "
                         "the spec to `cnncalc summary -`")
    return data


#: bytes per read: a user-given limit is never allocated up front
READ_CHUNK = 1 << 20


def read_bounded(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``stream``, read in chunks (so that a huge
    ``--max-bytes`` costs nothing until the data is really there)."""
    parts: list[bytes] = []
    left = max_bytes + 1
    while left > 0:
        chunk = stream.read(min(READ_CHUNK, left))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _read_stdin(limits: Limits) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise UsageError("SPEC is `-` but stdin is closed; pipe a spec in (`cat net.yaml | "
                         "cnncalc summary -`) or give a file")
    try:
        data = read_bounded(stream, limits.max_bytes)
    except (OSError, ValueError) as exc:  # ValueError: a closed file object
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is closed"
        raise UsageError(f"cannot read stdin: {reason}") from None
    return data  # over the limit when longer than max_bytes: load_yaml_bytes says so


def _exists(path: Path) -> bool:
    """``path.exists()``, False for a name the file system cannot even look up (too long)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def parse_network(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Parse, validate and expand one spec given as bytes."""
    was = gc.isenabled()
    gc.disable()  # many acyclic objects: the collector's passes cost a third of the time
    try:
        return _parse(data, file, limits)
    finally:
        if was:
            gc.enable()


def _parse(data: bytes, file: str, limits: Limits) -> Network:
    raw = load_yaml_bytes(data, file, limits)
    if not isinstance(raw, MDict):
        raise SpecError(f"a spec is a mapping with cnncalc:, input: and layers:, got "
                        f"{'a list' if isinstance(raw, list) else _kind(raw)}",
                        loc=getattr(raw, "loc", Loc(file, 1, 1)))
    _check_version(raw, file)
    try:
        spec = Spec.model_validate(dict(raw))
    except ValidationError as exc:
        raise explain(exc, raw, Spec, what="top-level key") from None
    nodes, output = expand(spec, raw, limits)
    name = spec.name or Path(file).stem
    return Network(
        name=name, input_shape=tuple(spec.input), nodes=tuple(nodes), output=output,
        source=file, input_loc=raw.val_loc.get("input"), strict=spec.strict,
        expect=raw.get("expect"), raw=raw,
    )


def _kind(value: Any) -> str:
    """``a string 'abc'``, ``the number 3``: what a scalar document holds."""
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return f"the number {value}" if isinstance(value, (int, float)) else type(value).__name__


def _check_version(raw: MDict, file: str) -> None:
    if "cnncalc" not in raw:
        raise SpecError("missing `cnncalc: 1` (the spec format version) at the top of the file",
                        loc=raw.loc)
    version: Any = raw["cnncalc"]
    if version != SPEC_VERSION or isinstance(version, bool):
        raise SpecError(f"cnncalc: {version!r} is not a spec version this cnncalc reads "
                        f"(it reads version {SPEC_VERSION})", loc=raw.val_loc["cnncalc"])


def load_network(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Load a spec from a path, ``-`` or a zoo name."""
    data, file = read_source(source, limits)
    return parse_network(data, file, limits)
