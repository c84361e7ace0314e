"""Text from a spec, made safe for a terminal: control characters shown, not obeyed.

A spec's strings (its name, layer ids, block names, file names) reach tables, headers,
listings, diagrams and error messages.  Written raw, an ESC would start a terminal
escape sequence, a CR would overwrite the line, a BEL would ring and a bidi override
(U+202E) would reverse what follows, so a report could show something other than what
the spec says; a lone surrogate cannot even be encoded, and the JUnit XML of ``cnncalc
check`` must hold no character XML forbids.  :func:`safe_text` is the one place this is
handled: every renderer for people, the CI formats of ``check`` (github, junit) and
:meth:`cnncalc.errors.CnncalcError.format` pass such strings through it.
Data formats (JSON, CSV) keep the strings as they are (JSON escapes them itself).

>>> safe_text("C1\\x1b[31m"), safe_text("a\\u202eb"), safe_text("résumé · 3×3")
('C1\\\\x1b[31m', 'a\\\\u202eb', 'résumé · 3×3')
"""

from __future__ import annotations

import re

#: C0 controls (tab and newline included), DEL, C1 controls, the Arabic letter mark, the
#: bidi marks, embeddings, overrides and isolates, the line/paragraph separators, lone
#: surrogates (which no terminal, log or file encoding can hold) and the two
#: non-characters XML 1.0 forbids
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: object) -> str:
    """``text`` (``str()`` of it) with every control character, lone surrogate and
    bidi control written as an escape (``\\x1b``, ``\\udc80``, ``\\u202e``): safe for a
    terminal, a CI log and XML."""
    shown = str(text)
    return _UNSAFE.sub(_escape, shown) if _UNSAFE.search(shown) else shown


def safe_lines(text: str) -> str:
    """:func:`safe_text` of each line, the line breaks kept (multi-line messages)."""
    return "\n".join(safe_text(line) for line in text.split("\n"))
