"""The expression language: numbers, floats, rounding, make_divisible, comparisons,
booleans, if-else; input-shape names; conditional entries; and their errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, LimitError, SpecError
from cnncalc.spec import parse_network
from cnncalc.spec.expr import MAX_DIGITS, evaluate, make_divisible


def reference_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, copied from torchvision 0.28.0's source
    (the oracle when torchvision cannot be imported; see test_make_divisible_is_torchvisions)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def torchvision_make_divisible() -> Any:
    """torchvision's own function, imported with its compiled ops' registration made a
    no-op (they do not load on this CPU torch), or skip."""
    torch = pytest.importorskip("torch")
    real = torch.library.register_fake
    torch.library.register_fake = lambda *a, **k: (lambda fn: fn)
    try:
        from torchvision.models._utils import _make_divisible
    except Exception as exc:  # noqa: BLE001 (any import failure: no oracle here)
        pytest.skip(f"torchvision does not import: {exc}")
    finally:
        torch.library.register_fake = real
    return _make_divisible


def value(text: str, **scope: Any) -> Any:
    return evaluate(text, scope)


def error(text: str, **scope: Any) -> CnncalcError:
    with pytest.raises(CnncalcError) as info:
        evaluate(text, scope)
    return info.value


# ------------------------------------------------------------------ arithmetic
@pytest.mark.parametrize("text, expected", [
    ("7 / 2", 3.5), ("6 / 3", 2.0), ("1.5 * 2", 3.0), ("1e-3 * 1000", 1.0),
    ("2 ** 10", 1024), ("2 ** 0.5", 2 ** 0.5), ("4.0 ** 2", 16.0), ("7 // 2", 3),
    ("-7 // 2", -4), ("7.5 // 2", 3.0), ("-7 % 3", 2), ("(1 + 2) * 3", 9), ("+3", 3),
])
def test_arithmetic_is_pythons(text: str, expected: Any) -> None:
    got = value(text)
    assert got == expected and type(got) is type(expected)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_round_ceil_floor_int_are_pythons(x: float) -> None:
    assert value("round(x)", x=x) == round(x)  # half to even, as torchvision's int(round())
    assert value("ceil(x)", x=x) == math.ceil(x)
    assert value("floor(x)", x=x) == math.floor(x)
    assert value("int(x)", x=x) == int(x)  # toward zero
    assert all(type(value(f"{f}(x)", x=x)) is int for f in ("round", "ceil", "floor", "int"))


@pytest.mark.parametrize("x, rounded", [(0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2)])
def test_round_is_half_to_even(x: float, rounded: int) -> None:
    assert value("round(x)", x=x) == rounded


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False),
       st.integers(min_value=1, max_value=64),
       st.none() | st.integers(min_value=0, max_value=512))
def test_make_divisible_is_the_reference(v: float, divisor: int, least: int | None) -> None:
    want = reference_make_divisible(v, divisor, least)
    scope = {"v": v, "d": divisor, "m": least}
    text = "make_divisible(v, d)" if least is None else "make_divisible(v, d, m)"
    assert evaluate(text, scope) == want == make_divisible(v, divisor, least)


def test_make_divisible_is_torchvisions() -> None:
    theirs = torchvision_make_divisible()
    widths = [0.25, 0.35, 0.5, 0.75, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2]
    for width in widths:
        for channels in (3, 8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 160, 192, 320, 960, 1280):
            for divisor in (1, 4, 8, 16):
                v = channels * width
                got = value("make_divisible(c * w, d)", c=channels, w=width, d=divisor)
                assert got == theirs(v, divisor), (channels, width, divisor)
                assert value("make_divisible(c * w, d, 16)", c=channels, w=width, d=divisor) \
                    == theirs(v, divisor, 16)


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-50, 50))
def test_comparisons_and_booleans_are_pythons(a: int, b: int, c: int) -> None:
    scope = {"a": a, "b": b, "c": c}
    for text in ("a < b", "a <= b < c", "a == b", "a != b", "a > b >= c",
                 "a < b and b < c", "a < b or not b < c", "a if a > b else b",
                 "(a if c > 0 else b) * 2", "max(a, b, c) - min(a, b)"):
        assert evaluate(text, scope) == eval(text, {}, dict(scope)), text  # (the oracle)


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("True", True), ("False", False),
    ("not false", True), ("true and false", False), ("false or true", True),
    ("1 < 2 < 3", True), ("3 > 2 > 2", False), ("2.0 == 2", True),
    ("false and 1 // 0 == 0", False), ("true or 1 // 0 == 0", True),  # short-circuit
    ("1 if true else 1 // 0", 1),
])
def test_boolean_values(text: str, expected: Any) -> None:
    got = value(text)
    assert got == expected and type(got) is type(expected)


# -------------------------------------------------------------------- refusals
@pytest.mark.parametrize("text, message", [
    ("1 / 0", "division by zero"), ("1 // 0.0", "division by zero"), ("5 % 0", "division by zero"),
    ("0.0 ** -1.0", "division by zero"),
    ("2 ** -1", "** needs a non-negative integer exponent or a float"),
    ("(-8) ** 0.5", "a negative number to a fractional power"),
    ("1e999", "too large for a float"),
    ("1e59 / 1e-300", "not a finite number"),
    ("3 if 1 else 4", "the condition of if-else must be true or false, got an integer (1)"),
    ("not 3", "the operand of not must be true or false, got an integer (3)"),
    ("1 and true", "each side of and must be true or false, got an integer (1)"),
    ("true + 1", "the operator + needs a number, got a boolean (true)"),
    ("true < 2", "the comparison < needs a number, got a boolean (true)"),
    ("true == 1", "== compares like with like"),
    ("ciel(2.5)", "calling ciel() is not allowed in expressions (the functions are min, max, "
                  "round, ceil, floor, int, make_divisible, len); did you mean 'ceil'?"),
    ("abs(-2)", "calling abs() is not allowed"),
    ("round(2.5, 1)", "round() takes 1 argument, got 2"),
    ("round(x=2.5)", "round() takes no keyword arguments"),
    ("make_divisible(10)", "make_divisible() takes 2 to 3 arguments, got 1"),
    ("make_divisible(10, 0)", "divisor must be a positive integer"),
    ("make_divisible(10, 2.0)", "divisor must be a positive integer, got a float (2.0)"),
    ("make_divisible(10, 8, 1.5)", "min_value must be an integer"),
    ("1 << 2", "the operator << is not allowed"),
    ("1 in 2", "the comparison 'in' is not allowed"),
    ("1 is 1", "the comparison 'is' is not allowed"),
    ("[1] < [2]", "a list display is not allowed"),
    ("widths < widths", "'widths' is a list ([1, 2]); arithmetic needs a number"),
    ("widths[0]", "indexing (a[i]) is not allowed"),
    ("len(widths)", "len() takes one of in_shape, input_shape"),
    ("min(*widths)", "unpacking (*) in min()"),
    ("'a' == 'a'", "the string literal 'a' is not allowed"),
    ("None", "the NoneType literal None is not allowed"),
])
def test_bad_expressions_are_refused_with_a_reason(text: str, message: str) -> None:
    err = error(text, widths=[1, 2])
    assert isinstance(err, SpecError) and message in err.message, err.message


@pytest.mark.parametrize("text", [
    "2 ** 10000", "10 ** 60", "10.0 ** 400", "1e308 * 10", "1e59 * 1e59", "9 ** 9 ** 9",
    "10 ** 59 * 10", "2.0 ** 1000", "1e60", "-1e60", "ceil(1e60)",
])
def test_values_past_the_digit_limit_are_refused_before_they_cost(text: str) -> None:
    err = error(text)
    assert isinstance(err, LimitError) and f"more than {MAX_DIGITS} digits" in err.message


def test_a_float_argument_where_an_integer_is_needed_says_round_it() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {w: 1.5}\n'
            'layers:\n  - {op: conv, out: "${64 * w}", k: 3}\n')
    with pytest.raises(SpecError) as info:
        parse_network(text.encode(), "f.yaml")
    err = info.value
    assert err.message == "out must be an integer, got float 96.0"
    assert (err.loc.line, err.loc.col) == (5, 21)
    assert any("round(" in h for h in err.hints)


def test_floats_rounded_in_a_spec_give_torchvisions_widths() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {w: 1.4}\n'
            'layers:\n  - {op: conv, out: "${make_divisible(32 * w, 8)}", k: 3}\n'
            '  - {op: conv, out: "${int(round(24 * w))}", k: 1}\n'
            '  - {op: dropout, p: "${0.1 * 2}"}\n')
    report = cnncalc.analyze(parse_network(text.encode(), "f.yaml"))
    assert [r.output_shape[0] for r in report.layers[:2]] == \
        [reference_make_divisible(32 * 1.4, 8), round(24 * 1.4)]


def test_a_bool_argument_takes_an_expressions_bool() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {c: 8}\n'
            'layers:\n  - {op: conv, out: $c, k: 3, bias: "${c > 16}"}\n')
    report = cnncalc.analyze(parse_network(text.encode(), "f.yaml"))
    assert report.layers[0].params == 8 * 3 * 9
