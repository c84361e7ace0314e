"""The op registry: ``REGISTRY`` maps each op name to its class.

Importing this package registers every op: each is one class in its own module,
``cnncalc/ops/<family>/<op name>.py``, found there (:mod:`.discovery`: no list names it) and
listed family by family, then by name.  ``get_op`` looks one up; ``op_info`` describes one
for ``cnncalc ops`` and the docs.

>>> op_info("dropout")["args"]
[{'name': 'p', 'type': 'float in [0, 1]', 'default': 0.5, 'required': False}]
"""

from __future__ import annotations

import importlib
import os
import typing
from types import UnionType
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic.fields import FieldInfo

from ..errors import SpecError
from ..suggest import did_you_mean, shown
from .base import FLOP_CATEGORIES, REGISTRY, Op, Params, RFStep, Shape, register
from .discovery import FAMILIES, family_modules, listing_key

#: every module of the family folders, found by :func:`discovery.family_modules` and
#: imported in its order: a new op is one new file ``cnncalc/ops/FAMILY/NAME.py``
MODULES = family_modules(os.path.dirname(__file__))
for _module in MODULES:
    importlib.import_module(f".{_module}", __name__)


def _in_listing_order() -> None:
    """Reorder the registry (and so docs/ops.md and ``cnncalc ops``): the families in
    :data:`FAMILIES` order, the ops of each by name, whatever order the files load in."""
    ops = sorted(REGISTRY.values(), key=lambda cls: listing_key(cls.family, cls.name))
    REGISTRY.clear()
    REGISTRY.update((cls.name, cls) for cls in ops)


_in_listing_order()

__all__ = ["FAMILIES", "FLOP_CATEGORIES", "REGISTRY", "Op", "Params", "RFStep", "Shape", "get_op",
           "op_info", "register"]


def get_op(name: str) -> type[Op[Any]]:
    """The op class registered as ``name``; a SpecError with a suggestion otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise SpecError(f"op {shown(name)} is unknown{did_you_mean(name, REGISTRY)}") from None


def op_info(name: str) -> dict[str, Any]:
    """Describe op ``name``: family, summary, arity, formulas and its arguments as
    written in YAML (aliases such as ``global``), from the op's pydantic model.

    >>> info = op_info("conv")
    >>> info["family"], [a["name"] for a in info["args"]][:3]
    ('conv', ['out', 'k', 'stride'])
    """
    cls = get_op(name)
    args = []
    for field_name, field in cls.Args.model_fields.items():
        required = field.is_required()
        args.append({
            "name": field.alias or field_name,
            "type": describe_type(field.annotation, field.metadata),
            "default": None if required else field.default,
            "required": required,
        })
    args.sort(key=lambda a: a["name"] in ("act", "bn"))  # the shorthand last
    lo, hi = cls.arity
    return {"name": cls.name, "family": cls.family, "summary": cls.summary,
            "arity": [lo, hi], "formulas": dict(cls.formulas), "args": args}


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    """Flatten pydantic/annotated-types metadata into {gt, ge, le, min_len, max_len}."""
    out: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, FieldInfo):
            out.update(_constraints(list(m.metadata)))
        for attr, key in (("gt", "gt"), ("ge", "ge"), ("le", "le"), ("lt", "lt"),
                          ("min_length", "min_len"), ("max_length", "max_len")):
            if isinstance(m, (Gt, Ge, Le, Lt, MinLen, MaxLen)) and hasattr(m, attr):
                out[key] = getattr(m, attr)
    return out


def _scalar(name: str, c: dict[str, Any]) -> str:
    if "ge" in c and "le" in c:
        return f"{name} in [{c['ge']}, {c['le']}]"
    if "ge" in c and "lt" in c:
        return f"{name} in [{c['ge']}, {c['lt']})"
    for key, sym in (("gt", ">"), ("ge", ">="), ("le", "<="), ("lt", "<")):
        if key in c:
            return f"{name} {sym} {c[key]}"
    return name


def describe_type(tp: Any, metadata: list[Any] | None = None) -> str:
    """A short human description of an argument's type annotation.

    >>> from cnncalc.ops.types import IntPerAxis
    >>> describe_type(IntPerAxis)
    'int > 0 | list[int > 0] (1-3 items)'
    """
    c = _constraints(list(metadata or []))
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(tp)
        return describe_type(base, meta + list(metadata or []))
    if origin in (typing.Union, UnionType):
        return " | ".join(describe_type(t) for t in typing.get_args(tp))
    if origin is typing.Literal:
        return " | ".join(str(v) for v in typing.get_args(tp))
    if origin is list:
        (item,) = typing.get_args(tp)
        lo, hi = c.get("min_len"), c.get("max_len")
        if lo == hi and lo is not None:
            items = f" ({lo} items)"
        else:
            items = f" ({lo or 0}-{hi} items)" if hi is not None else ""
        return f"list[{describe_type(item)}]{items}"
    if tp is type(None):
        return "none"
    return _scalar(getattr(tp, "__name__", str(tp)), c)
