"""Number, shape, axis and formula text for people: the one place it is written.

Humanised counts, bytes, shapes, axis names, receptive fields, ratios, percentages, the
numbers inside worked formulas and the numbers of JSON reports.  Pure functions of plain
numbers (no rich): errors, the worked arithmetic (``cnncalc.explain``) and every renderer
(tables, markdown, check, diff, solve) share them.  Every figure of a report is an exact
Python int of any size (or a Fraction), so nothing here converts one to a float for
text: the mantissas, ratios and percentages are computed with integer and Fraction
arithmetic (halves rounded away from zero), and numbers past Python's int-to-text limit
(4,300 digits) are still printed.

>>> human(25_557_032), human(25_557_032, exact=True), human(156), human(0)
('25.56 M', '25,557,032', '156', '0')
>>> human_bytes(243_360), shape_str((6, 28, 28)), ratio(4, 2)
('237.66 KiB', '6x28x28', 'x2.00')
>>> human(2_352_000_000_000_000_000_000), human_bytes(2**60), human(10**400)
('2.35e21', '1.15e18 B', '1.00e400')
>>> ratio(10**400, 3), percent(1, 3), num(Fraction(10**400, 3))
('x3.33e399', '33.3%', '3.33e399')
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

#: the text of worked arithmetic lives below the ops (cnncalc/working.py), so the ops can
#: write it; every renderer reads those pieces from here as from the rest of this module
from .working import (  # noqa: F401 - re-exported, every renderer imports them from here
    axis_names,
    axis_unit,
    dims,
    formula_number,
    grouped,
    int_text,
    json_number,
    letters,
    operand,
    result_text,
    window_formula,
)
from .working import bracketed as bracketed_texts

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BIN = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))
#: from this magnitude on, counts and ratios are shown in scientific notation
SCI_FROM = 10**15

Real = int | float | Fraction



# ------------------------------------------------------------ exact integers
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
    q = x if type(x) is int else Fraction(x)
    scaled = _round_half_up(abs(q) * 10**decimals)
    whole, frac = divmod(scaled, 10**decimals)
    sign = "-" if q < 0 and scaled else ""
    return sign + int_text(whole) + (f".{str(frac).rjust(decimals, '0')}" if decimals else "")


def _round_half_up(q: Fraction | int) -> int:
    """The nearest int to ``q >= 0``, halves up (an int is itself: no Fraction built)."""
    return q if type(q) is int else int(q + Fraction(1, 2))


def _significand(a: Fraction, digits: int) -> tuple[int, int]:
    """``a > 0`` rounded to ``digits`` significant digits, halves up: ``(m, e)`` with
    ``10**(digits-1) <= m < 10**digits`` and ``a ~ m * 10**(e - digits + 1)``."""
    exp = decimal_exponent(a.numerator) - decimal_exponent(a.denominator)
    if Fraction(10) ** exp > a:
        exp -= 1
    mantissa = _round_half_up(a / Fraction(10) ** (exp - digits + 1))
    if mantissa >= 10**digits:  # 9.999 rounded up to 10.00
        exp += 1
        mantissa = _round_half_up(a / Fraction(10) ** (exp - digits + 1))
    return mantissa, exp


def sci(x: Real, decimals: int = 2) -> str:
    """``2.35e21``: scientific notation computed exactly (no float overflow)."""
    q = Fraction(x)
    if q == 0:
        return fixed(0, decimals) + "e0"
    mantissa, exp = _significand(abs(q), decimals + 1)
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
    return sci(n) if max(n, -n) >= SCI_FROM else _scaled(n, _SI, 1000, "")


def _scaled(n: Real, units: tuple[tuple[int, str], ...], step: int, sci_unit: str) -> str:
    """``n`` over the largest unit it reaches, two decimals (caller: ``|n| >= 1000``);
    the next unit up when rounding reaches it (999,999 is ``1.00 M``, not ``1000.00 K``)."""
    if type(n) is int:
        return _scaled_int(n, units, step, sci_unit)
    q = Fraction(n)
    for i, (scale, unit) in enumerate(units):
        if abs(q) >= scale:
            if _round_half_up(abs(q) * 100 / scale) >= 100 * step:
                if not i:  # past the largest unit
                    return sci(q) + sci_unit
                scale, unit = units[i - 1]
            return f"{fixed(q / scale)} {unit}"
    return fixed(q)  # pragma: no cover - callers pass |n| >= the smallest scale


def _scaled_int(n: int, units: tuple[tuple[int, str], ...], step: int, sci_unit: str) -> str:
    """:func:`_scaled` of an int, in int arithmetic (the same digits, without building
    Fractions: a table of 10^5 rows formats 10^6 figures)."""
    a = abs(n)
    for i, (scale, unit) in enumerate(units):
        if a >= scale:
            hundredths = (200 * a + scale) // (2 * scale)  # a * 100 / scale, halves up
            if hundredths >= 100 * step:
                if not i:  # past the largest unit
                    return sci(n) + sci_unit
                scale, unit = units[i - 1]
                hundredths = (200 * a + scale) // (2 * scale)
            whole, frac = divmod(hundredths, 100)
            return f"{'-' if n < 0 else ''}{int_text(whole)}.{frac:02d} {unit}"
    return fixed(n)  # pragma: no cover - callers pass |n| >= the smallest scale


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


# ------------------------------------------------------------ exact decimals
def _terminates(x: Fraction) -> bool:
    """True when ``x`` has a finite decimal of at most 12 places (``5/8``, not ``1/3``)."""
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1 and x.denominator < 10**12


def _decimal_text(x: Fraction) -> str:
    """The exact decimal of a fraction with a finite one (caller: :func:`_terminates`),
    without trailing zeros: ``-1.25``, ``0.0009765625``."""
    places = 0
    while (x * 10**places).denominator != 1:
        places += 1
    whole, frac = divmod(abs(x.numerator * 10**places // x.denominator), 10**places)
    sign = "-" if x < 0 else ""
    digits = str(frac).rjust(places, "0").rstrip("0") if places else ""
    return sign + int_text(whole) + (f".{digits}" if digits else "")


def _six_digits(x: Fraction) -> str:
    """``x`` rounded to six significant digits, as a plain decimal (``0.333333``)."""
    mantissa, exp = _significand(abs(x), 6)
    return _decimal_text(Fraction(-mantissa if x < 0 else mantissa) * Fraction(10) ** (exp - 5))


def num(x: Real) -> str:
    """An exact value without trailing zeros: ``2``, ``2.5``, ``-1.5``, ``0.0009765625``;
    a fraction without a short decimal to six significant digits (``1/3`` as
    ``0.333333``), scientific notation from :data:`SCI_FROM` on; no float in between.

    >>> num(Fraction(5, 2)), num(Fraction(1, 3)), num(Fraction(10**400 + 1, 2)), num(7)
    ('2.5', '0.333333', '5.00e399', '7')
    """
    if isinstance(x, float):
        return f"{x:g}"
    if type(x) is int:
        return int_text(x)
    q = Fraction(x)
    if q.denominator == 1:
        return int_text(int(q))
    if abs(q) >= SCI_FROM:
        return sci(q)
    return _decimal_text(q) if _terminates(q) else _six_digits(q)


def grouped_exact(x: Real) -> str:
    """A bound of a tolerance: ``49,500`` or ``1,234.45`` (thousands separators)."""
    q = Fraction(x)
    if q.denominator == 1:
        return grouped(int(q))
    if not _terminates(q) or abs(q) >= SCI_FROM:
        return num(q)
    whole, _, frac = _decimal_text(abs(q)).partition(".")
    return ("-" if q < 0 else "") + grouped(int(whole)) + "." + frac


# ------------------------------------------------------------ shapes and axes
def shape_str(shape: Sequence[int]) -> str:
    """``6x28x28``; a vector is just its length; a scalar ``[]``."""
    return "x".join(int_text(d) for d in shape) if shape else "[]"


def bracketed(values: Sequence[Real], sep: str = ", ") -> str:
    """``[3, 224, 224]``: values as a list (``sep=","``: ``[3,224,224]``)."""
    return bracketed_texts([num(v) for v in values], sep)


def axes(values: Sequence[Real]) -> str:
    """One value when every axis agrees (``5``), else per axis (``5x3``)."""
    shown = [num(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "x".join(shown)


# ------------------------------------------------------ ratios and percents
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
    """A ratio for JSON (:func:`json_real`); None when there is none."""
    return None if q is None else json_real(q)


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


def signed_percent(delta: Real, base: Real, places: int = 2) -> str:
    """``+86.47%``: ``delta`` in percent of ``base``, exact, halves away from zero
    (``+1.00e402%`` from a million percent on).

    >>> signed_percent(Fraction(-1), 8), signed_percent(Fraction(10**400 - 1), 1)
    ('-12.50%', '+1.00e402%')
    """
    pct = 100 * Fraction(delta) / Fraction(base)
    sign = "-" if pct < 0 else "+"
    body = sci(abs(pct)) if abs(pct) >= 10**6 else fixed(abs(pct), places)
    return f"{sign}{body}%"


# -------------------------------------------------------------- JSON numbers
def json_real(x: Real) -> float | int:
    """A float for JSON (``15.5``, ``0.0``), or :func:`json_number`'s int past a float's
    range."""
    value = json_number(x)
    return float(value) if -_FLOAT_RANGE < value < _FLOAT_RANGE else value


#: the magnitude below which :func:`json_real` writes a float (one constant: ``10**300``
#: is not folded by the compiler, and a report converts one per axis of every layer)
_FLOAT_RANGE = 10**300


# --------------------------------------------------------------------- words
_IRREGULAR = {"axis": "axes", "matrix": "matrices"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 layer``, ``14 layers``, ``1 axis``, ``3 axes``, ``1,000,000 values``.

    >>> plural(1, "layer"), plural(2, "layer"), plural(3, "axis"), plural(0, "value")
    ('1 layer', '2 layers', '3 axes', '0 values')
    """
    word = noun if n == 1 else (many or _IRREGULAR.get(noun, noun + "s"))
    return f"{grouped(n)} {word}"


def describe_char(ch: str) -> str:
    """``'٢' (U+0662 ARABIC-INDIC DIGIT TWO)``: a character, shown so it can be told apart."""
    import unicodedata

    name = unicodedata.name(ch, "")
    shown = repr(ch) if ch.isprintable() else f"'\\x{ord(ch):02x}'" if ord(ch) < 256 else \
        f"'\\u{ord(ch):04x}'"
    return f"{shown} (U+{ord(ch):04X}{' ' + name if name else ''})"



def foreign_digit(text: str) -> str | None:
    """Why ``text`` holds a digit of another script (``٣``, a fullwidth ``3``: Python's ``int()``
    reads them, cnncalc does not), or None.

    >>> foreign_digit("٣M")
    "'٣' (U+0663 ARABIC-INDIC DIGIT THREE) is not an ASCII digit 0-9"
    >>> foreign_digit("3M") is None
    True
    """
    ch = next((c for c in text if c.isdigit() and not "0" <= c <= "9"), None)
    return None if ch is None else f"{describe_char(ch)} is not an ASCII digit 0-9"
