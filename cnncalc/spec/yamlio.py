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

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import LimitError, Loc, SpecError

try:  # libyaml is ~10x faster when present; the pure-python loader is identical in behaviour
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """The safe loader, plus YAML 1.2 floats: ``1e-6`` is a number, as users expect
    (YAML 1.1, PyYAML's default, reads it as a string because it lacks a dot)."""


class _PyLoader(yaml.SafeLoader):
    """The pure-Python twin of :class:`_Loader`: it has no nesting limit of its own, so the
    prescan falls back to it to apply *our* depth limit where libyaml refuses first."""


_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
for _cls in (_Loader, _PyLoader):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading a spec (raise them with CLI flags or the API)."""

    #: size of the file (or of stdin) in bytes
    max_bytes: int = 16 * 1024 * 1024
    #: nesting depth of YAML mappings/lists (checked before the tree is built)
    max_depth: int = 64
    #: YAML values after aliases are expanded (alias bombs are refused up front)
    max_nodes: int = 1_000_000
    #: layers after blocks and repeats are expanded
    max_layers: int = 100_000
    #: decimal digits of any integer in the spec, or computed by an expression
    max_int_digits: int = 30


DEFAULT_LIMITS = Limits()

#: the only YAML tags a spec may carry (explicit or implied): plain data
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in
                        ("map", "seq", "str", "int", "float", "bool", "null"))


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
        self.pairs: dict[int, tuple[list[Any], list[Any]]] = {}

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise _too_many(self.limits, _loc(self.file, node))
        if depth > self.limits.max_depth:
            raise _too_deep(self.limits, _loc(self.file, node))
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            if tag == "!!timestamp" and isinstance(node, yaml.ScalarNode):
                raise SpecError(f"{node.value} reads as a YAML date; quote it if it is text",
                                loc=_loc(self.file, node))
            raise SpecError(f"the YAML tag {tag} is not allowed: a spec holds plain values "
                            "(mappings, lists, numbers, strings, booleans); nothing in it is "
                            "ever constructed, imported or run", loc=_loc(self.file, node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            out = MList()
            out.loc, out.item_loc = _loc(self.file, node), []
            for item in node.value:
                out.append(self.build(item, depth + 1))
                out.item_loc.append(_loc(self.file, item))
            return out
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        is_int = node.tag == "tag:yaml.org,2002:int"
        digits = self.limits.max_int_digits
        if is_int and len(node.value.lstrip("+-0").replace("_", "")) > digits:
            raise _too_long(self.limits, node.value, _loc(self.file, node))
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"unsupported YAML value: {problem}", loc=_loc(self.file, node)) from None
        if type(value) is int and abs(value) >= 10 ** digits:  # 0x.., 0o.., 1_000 forms
            raise _too_long(self.limits, node.value, _loc(self.file, node))
        return value

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MDict:
        out = MDict()
        out.loc, out.key_loc, out.val_loc = _loc(self.file, node), {}, {}
        own, merged = self._pairs(node, depth)
        for key_node, val_node in own:
            key = self._key(key_node, depth)
            if key in out:
                first = out.key_loc[key]
                raise SpecError(
                    f"duplicate key {key!r} (first given at line {first.line}, column {first.col})",
                    loc=_loc(self.file, key_node),
                )
            self._put(out, key, key_node, val_node, depth)
        for key_node, val_node in merged:  # keys merged in with <<: the file's own keys win
            key = self._key(key_node, depth)
            if key not in out:
                self._put(out, key, key_node, val_node, depth)
        return out

    def _key(self, key_node: yaml.Node, depth: int) -> Any:
        key = self.build(key_node, depth + 1)
        if isinstance(key, (MDict, MList)):
            raise SpecError("a mapping key must be a plain value", loc=_loc(self.file, key_node))
        return key

    def _put(self, out: MDict, key: Any, key_node: yaml.Node, val_node: yaml.Node,
             depth: int) -> None:
        out[key] = self.build(val_node, depth + 1)
        out.key_loc[key] = _loc(self.file, key_node)
        out.val_loc[key] = _loc(self.file, val_node)

    def _pairs(self, node: yaml.MappingNode, depth: int) -> tuple[list[Any], list[Any]]:
        """A mapping's own (key, value) node pairs, and those merged in by ``<<`` (YAML's
        merge key: earlier sources win).  Memoised, so shared anchors cost nothing."""
        cached = self.pairs.get(id(node))
        if cached is not None:
            return cached
        if depth > self.limits.max_depth:  # also stops a mapping that merges itself
            raise _too_deep(self.limits, _loc(self.file, node))
        own: list[Any] = []
        merged: list[Any] = []
        for key_node, val_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                own.append((key_node, val_node))
                continue
            sources = val_node.value if isinstance(val_node, yaml.SequenceNode) else [val_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise SpecError("the merge key << takes a mapping or a list of mappings",
                                    loc=_loc(self.file, source))
                s_own, s_merged = self._pairs(source, depth + 1)
                merged += s_own + s_merged
        self.pairs[id(node)] = (own, merged)
        return own, merged


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
            f"the file is {'more than ' if file == '<stdin>' else ''}{len(data) - (file == '<stdin>'):,} "
            f"bytes, over the limit of {limits.max_bytes:,}",
            loc=Loc(file, 1, 1),
            hints=("raise the limit with --max-bytes if the file is genuine",),
        )
    return load_yaml_text(_decode(data, file), file, limits)


def _too_many(limits: Limits, loc: Loc) -> LimitError:
    return LimitError(
        f"the document expands to more than {limits.max_nodes:,} YAML values (an alias bomb?)",
        loc=loc, hints=("raise Limits(max_nodes=...) in the Python API if the file is genuine",))


def _too_deep(limits: Limits, loc: Loc) -> LimitError:
    return LimitError(
        f"YAML nested deeper than {limits.max_depth} levels", loc=loc,
        hints=("specs need a handful of levels; raise Limits(max_depth=...) in the Python API "
               "if this one is genuine",))


def _too_long(limits: Limits, text: str, loc: Loc) -> LimitError:
    shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"
    return LimitError(
        f"the integer {shown} has more than {limits.max_int_digits} digits", loc=loc,
        hints=("raise Limits(max_int_digits=...) in the Python API if it is genuine",))


def _libyaml_depth_error(exc: yaml.YAMLError) -> bool:
    """Whether libyaml refused the document for its own nesting limit (PyYAML >= 6.0.4
    bundles a libyaml that stops at 1,000 levels, in the scanner, before our prescan has
    seen enough events to apply ``max_depth``)."""
    text = f"{getattr(exc, 'problem', '') or ''} {getattr(exc, 'context', '') or ''}".lower()
    return "nesting" in text or "flow level" in text


def _prescan(text: str, file: str, limits: Limits) -> None:
    """Apply the depth and size limits to the event stream (see :func:`_scan_events`).

    When libyaml's own nesting limit fires first, the pure-Python parser (which has none)
    walks the stream instead, so the user sees this project's limit at the place where the
    document first nests deeper than ``max_depth``.  Should the pure-Python walk pass (a
    ``max_depth`` raised above libyaml's limit), the document is still refused, as too deep
    for the YAML library, with both figures.
    """
    try:
        _scan_events(text, file, limits, _Loader)
    except yaml.YAMLError as exc:
        if not _libyaml_depth_error(exc):
            raise
        _scan_events(text, file, limits, _PyLoader)
        mark = getattr(exc, "problem_mark", None)
        raise LimitError(
            f"YAML nested deeper than the YAML library (libyaml) allows; the limit here is "
            f"{limits.max_depth} levels",
            loc=Loc(file, mark.line + 1, mark.column + 1) if mark else Loc(file, 1, 1),
            hints=("specs need a handful of levels: flatten the nesting",)) from None


def _scan_events(text: str, file: str, limits: Limits, loader: type) -> None:
    """Walk the YAML event stream (no tree, no recursion) and refuse documents nested
    deeper than ``max_depth`` or expanding, through aliases, to over ``max_nodes`` values.

    libyaml's composer recurses in C, so a file of 100,000 ``[`` would crash the
    interpreter; and an alias bomb is only small until it is expanded.  Both are
    caught here, before a single node is composed.
    """
    depth = 0
    total = 0
    open_: list[tuple[str | None, int]] = []
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            total += sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            total += 1
            depth += 1
            if depth > limits.max_depth:
                raise _too_deep(limits, Loc(file, event.start_mark.line + 1,
                                            event.start_mark.column + 1))
            open_.append((event.anchor, total))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = open_.pop()
            if anchor:
                sizes[anchor] = total - start + 1
        else:
            continue
        if total > limits.max_nodes:
            raise _too_many(limits, Loc(file, event.start_mark.line + 1,
                                        event.start_mark.column + 1))


#: plain advice for libyaml's commonest complaints
_SYNTAX_HINTS = {
    "cannot start any token": "YAML indents with spaces, never tabs",
    "mapping values are not allowed": "check this line's indentation against the line above; "
                                      "a value containing ': ' needs quotes",
    "did not find expected ',' or ']'": "a [ list is not closed, or two items lack a comma",
    "did not find expected ',' or '}'": "a { mapping is not closed, or two items lack a comma",
    "but found another document": "a spec is one YAML document: remove the '---' line",
}


def _tab_at(text: str, mark: Any) -> bool:
    lines = text.splitlines()
    return mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> SpecError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(file, mark.line + 1, mark.column + 1) if mark else Loc(file, 1, 1)
        problem = exc.problem or exc.context or "not YAML"
        notes: tuple[str, ...] = ()
        ctx = exc.context_mark
        if exc.context and exc.problem and ctx is not None and (ctx.line, ctx.column) != (
                mark.line, mark.column):
            notes = (f"{exc.context}, which starts at line {ctx.line + 1}, column {ctx.column + 1}",)
        if problem == "found undefined alias" and mark is not None:
            name = re.match(r"\*?([^\s,\]}]*)", text.splitlines()[mark.line][mark.column:] if
                            mark.line < len(text.splitlines()) else "")
            alias = name.group(1) if name else ""
            problem = f"the alias *{alias} has no anchor &{alias} before it"
        hints = tuple(h for key, h in _SYNTAX_HINTS.items()
                      if key in problem and (key != "cannot start any token" or _tab_at(text, mark)))
        return SpecError(f"YAML syntax: {problem}", loc=loc, notes=notes, hints=hints)
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        loc = Loc(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return SpecError(f"YAML cannot contain the control character #x{char:04x}", loc=loc)
    return SpecError(f"YAML: {exc}", loc=Loc(file, 1, 1))


def load_yaml_text(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document into MDict/MList/scalars, or raise a located SpecError."""
    try:
        _prescan(text, file, limits)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        if _libyaml_depth_error(exc):  # composing, past a raised max_depth
            raise _too_deep(limits, Loc(file, 1, 1)) from None
        raise _yaml_error(exc, text, file) from None
    except RecursionError:
        raise _too_deep(limits, Loc(file, 1, 1)) from None
    if node is None:
        raise SpecError("the file is empty; a spec needs at least `input:` and `layers:`",
                        loc=Loc(file, 1, 1))
    return _Builder(file, limits).build(node)
