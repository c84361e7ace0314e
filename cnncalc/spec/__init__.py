"""Reading specs: file / stdin / zoo name -> validated, expanded :class:`Network`."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CnncalcError, LimitError, Loc, SpecError, UsageError
from ..graph import Network
from ..suggest import close_match, shown
from .diagnose import explain
from .expand import expand
from .schema import SPEC_VERSION, Spec
from .yamlio import DEFAULT_LIMITS, Limits, MDict, load_yaml_bytes
from .zoo import zoo_names, zoo_path

__all__ = ["Document", "Limits", "is_spec_document", "load_network", "network_from_document",
           "parse_network", "read_document", "read_source"]


def read_source(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, str]:
    """The bytes and display name of a path, ``-`` (stdin) or a built-in name."""
    text = str(source)
    if text == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
        return data, "<stdin>"
    path = Path(text)
    if not path.exists() and "/" not in text and not text.endswith((".yaml", ".yml")):
        zoo = zoo_path(text)
        if zoo is not None:
            return zoo.read_bytes(), f"{text}.yaml"
        near = close_match(text, zoo_names())
        hint = f"; did you mean the built-in '{near}'?" if near else ""
        raise UsageError(f"{shown(text)} is neither a file nor a built-in spec{hint} "
                         "(`cnncalc zoo` lists the built-ins)")
    if not path.exists():
        raise UsageError(f"{text}: no such file")
    if path.is_dir():
        raise UsageError(f"{text} is a folder; give a spec file (or use `cnncalc check` on folders)")
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise LimitError(f"the file is {size:,} bytes, over the limit of {limits.max_bytes:,}",
                             loc=Loc(text, 1, 1),
                             hints=("raise the limit with --max-bytes if the file is genuine",))
        with path.open("rb") as f:  # bounded: /dev/zero or a FIFO report size 0
            data = f.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise LimitError(f"the file is more than {limits.max_bytes:,} bytes, over the limit",
                             loc=Loc(text, 1, 1),
                             hints=("raise the limit with --max-bytes if the file is genuine",))
        return data, text
    except OSError as exc:
        raise UsageError(f"{text}: cannot read: {exc.strerror}") from None


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
        data, file = read_source(source, limits)
        return Document(file, _document(data, file, limits))
    except CnncalcError as exc:
        return Document(file, error=exc)


def network_from_document(document: Document, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Validate and expand a :class:`Document` (raises the error it was read with)."""
    if document.error is not None:
        raise document.error
    return _without_gc(_network, document.doc, document.file, limits)


def parse_network(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Parse, validate and expand one spec given as bytes."""
    return _without_gc(_parse, data, file, limits)


def _without_gc(fn: Callable[..., Network], *args: Any) -> Network:
    was = gc.isenabled()
    gc.disable()  # many acyclic objects: the collector's passes cost a third of the time
    try:
        return fn(*args)
    finally:
        if was:
            gc.enable()


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


def _parse(data: bytes, file: str, limits: Limits) -> Network:
    return _network(_document(data, file, limits), file, limits)


def _network(raw: Any, file: str, limits: Limits) -> Network:
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
        return f"a string ({value[:40]!r}{' ...' if len(value) > 40 else ''})"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    return f"the number {value}" if isinstance(value, (int, float)) else type(value).__name__


def _check_version(raw: MDict, file: str) -> None:
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


def load_network(source: str | Path, limits: Limits = DEFAULT_LIMITS) -> Network:
    """Load a spec from a path, ``-`` or a zoo name."""
    data, file = read_source(source, limits)
    return parse_network(data, file, limits)
