"""Bounded "did you mean" suggestions, and bounded echoes of user-written names.

A spec may hold tens of thousands of names, each up to the file's size: comparing a
typo with every one of them (``difflib`` is quadratic in the names' lengths) or
listing them all in a message would cost seconds and megabytes.  Every message that
suggests a name or lists names goes through here:

- :func:`close_match` compares only names of at most :data:`MAX_COMPARED_CHARS`
  characters whose lengths could match at all, and at most
  :data:`MAX_COMPARED_NAMES` of them;
- :func:`shown` cuts a long name in the middle (and says how long it was);
- :func:`name_list` lists at most :data:`MAX_LISTED_NAMES` names and counts the rest.

>>> did_you_mean("widht", ["width", "depth"])
"; did you mean 'width'?"
>>> shown("x" * 500)
"'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxx' (500 characters)"
>>> name_list([f"t{i}" for i in range(30)])
't0, t1, t2, t3, t4, t5, t6, t7, t8, t9, ... (20 more)'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

#: names longer than this are neither suggested nor compared with
MAX_COMPARED_CHARS = 64
#: at most this many candidates (of a plausible length) are scored
MAX_COMPARED_NAMES = 1000
#: a message lists at most this many names
MAX_LISTED_NAMES = 10
#: a name echoed in a message is cut to about this many characters
MAX_SHOWN_CHARS = 60
#: difflib's default similarity cutoff
CUTOFF = 0.6


def close_matches(name: object, candidates: Iterable[object], n: int = 1,
                  cutoff: float = CUTOFF) -> list[str]:
    """Up to ``n`` candidates most like ``name`` (difflib's ratio >= ``cutoff``), best first.

    Work is bounded whatever the input: only string candidates of a length that could
    reach the cutoff are scored, at most :data:`MAX_COMPARED_NAMES` of them, and names
    over :data:`MAX_COMPARED_CHARS` characters are never compared.  For small inputs the
    answer is ``difflib.get_close_matches(name, candidates, n, cutoff)``.
    """
    if not isinstance(name, str) or not name or len(name) > MAX_COMPARED_CHARS:
        return []
    size = len(name)
    plausible: list[str] = []
    for cand in candidates:
        if not isinstance(cand, str) or len(cand) > MAX_COMPARED_CHARS:
            continue
        # difflib's real_quick_ratio: the best any pair of these lengths can score
        if 2 * min(size, len(cand)) < cutoff * (size + len(cand)):
            continue
        plausible.append(cand)
        if len(plausible) >= MAX_COMPARED_NAMES:
            break
    return difflib.get_close_matches(name, plausible, n=n, cutoff=cutoff)


def close_match(name: object, candidates: Iterable[object], cutoff: float = CUTOFF) -> str | None:
    """The one candidate most like ``name`` (see :func:`close_matches`), or None."""
    near = close_matches(name, candidates, 1, cutoff)
    return near[0] if near else None


def did_you_mean(name: object, candidates: Iterable[object], *,
                 synonyms: Mapping[str, str] | None = None, quote: str = "'") -> str:
    """``"; did you mean 'k'?"`` for a synonymous or near name, else ``""``."""
    candidates = list(candidates) if synonyms else candidates
    alias = synonyms.get(name) if synonyms and isinstance(name, str) else None
    near = alias if alias is not None and alias in candidates else close_match(name, candidates)
    return f"; did you mean {quote}{shown(near, quote='')}{quote}?" if near is not None else ""


def shown(text: object, limit: int = MAX_SHOWN_CHARS, quote: str = "'") -> str:
    """``text`` quoted for a message, cut in the middle when over ``limit`` characters."""
    value = text if isinstance(text, str) else str(text)
    if not value.isprintable():  # a newline or a control character would break the line
        value = repr(value)[1:-1]
    if len(value) <= limit:
        return f"{quote}{value}{quote}"
    half = max(limit // 2 - 3, 1)
    return f"{quote}{value[:half]}...{value[-half:]}{quote} ({len(value):,} characters)"


def name_list(names: Iterable[object], limit: int = MAX_LISTED_NAMES, sep: str = ", ",
              width: int = 40) -> str:
    """The first ``limit`` names (each cut to ``width``), then how many more there are."""
    out: list[str] = []
    more = 0
    for name in names:
        if len(out) < limit:
            out.append(shown(name, width, quote=""))
        else:
            more += 1
    return sep.join(out) + (f"{sep}... ({more:,} more)" if more else "")
