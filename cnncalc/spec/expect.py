"""The ``expect:`` section of a spec: what its figures must be, for ``cnncalc check``.

A figure is given exactly (``params: 25557032``), as precisely as written with an SI
suffix (``params: 25.6M`` holds for 25.55M to 25.65M), or between inclusive bounds
(``macs: {max: 4.5G}``).  Suffixes: k, M, G, T (powers of 1000); byte figures also take
Ki, Mi, Gi, Ti (powers of 1024) and a trailing ``B``.  Unknown keys are located errors
with a suggestion.

A figure written as a string is read strictly: digits, optionally grouped with
underscores between digits (``25_557_032``) or with commas in groups of three
(``25,557,032``), an optional decimal part (``25.6M``), at most 30 digits.  ``"4,0"`` is
refused (not read as 40), and so are infinite or not-a-number values (``.inf``, ``1e400``).

>>> t = parse_target("25.6M")
>>> t.holds(25_557_032), t.holds(25_700_000), str(t)
(True, False, '25.6M')
>>> parse_target({"max": "4.5G"}).holds(4_089_184_256)
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from ..errors import SpecError
from ..suggest import did_you_mean, shown
from .yamlio import MDict, key_text

_SCALE = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
#: a figure's number as written: digits, with underscores between digits (``25_557_032``)
#: or commas between groups of three (``25,557,032``), and an optional decimal part
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+(?:_[0-9]+)*)(?:\.[0-9]+)?"
_QUANTITY = re.compile(rf"\s*({_NUMBER})\s*(k|K|M|G|T|Ki|Mi|Gi|Ti)?(B?)\s*")
COUNT_PATTERN = rf"^\s*{_NUMBER}\s*[kKMGT]?\s*$"
BYTES_PATTERN = rf"^\s*{_NUMBER}\s*([kKMGT]i?)?B?\s*$"
#: the most digits a figure may have (as ``Limits.max_int_digits`` for integers)
MAX_FIGURE_DIGITS = 30


@dataclass(frozen=True)
class Target:
    """What one figure must be: ``exact`` (give or take ``tol``) and/or within bounds."""

    exact: Fraction | None = None
    tol: Fraction = Fraction(0)
    min: Fraction | None = None
    max: Fraction | None = None
    #: the value(s) as written in the spec, for messages
    written: str = ""
    min_text: str = ""
    max_text: str = ""

    def holds(self, value: int | float | Fraction) -> bool:
        """Whether ``value`` meets this target."""
        v = Fraction(value)
        if self.exact is not None and abs(v - self.exact) > self.tol:
            return False
        if self.min is not None and v < self.min:
            return False
        return self.max is None or v <= self.max

    def __str__(self) -> str:
        return self.written


def parse_quantity(value: Any, *, binary: bool = False) -> tuple[Fraction, Fraction]:
    """``(value, tolerance)`` of an int or an SI string; tolerance is half the last
    written digit for a suffixed string (``"25.6M"`` -> 25,600,000 +- 50,000)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number like 25557032 or '25.6M', got "
                         f"{shown(repr(value), quote='')}")
    if isinstance(value, float) and not math.isfinite(value):
        what = "not-a-number" if math.isnan(value) else "an infinite number"
        raise ValueError(f"a figure is a finite number, got {what} ({value})")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a figure cannot be negative, got {value}")
        return Fraction(value), Fraction(0)
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise ValueError(_not_a_figure(value))
    digits = match.group(1).replace("_", "").replace(",", "")
    if len(digits.replace(".", "").lstrip("0")) > MAX_FIGURE_DIGITS:
        raise ValueError(f"{shown(value.strip())} has more than {MAX_FIGURE_DIGITS} digits")
    suffix, unit_b = match.group(2) or "", match.group(3)
    if (suffix.endswith("i") or unit_b) and not binary:
        raise ValueError(f"{shown(value.strip())}: binary suffixes (Ki, Mi, Gi) and B are for "
                         "byte figures")
    scale = _SCALE[suffix]
    number = Fraction(Decimal(digits))
    decimals = len(digits.partition(".")[2])
    tol = Fraction(scale, 2 * 10**decimals) if suffix else Fraction(0)
    return number * scale, tol


def _not_a_figure(value: str) -> str:
    text = shown(value)
    if re.fullmatch(r"\s*[0-9,._]+\s*([kKMGT]i?)?B?\s*", value) and "," in value:
        return (f"{text} is not a number: commas separate thousands, in groups of three "
                "(25,557,032); a decimal point is written '.' (25.6M)")
    from ..units import foreign_digit

    foreign = foreign_digit(value)
    if foreign is not None:
        return f"{text} is not a number: {foreign}"
    return f"{text} is not a number like 25557032, 25_557_032, '25.6M' or '4.5G'"


