"""Argument types shared by the op models (strict: no str/float/bool for an int)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

PosInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
Prob = Annotated[float, Field(ge=0, le=1)]
IntPerAxis = PosInt | Annotated[list[PosInt], Field(min_length=1, max_length=3)]
NonNegPerAxis = NonNegInt | Annotated[list[NonNegInt], Field(min_length=1, max_length=3)]
PadPair = Annotated[list[NonNegInt], Field(min_length=2, max_length=2)]
#: int | per-axis list | [before, after] pair per axis | same | valid
Padding = (
    NonNegInt
    | Annotated[list[NonNegInt], Field(min_length=1, max_length=3)]
    | Annotated[list[PadPair], Field(min_length=1, max_length=3)]
    | Literal["same", "valid"]
)
#: activation shorthand on conv/linear: an activation op's name, or none
ActName = Literal[
    "none", "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "leaky_relu", "elu",
    "hardswish", "hardsigmoid", "mish", "softplus", "softmax", "prelu",
]
