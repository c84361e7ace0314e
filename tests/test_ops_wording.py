"""An output-size formula is written by one function in cnncalc/working.py, and the error
of a layer that leaves no output says it in the words explain uses: the same function,
with the layer's numbers, including ``ceil`` for a ``ceil_mode`` pool (the error's
formula evaluates to the size it reports)."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from cnncalc.errors import ShapeError
from cnncalc.ops import get_op
from cnncalc.working import transposed_formula, window_formula

#: (op, args, input, the formula the error must write)
TOO_SMALL = [
    ("conv", {"out": 2, "k": 5}, (1, 3, 3), window_formula(3, 5, 1, 1, 0, 0)),
    ("conv", {"out": 2, "k": 3, "dilation": 4}, (1, 6, 6), window_formula(6, 3, 4, 1, 0, 0)),
    ("conv", {"out": 2, "k": 6, "pad": [[1, 0], [0, 0]]}, (1, 3, 9),
     window_formula(3, 6, 1, 1, 1, 0)),
    ("local", {"out": 2, "k": 4}, (1, 2, 8), window_formula(2, 4, 1, 1, 0, 0)),
    ("maxpool", {"k": 3, "stride": 1, "ceil_mode": True}, (1, 2, 5),
     window_formula(2, 3, 1, 1, 0, 0, ceil_mode=True)),
    ("avgpool", {"k": 4}, (1, 8, 3), window_formula(3, 4, 1, 4, 0, 0)),
    ("conv", {"out": 1, "k": 7}, (1, 5), window_formula(5, 7, 1, 1, 0, 0)),
]


def _error(op: str, args: dict[str, Any], x: tuple[int, ...]) -> str:
    with pytest.raises(ShapeError) as info:
        get_op(op).from_args(args).resolve([x])
    return info.value.message


def _value(formula: str) -> int:
    """Evaluate a formula of ints, + - * /, floor and ceil."""
    assert re.fullmatch(r"[0-9+\-*/() a-z]+", formula), formula
    return int(eval(formula, {"floor": math.floor, "ceil": math.ceil}))


@pytest.mark.parametrize(("op", "args", "x", "formula"), TOO_SMALL,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TOO_SMALL)])
def test_a_window_error_writes_the_explain_formula(op: str, args: dict[str, Any],
                                                   x: tuple[int, ...], formula: str) -> None:
    message = _error(op, args, x)
    written = re.search(r": ((?:floor|ceil)\(.*?\) \+ 1) = (-?\d+)", message)
    assert written, message
    assert written.group(1) == formula
    assert _value(written.group(1)) == int(written.group(2))


def test_a_window_explanation_writes_the_same_function() -> None:
    """explain's working of a window that fits is the same function's text."""
    op = get_op("conv").from_args({"out": 2, "k": 3, "stride": 2, "pad": 1})
    steps = op.explain(op.resolve([(1, 9, 9)]))
    assert steps[0].formula == window_formula(9, 3, 1, 2, 1, 1)


def test_a_transposed_conv_error_and_explanation_share_their_formula() -> None:
    message = _error("conv_transpose", {"out": 2, "k": 1, "pad": 1}, (1, 1, 1))
    assert f"{transposed_formula(1, 1, 1, 1, 0, 1)} = -1" in message
    op = get_op("conv_transpose").from_args({"out": 2, "k": 3, "stride": 2, "pad": 1})
    layer = op.resolve([(1, 7, 7)])
    assert op.explain(layer)[0].formula == transposed_formula(7, 3, 2, 1, 0, 1)
    assert _value(transposed_formula(7, 3, 2, 1, 0, 1)) == layer.out[1]
