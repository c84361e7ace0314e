"""Read YAML into plain dicts/lists that remember where each value was written.

Safe by construction: only YAML's standard scalar tags are understood (no python/
tags, nothing is imported or called), duplicate keys are errors (PyYAML silently
keeps the last one), and size, nesting depth and alias expansion are bounded so a
hostile file is refused quickly in bounded memory.

>>> doc = load_yaml_text("a: 1\\nb: [2, 3]\\n", "x.yaml")
>>> doc["b"], doc.val_loc["b"].line, doc["b"].item_loc[1].col
([2, 3], 2, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import LimitError, Loc, SpecError

try:  # libyaml is ~10x faster when present; the pure-python loader is identical in behaviour
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading a spec (raise them with CLI flags or the API)."""

    max_bytes: int = 16 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 2_000_000
    max_layers: int = 100_000


DEFAULT_LIMITS = Limits()


class MDict(dict):
    """A dict with the location of itself, of each key and of each value."""

    loc: Loc
    key_loc: dict[Any, Loc]
    val_loc: dict[Any, Loc]


class MList(list):
    """A list with the location of itself and of each item."""

    loc: Loc
    item_loc: list[Loc]


def _loc(file: str, node: yaml.Node) -> Loc:
    mark = node.start_mark
    return Loc(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.count = 0
        self.scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise LimitError(
                f"the document expands to more than {self.limits.max_nodes:,} YAML values "
                "(an alias bomb?)",
                loc=_loc(self.file, node),
                hints=("raise the limit with --max-nodes if the file is genuine",),
            )
        if depth > self.limits.max_depth:
            raise LimitError(
                f"YAML nested deeper than {self.limits.max_depth} levels",
                loc=_loc(self.file, node),
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            out = MList()
            out.loc, out.item_loc = _loc(self.file, node), []
            for item in node.value:
                out.append(self.build(item, depth + 1))
                out.item_loc.append(_loc(self.file, item))
            return out
        try:
            return self.scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(
                f"unsupported YAML value: {problem}", loc=_loc(self.file, node)
            ) from None

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MDict:
        out = MDict()
        out.loc, out.key_loc, out.val_loc = _loc(self.file, node), {}, {}
        self.scalars.flatten_mapping(node)  # resolves YAML merge keys (<<)
        for key_node, val_node in node.value:
            key = self.build(key_node, depth + 1)
            if isinstance(key, (MDict, MList)):
                raise SpecError("a mapping key must be a plain value", loc=_loc(self.file, key_node))
            if key in out:
                first = out.key_loc[key]
                raise SpecError(
                    f"duplicate key {key!r} (first given at line {first.line}, column {first.col})",
                    loc=_loc(self.file, key_node),
                )
            out[key] = self.build(val_node, depth + 1)
            out.key_loc[key] = _loc(self.file, key_node)
            out.val_loc[key] = _loc(self.file, val_node)
        return out


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError(
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", loc=Loc(file, line, col)
        ) from None


def load_yaml_bytes(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document from bytes (see :func:`load_yaml_text`)."""
    if len(data) > limits.max_bytes:
        raise LimitError(
            f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
            loc=Loc(file, 1, 1),
            hints=("raise the limit with --max-bytes if the file is genuine",),
        )
    return load_yaml_text(_decode(data, file), file, limits)


def load_yaml_text(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document into MDict/MList/scalars, or raise a located SpecError."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(file, mark.line + 1, mark.column + 1) if mark else Loc(file, 1, 1)
        raise SpecError(f"YAML syntax: {exc.problem or exc.context}", loc=loc) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML: {exc}", loc=Loc(file, 1, 1)) from None
    except RecursionError:
        raise LimitError("YAML nested too deeply to read", loc=Loc(file, 1, 1)) from None
    if node is None:
        raise SpecError("the file is empty; a spec needs at least `input:` and `layers:`",
                        loc=Loc(file, 1, 1))
    return _Builder(file, limits).build(node)
