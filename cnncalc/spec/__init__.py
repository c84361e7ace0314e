"""Reading specs: file / stdin / zoo name -> validated, expanded :class:`Network`."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..collector import paused_gc
from ..errors import CnncalcError, LimitError, Loc, SpecError, UsageError
from ..suggest import shown
from .yamlio import DEFAULT_LIMITS, Limits, MDict, load_yaml_bytes

# the schema, expansion and op registry are imported by the functions that use them, so
# that `cnncalc zoo` (spec.zoo: the index) does not pay for them
if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Network

__all__ = ["Document", "Limits", "file_kind", "is_spec_document", "load_network",
           "network_from_document", "parse_network", "read_document", "read_source",
           "read_target", "split_target", "variant_names"]


def split_target(text: str) -> tuple[str, str | None]:
    """A SPEC as (what to read, the variant named): ``FILE.yaml:VARIANT`` when the whole
    is not an existing file, split at the last ``:``; a zoo variant name (``resnet50``,
    through the zoo index) as its family's file; else the text as it is.

    >>> split_target("lenet5"), split_target("resnet50")
    (('lenet5', None), ('resnet', 'resnet50'))
    """
    from .schema import ID_PATTERN
    from .zoo import variant_file, zoo_path

    if text in ("-", "/dev/stdin") or _exists(Path(text)):
        return text, None
    head, colon, tail = text.rpartition(":")
    if colon and head and re.fullmatch(ID_PATTERN, tail) and _spec_path(head):
        return head, tail
    if "/" not in text and not text.endswith((".yaml", ".yml")) and zoo_path(text) is None:
        family = variant_file(text)
        if family is not None:
            return family, text
    return text, None


def _spec_path(head: str) -> bool:
    """Whether the part before a ``:`` names something to read a variant from: stdin, an
    existing file, a path that reads as a spec file's, or a zoo file."""
    from .zoo import zoo_path

    return head in ("-", "/dev/stdin") or _exists(Path(head)) \
        or head.endswith((".yaml", ".yml")) or ("/" not in head and zoo_path(head) is not None)


def read_target(source: str | Path,
                limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, str, str | None]:
    """The bytes, display name and variant of a SPEC (:func:`split_target`, then
    :func:`read_source`)."""
    path, variant = split_target(str(source)) if isinstance(source, str) else (source, None)
    data, file = read_source(path, limits)
    return data, file, variant


def read_source(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, str]:
    """The bytes and display name of a path, ``-`` (stdin) or a built-in name.

    Regular files are read, and FIFOs (``<(cmd)``, ``mkfifo``) without ever blocking: a
    FIFO that nobody writes to reads as empty instead of hanging in ``open()``.  Devices
    and sockets are refused (a device may never end); ``-`` and ``/dev/stdin`` read stdin.
    Reads are bounded by ``max_bytes``."""
    from .zoo import suggest, suggest_file, zoo_path

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
        raise UsageError(f"{shown(text)} is neither a file nor a built-in spec{suggest(text)} "
                         "(`cnncalc zoo` lists the built-ins)")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{text}: no such file{suggest_file(path)}") from None
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(
            f"{text} is a folder; give a spec file (or use `cnncalc check` on folders)")
    if stat.S_ISFIFO(info.st_mode):
        return _read_fifo(path, limits), text
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{text} is not a regular file ({file_kind(info.st_mode)}); "
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


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"))


def file_kind(mode: int, other: str = "not a plain file") -> str:
    """What a file that is not a regular one is, from its ``st_mode``: ``a FIFO``, ...

    >>> import stat
    >>> file_kind(stat.S_IFIFO), file_kind(stat.S_IFDIR)
    ('a FIFO', 'a folder')
    """
    return next((name for test, name in _FILE_KINDS if test(mode)), other)


