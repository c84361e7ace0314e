"""One-line layers (``  - {op: conv, out: 8, k: 3}``) read without the YAML event stream.

A large spec is mostly lines like that: a list item holding a flow mapping of plain names
and numbers.  libyaml hands such a line to Python as ten events or so, each an object with
two marks, and reading them costs far more than the line itself (at 10^5 layers, most of the
time of a load).  So the lines of that form are found first, with a strict pattern, and in
the text given to libyaml each one's ``{...}`` becomes a single quoted placeholder scalar
(:data:`PLACEHOLDER`) written at the same place: every line keeps its number and every other
value its column.  The reader (:mod:`cnncalc.spec.yamlio`) puts the line's mapping, built
from the pattern's pieces with the same values and locations the events would have given,
where the placeholder's event comes.

Nothing here decides what YAML means: the pattern only accepts what reads the same wherever
a list item may stand (plain names and numbers, ``key: value`` pairs, flat ``[a, b]`` lists,
no duplicate keys), every scalar is still resolved by the reader as an event's would be, and
a placeholder that does not come back as a list item at its own place (the line sat in a
block scalar, say) makes the reader read the text as written (:class:`Miss`).
"""

from __future__ import annotations

import functools
import re

#: the scalar that stands for a line's mapping in the text libyaml reads
PLACEHOLDER = '"cnncalc:one-line-mapping"'
#: its value, as the placeholder's event carries it
PLACEHOLDER_VALUE = PLACEHOLDER[1:-1]

#: a plain scalar that reads alike in flow and block context: no indicator, no space
_PLAIN = r"(?:[A-Za-z0-9_]|[-+.][A-Za-z0-9_.])[A-Za-z0-9_.+-]*"
_VALUE = rf"(?:{_PLAIN}|\[ *{_PLAIN}(?: *, *{_PLAIN})* *\])"
_PAIR = rf"[A-Za-z_][A-Za-z0-9_]*: +{_VALUE}"

#: the fewest ``- {`` a text has for the shortcut to be taken: below, compiling its
#: patterns (about a millisecond, once per process) costs more than the lines save
#: (about 5 microseconds each)
MIN_LINES = 256


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A list item that is one flow mapping alone on its line (a comment after it
    allowed); one pair of such a mapping; a plain scalar."""
    line = re.compile(rf" *- +(\{{ *{_PAIR}(?: *, *{_PAIR})* *\}})( +#.*)?(\r?)\Z")
    pair = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*): +(?:({_PLAIN})|\[([^\]]*)\])")
    return line, pair, re.compile(_PLAIN)


#: one pair of a line's mapping: the key as written, its column (0-based, from the
#: mapping's ``{``), the value as written (a flat list: its items, each with its column)
#: and the value's column (a list's: its ``[``)
Pair = tuple[str, int, "str | tuple[tuple[str, int], ...]", int]


#: mapping texts kept read (a spec repeats a few; memory stays bounded)
MAX_KEPT = 4096


class Miss(Exception):
    """A placeholder did not read as the line's list item (or a line's value cannot be
    put as the events would put it): read the text as written."""


class Shortcut:
    """The text libyaml reads, and each replaced line's ``{`` column and mapping text,
    by 0-based line.  (A plain class: a dataclass costs a millisecond at start-up.)"""

    __slots__ = ("lines", "text")

    def __init__(self, text: str, lines: dict[int, tuple[int, str]]) -> None:
        self.text, self.lines = text, lines


def shortcut(text: str) -> Shortcut | None:
    """``text`` with its one-line mappings replaced (None when it has none, or when the
    placeholder itself is written in it)."""
    if text.count("- {") < MIN_LINES or PLACEHOLDER_VALUE in text:
        return None
    lines = text.split("\n")
    found: dict[int, tuple[int, str]] = {}
    match = _patterns()[0].match
    for number, line in enumerate(lines):
        if "- {" not in line and "-  " not in line:  # (most lines of a spec: not one)
            continue
        m = match(line)
        if m is not None:
            start = m.start(1)
            found[number] = (start, m.group(1))
            lines[number] = f"{line[:start]}{PLACEHOLDER}{m.group(3)}"
    return Shortcut("\n".join(lines), found) if found else None


#: a mapping text read: its pairs, the YAML values it counts (the mapping, each key and
#: value, each list item) and the levels it nests (1, or 2 with a list)
Read = tuple[tuple[Pair, ...], int, int]


@functools.lru_cache(maxsize=MAX_KEPT)
def read(body: str) -> Read:
    """A mapping text that :func:`shortcut` replaced, read (see :data:`Read`; a spec
    repeats a few texts, each read once)."""
    found = (_written_plainly(body) if "[" not in body else None) or _pairs(body)
    items = sum(len(value) for _, _, value, _ in found if not isinstance(value, str))
    return tuple(found), 1 + 2 * len(found) + items, 2 if items else 1


def _pairs(body: str) -> list[Pair]:
    """The pairs of a mapping text, in order, found by their pattern."""
    found: list[Pair] = []
    _, pair, plain = _patterns()
    for m in pair.finditer(body):
        key, value, _ = m.groups()
        if value is not None:
            found.append((key, m.start(1), value, m.start(2)))
            continue
        opened, end = m.start(3), m.end(3)
        listed = tuple((t.group(), t.start()) for t in plain.finditer(body, opened, end))
        found.append((key, m.start(1), listed, opened - 1))
    return found


def _written_plainly(body: str) -> list[Pair] | None:
    """The pairs of ``{k: v, k: v}`` written as most are, one space after each colon
    and comma and none inside the braces, found by their lengths (None when written
    otherwise: :func:`_pairs` finds them)."""
    found: list[Pair] = []
    at = 1
    for piece in body[1:-1].split(", "):
        key, colon, value = piece.partition(": ")
        if not colon or " " in value or "," in value or " " in key:
            return None
        found.append((key, at, value, at + len(key) + 2))
        at += len(piece) + 2
    return found
