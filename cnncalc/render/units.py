"""Number formatting for people: humanised counts, bytes, shapes, receptive fields, ratios.

Pure functions of plain numbers (no rich): tables, markdown, messages and the other
renderers (check, diff, explain) share them.  Every figure of a report is an exact
Python int of any size (or a Fraction), so nothing here converts one to a float: the
mantissas, ratios and percentages are computed with integer and Fraction arithmetic,
and numbers past Python's int-to-text limit (4,300 digits) are still printed.

>>> human(25_557_032), human(25_557_032, exact=True), human(156), human(0)
('25.56 M', '25,557,032', '156', '0')
>>> human_bytes(243_360), shape_str((6, 28, 28)), ratio(4, 2)
('237.66 KiB', '6x28x28', 'x2.00')
>>> human(2_352_000_000_000_000_000_000), human_bytes(2**60), human(10**400)
('2.35e21', '1.15e18 B', '1.00e400')
>>> ratio(10**400, 3), percent(1, 3), num(Fraction(10**400, 3))
('x3.33e399', '33.3%', '3.33333e399')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BIN = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))
#: from this magnitude on, counts and ratios are shown in scientific notation
SCI_FROM = 10**15
_CHUNK = 10**1000

Real = int | float | Fraction


# ------------------------------------------------------------ exact integers
def int_text(n: int) -> str:
    """``str(n)`` for any int, also past Python's int-to-text digit limit."""
    try:
        return str(n)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        sign, rest = ("-" if n < 0 else ""), abs(n)
        chunks: list[str] = []
        while rest >= _CHUNK:
            rest, low = divmod(rest, _CHUNK)
            chunks.append(str(low).rjust(1000, "0"))
        return sign + str(rest) + "".join(reversed(chunks))


def grouped(n: int) -> str:
    """``25,557,032``: an exact integer with thousands separators, any size."""
    digits = int_text(abs(n))
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return ("-" if n < 0 else "") + ",".join(parts)


def decimal_exponent(n: int) -> int:
    """``floor(log10(|n|))`` for a non-zero int, without a float or the int's text."""
    a = abs(n)
    e = (a.bit_length() - 1) * 30103 // 100000  # log10(2) ~ 0.30103, never an overestimate
    while 10 ** (e + 1) <= a:
        e += 1
    return e


# ------------------------------------------------------- rounded, exactly
def fixed(x: Real, decimals: int = 2) -> str:
    """``x`` rounded to ``decimals`` places, halves away from zero:
    ``fixed(Fraction(2, 3)) == '0.67'``, ``fixed(12.345) == '12.35'``."""
    q = Fraction(x)
    scaled = _round_half_up(abs(q) * 10**decimals)
    whole, frac = divmod(scaled, 10**decimals)
    sign = "-" if q < 0 and scaled else ""
    return sign + int_text(whole) + (f".{str(frac).rjust(decimals, '0')}" if decimals else "")


def _round_half_up(q: Fraction) -> int:
    """The nearest int to ``q >= 0``, halves up."""
    return int(q + Fraction(1, 2))


def sci(x: Real, decimals: int = 2) -> str:
    """``2.35e21``: scientific notation computed exactly (no float overflow)."""
    q = Fraction(x)
    if q == 0:
        return fixed(0, decimals) + "e0"
    a = abs(q)
    exp = decimal_exponent(a.numerator) - decimal_exponent(a.denominator)
    if Fraction(10) ** exp > a:
        exp -= 1
    mantissa = _round_half_up(a / Fraction(10) ** exp * 10**decimals)
    if mantissa >= 10 ** (decimals + 1):  # 9.999 rounded up to 10.00
        exp += 1
        mantissa = _round_half_up(a / Fraction(10) ** exp * 10**decimals)
    whole, frac = divmod(mantissa, 10**decimals)
    body = f"{whole}.{str(frac).rjust(decimals, '0')}" if decimals else str(whole)
    return ("-" if q < 0 else "") + f"{body}e{exp}"


def short(x: Real, decimals: int = 2) -> str:
    """Fixed point below :data:`SCI_FROM`, scientific notation from there on."""
    return sci(x, decimals) if abs(Fraction(x)) >= SCI_FROM else fixed(x, decimals)


# --------------------------------------------------------------- for people
def human(n: Real, exact: bool = False) -> str:
    """``25.56 M`` (SI prefixes, two decimals), or ``25,557,032`` when ``exact``."""
    if isinstance(n, float):
        return _human_float(n, exact)
    if isinstance(n, Fraction) and n.denominator != 1:
        return num(n) if exact or abs(n) < 1000 else _big(n)
    n = int(n)
    if exact or abs(n) < 1000:
        return grouped(n) if exact else int_text(n)
    return _big(n)


