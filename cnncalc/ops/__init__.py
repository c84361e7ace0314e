"""The op registry: ``REGISTRY`` maps each op name to its class.

Each op is one class in its own module, ``cnncalc/ops/<family>/<op name>.py``, found there
(:data:`OP_MODULES`: no list names it), and registers when its module is imported: on first
use, through ``REGISTRY`` (:mod:`cnncalc.ops.registry`), so that a run imports the ops it uses.
``get_op`` looks one up; ``op_info`` describes one for ``cnncalc ops`` and the docs.

>>> op_info("dropout")["args"]
[{'name': 'p', 'type': 'float in [0, 1]', 'default': 0.5, 'required': False}]
"""

from __future__ import annotations

import os
import typing
from types import UnionType
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic.fields import FieldInfo

from ..errors import SpecError
from ..suggest import did_you_mean, shown
from .base import FLOP_CATEGORIES, REGISTRY, Op, Params, RFStep, Shape, register
from .discovery import FAMILIES, op_modules

#: the modules that register several ops (one generated class per row of a table): the one
#: kind of op module not named after its op, so named here
OP_TABLES = ("activation.table",)
#: every op's module (below cnncalc.ops), found in the family folders (:mod:`.discovery`: a
#: file registering a class with ``@register``, or a table), without importing any: the
#: families in :data:`FAMILIES` order, the modules of each by name, which is the order the
#: ops register in and docs/ops.md and `cnncalc ops` list them in
OP_MODULES = op_modules(os.path.dirname(__file__), OP_TABLES)
REGISTRY.declare(__name__, OP_MODULES, OP_TABLES)

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