def is_spec_document(doc: object) -> bool:
    """Whether a parsed YAML document is a cnncalc spec: a top-level mapping with the key
    ``cnncalc``, however it was written (``cnncalc:``, ``"cnncalc":``, ``{cnncalc: 1}``,
    after a byte-order mark, or merged in with ``<<:``).  The value is not judged here:
    ``cnncalc: 2`` is a spec, of a version this cnncalc reports it cannot read.

    >>> from cnncalc.spec.yamlio import load_yaml_text
    >>> is_spec_document(load_yaml_text('{"cnncalc": 1, input: [3]}', "x.yaml"))
    True
    >>> is_spec_document(load_yaml_text("jobs: {cnncalc: 1}", "ci.yaml"))
    False
    """
    return isinstance(doc, dict) and "cnncalc" in doc


@dataclass(frozen=True)
class Document:
    """One file read and parsed once: the YAML document, or why it could not be read."""

    file: str
    doc: Any = None
    error: CnncalcError | None = None
    #: the variant the SPEC named (``FILE.yaml:VARIANT``, a zoo variant name), or None
    variant: str | None = None

    @property
    def is_spec(self) -> bool:
        """Whether the file parsed to a spec document (see :func:`is_spec_document`)."""
        return self.error is None and is_spec_document(self.doc)


