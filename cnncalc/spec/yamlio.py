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
import contextlib
import re
from dataclasses import dataclass
from typing import Any, cast

import yaml

from ..errors import CnncalcError, LimitError, Loc, SpecError
from ..suggest import shown
from . import flowlines

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


def _new_loc(file: str, line: int, col: int) -> Loc:
    """``Loc(file, line, col)`` without the frozen dataclass's ``__init__`` (three guarded
    ``object.__setattr__`` calls): the reader makes one per value, 10^6 of them for a large
    spec, and this is 2-3x cheaper; the object is the same."""
    loc = _object_new(Loc)
    fields = loc.__dict__
    fields["file"], fields["line"], fields["col"] = file, line, col
    return loc


_object_new = object.__new__
_SCALAR_EVENT = yaml.ScalarEvent
_MAPPING_START = yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Stop(Exception):
    """Raised inside the reader once a value is refused: the rest of the stream is still
    parsed (its syntax errors and limits come first, as they would in a two-pass reader)."""


class _Frame:
    """One open collection: the value being filled, its anchor, the value count at its
    start, its depth, and for a mapping the pending key and the ``<<`` merge sources."""

    __slots__ = ("anchor", "depth", "key", "merge", "merge_loc", "seen", "start", "value")

    def __init__(self, value: Any, anchor: str | None, start: int, depth: int,
                 mapping: bool) -> None:
        self.value, self.anchor, self.start, self.depth = value, anchor, start, depth
        #: a mapping's pending key: (key, where, as written, node-ish for errors) or None
        self.key: tuple[Any, Loc, str | None] | None = None
        #: a mapping's keys that are not strings, by (type, value): where each is written
        #: (None for a list)
        self.seen: dict[tuple[type, Any], Loc] | None = {} if mapping else None
        self.merge: Any = None  # what << gave, resolved when the mapping ends
        self.merge_loc: Loc | None = None


