"""Families: a spec's top-level ``args:`` (every one with a default) and ``variants:``.

A variant is a name and a few argument values (optionally its own ``input``, ``name``,
``description`` and ``expect``); loading one binds the arguments, which are then names
in every expression of the spec, as tables are (:func:`bind`).

>>> from cnncalc.spec.yamlio import load_yaml_text
>>> from cnncalc.spec.schema import Spec
>>> raw = load_yaml_text("cnncalc: 1\\ninput: [3, 8, 8]\\nargs: {w: 4, w2: '${2 * w}'}\\n"
...                      "variants: {big: {args: {w: 8}, input: [3, 16, 16]}}\\n"
...                      "layers: [relu]\\n", "f.yaml")
>>> spec = Spec.model_validate(dict(raw))
>>> b = bind(spec, raw, "big")
>>> b.args, b.name, b.spec.input
({'w': 8, 'w2': 16}, 'big', [3, 16, 16])
>>> bind(spec, raw).args
{'w': 4, 'w2': 8}
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CnncalcError, LimitError, Loc, SpecError, UsageError
from ..suggest import close_matches, did_you_mean, name_list, shown
from .expr import SHAPE_NAMES, substitute
from .schema import ID_PATTERN, Spec
from .yamlio import MDict, MList, key_text

_NAME = re.compile(ID_PATTERN)
#: the longest spec argument or variant name
MAX_NAME_CHARS = 200
#: the most variants a file may declare (`cnncalc check FILE` analyses every one)
MAX_VARIANTS = 1000
#: what a block argument without a default is declared as: at the top level, an error
TYPE_WORDS = ("int", "list", "bool", "float", "str", "any")


@dataclass(frozen=True)
class Binding:
    """What one variant (or the defaults) of a spec is: the spec with its input, the
    evaluated arguments, the report's name and the ``expect:`` to hold it to."""

    spec: Spec
    args: dict[str, Any]
    name: str | None
    expect: Any
    variant: str | None = None


def declared(raw: MDict) -> list[tuple[str, Any, Loc | None, Loc | None]]:
    """The spec's ``args:`` as (name, default, where the name is, where the default is),
    in the order written; the dict and the list-of-mappings forms, as a block's."""
    args = raw.get("args") or {}
    whole = raw.val_loc.get("args")
    items: list[tuple[Any, Any, Any]] = []
    if isinstance(args, dict):
        items = [(args, k, v) for k, v in args.items()]
    elif isinstance(args, list):
        for i, item in enumerate(args):
            if not isinstance(item, dict):
                at = args.item_loc[i] if isinstance(args, MList) else whole
                raise SpecError(f"args: {shown(repr(item), quote='')} has no default; spec "
                                "args need defaults (write {name: default}), so the file "
                                "loads as it is", loc=at)
            items += [(item, k, v) for k, v in item.items()]
    out = []
    for mapping, key, value in items:
        key_loc = mapping.key_loc.get(key) if isinstance(mapping, MDict) else whole
        val_loc = mapping.val_loc.get(key) if isinstance(mapping, MDict) else whole
        out.append((key, value, key_loc, val_loc))
    return out


def check(spec: Spec, raw: MDict) -> None:
    """The family's declarations, whichever variant is loaded: argument names that
    ``$name`` can refer to, each with a default and none a table's name; variant names
    that are names; every variant argument one the spec declares."""
    names = _check_args(raw)
    raw_variants = raw.get("variants") or {}
    if len(spec.variants) > MAX_VARIANTS:
        raise LimitError(f"{len(spec.variants):,} variants, over the limit of {MAX_VARIANTS:,} "
                         "(`cnncalc check` analyses each one)", loc=raw.key_loc.get("variants"),
                         hints=("split the family into several files",))
    for vname in spec.variants:
        at = raw_variants.key_loc.get(vname) if isinstance(raw_variants, MDict) else None
        problem = _name_problem(vname)
        if problem:
            raise SpecError(f"variant {shown(repr(vname), quote='')} {problem} (a variant is "
                            "loaded by its name: `cnncalc summary NAME`, FILE.yaml:NAME)",
                            loc=at)
        vraw = raw_variants.get(vname)
        given = vraw.get("args") if isinstance(vraw, dict) else None
        for arg in given or {}:
            if arg not in names:
                where = given.key_loc.get(arg) if isinstance(given, MDict) else at
                raise SpecError(f"variant {shown(vname)}: unknown argument "
                                f"{shown(key_text(given, arg))}{did_you_mean(arg, names)} "
                                f"(the spec's args: {name_list(names) or 'none'})", loc=where,
                                hints=() if names else (
                                    "declare it with its default in the top-level args:",))


