"""Text from a spec, made safe for a terminal: control characters shown, not obeyed.

A spec's strings (its name, layer ids, block names, file names) reach tables, headers,
listings, diagrams and error messages.  Written raw, an ESC would start a terminal
escape sequence, a CR would overwrite the line, a BEL would ring and a bidi override
(U+202E) would reverse what follows, so a report could show something other than what
the spec says.  :func:`safe_text` is the one place this is handled: every renderer for
people (and :meth:`cnncalc.errors.CnncalcError.format`) passes such strings through it.
Data formats (JSON, CSV) keep the strings as they are (JSON escapes them itself).

>>> safe_text("C1\\x1b[31m"), safe_text("a\\u202eb"), safe_text("résumé · 3×3")
('C1\\\\x1b[31m', 'a\\\\u202eb', 'résumé · 3×3')
"""

from __future__ import annotations

import re

#: C0 controls (tab and newline included), DEL, C1 controls, the bidi embedding,
#: override and isolate controls and marks, and the line/paragraph separators
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def safe_lines(text: str) -> str:
    """:func:`safe_text` of each line, the line breaks kept (multi-line messages)."""
    return "\n".join(safe_text(line) for line in text.split("\n"))
