"""Worked arithmetic as text: the :class:`Step` a teacher writes on the board, and the
number, axis and formula wording every op's explanation shares.

Plain data and strings, no rich, and nothing of cnncalc below it: the ops write their
own working with these (``Op.explain``, ``Op.rf_working``), :mod:`cnncalc.explain`
walks a network with them, the renderers print them.

>>> Step("params", "(5x5x1 + 1) x 6", 156).text()
'(5x5x1 + 1) x 6 = 156'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Number = int | float | Fraction

@dataclass(frozen=True)
class Step:
    """One line of worked arithmetic: ``label: formula = result``.

    ``symbolic`` is the same formula in letters (``(k_h x k_w x c_in/groups + 1) x
    c_out``); ``formula`` may be empty when the result is a plain statement.
    """

    label: str
    formula: str
    result: Number | str
    symbolic: str = ""
    #: what the step is about: shape, params, macs, flops, rf, truncation or note
    #: (renderers colour by it; JSON carries it)
    kind: str = "note"

    def text(self) -> str:
        """``formula = result`` (or the result alone), numbers with thousands commas.

        >>> Step("params", "(5x5x1 + 1) x 6", 156).text()
        '(5x5x1 + 1) x 6 = 156'
        """
        # written once: the steps of an op are shared by every layer bound alike, and
        # each renderer asks for it (kept beside the fields, not one of them)
        known: str | None = self.__dict__.get("_text")
        if known is None:
            shown = result_text(self.result)
            known = self.__dict__["_text"] = f"{self.formula} = {shown}" if self.formula else shown
        return known

    def to_dict(self) -> dict[str, Any]:
        result = self.result if isinstance(self.result, str) else json_number(self.result)
        return {"label": self.label, "formula": self.formula, "result": result,
                "symbolic": self.symbolic, "kind": self.kind, "text": self.text()}


# ------------------------------------------------------------------ number text
_CHUNK = 10**1000


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
    try:
        return f"{n:,}"
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        pass
    digits = int_text(abs(n))
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return ("-" if n < 0 else "") + ",".join(parts)


def dims(values: Sequence[int | str], sep: str = "x") -> str:
    """Sizes (or texts) joined: ``(5, 5)`` -> ``5x5``; with ``sep=" x "``: ``5 x 5``."""
    return sep.join(int_text(v) if isinstance(v, int) else v for v in values)


def bracketed(values: Sequence[int | str], sep: str = ", ") -> str:
    """A shape (or texts) as a list: ``[3, 224, 224]``; ``sep=","``: ``[3,224,224]``."""
    return "[" + dims(values, sep) + "]"


_AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_LETTER = {"length": "l", "height": "h", "width": "w", "depth": "d"}
#: what one position along an axis is called (``input rows 26-27 never read``)
_UNIT = {"height": "row", "width": "column"}


def axis_names(rank: int) -> tuple[str, ...]:
    """Names of the spatial axes: ``height, width`` for 2-D inputs.

    >>> axis_names(1), axis_names(3), axis_names(4)[0]
    (('length',), ('depth', 'height', 'width'), 'axis 0')
    """
    names = _AXES.get(rank)
    return names if names is not None else tuple(f"axis {i}" for i in range(rank))


def axis_label(axis: int, rank: int) -> str:
    """``axis 0 (channels)``, ``axis 2 (width)``: an axis of a ``(C, *spatial)`` sample
    (``axis 0 (features)`` of a vector).

    >>> axis_label(0, 3), axis_label(2, 3), axis_label(0, 1)
    ('axis 0 (channels)', 'axis 2 (width)', 'axis 0 (features)')
    """
    if rank == 1:
        return "axis 0 (features)"
    return f"axis {axis} ({'channels' if axis == 0 else axis_names(rank - 1)[axis - 1]})"


def axis_unit(name: str) -> str:
    """What one position of an axis is: a ``row`` of the height, a ``column`` of the
    width, a ``position`` of any other axis."""
    return _UNIT.get(name, "position")


def letters(base: str, rank: int, sep: str = " x ") -> str:
    """Per-axis symbols: ``letters("k", 2)`` -> ``k_h x k_w``; 1-D: ``k``."""
    if rank == 1:
        return base
    return sep.join(f"{base}_{_LETTER.get(a, str(i))}" for i, a in enumerate(axis_names(rank)))


# ------------------------------------------------------------------ formulas
def formula_number(x: Number) -> str:
    """A number inside a formula: no thousands commas, fractions as ``a/b``.

    >>> formula_number(Fraction(3, 2)), formula_number(2.0), formula_number(1516)
    ('3/2', '2', '1516')
    """
    if type(x) is int:  # the common case, before the abstract-class checks
        return int_text(x)
    if isinstance(x, Fraction):
        return int_text(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else str(x)
    return int_text(x)


def formula_dims(values: Sequence[Number]) -> str:
    """Sizes as numbers of a formula, joined: ``(5, Fraction(3, 2))`` -> ``5x3/2``."""
    return "x".join(map(formula_number, values))


def operand(x: Number) -> str:
    """A number as an operand of a formula: fractions and negatives in parentheses, so
    ``(1/2)/2`` reads as one value divided by 2.

    >>> operand(3), operand(Fraction(5, 2)), operand(-1)
    ('3', '(5/2)', '(-1)')
    """
    if type(x) is int and x >= 0:
        return int_text(x)
    text = formula_number(x)
    return f"({text})" if "/" in text or text.startswith("-") else text


def result_text(x: Number | str) -> str:
    """The result of a formula: ``1,516``, ``3/2``, ``0.5``; strings as they are."""
    if type(x) is int:  # the common case, before the abstract-class checks
        return grouped(x)
    if isinstance(x, Fraction):
        return grouped(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, (bool, str)):
        return str(x)
    if isinstance(x, int):
        return grouped(x)
    return f"{x:g}"


def window_formula(n: int | str, k: int, d: int, s: int, before: int | str, after: int | str,
                   ceil_mode: bool = False, pair: bool = False) -> str:
    """The output size of a sliding window along one axis, numbers filled in:
    ``floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1``; an asymmetric pad (or any, with
    ``pair``) as ``(3+2)``.  The one wording of it: explain, solve and the error of a
    window that leaves no output all write it with this.

    >>> window_formula(6, 4, 1, 1, 2, 1)
    'floor((6 + (2+1) - 1*(4-1) - 1) / 1) + 1'
    """
    pad = f"2*{before}" if before == after and not pair else f"({before}+{after})"
    return f"{'ceil' if ceil_mode else 'floor'}(({n} + {pad} - {d}*({k}-1) - 1) / {s}) + 1"


def transposed_formula(n: int, k: int, s: int, p: int, output_padding: int, d: int) -> str:
    """The output size of a transposed convolution along one axis, numbers filled in (its
    explanation and the error of a size below 1 both write it with this).

    >>> transposed_formula(7, 3, 2, 1, 1, 1)
    '(7-1)*2 - 2*1 + 1*(3-1) + 1 + 1'
    """
    return f"({n}-1)*{s} - 2*{p} + {d}*({k}-1) + {output_padding} + 1"


def json_number(x: Number) -> int | float:
    """An int when the value is integral, else a float (for JSON); a value too large for
    a float is rounded to the nearest int (a float would overflow)."""
    if type(x) is int:  # the common case, without isinstance's walk of Fraction's ABCs
        return x
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return int(x)
        return float(x) if abs(x) < 10**300 else round(x)
    return x


def axis_rows(label: str, items: Sequence[tuple[str, Number | str]], kind: str,
             symbolic: str = "") -> list[Step]:
    """One step per spatial axis, or one for all axes when their working is the same."""
    if len(items) > 1 and items.count(items[0]) == len(items):
        return [Step(all_axes_label(label, len(items)), items[0][0], items[0][1], symbolic,
                     kind)]
    names = axis_names(len(items))
    return [Step(f"{label} {name}", f, r, symbolic, kind) for name, (f, r) in zip(names, items)]


def all_axes_label(label: str, rank: int) -> str:
    """``rf size height, width``: the label of one step for every axis (remembered:
    every layer of a network writes the same few)."""
    key = (label, rank)
    found = _ALL_AXES.get(key)
    if found is None:
        found = f"{label} {', '.join(axis_names(rank))}"
        if len(_ALL_AXES) < MAX_LABELS:
            _ALL_AXES[key] = found
    return found


#: the all-axes labels remembered (a network writes a few; an unbounded cache would grow
#: with every label and rank asked for)
MAX_LABELS = 1024
_ALL_AXES: dict[tuple[str, int], str] = {}


# -------------------------------------------------------- shared window working
WINDOW_SYMBOLIC = "floor((n + 2p - d*(k-1) - 1) / s) + 1"
#: the same with a [before, after] padding, and the -1 of torch's ceil_mode rule
WINDOW_SYMBOLIC_PAIR = "floor((n + (p_before+p_after) - d*(k-1) - 1) / s) + 1"
CEIL_LAST = " - 1"


def axis_steps(label: str, items: Sequence[tuple[str, Number | str, str]], kind: str) -> list[Step]:
    """Like :func:`axis_rows`, each axis with its own formula in letters."""
    if len(items) > 1 and items.count(items[0]) == len(items):
        f, r, sym = items[0]
        return [Step(all_axes_label(label, len(items)), f, r, sym, kind)]
    names = axis_names(len(items))
    return [Step(f"{label} {name}", f, r, sym, kind) for name, (f, r, sym) in zip(names, items)]


# ------------------------------------------------------------ receptive fields
@dataclass(frozen=True)
class RFWorking:
    """How one layer's receptive-field step is written: per axis, the right-hand sides
    of ``r``, ``j`` and ``start`` with the layer's numbers, given the incoming values as
    operands (placed in the text as they are given: explain compares the axes' working
    written with stand-ins); and the same three in letters.  The numbers an op's ``rf`` computes are
    what these formulas compute (tests/test_explain.py evaluates every one)."""

    size: Callable[[int, str, str], str]
    jump: Callable[[int, str], str]
    start: Callable[[int, str, str], str]
    symbolic: tuple[str, str, str]


GENERIC_RF_SYMBOLIC = ("r = r_in + span*j_in", "j = j_in*factor", "start = start_in + offset*j_in")


def generic_rf(span: Sequence[Number], factor: Sequence[Number],
               offset: Sequence[Number]) -> RFWorking:
    """A receptive-field step written with its own span, factor and offset as numbers."""
    return RFWorking(
        lambda i, r, j: f"{r} + {operand(span[i])}*{j}",
        lambda i, j: f"{j}*{operand(factor[i])}",
        lambda i, st, j: f"{st} + {operand(offset[i])}*{j}",
        GENERIC_RF_SYMBOLIC)