def _check_args(raw: MDict) -> list[str]:
    tables = raw.get("tables") or {}
    seen: list[str] = []
    for name, default, key_loc, val_loc in declared(raw):
        problem = _name_problem(name)
        if problem is None and name in SHAPE_NAMES:
            problem = "is reserved: it names the input shape in expressions"
        if problem is None and name in seen:
            problem = "is declared twice"
        if problem is None and name in tables:
            problem = "is also a table; a name is either a spec argument or a table"
        if problem:
            error = LimitError if problem.startswith("is longer") else SpecError
            raise error(f"args: {shown(repr(name), quote='')} {problem}", loc=key_loc)
        if isinstance(default, str) and default in TYPE_WORDS:
            raise SpecError(f"args: {name}: {default} reads as a type, but spec args need "
                            "defaults, so the file loads as it is (a variant or "
                            "cnncalc.load(args=...) may then change them)", loc=val_loc,
                            hints=(f"give a value, e.g. {name}: 64",))
        seen.append(name)
    return seen


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return "is not a name: letters, digits and _, not starting with a digit"
    if name.startswith("__"):
        return "starts with __, and such names are never looked up"
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters"
    return None


def variant_names(spec: Spec) -> list[str]:
    return list(spec.variants)


def unknown_variant(variant: str, names: list[str], file: str) -> UsageError:
    """The error for a variant a file does not have: its variants, closest first."""
    near = close_matches(variant, names, n=len(names), cutoff=0.0) if names else []
    if not names:
        return UsageError(f"{file} has no variants, so there is no {shown(variant)} in it "
                          "(load the file itself)")
    return UsageError(f"{file} has no variant {shown(variant)}; its variants: "
                      f"{name_list(near)}", hints=(f"e.g. {file}:{near[0]}",))


def bind(spec: Spec, raw: MDict, variant: str | None = None,
         given: Mapping[str, Any] | None = None, file: str = "<spec>") -> Binding:
    """The spec as ``variant`` (None: its defaults), with ``given`` argument values over
    the variant's (the Python API's ``args=``)."""
    check(spec, raw)
    chosen = None
    if variant is not None:
        if variant not in spec.variants:
            raise unknown_variant(variant, list(spec.variants), file)
        chosen = spec.variants[variant]
    names = [d[0] for d in declared(raw)]
    for arg in given or {}:
        if arg not in names:
            raise UsageError(f"args: {file} has no argument {shown(str(arg))}"
                             f"{did_you_mean(arg, names)} (its args: "
                             f"{name_list(names) or 'none'})")
    found = (raw.get("variants") or {}).get(variant) if variant is not None else None
    vraw = found if isinstance(found, MDict) else MDict()
    values = _evaluate(raw, vraw.get("args"), given)
    if chosen is None:
        return Binding(spec, values, spec.name, raw.get("expect"))
    bound = spec.model_copy(update={"input": chosen.input}) if chosen.input else spec
    return Binding(bound, values, chosen.name or variant, vraw.get("expect"), variant)


def _evaluate(raw: MDict, over: Any, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every argument's value, in the order declared: the API's, else the variant's, else
    the default; each may refer to the tables and to the arguments before it."""
    tables = dict(raw.get("tables") or {})
    values: dict[str, Any] = {}
    for name, default, _, val_loc in declared(raw):
        value, loc, whose = default, val_loc, "the default of"
        if isinstance(over, dict) and name in over:
            value, whose = over[name], "the variant's value of"
            loc = over.val_loc.get(name, loc) if isinstance(over, MDict) else loc
        if given and name in given:
            value, loc, whose = given[name], None, "the value given for"
        try:
            values[name] = _deep(value, ChainMap(values, tables, _NoShapes()))
        except CnncalcError as exc:
            raise exc.located(loc, notes=(f"evaluating {whose} argument '{name}'",)) from None
    return values


class _NoShapes(dict[str, Any]):
    """The input-shape names, in the scope of a spec argument's value only to say why they
    cannot be used there: spec args are bound before any layer is expanded."""

    def __contains__(self, name: object) -> bool:
        return name in SHAPE_NAMES

    def __missing__(self, name: str) -> Any:
        if name not in SHAPE_NAMES:
            raise KeyError(name)
        raise SpecError(f"{name} is not known yet: spec args are bound before any layer, so "
                        "their values cannot use the input-shape names",
                        hints=(f"use {name} in the layer's (or block's) own expression",))


def _deep(value: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(value, list):
        items = [_deep(v, scope) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return substitute(value, scope)
