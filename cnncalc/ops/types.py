"""Argument types shared by the op models (strict: no str/float/bool for an int)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

PosInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
Prob = Annotated[float, Field(ge=0, le=1)]
IntPerAxis = PosInt | Annotated[list[PosInt], Field(min_length=1, max_length=3)]
NonNegPerAxis = NonNegInt | Annotated[list[NonNegInt], Field(min_length=1, max_length=3)]
PadPair = Annotated[list[NonNegInt], Field(min_length=2, max_length=2)]
#: int | per-axis list | [before, after] pair per axis | same (= same_lower) | same_upper |
#: same_lower | valid
Padding = (
    NonNegInt
    | Annotated[list[NonNegInt], Field(min_length=1, max_length=3)]
    | Annotated[list[PadPair], Field(min_length=1, max_length=3)]
    | Literal["same", "same_upper", "same_lower", "valid"]
)
#: activation shorthand on conv/linear: an activation op's name, or none
ActName = Literal[
    "none", "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "leaky_relu", "elu",
    "hardswish", "hardsigmoid", "mish", "softplus", "softmax", "prelu",
]


def _int_literal(expected: str) -> BeforeValidator:
    """Refuse a bool or float before a ``Literal`` of ints sees it (pydantic's literal check
    takes ``false`` for 0 and ``0.0`` for 0, even when strict)."""

    def check(value: Any) -> Any:
        if type(value) is not int:
            raise PydanticCustomError("literal_error", "Input should be {expected}",
                                      {"expected": expected})
        return value

    return BeforeValidator(check)


#: which axis ``linear`` acts on: -1 the last (``nn.Linear``'s), 0 the channels at every
#: position (channels-last, ConvNeXt's pointwise layers)
LinearAxis = Annotated[Literal[-1, 0], _int_literal("-1 or 0")]