def read_document(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Read and parse ``source`` once (a path, ``-`` or a built-in name) and classify it;
    errors are kept in the result, not raised.  :func:`network_from_document` makes the
    network from it without parsing the file again."""
    file = str(source)
    try:
        data, file, variant = read_target(source, limits)
        return Document(file, _document(data, file, limits), variant=variant)
    except CnncalcError as exc:
        return Document(file, error=exc)


def network_from_document(document: Document, limits: Limits = DEFAULT_LIMITS,
                          variant: str | None = None,
                          args: Mapping[str, Any] | None = None) -> Network:
    """Validate and expand a :class:`Document` (raises the error it was read with) as
    ``variant`` (default: the one its SPEC named, else the spec's defaults)."""
    if document.error is not None:
        raise document.error
    with paused_gc():  # many acyclic objects: the collector's passes cost a third of the time
        return _network(document.doc, document.file, limits,
                        variant if variant is not None else document.variant, args)


def parse_network(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS,
                  variant: str | None = None, args: Mapping[str, Any] | None = None) -> Network:
    """Parse, validate and expand one spec given as bytes (as ``variant``, with ``args``)."""
    with paused_gc():
        return _parse(data, file, limits, variant, args)


def variant_names(document: Document) -> list[str]:
    """The variants a spec document declares, in the order written (none: ``[]``;
    not validated: a bad ``variants:`` is reported when a network is made)."""
    variants = document.doc.get("variants") if isinstance(document.doc, dict) else None
    return [k for k in variants if isinstance(k, str)] if isinstance(variants, dict) else []


#: the first statement of a Python module, as no YAML spec starts
_PYTHON_START = re.compile(
    r"(?:import\s+[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*(?:\s+as\s+\w+)?\s*(?:#.*)?$"
    r"|from\s+\.*[A-Za-z_][\w.]*\s+import\s"
    r"|from\s+\.+\s+import\s"
    r"|(?:async\s+)?def\s+[A-Za-z_]\w*\s*\("
    r"|class\s+[A-Za-z_]\w*\s*[(:]"
    r"|@[A-Za-z_][\w.]*\s*(?:\(|$)"
    r"|if\s+__name__\s*=="
    r'|"""|\'\'\')')


def _python_line(text: str) -> int | None:
    """The line of the first statement if ``text`` starts like Python source (after blank
    lines and comments), else None."""
    for number, line in enumerate(text.splitlines()[:200], 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return number if _PYTHON_START.match(stripped) else None
    return None


def _not_python(data: bytes, file: str, failed: bool) -> None:
    """Refuse Python source given as a spec: the file starts like a Python module, or it is
    named ``.py`` and did not read as a spec (``failed``)."""
    text = data[:65536].decode("utf-8-sig", errors="replace")
    line = _python_line(text)
    if line is None and not (failed and file.endswith((".py", ".pyw", ".pyi"))):
        return
    raise SpecError("this looks like Python source; cnncalc reads YAML specs "
                    "(see docs/spec-format.md)", loc=Loc(file, line or 1, 1))


def _document(data: bytes, file: str, limits: Limits) -> Any:
    """The parsed YAML of a would-be spec, refusing Python source with its own message."""
    _not_python(data, file, failed=False)
    try:
        raw = load_yaml_bytes(data, file, limits)
    except LimitError:
        raise
    except SpecError:
        _not_python(data, file, failed=True)
        raise
    if not isinstance(raw, MDict):
        _not_python(data, file, failed=True)
    return raw


def _parse(data: bytes, file: str, limits: Limits, variant: str | None = None,
           args: Mapping[str, Any] | None = None) -> Network:
    return _network(_document(data, file, limits), file, limits, variant, args)


def _network(raw: Any, file: str, limits: Limits, variant: str | None = None,
             args: Mapping[str, Any] | None = None) -> Network:
    from pydantic import ValidationError

    from ..graph import Network
    from .diagnose import spec_error
    from .expand import Expander
    from .family import bind
    from .schema import Spec

    if not isinstance(raw, MDict):
        raise SpecError(f"a spec is a mapping with cnncalc:, input: and layers:, got "
                        f"{'a list' if isinstance(raw, list) else _kind(raw)}",
                        loc=getattr(raw, "loc", Loc(file, 1, 1)))
    _check_version(raw, file)
    try:
        spec = Spec.model_validate(dict(raw))
    except ValidationError as exc:
        raise spec_error(exc, raw, Spec, what="top-level key") from None
    family = bind(spec, raw, variant, args, file)
    expander = Expander(family.spec, raw, limits, family.args)
    nodes, output = expander.run()
    return Network(
        name=family.name or Path(file).stem, input_shape=tuple(family.spec.input),
        nodes=tuple(nodes), output=output,
        source=file if variant is None else f"{file}:{variant}",
        strict=spec.strict, side_by_side=spec.side_by_side, expect=family.expect, raw=raw,
        variant=variant, args=family.args,
        reexpand=expander.expand_for if expander.input_dependent else None,
    )


def _kind(value: Any) -> str:
    """``a string 'abc'``, ``the number 3``: what a scalar document holds."""
    if isinstance(value, str):
        return f"a string ({value[:40]!r}{' ...' if len(value) > 40 else ''})"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    return f"the number {value}" if isinstance(value, (int, float)) else type(value).__name__


def _check_version(raw: MDict, file: str) -> None:
    from .schema import SPEC_VERSION

    if "cnncalc" not in raw:
        raise SpecError("missing `cnncalc: 1` (the spec format version) at the top of the file",
                        loc=raw.loc)
    version: Any = raw["cnncalc"]
    if type(version) is not int or version != SPEC_VERSION:  # not 1.0, not true
        shown = str(version).lower() if isinstance(version, bool) else \
            "null" if version is None else repr(version) if len(repr(version)) <= 40 else \
            f"{repr(version)[:36]} ..."
        raise SpecError(f"cnncalc: {shown} is not a spec version this cnncalc reads "
                        f"(it reads version {SPEC_VERSION})", loc=raw.val_loc["cnncalc"],
                        hints=(f"the version is the integer {SPEC_VERSION}: write "
                               f"cnncalc: {SPEC_VERSION}",))


def load_network(source: str | Path, limits: Limits = DEFAULT_LIMITS, variant: str | None = None,
                 args: Mapping[str, Any] | None = None) -> Network:
    """Load a spec from a path, ``-``, a zoo name or ``FILE.yaml:VARIANT``, as ``variant``
    (or the one the SPEC names), with ``args`` over the variant's argument values."""
    data, file, named = read_target(source, limits)
    if variant is not None and named is not None and variant != named:
        raise UsageError(f"{source} names the variant {shown(named)}, but variant="
                         f"{shown(variant)} was asked for; give one of them")
    return parse_network(data, file, limits, variant if variant is not None else named, args)
