"""The op registry: ``REGISTRY`` maps each op name to its class.

Importing this package registers every op family.  ``get_op`` looks one up.
"""

from __future__ import annotations

import difflib

from ..errors import SpecError
from . import activation, conv, lenet, linear, merge, norm, pool  # noqa: F401  (registration)
from .base import FLOP_CATEGORIES, REGISTRY, Op, Params, RFStep, Shape, register

__all__ = ["FLOP_CATEGORIES", "REGISTRY", "Op", "Params", "RFStep", "Shape", "get_op", "register"]


def get_op(name: str) -> type[Op]:
    """The op class registered as ``name``; a SpecError with a suggestion otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        near = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise SpecError(f"op '{name}' is unknown{hint}") from None
