"""The top level of a spec file, as pydantic models (also the source of `cnncalc schema`).

Layer entries stay loose here (``str`` or mapping): each op validates its own
arguments with its own model once expressions are substituted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..ops.types import PosInt
from .expect import Expect

SPEC_VERSION = 1
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

LayerEntry = str | dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class Repeat(_Strict):
    """``repeat: {n: 4, first: {stride: 2}}``: n chained copies, first/last overridden."""

    n: Annotated[int, Field(ge=1)]
    first: dict[str, Any] = {}
    last: dict[str, Any] = {}
    #: a name bound to the copy's number (0 .. n-1) in that copy's arguments
    index: str | None = None


class Block(_Strict):
    """A reusable, parameterised group of layers with one input."""

    args: dict[str, Any] | list[str | dict[str, Any]] = {}
    defaults: dict[str, dict[str, Any]] = {}
    layers: Annotated[list[LayerEntry], Field(min_length=1)]
    output: str | None = None
    description: str | None = None


class Variant(_Strict):
    """One member of a family: ``resnet50: {args: {block: bottleneck}, input: [3, 224, 224]}``."""

    args: dict[str, Any] = Field({}, description="values for the spec's args: (merged over "
                                 "their defaults)")
    input: Annotated[list[PosInt], Field(min_length=1, max_length=4)] | None = Field(
        None, description="this variant's input shape (default: the spec's input:)")
    name: str | None = Field(None, description="the report's name (default: the variant's key)")
    description: str | None = None
    expect: Expect | None = Field(None, description="figures `cnncalc check` holds this "
                                  "variant to")


class Spec(_Strict):
    """A whole spec file."""

    cnncalc: Literal[1] = Field(description="spec format version; 1 is the only one so far")
    name: str | None = None
    description: str | None = None
    input: Annotated[list[PosInt], Field(min_length=1, max_length=4)] = Field(
        description="one sample's shape, no batch: [C, L], [C, H, W] or [C, D, H, W] (or [F])"
    )
    args: dict[str, Any] | list[str | dict[str, Any]] = Field({}, description=(
        "the spec's arguments, each with its default: names in every expression, set by "
        "a variant or by cnncalc.load(args=...)"))
    variants: dict[str, Variant] = Field({}, description=(
        "named members of the family (`cnncalc summary NAME`, FILE.yaml:NAME)"))
    tables: dict[str, Any] = {}
    defaults: dict[str, dict[str, Any]] = {}
    blocks: dict[str, Block] = {}
    layers: Annotated[list[LayerEntry], Field(min_length=1)]
    output: str | None = None
    strict: bool | None = Field(None, description=(
        "true: a stride that drops input rows is an error everywhere; false: only a warning, "
        "even in `cnncalc check` (for specs that truncate on purpose); unset: a warning, "
        "but an error in `cnncalc check`"))
    side_by_side: bool = Field(False, description=(
        "true: the layers are alternatives laid side by side (a comparison, each reading the "
        "input): those that do not reach the output are not dead branches and draw no warning"))
    expect: Expect | None = Field(None, description="figures `cnncalc check` holds the spec to")