class _Reader:
    """Builds the MDict/MList tree straight from the parser's event stream, in one pass
    and without recursion, refusing as it reads: documents nested deeper than
    ``max_depth``, documents that expand, through aliases, to over ``max_nodes`` values (an
    alias bomb is small only until it is expanded), recursive aliases (``a: &x [*x]``),
    tags other than plain data, duplicate keys, overlong integers.

    libyaml's own composer recurses in C, so a file of 100,000 ``[`` would crash the
    interpreter, and it loses where each alias is written; this reader keeps it (the copy
    an alias makes is located at the alias).  A value refused for what it is (a tag, a
    duplicate key, ...) is remembered and the stream read on, so that the document's
    syntax errors and size limits, wherever they are, are reported first.
    """

    def __init__(self, pos: Positions, limits: Limits,
                 short: flowlines.Shortcut | None = None) -> None:
        self.pos, self.limits, self.file = pos, limits, pos.file
        #: the one-line mappings whose placeholders are still to come: by line, the
        #: column of each one's ``{`` and its text (:mod:`cnncalc.spec.flowlines`)
        self.lines = dict(short.lines) if short else None
        self.resolver = _PyLoader("")  # its implicit resolvers: the same as _Loader's
        self.scalars = yaml.constructor.SafeConstructor()
        #: plain scalar text -> its value (resolving and constructing a plain scalar depends
        #: on its text alone; specs repeat the same few texts thousands of times)
        self.plain: dict[str, Any] = {}
        self.anchors: dict[str, Any] = {}  # anchor -> the value it names
        self.anchor_marks: dict[str, Any] = {}
        self.anchor_text: dict[str, str | None] = {}  # anchored scalars: their text
        self.sizes: dict[str, int] = {}  # anchor -> values it expands to
        self.open: set[str] = set()  # anchors of collections not yet closed
        self.total = 0
        self.root: Any = _NOTHING
        self.error: CnncalcError | None = None
        self.stack: list[_Frame] = []

    # ------------------------------------------------------------------ the stream
    def read(self, text: str, loader: type) -> Any:
        """The document's value (``_NOTHING`` for an empty stream); raises the first
        refusal after the whole stream has parsed."""
        parser = loader(text)
        try:
            self._events(parser)
        finally:
            parser.dispose()
        if self.lines:  # a placeholder read as something else (or not at all)
            raise flowlines.Miss
        if self.error is not None:
            raise self.error
        return self.root

    def _events(self, parser: Any) -> None:
        """Read the stream, event by event.

        A large spec is mostly plain scalars seen before (``op``, ``conv``, ``k``, ``3``),
        untagged and unanchored, going into an open list or under a mapping's new string
        key: that case is placed here inline, in a few steps (a spec of 10^5 layers has
        5x10^5 of them, and a method call with every check per value was a third of the
        reading time).  Whenever anything else could apply (an anchor, a tag, a text not
        resolved yet, the node limit reached, a duplicate or non-string key, a merge key,
        a refusal pending, positions to recompute), :meth:`_scalar` does it all."""
        get = parser.get_event
        first_doc: Any = None
        stack, plain, file, new = self.stack, self.plain, self.file, _object_new
        max_nodes = self.limits.max_nodes
        editor_lines = self.pos.starts is None  # (else every position is recomputed)
        placeholder = flowlines.PLACEHOLDER_VALUE if self.lines else None
        while True:
            event = get()
            if event is None:
                return
            kind = type(event)
            if kind is _SCALAR_EVENT:
                if event.value == placeholder:
                    self._line(event)
                    continue
                if (editor_lines and stack and event.anchor is None and event.tag is None
                        and self.error is None and self.total < max_nodes):
                    text = event.value
                    value = plain.get(text, _NOTHING) if event.implicit[0] else text
                    frame = stack[-1]
                    parent, pending, listed = frame.value, frame.key, frame.seen is None
                    if value is not _NOTHING and value is not _MERGE and (
                            listed or pending is None
                            or (type(pending[0]) is str and pending[0] not in parent)):
                        self.total += 1
                        mark = event.start_mark
                        loc = new(Loc)  # (as _new_loc makes it)
                        fields = loc.__dict__
                        fields["file"], fields["line"], fields["col"] = \
                            file, mark.line + 1, mark.column + 1
                        if listed:
                            parent.append(value)
                            parent.item_loc.append(loc)
                        elif pending is None:
                            frame.key = (value, loc, text)
                        else:
                            frame.key = None
                            key = pending[0]
                            parent[key] = value
                            parent.key_loc[key] = pending[1]
                            parent.val_loc[key] = loc
                        continue
                self._scalar(event)
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                self._start(event, kind is _MAPPING_START)
            elif kind in _COLLECTION_END:
                self._end()
            elif kind is yaml.AliasEvent:
                self._alias(event)
            elif kind is yaml.DocumentStartEvent:
                if first_doc is not None:
                    raise yaml.composer.ComposerError(
                        "expected a single document in the stream", first_doc,
                        "but found another document", _mark(event.start_mark))
                first_doc = _mark(event.start_mark)
            elif kind is yaml.StreamEndEvent:
                return

    def loc(self, mark: Any) -> Loc:
        if self.pos.starts is None:
            return _new_loc(self.file, mark.line + 1, mark.column + 1)
        return self.pos.loc(mark)

    def _count(self, mark: Any, n: int = 1) -> None:
        self.total += n
        if self.total > self.limits.max_nodes:
            raise _too_many(self.limits, self.pos.loc(mark))

    def _refuse(self, exc: CnncalcError) -> None:
        """Remember the first refusal, build nothing more, read the stream on."""
        if self.error is None:
            self.error = exc
        raise _Stop

    # ------------------------------------------------------------------ events
    def _scalar(self, event: Any) -> None:
        """A scalar: counted, resolved (a plain one from the texts seen so far: most of a
        large spec's values) and put in place.  (The commonest event: written inline.)"""
        mark, anchor, text = event.start_mark, event.anchor, event.value
        self.total += 1
        if self.total > self.limits.max_nodes:
            raise _too_many(self.limits, self.pos.loc(mark))
        if anchor:
            self._anchor(anchor, mark, 1)
            self.anchor_text[anchor] = text
        if self.error is not None:
            return
        loc = _new_loc(self.file, mark.line + 1, mark.column + 1) if self.pos.starts is None \
            else self.pos.loc(mark)
        try:
            value = self.plain.get(text, _NOTHING) if event.tag is None and event.implicit[0] \
                else _NOTHING
            if value is _NOTHING:
                value = self._scalar_value(event, loc)
            if anchor:
                self.anchors[anchor] = value
            self._attach(value, loc, text)
        except _Stop:
            pass

    def _scalar_value(self, event: Any, loc: Loc) -> Any:
        tag, text = event.tag, event.value
        if tag is None:
            if not event.implicit[0]:  # quoted, a block scalar: a string
                return text
            return self._plain(text, loc, event)
        if tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, text, event.implicit)
        return self._construct(tag, text, loc, event)

    def _plain(self, text: str, loc: Loc, event: Any = None) -> Any:
        """The value of a plain (untagged, unquoted) scalar: it depends on its text alone,
        worked out once per text."""
        try:
            return self.plain[text]
        except KeyError:
            tag = self.resolver.resolve(yaml.ScalarNode, text, (True, False))
            value = self._construct(tag, text, loc, event)
            self.plain[text] = value
            return value

    def _construct(self, tag: str, text: str, loc: Loc, event: Any = None) -> Any:
        """The value of a scalar of ``tag`` (``event``: the scalar's, for its marks)."""
        if tag == _MERGE_TAG:
            return _MERGE  # (a << key: the mapping it is in merges; anywhere else, refused)
        self._plain_tag(tag, loc, text)
        if tag == _STR_TAG:
            return text
        digits = self.limits.max_int_digits
        if tag == _INT_TAG and len(text.lstrip("+-0").replace("_", "")) > digits:
            self._refuse(_too_long(self.limits, text, loc))
        node = yaml.ScalarNode(tag, text, _mark(event.start_mark) if event else None,
                               _mark(event.end_mark) if event else None,
                               style=event.style if event else None)
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self._refuse(SpecError(f"unsupported YAML value: {problem}", loc=loc))
        self.scalars.constructed_objects.clear()
        if type(value) is int and abs(value) >= 10 ** digits:  # 0x.., 0o.., 1_000 forms
            self._refuse(_too_long(self.limits, text, loc))
        return value

    def _plain_tag(self, tag: str, loc: Loc, text: str | None) -> None:
        if tag in _PLAIN_TAGS:
            return
        shown_tag = tag.replace("tag:yaml.org,2002:", "!!")
        if shown_tag == "!!timestamp" and text is not None:
            self._refuse(SpecError(
                f"{shown(text, quote='')} reads as a YAML date; quote it if it is text", loc=loc))
        self._refuse(SpecError(
            f"the YAML tag {shown(shown_tag, quote='')} is not allowed: a spec holds plain "
            "values (mappings, lists, numbers, strings, booleans); nothing in it is ever "
            "constructed, imported or run", loc=loc))

    def _line(self, event: Any) -> None:
        """A placeholder: its line's mapping (:mod:`cnncalc.spec.flowlines`) put as the
        next item of the open list, counted, bounded and located as its events would be.
        Anywhere else than at its own place in a list, :class:`flowlines.Miss`."""
        mark, stack, lines = event.start_mark, self.stack, self.lines
        assert lines is not None
        found = lines.pop(mark.line, None)
        if (found is None or found[0] != mark.column or event.style != '"' or event.anchor
                or event.tag or not stack or stack[-1].seen is not None):
            raise flowlines.Miss
        start, body = found
        pairs, count, depth = flowlines.read(body)
        self.total += count
        if self.total > self.limits.max_nodes or len(stack) + depth > self.limits.max_depth:
            raise flowlines.Miss  # (read as written, the limit says where it is reached)
        if self.error is not None:
            return
        try:
            mapping = self._mapping(mark.line + 1, start + 1, pairs)
        except _Stop:  # a value refused: read as written, refused where it is
            raise flowlines.Miss from None
        if len(mapping) != len(pairs):  # a key given twice: read as written
            raise flowlines.Miss
        parent = stack[-1].value
        parent.append(mapping)
        parent.item_loc.append(mapping.loc)

    def _mapping(self, line: int, col: int, pairs: tuple[flowlines.Pair, ...]) -> MDict:
        """A one-line mapping whose ``{`` is at ``line``, ``col``, from its pairs: plain
        scalars' values as the reader resolves them (most seen before); each key's and
        value's location made as :func:`_new_loc` makes it, inline (a large spec has
        10^6 of them)."""
        file, known, new = self.file, self.plain, _object_new
        out = MDict()
        out.loc, out.key_loc, out.val_loc = _new_loc(file, line, col), {}, {}
        key_locs, val_locs = out.key_loc, out.val_loc
        for key_text_, key_at, value, value_at in pairs:
            key_loc = new(Loc)
            fields = key_loc.__dict__
            fields["file"], fields["line"], fields["col"] = file, line, col + key_at
            key = known.get(key_text_, _NOTHING)
            if key is _NOTHING:
                key = self._plain(key_text_, key_loc)
            if type(key) is not str:  # (the reader's events say what such a key means)
                raise flowlines.Miss
            key_locs[key] = key_loc
            val_locs[key] = value_loc = new(Loc)
            fields = value_loc.__dict__
            fields["file"], fields["line"], fields["col"] = file, line, col + value_at
            if isinstance(value, str):
                found = known.get(value, _NOTHING)
                out[key] = self._plain(value, value_loc) if found is _NOTHING else found
                continue
            out[key] = items = MList()
            items.loc, items.item_loc = value_loc, []
            for text, at in value:
                item_loc = _new_loc(file, line, col + at)
                found = known.get(text, _NOTHING)
                items.append(self._plain(text, item_loc) if found is _NOTHING else found)
                items.item_loc.append(item_loc)
        return out

    def _start(self, event: Any, mapping: bool) -> None:
        mark = event.start_mark
        self._count(mark)
        depth = len(self.stack)
        if depth + 1 > self.limits.max_depth:
            raise _too_deep(self.limits, self.pos.loc(mark))
        anchor = event.anchor
        if anchor:
            self._anchor(anchor, mark, 1)
            self.open.add(anchor)
        loc = self.loc(mark)
        value: MDict | MList
        if mapping:
            value = MDict()
            value.loc, value.key_loc, value.val_loc = loc, {}, {}
        else:
            value = MList()
            value.loc, value.item_loc = loc, []
        self.stack.append(_Frame(value, anchor, self.total, depth, mapping))
        tag = event.tag
        if tag is not None and tag != "!" and self.error is None:
            with contextlib.suppress(_Stop):
                self._plain_tag(tag, loc, None)

    def _end(self) -> None:
        stack = self.stack
        frame = stack.pop()
        value = frame.value
        if frame.anchor:
            self.sizes[frame.anchor] = self.total - frame.start + 1
            self.open.discard(frame.anchor)
        if self.error is not None:
            return
        if stack and stack[-1].seen is None and frame.merge_loc is None and not frame.anchor:
            parent = stack[-1].value  # (the commonest end: a plain item of a list, placed)
            parent.append(value)
            parent.item_loc.append(value.loc)
            return
        try:
            if frame.merge_loc is not None:
                self._merge(frame)
            if frame.anchor:
                self.anchors[frame.anchor] = value
            self._attach(value, value.loc, None, is_collection=True)
        except _Stop:
            pass

    def _alias(self, event: Any) -> None:
        name = event.anchor
        if name in self.open:
            raise SpecError(f"the alias *{shown(name, quote='')} is inside its own anchor "
                            f"&{shown(name, quote='')}: a recursive alias, which would never end",
                            loc=self.pos.loc(event.start_mark),
                            hints=("an alias can only repeat a value that is complete before it",))
        if name not in self.anchor_marks:
            raise yaml.composer.ComposerError(None, None, "found undefined alias",
                                              event.start_mark)
        self._count(event.start_mark, self.sizes.get(name, 1))
        if self.error is not None:
            return
        loc = self.loc(event.start_mark)
        target = self.anchors[name]
        try:
            if isinstance(target, (MDict, MList)):  # a fresh copy: it is where the alias is
                value = self._copy(target, len(self.stack), loc)
                value.loc = value.via = loc
                self._attach(value, loc, None, is_collection=True)
            else:
                self._attach(target, loc, self.anchor_text.get(name))
        except _Stop:
            pass

    def _anchor(self, name: str, mark: Any, size: int) -> None:
        if name in self.anchor_marks:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {shown(name)}; first occurrence",
                self.anchor_marks[name], "second occurrence", mark)
        self.anchor_marks[name] = mark
        self.sizes[name] = size

    # ------------------------------------------------------------------ the tree
    def _attach(self, value: Any, loc: Loc, text: str | None,
                is_collection: bool = False) -> None:
        """Put a finished value where it belongs: the root, the next item of a list, a
        mapping's key, or the value of its pending key."""
        if not self.stack:
            if value is _MERGE:
                self._plain_tag(_MERGE_TAG, loc, None)
            self.root = value
            return
        frame = self.stack[-1]
        parent = frame.value
        if value is _MERGE and (frame.seen is None or frame.key is not None):
            self._plain_tag(_MERGE_TAG, loc, None)  # << is a key, nothing else
        if frame.seen is None:  # a list
            parent.append(value)
            parent.item_loc.append(loc)
        elif frame.key is None:
            if is_collection:
                self._refuse(SpecError("a mapping key must be a plain value", loc=loc))
            frame.key = (value, loc, text)
        else:
            key, key_loc, key_text_ = frame.key
            frame.key = None
            self._put(frame, key, key_loc, key_text_, value, loc)

    def _put(self, frame: _Frame, key: Any, key_loc: Loc, written: str | None, value: Any,
             loc: Loc) -> None:
        out: MDict = frame.value
        if key is _MERGE:
            self._merge_source(frame, value, key_loc, loc)
            return
        assert frame.seen is not None
        if key in out:
            self._duplicate(out, frame.seen, key, key_loc, written)
        if type(key) is not str:  # (a string key equals string keys only: see _duplicate)
            frame.seen[(type(key), key)] = key_loc
        out[key] = value
        out.key_loc[key] = key_loc
        out.val_loc[key] = loc
        if not isinstance(key, str):
            out.__dict__.setdefault("key_src", {})[key] = _written_key(key, written)

    def _duplicate(self, out: MDict, seen: dict[tuple[type, Any], Loc], key: Any,
                   key_loc: Loc, written_text: str | None) -> None:
        """A key given twice is an error; so are two keys YAML tells apart but Python does
        not (``1`` and ``yes``, i.e. true): a spec's keys are names."""
        first = out.key_loc[key]
        where = f"line {first.line}, column {first.col}"
        written = _written_key(key, written_text)
        if type(key) is str or (type(key), key) in seen:
            before = key_text(out, key)
            same = "" if isinstance(key, str) or before == written else f"; the same as {before}"
            self._refuse(SpecError(f"duplicate key {written} (first given at {where}{same})",
                                   loc=key_loc))
        self._refuse(SpecError(
            f"the key {written} reads as {_kind_of(key)}, which Python cannot tell from the "
            f"key {key_text(out, key)} at {where}; keys in a spec are names: quote them "
            f"(\"{written_text}\")", loc=key_loc))

    def _merge_source(self, frame: _Frame, value: Any, key_loc: Loc, loc: Loc) -> None:
        """The value of a ``<<`` key: a mapping or a list of them, merged in when the
        mapping ends (its own keys win, wherever they are written)."""
        if frame.merge_loc is not None:  # << is a key too: YAML forbids giving it twice
            first = frame.merge_loc
            self._refuse(SpecError(f"duplicate key << (first given at line {first.line}, column "
                                   f"{first.col}); merge several mappings with <<: [*a, *b]",
                                   loc=key_loc))
        frame.merge_loc = key_loc
        sources = list(zip(value, value.item_loc)) if isinstance(value, MList) else [(value, loc)]
        for source, where in sources:
            if not isinstance(source, MDict):
                self._refuse(SpecError("the merge key << takes a mapping or a list of mappings",
                                       loc=where))
        frame.merge = [source for source, _ in sources]

    def _merge(self, frame: _Frame) -> None:
        """Merge the ``<<`` sources into a finished mapping: earlier sources win, and the
        mapping's own keys over all of them (YAML's merge key)."""
        out: MDict = frame.value
        assert frame.merge_loc is not None
        merged = out.__dict__.setdefault("merged", {})
        for source in frame.merge:
            for key, value in source.items():
                if key in out:
                    continue
                out[key] = self._copy(value, frame.depth + 1, source.val_loc[key]) \
                    if isinstance(value, (MDict, MList)) else value
                out.key_loc[key] = source.key_loc[key]
                out.val_loc[key] = source.val_loc[key]
                merged[key] = frame.merge_loc
                if not isinstance(key, str):
                    written = getattr(source, "key_src", {}).get(key)
                    out.__dict__.setdefault("key_src", {})[key] = written or _written_key(key)

    def _copy(self, value: Any, depth: int, loc: Loc) -> Any:
        """A fresh copy of an anchored value placed at ``depth`` (an alias's use), every
        location kept; nested deeper than ``max_depth`` there, it is refused where the
        first value too deep is written."""
        if depth > self.limits.max_depth:
            self._refuse(_too_deep(self.limits, getattr(value, "loc", loc)))
        if isinstance(value, MList):
            out = MList()
            out.__dict__.update(value.__dict__)
            out.item_loc = list(value.item_loc)
            out.extend(self._copy(v, depth + 1, at) for v, at in zip(value, value.item_loc))
            return out
        if isinstance(value, MDict):
            copied = MDict()
            copied.__dict__.update(value.__dict__)
            copied.key_loc, copied.val_loc = dict(value.key_loc), dict(value.val_loc)
            for key, item in value.items():
                if depth + 1 > self.limits.max_depth:
                    self._refuse(_too_deep(self.limits, value.key_loc[key]))
                copied[key] = self._copy(item, depth + 1, value.val_loc[key])
            return copied
        return value


