"""Number formatting for people: humanised counts, bytes, shapes, receptive fields.

Pure functions of plain numbers (no rich): tables, markdown and messages share them.

>>> human(25_557_032), human(25_557_032, exact=True), human(156), human(0)
('25.56 M', '25,557,032', '156', '0')
>>> human_bytes(243_360), shape_str((6, 28, 28)), ratio(4, 2)
('237.66 KiB', '6x28x28', 'x2.00')
>>> human(2_352_000_000_000_000_000_000), human_bytes(2**60)
('2.35e21', '1.15e18 B')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BIN = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def human(n: int | float, exact: bool = False) -> str:
    """``25.56 M`` (SI prefixes, two decimals), or ``25,557,032`` when ``exact``."""
    if exact or abs(n) < 1000:
        return f"{n:,}" if isinstance(n, int) else f"{n:,.6g}"
    if abs(n) >= 10**15:  # past tera: scientific notation stays short and readable
        return f"{n:.2e}".replace("e+", "e")
    for scale, unit in _SI:
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)  # pragma: no cover - unreachable


def human_bytes(n: int, exact: bool = False) -> str:
    """``237.66 KiB`` (binary prefixes), or ``243,360 B`` when ``exact``."""
    if exact or abs(n) < 1024:
        return f"{n:,} B"
    if abs(n) >= 2**50:
        return f"{n:.2e} B".replace("e+", "e")
    for scale, unit in _BIN:
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"  # pragma: no cover - unreachable


def count(n: int, exact: bool = False, zero: str = "-") -> str:
    """A table cell for a count: ``zero`` for 0 so that the non-zero rows stand out."""
    return zero if n == 0 else human(n, exact)


def shape_str(shape: Sequence[int]) -> str:
    """``6x28x28``; a vector is just its length; a scalar ``[]``."""
    return "x".join(str(d) for d in shape) if shape else "[]"


def parse_shape(text: str) -> tuple[int, ...]:
    """Inverse of :func:`shape_str`; also accepts commas and brackets.

    >>> parse_shape("3x224x224"), parse_shape("[3, 32, 32]"), parse_shape("224")
    ((3, 224, 224), (3, 32, 32), (224,))
    """
    cleaned = text.strip().strip("[]()").replace("×", "x").replace(",", "x").replace(" ", "")
    parts = [p for p in cleaned.lower().split("x")]
    if not cleaned or any(not p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a shape; write it like 3x224x224")
    return tuple(int(p) for p in parts)


def num(x: int | float | Fraction) -> str:
    """An exact value without trailing zeros: ``2``, ``2.5``, ``-1.5``."""
    if isinstance(x, Fraction):
        x = int(x) if x.denominator == 1 else float(x)
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def axes(values: Sequence[int | float | Fraction]) -> str:
    """One value when every axis agrees (``5``), else per axis (``5x3``)."""
    shown = [num(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "x".join(shown)


def ratio(value: int | float, base: int | float) -> str:
    """``x2.25`` (value / base); ``-`` when the base is 0."""
    if not base:
        return "-"
    return f"x{value / base:.2f}"


def percent(part: int, whole: int) -> str:
    """``12.3%``; empty when the whole is 0 or the part is 0."""
    if not whole or not part:
        return ""
    return f"{100 * part / whole:.1f}%"
