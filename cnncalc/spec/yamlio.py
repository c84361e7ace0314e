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

import bisect
import re
from dataclasses import dataclass
from typing import Any, cast

import yaml

from ..errors import LimitError, Loc, SpecError
from ..suggest import shown

try:  # libyaml is ~10x faster when present; the pure-python loader is identical in behaviour
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader, plus YAML 1.2 floats: ``1e-6`` is a number, as users expect
    (YAML 1.1, PyYAML's default, reads it as a string because it lacks a dot)."""


class _PyLoader(yaml.SafeLoader):
    """The pure-Python twin of :class:`_Loader`: it has no nesting limit of its own, so the
    prescan falls back to it to apply *our* depth limit where libyaml refuses first."""


_FLOAT_12 = re.compile(r"[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+\Z")
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
    #: argument values held by all the expanded layers together (a list counts its items)
    max_arg_values: int = 4_000_000


DEFAULT_LIMITS = Limits()

#: the only YAML tags a spec may carry (explicit or implied): plain data
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in
                        ("map", "seq", "str", "int", "float", "bool", "null"))


class MDict(dict[Any, Any]):
    """A dict with the location of itself, of each key and of each value.

    ``via`` is where the alias (``*name``) that produced this copy of an anchored
    mapping is written, if one did; ``key_src`` holds, for each key that is not a
    string, the key as written (``yes``, ``0x10``, ``~``); ``merged`` maps each key that
    came in through ``<<:`` to where that ``<<`` is written."""

    loc: Loc | None
    key_loc: dict[Any, Loc]
    val_loc: dict[Any, Loc]
    via: Loc | None = None
    key_src: dict[Any, str]


class MList(list[Any]):
    """A list with the location of itself and of each item (``via``: see :class:`MDict`)."""

    loc: Loc
    item_loc: list[Loc]
    via: Loc | None = None


def key_text(mapping: Any, key: Any) -> str:
    """A mapping's key as the user wrote it: ``yes`` rather than ``True``."""
    if isinstance(key, str):
        return key
    written = getattr(mapping, "key_src", {}).get(key)
    return written if written is not None else str(key)


#: characters PyYAML (YAML 1.1) counts as line breaks but editors and YAML 1.2 do not
_ODD_BREAKS = ("\x85", "\u2028", "\u2029")
_BREAK = re.compile(r"\r\n|\r|\n")


class Positions:
    """Turns PyYAML's marks into the line and column an editor shows.

    PyYAML starts a new line at U+0085, U+2028 and U+2029 too (YAML 1.1); editors, YAML
    1.2 and this project's other messages do not, so in a text holding one of them the
    position is recomputed from the mark's character index."""

    def __init__(self, text: str, file: str) -> None:
        self.file, self.text = file, text
        self.starts: list[int] | None = None
        if any(c in text for c in _ODD_BREAKS):
            self._lines()

    def _lines(self) -> list[int]:
        if self.starts is None:
            self.starts = [0] + [m.end() for m in _BREAK.finditer(self.text)]
        return self.starts

    def loc(self, mark: Any) -> Loc:
        if self.starts is None or getattr(mark, "index", None) is None:
            return Loc(self.file, mark.line + 1, mark.column + 1)
        return self.at(mark.index)

    def at(self, index: int) -> Loc:
        """The location of the character at ``index`` of the text."""
        starts = self._lines()
        line = bisect.bisect_right(starts, index) - 1
        return Loc(self.file, line + 1, index - starts[line] + 1)


class _Alias:
    """One use of an anchor (``*name``) in the composed tree: the anchored node, and
    where the alias itself is written (errors about this use point there)."""

    __slots__ = ("anchor", "start_mark", "target")

    def __init__(self, target: yaml.Node, mark: Any, anchor: str) -> None:
        self.target, self.start_mark, self.anchor = target, mark, anchor


def _target(node: Any) -> Any:
    return node.target if isinstance(node, _Alias) else node