def human_bytes(n: int, exact: bool = False) -> str:
    """``237.66 KiB`` (binary prefixes), or ``243,360 B`` when ``exact``."""
    n = int(n)
    if exact or abs(n) < 1024:
        return f"{grouped(n)} B"
    if abs(n) >= 2**50:
        return f"{sci(n)} B"
    return _scaled(n, _BIN, 1024, " B")


def _big(n: Real) -> str:
    """A count of 1000 or more: SI prefixes, scientific notation past tera."""
    return sci(n) if abs(n) >= SCI_FROM else _scaled(n, _SI, 1000, "")


def _scaled(n: Real, units: tuple[tuple[int, str], ...], step: int, sci_unit: str) -> str:
    """``n`` over the largest unit it reaches, two decimals (caller: ``|n| >= 1000``);
    the next unit up when rounding reaches it (999,999 is ``1.00 M``, not ``1000.00 K``)."""
    q = Fraction(n)
    for i, (scale, unit) in enumerate(units):
        if abs(q) >= scale:
            if _round_half_up(abs(q) * 100 / scale) >= 100 * step:
                if not i:  # past the largest unit
                    return sci(q) + sci_unit
                scale, unit = units[i - 1]
            return f"{fixed(q / scale)} {unit}"
    return fixed(q)  # pragma: no cover - callers pass |n| >= the smallest scale


def _human_float(x: float, exact: bool) -> str:
    if exact or abs(x) < 1000:
        return f"{x:,.6g}"
    if abs(x) >= SCI_FROM:
        return f"{x:.2e}".replace("e+", "e")
    for scale, unit in _SI:
        if abs(x) >= scale:
            return f"{x / scale:.2f} {unit}"
    return str(x)  # pragma: no cover - unreachable


def count(n: int, exact: bool = False, zero: str = "-") -> str:
    """A table cell for a count: ``zero`` for 0 so that the non-zero rows stand out."""
    return zero if n == 0 else human(n, exact)


def shape_str(shape: Sequence[int]) -> str:
    """``6x28x28``; a vector is just its length; a scalar ``[]``."""
    return "x".join(int_text(d) for d in shape) if shape else "[]"


def describe_char(ch: str) -> str:
    """``'٢' (U+0662 ARABIC-INDIC DIGIT TWO)``: a character, shown so it can be told apart."""
    import unicodedata

    name = unicodedata.name(ch, "")
    shown = repr(ch) if ch.isprintable() else f"'\\x{ord(ch):02x}'" if ord(ch) < 256 else \
        f"'\\u{ord(ch):04x}'"
    return f"{shown} (U+{ord(ch):04X}{' ' + name if name else ''})"


def num(x: Real) -> str:
    """An exact value without trailing zeros: ``2``, ``2.5``, ``-1.5`` (six significant
    digits for a value that is not a short decimal, as ``%g`` would print it)."""
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return int_text(int(x))
        if abs(x) < 10**300:
            return f"{float(x):g}"
        return sci(x, 5).replace(".00000e", "e")
    if isinstance(x, float):
        return f"{x:g}"
    return int_text(x)


def axes(values: Sequence[Real]) -> str:
    """One value when every axis agrees (``5``), else per axis (``5x3``)."""
    shown = [num(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "x".join(shown)


def quotient(value: Real, base: Real) -> Fraction | None:
    """value / base exactly, or None when the base is 0."""
    if not base:
        return None
    return Fraction(value) / Fraction(base)


def ratio(value: Real, base: Real) -> str:
    """``x2.25`` (value / base); ``-`` when the base is 0."""
    q = quotient(value, base)
    return "-" if q is None else f"x{short(q)}"


def ratio_number(q: Fraction | None) -> float | int | None:
    """A ratio for JSON: a float while one can hold it, else the nearest int."""
    if q is None:
        return None
    if abs(q) < 10**300:
        return float(q)
    return round(q)


def significant(x: Real, digits: int = 6) -> str:
    """``%g``-like text with ``digits`` significant digits, for any magnitude (CSV ratios)."""
    q = Fraction(x)
    if q == 0:
        return "0"
    if abs(q) < 10**300 and abs(q) > Fraction(1, 10**300):
        return f"{float(q):.{digits}g}"
    return sci(q, digits - 1)


def percent(part: int, whole: int) -> str:
    """``12.3%``; empty when the whole is 0 or the part is 0."""
    if not whole or not part:
        return ""
    return f"{fixed(Fraction(100 * part, whole), 1)}%"


_IRREGULAR = {"axis": "axes", "matrix": "matrices"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 layer``, ``14 layers``, ``1 axis``, ``3 axes``, ``1,000,000 values``.

    >>> plural(1, "layer"), plural(2, "layer"), plural(3, "axis"), plural(0, "value")
    ('1 layer', '2 layers', '3 axes', '0 values')
    """
    word = noun if n == 1 else (many or _IRREGULAR.get(noun, noun + "s"))
    return f"{grouped(n)} {word}"