class _Nothing:
    """The value of an empty stream (a document of ``~`` is None, which is not empty)."""


_NOTHING = _Nothing()


class _MergeKey:
    """The value of a ``<<`` scalar: YAML's merge key, meaningful only as a mapping's key."""

    def __repr__(self) -> str:
        return "<<"


_MERGE = _MergeKey()


def _written_key(key: Any, text: str | None = None) -> str:
    """``'out'`` for a string key (as messages always quoted it), else the key's text as
    written (``text``), else the key's value."""
    if isinstance(key, str):
        return repr(key) if len(key) <= 60 else shown(key)
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


def _read(text: str, pos: Positions, limits: Limits) -> Any:
    """The document's value, read from the event stream (see :class:`_Reader`).

    When libyaml's own nesting limit fires first, the pure-Python parser (which has none)
    reads the stream instead, so the user sees this project's limit at the place where the
    document first nests deeper than ``max_depth``.  Should the pure-Python walk pass (a
    ``max_depth`` raised above libyaml's limit), the document is still refused, as too deep
    for the YAML library, with both figures.
    """
    short = flowlines.shortcut(text) if pos.starts is None else None
    if short is not None:
        try:
            return _Reader(pos, limits, short).read(short.text, _Loader)
        except (yaml.YAMLError, CnncalcError, flowlines.Miss):
            pass  # read as written: the same value, or the error where it is written
    try:
        return _Reader(pos, limits).read(text, _Loader)
    except yaml.YAMLError as exc:
        if not _libyaml_depth_error(exc):
            raise
        _Reader(pos, limits).read(text, _PyLoader)
        mark = getattr(exc, "problem_mark", None)
        raise LimitError(
            f"YAML nested deeper than the YAML library (libyaml) allows; the limit here is "
            f"{limits.max_depth} levels",
            loc=pos.loc(mark) if mark else Loc(pos.file, 1, 1),
            hints=("specs need a handful of levels: flatten the nesting",)) from None


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
        value = _read(text, pos, limits)
    except yaml.YAMLError as exc:  # (libyaml's own depth limit: handled by _read)
        raise _yaml_error(exc, text, pos) from None
    except RecursionError:  # only with a max_depth raised far past the default
        raise LimitError(f"YAML nested deeper than this Python's stack allows (the limit here "
                         f"is {limits.max_depth} levels)", loc=Loc(file, 1, 1),
                         hints=("specs need a handful of levels: flatten the nesting",)) from None
    if value is _NOTHING:
        raise SpecError("the file is empty; a spec needs at least `input:` and `layers:`",
                        loc=Loc(file, 1, 1))
    return value