class _Builder:
    def __init__(self, pos: Positions, limits: Limits) -> None:
        self.pos = pos
        self.file = pos.file
        self.limits = limits
        self.count = 0
        self.scalars = yaml.constructor.SafeConstructor()
        self.pairs: dict[int, tuple[list[Any], list[Any]]] = {}
        self.merge_locs: dict[int, Loc] = {}  # mapping node -> where its << is written

    def loc(self, node: Any) -> Loc:
        return self.pos.loc(node.start_mark)

    def build(self, node: Any, depth: int = 0) -> Any:
        if isinstance(node, _Alias):
            value = self.build(node.target, depth)
            if isinstance(value, (MDict, MList)):  # a fresh copy: it is where the alias is
                value.loc = value.via = self.loc(node)
            return value
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise _too_many(self.limits, self.loc(node))
        if depth > self.limits.max_depth:
            raise _too_deep(self.limits, self.loc(node))
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            if tag == "!!timestamp" and isinstance(node, yaml.ScalarNode):
                raise SpecError(
                    f"{shown(node.value, quote='')} reads as a YAML date; quote it if it is text",
                    loc=self.loc(node))
            raise SpecError(f"the YAML tag {shown(tag, quote='')} is not allowed: a spec holds "
                            "plain values (mappings, lists, numbers, strings, booleans); nothing "
                            "in it is ever constructed, imported or run", loc=self.loc(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            out = MList()
            out.loc, out.item_loc = self.loc(node), []
            for item in node.value:
                out.append(self.build(item, depth + 1))
                out.item_loc.append(self.loc(item))
            return out
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        is_int = node.tag == "tag:yaml.org,2002:int"
        digits = self.limits.max_int_digits
        if is_int and len(node.value.lstrip("+-0").replace("_", "")) > digits:
            raise _too_long(self.limits, node.value, self.loc(node))
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"unsupported YAML value: {problem}", loc=self.loc(node)) from None
        if type(value) is int and abs(value) >= 10 ** digits:  # 0x.., 0o.., 1_000 forms
            raise _too_long(self.limits, node.value, self.loc(node))
        return value

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MDict:
        out = MDict()
        out.loc, out.key_loc, out.val_loc = self.loc(node), {}, {}
        own, merged = self._pairs(node, depth)
        seen: dict[tuple[type, Any], Any] = {}  # YAML compares keys by type and value
        for key_node, val_node in own:
            key = self._key(key_node, depth)
            self._check_new(out, seen, key, key_node)
            seen[(type(key), key)] = key_node
            self._put(out, key, key_node, val_node, depth)
        for key_node, val_node in merged:  # keys merged in with <<: the file's own keys win
            key = self._key(key_node, depth)
            if key not in out:
                self._put(out, key, key_node, val_node, depth)
                out.__dict__.setdefault("merged", {})[key] = self.merge_locs[id(node)]
        return out

    def _check_new(self, out: MDict, seen: dict[tuple[type, Any], Any], key: Any,
                   key_node: Any) -> None:
        """A key given twice is an error; so are two keys YAML tells apart but Python does
        not (``1`` and ``yes``, i.e. true): a spec's keys are names."""
        if key not in out:
            return
        first = out.key_loc[key]
        where = f"line {first.line}, column {first.col}"
        written = _written_key(key, key_node)
        if (type(key), key) in seen:
            before = key_text(out, key)
            same = "" if isinstance(key, str) or before == written else f"; the same as {before}"
            raise SpecError(f"duplicate key {written} (first given at {where}{same})",
                            loc=self.loc(key_node))
        raise SpecError(
            f"the key {written} reads as {_kind_of(key)}, which Python cannot tell from the "
            f"key {key_text(out, key)} at {where}; keys in a spec are names: quote them "
            f"(\"{_target(key_node).value}\")", loc=self.loc(key_node))

    def _key(self, key_node: Any, depth: int) -> Any:
        key = self.build(key_node, depth + 1)
        if isinstance(key, (MDict, MList)):
            raise SpecError("a mapping key must be a plain value", loc=self.loc(key_node))
        return key

    def _put(self, out: MDict, key: Any, key_node: Any, val_node: Any, depth: int) -> None:
        out[key] = self.build(val_node, depth + 1)
        out.key_loc[key] = self.loc(key_node)
        out.val_loc[key] = self.loc(val_node)
        if not isinstance(key, str):
            out.__dict__.setdefault("key_src", {})[key] = _written_key(key, key_node)

    def _pairs(self, node: yaml.MappingNode, depth: int) -> tuple[list[Any], list[Any]]:
        """A mapping's own (key, value) node pairs, and those merged in by ``<<`` (YAML's
        merge key: earlier sources win).  Memoised, so shared anchors cost nothing."""
        cached = self.pairs.get(id(node))
        if cached is not None:
            return cached
        if depth > self.limits.max_depth:
            raise _too_deep(self.limits, self.loc(node))
        own: list[Any] = []
        merged: list[Any] = []
        merge_key: Any = None
        for key_node, val_node in node.value:
            if _target(key_node).tag != "tag:yaml.org,2002:merge":
                own.append((key_node, val_node))
                continue
            if merge_key is not None:  # << is a key too: YAML forbids giving it twice
                first = self.loc(merge_key)
                raise SpecError(f"duplicate key << (first given at line {first.line}, column "
                                f"{first.col}); merge several mappings with <<: [*a, *b]",
                                loc=self.loc(key_node))
            merge_key = key_node
            self.merge_locs[id(node)] = self.loc(key_node)
            value = _target(val_node)
            sources = value.value if isinstance(value, yaml.SequenceNode) else [val_node]
            for source in sources:
                if not isinstance(_target(source), yaml.MappingNode):
                    raise SpecError("the merge key << takes a mapping or a list of mappings",
                                    loc=self.loc(source))
                s_own, s_merged = self._pairs(_target(source), depth + 1)
                merged += s_own + s_merged
        self.pairs[id(node)] = (own, merged)
        return own, merged


def _written_key(key: Any, key_node: Any) -> str:
    """``'out'`` for a string key (as messages always quoted it), else the key's text."""
    if isinstance(key, str):
        return repr(key) if len(key) <= 60 else shown(key)
    text = getattr(_target(key_node), "value", None)
    return shown(text, quote="") if isinstance(text, str) and text else "~" if key is None \
        else str(key)


def _kind_of(key: Any) -> str:
    if isinstance(key, bool):
        return f"the boolean {str(key).lower()}"
    if key is None:
        return "null"
    return f"the number {key}"


def _decode(data: bytes, file: str) -> str:
    body = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not part of line 1
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[: exc.start]
        line = before.count(b"\n") + 1
        start = before.rfind(b"\n") + 1  # the column counts characters, as editors do
        col = len(body[start: exc.start].decode("utf-8")) + 1
        raise SpecError(
            f"the file is not valid UTF-8 (byte 0x{body[exc.start]:02x})", loc=Loc(file, line, col)
        ) from None


def load_yaml_bytes(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document from bytes (see :func:`load_yaml_text`)."""
    if len(data) > limits.max_bytes:
        stdin = file == "<stdin>"  # (standard input is read one byte past the limit)
        raise LimitError(
            f"the file is {'more than ' if stdin else ''}{len(data) - stdin:,} "
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


def _compose(text: str, pos: Positions, limits: Limits) -> _Composer:
    """The document's node tree, composed from the event stream (see :class:`_Composer`).

    When libyaml's own nesting limit fires first, the pure-Python parser (which has none)
    reads the stream instead, so the user sees this project's limit at the place where the
    document first nests deeper than ``max_depth``.  Should the pure-Python walk pass (a
    ``max_depth`` raised above libyaml's limit), the document is still refused, as too deep
    for the YAML library, with both figures.
    """
    try:
        composer = _Composer(pos, limits)
        composer.compose(text, _Loader)
        return composer
    except yaml.YAMLError as exc:
        if not _libyaml_depth_error(exc):
            raise
        _Composer(pos, limits).compose(text, _PyLoader)
        mark = getattr(exc, "problem_mark", None)
        raise LimitError(
            f"YAML nested deeper than the YAML library (libyaml) allows; the limit here is "
            f"{limits.max_depth} levels",
            loc=pos.loc(mark) if mark else Loc(pos.file, 1, 1),
            hints=("specs need a handful of levels: flatten the nesting",)) from None


class _Composer:
    """Builds YAML nodes from the parser's events, without recursion, and refuses before
    a single value is constructed: documents nested deeper than ``max_depth``, documents
    that expand, through aliases, to over ``max_nodes`` values (an alias bomb is small
    only until it is expanded), and recursive aliases (``a: &x [*x]``).

    libyaml's own composer recurses in C, so a file of 100,000 ``[`` would crash the
    interpreter; it also loses where each alias is written, which this one keeps (an
    :class:`_Alias` in the tree), so errors about an alias's use point at the alias.
    """

    def __init__(self, pos: Positions, limits: Limits) -> None:
        self.pos, self.limits = pos, limits
        self.resolver = _PyLoader("")  # its implicit resolvers: the same as _Loader's
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[str, int] = {}  # anchor -> values it expands to
        self.open: set[str] = set()  # anchors of collections not yet closed
        self.total = 0
        self.root: yaml.Node | None = None
        #: anchored mappings, in the order they end (a merge's sources come first)
        self.anchored_maps: list[yaml.MappingNode] = []
        #: open collections: (node, anchor, total at its start, pending mapping key)
        self.stack: list[list[Any]] = []

    def compose(self, text: str, loader: type) -> yaml.Node | None:
        first_doc: yaml.Mark | None = None
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.DocumentStartEvent):
                if first_doc is not None:
                    raise yaml.composer.ComposerError(
                        "expected a single document in the stream", first_doc,
                        "but found another document", _mark(event.start_mark))
                first_doc = _mark(event.start_mark)
            elif isinstance(event, yaml.AliasEvent):
                self._attach(self._alias(event))
            elif isinstance(event, yaml.ScalarEvent):
                self._count(event)
                tag = event.tag if event.tag not in (None, "!") else \
                    self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, _mark(event.start_mark),
                                       _mark(event.end_mark), style=event.style)
                self._anchor(event, node, 1)
                self._attach(node)
            elif isinstance(event, yaml.CollectionStartEvent):
                self._start(event)
            elif isinstance(event, yaml.CollectionEndEvent):
                node, anchor, start, _ = self.stack.pop()
                node.end_mark = event.end_mark
                if anchor:
                    self.sizes[anchor] = self.total - start + 1
                    self.open.discard(anchor)
                    if isinstance(node, yaml.MappingNode):
                        self.anchored_maps.append(node)
        return self.root

    def _count(self, event: Any, n: int = 1) -> None:
        self.total += n
        if self.total > self.limits.max_nodes:
            raise _too_many(self.limits, self.pos.loc(event.start_mark))

    def _alias(self, event: Any) -> _Alias:
        name = event.anchor
        if name in self.open:
            raise SpecError(f"the alias *{shown(name, quote='')} is inside its own anchor "
                            f"&{shown(name, quote='')}: a recursive alias, which would never end",
                            loc=self.pos.loc(event.start_mark),
                            hints=("an alias can only repeat a value that is complete before it",))
        if name not in self.anchors:
            raise yaml.composer.ComposerError(None, None, "found undefined alias",
                                              event.start_mark)
        self._count(event, self.sizes.get(name, 1))
        return _Alias(self.anchors[name], event.start_mark, name)

    def _anchor(self, event: Any, node: yaml.Node, size: int) -> None:
        name = event.anchor
        if not name:
            return
        if name in self.anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {shown(name)}; first occurrence",
                self.anchors[name].start_mark, "second occurrence", event.start_mark)
        self.anchors[name] = node
        self.sizes[name] = size

    def _start(self, event: Any) -> None:
        self._count(event)
        if len(self.stack) + 1 > self.limits.max_depth:
            raise _too_deep(self.limits, self.pos.loc(event.start_mark))
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind = yaml.MappingNode if mapping else yaml.SequenceNode
        tag = event.tag if event.tag not in (None, "!") else \
            self.resolver.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self._anchor(event, node, 1)
        if event.anchor:
            self.open.add(event.anchor)
        self._attach(node)
        self.stack.append([node, event.anchor, self.total, None])

    def _attach(self, node: Any) -> None:
        if not self.stack:
            self.root = node
            return
        top = self.stack[-1]
        parent = top[0]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif top[3] is None:
            top[3] = node  # a key: its value comes next
        else:
            parent.value.append((top[3], node))
            top[3] = None


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
    lines = text.splitlines()  # (PyYAML's lines: marks count U+2028 and kin as breaks)
    return (mark is not None and mark.line < len(lines)
            and "\t" in lines[mark.line][: mark.column + 1])


def _mark(mark: object) -> yaml.Mark | None:
    """An event's mark, typed as the node and error classes take it (libyaml's events carry
    marks of its own class, with the same fields; the stubs type the two apart)."""
    return cast("yaml.Mark | None", mark)


def _yaml_error(exc: yaml.YAMLError, text: str, pos: Positions) -> SpecError:
    file = pos.file
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        loc = pos.loc(mark) if mark else Loc(file, 1, 1)
        problem = exc.problem or exc.context or "not YAML"
        notes: tuple[str, ...] = ()
        ctx = exc.context_mark
        if exc.context and exc.problem and ctx is not None and mark is not None and (
                ctx.line, ctx.column) != (mark.line, mark.column):
            at = pos.loc(ctx)
            notes = (f"{exc.context}, which starts at line {at.line}, column {at.col}",)
        if problem == "found undefined alias" and mark is not None:
            lines = text.splitlines()
            name = re.match(r"\*?([^\s,\]}]*)", lines[mark.line][mark.column:] if
                            mark.line < len(lines) else "")
            alias = shown(name.group(1) if name else "", quote="")
            problem = f"the alias *{alias} has no anchor &{alias} before it"
        hints = tuple(h for key, h in _SYNTAX_HINTS.items() if key in problem
                      and (key != "cannot start any token" or _tab_at(text, mark)))
        return SpecError(f"YAML syntax: {problem}", loc=loc, notes=notes, hints=hints)
    if isinstance(exc, yaml.reader.ReaderError):
        char = (exc.character if isinstance(exc.character, int)
                else ord(str(exc.character)[:1] or "\0"))
        # the reader stops at the first character YAML refuses; libyaml gives its offset in
        # UTF-8 bytes, the pure-Python reader in characters: find the character itself
        index = text.find(chr(char))
        loc = pos.at(index if index >= 0 else min(exc.position, len(text)))
        return SpecError(f"YAML cannot contain the control character #x{char:04x}", loc=loc)
    return SpecError(f"YAML: {exc}", loc=Loc(file, 1, 1))


def load_yaml_text(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one YAML document into MDict/MList/scalars, or raise a located SpecError."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of line 1
    pos = Positions(text, file)
    try:
        composer = _compose(text, pos, limits)
        node = composer.root
    except yaml.YAMLError as exc:  # (libyaml's own depth limit: handled by _compose)
        raise _yaml_error(exc, text, pos) from None
    if node is None:
        raise SpecError("the file is empty; a spec needs at least `input:` and `layers:`",
                        loc=Loc(file, 1, 1))
    try:
        builder = _Builder(pos, limits)
        for anchored in composer.anchored_maps:  # merge chains (m3 << m2 << m1) resolve in
            builder._pairs(anchored, 0)          # order, without recursing down the chain
        return builder.build(node)
    except RecursionError:  # only with a max_depth raised far past the default
        raise LimitError(f"YAML nested deeper than this Python's stack allows (the limit here "
                         f"is {limits.max_depth} levels)", loc=Loc(file, 1, 1),
                         hints=("specs need a handful of levels: flatten the nesting",)) from None