def parse_target(value: Any, *, binary: bool = False) -> Target:
    """A :class:`Target` from ``25557032``, ``"25.6M"`` or ``{min: ..., max: ...}``."""
    if isinstance(value, dict):
        unknown = set(value) - {"min", "max"}
        if unknown or not value:
            raise ValueError(f"bounds are {{min: ..., max: ...}} (one or both), got keys "
                             f"{sorted(map(str, value)) or 'none'}")
        lo = parse_quantity(value["min"], binary=binary)[0] if "min" in value else None
        hi = parse_quantity(value["max"], binary=binary)[0] if "max" in value else None
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"min {shown(value['min'], quote='')} is above max "
                             f"{shown(value['max'], quote='')}")
        parts = [f"{k}: {value[k]}" for k in ("min", "max") if k in value]
        return Target(min=lo, max=hi, written="{" + ", ".join(parts) + "}",
                      min_text=str(value.get("min", "")), max_text=str(value.get("max", "")))
    exact, tol = parse_quantity(value, binary=binary)
    written = f"{value:,}" if isinstance(value, int) else str(value).strip()
    return Target(exact=exact, tol=tol, written=written)


def _schema(pattern: str, what: str) -> dict[str, Any]:
    number = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": pattern}]}
    bounds = {"type": "object", "properties": {"min": number, "max": number},
              "additionalProperties": False, "minProperties": 1}
    return {"description": what, "anyOf": [*number["anyOf"], bounds]}


_COUNT_DOC = ("exact (25557032), as precise as written with a k/M/G/T suffix ('25.6M'), "
              "or bounds {min: 1M, max: 30M}")
Count = Annotated[Target, PlainValidator(parse_target),
                  WithJsonSchema(_schema(COUNT_PATTERN, _COUNT_DOC))]
Bytes = Annotated[Target, PlainValidator(lambda v: parse_target(v, binary=True)),
                  WithJsonSchema(_schema(BYTES_PATTERN, _COUNT_DOC + "; also Ki/Mi/Gi and B"))]


def _parse_rf(value: Any) -> Target | tuple[int, ...]:
    if isinstance(value, list):
        if not value or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
            raise ValueError("a per-axis receptive field is a list of positive integers, "
                             f"got {value}")
        return tuple(value)
    return parse_target(value)


def _parse_shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                          for v in value):
        raise ValueError("an output shape is a list of positive integers (no batch), "
                         f"got {value!r}")
    return tuple(value)


_RF_SCHEMA = {"description": "the receptive field's size: the largest over the spatial axes (a "
                             "figure or bounds), or one exact size per axis",
              "anyOf": [*_schema(COUNT_PATTERN, "")["anyOf"],
                        {"type": "array", "items": {"type": "integer", "minimum": 1},
                         "minItems": 1}]}
RField = Annotated[Target | tuple[int, ...], PlainValidator(_parse_rf),
                   WithJsonSchema(_RF_SCHEMA)]
OutShape = Annotated[tuple[int, ...], PlainValidator(_parse_shape), WithJsonSchema(
    {"description": "the exact output shape, without the batch axis",
     "type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1})]


class _Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """Unknown keys: a located error with a suggestion (pydantic's says neither)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping of figures, got {type(data).__name__}")
        names = list(cls.model_fields)
        for key in data:
            if key not in cls.model_fields:
                loc = data.key_loc.get(key) if isinstance(data, MDict) else None
                raise SpecError(f"unknown expectation {shown(key_text(data, key))}"
                                f"{did_you_mean(key, names)} (known: {', '.join(names)})",
                                loc=loc)
        return data


class LayerExpect(_Expect):
    """Expectations on one layer (``expect: {layers: {conv1: {...}}}``)."""

    output_shape: OutShape | None = None
    params: Count | None = None
    trainable_params: Count | None = None
    buffers: Count | None = None
    macs: Count | None = None
    flops: Count | None = None
    activation_bytes: Bytes | None = None
    param_bytes: Bytes | None = None
    receptive_field: RField | None = None


class Expect(LayerExpect):
    """The ``expect:`` section: the figures a layer has, for the whole network, plus
    the peak memory and per-layer expectations."""

    peak_activation_bytes: Bytes | None = None
    layers: dict[str, LayerExpect] = {}
