"""Reading specs: file / stdin / zoo name -> validated, expanded :class:`Network`."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import LimitError, Loc, SpecError, UsageError
from ..graph import Network
from ..suggest import close_match, shown
from .diagnose import explain
from .expand import expand
from .schema import SPEC_VERSION, Spec
from .yamlio import DEFAULT_LIMITS, Limits, MDict, load_yaml_bytes
from .zoo import zoo_names, zoo_path

__all__ = ["Limits", "load_network", "parse_network", "read_source"]


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
