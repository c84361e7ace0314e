"""Shapes typed on the command line (``--input 3x224x224``): the inverse of
:func:`cnncalc.units.shape_str`, refusing anything but ASCII digits and separators."""

from __future__ import annotations

import re

from ..units import describe_char

#: what separates the sizes of a shape on the command line (``×`` is the multiplication sign)
SHAPE_SEPARATORS = ("x", "X", "×", ",")


def parse_shape(text: str) -> tuple[int, ...]:
    """Inverse of :func:`shape_str`: ASCII digits separated by ``x``, ``X``, ``×`` or
    ``,``, optionally in brackets, spaces allowed around a separator (``[3, 32, 32]``).
    Anything else (a space between digits, digits of other scripts such as U+0662
    ARABIC-INDIC DIGIT TWO or U+FF12 FULLWIDTH DIGIT TWO, signs) is refused, naming the
    first offending character.

    >>> parse_shape("3x224x224"), parse_shape("[3, 32, 32]"), parse_shape("224")
    ((3, 224, 224), (3, 32, 32), (224,))
    >>> parse_shape("3 224 224")
    Traceback (most recent call last):
    ValueError: '3 224 224': ' ' (U+0020 SPACE) at position 2 is not allowed;
    write a shape like 3x224x224
    """
    body = text.strip()
    if body[:1] in "[(" and body[-1:] in "])" and len(body) > 1:
        body = body[1:-1]
    offset = text.index(body) if body else 0
    gap = re.search(r"[0-9](\s+)[0-9]", body)
    bad = next((i for i, ch in enumerate(body)
                if not ("0" <= ch <= "9" or ch in SHAPE_SEPARATORS or ch == " ")), None)
    if gap is not None and (bad is None or gap.start(1) < bad):
        bad = gap.start(1)
    if bad is not None:
        raise ValueError(f"'{text}': {describe_char(body[bad])} at position {offset + bad + 1} "
                         "is not allowed; write a shape like 3x224x224")
    values = re.split("[" + "".join(SHAPE_SEPARATORS) + "]", body.replace(" ", ""))
    if not body.strip() or any(v == "" for v in values):
        raise ValueError(f"'{text}' is not a shape; write it like 3x224x224")
    return tuple(int(v) for v in values)
