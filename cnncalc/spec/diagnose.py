"""Turn pydantic validation errors into one located, human sentence.

>>> from cnncalc.spec.yamlio import load_yaml_text
>>> from cnncalc.ops import get_op
>>> from pydantic import ValidationError
>>> raw = load_yaml_text("{out: 6, k: 0}", "n.yaml")
>>> try:
...     get_op("conv").from_args(raw)
... except ValidationError as exc:
...     print(spec_error(exc, raw, get_op("conv").Args).format())
n.yaml:1:13: error: k must be > 0, got 0
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import Loc, SpecError
from ..suggest import did_you_mean, shown
from .yamlio import MDict, MList, key_text

_TYPE_WORDS = {
    "int": "an integer",
    "constrained-int": "an integer",
    "float": "a number",
    "constrained-float": "a number",
    "bool": "true or false",
    "str": "a string",
}


#: what users coming from torch or Keras write, and our name for it
SYNONYMS = {
    "kernel": "k", "kernel_size": "k", "ksize": "k", "padding": "pad", "strides": "stride",
    "out_channels": "out", "filters": "out", "channels": "out", "out_features": "out",
    "units": "out", "dilation_rate": "dilation", "use_bias": "bias", "activation": "act",
    "batchnorm": "bn", "batch_norm": "bn", "output_size": "size", "scale_factor": "scale",
    "negative_slope": "slope", "num_groups": "groups", "rate": "p", "inputs": "in",
}


def suggest(name: str, known: list[str]) -> str:
    """``"; did you mean 'k'?"`` for a near or synonymous name, else ``""``."""
    return did_you_mean(name, known, synonyms=SYNONYMS)


#: pydantic's type-check errors, as what the value must be
_TYPE_ERRORS = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "float_type": "a number", "float_parsing": "a number",
    "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping",  # a block, a variant, a repeat given as anything else
}

#: a hint for mistakes in a top-level field
FIELD_HINTS = {
    "input": "input is one sample's shape, without the batch: [F], [C, L], [C, H, W] or "
             "[C, D, H, W], e.g. input: [3, 224, 224]",
    "layers": "layers is a list of ops, e.g. layers: [{op: conv, out: 64, k: 3}, relu]",
}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in _TYPE_WORDS or "[" in part
        or part.startswith(("literal", "function-", "nullable", "constrained"))
    )


def _describe_tag(tag: str) -> str:
    if tag in _TYPE_WORDS:
        return _TYPE_WORDS[tag]
    if tag.startswith("list[union[str,dict"):
        return "a list of names or {name: default} mappings"
    if tag.startswith("list[list["):
        return "a list of [before, after] pairs"
    if tag.startswith("list["):
        return "a list of " + _describe_tag(tag[5:-1]).replace("an ", "").replace("a ", "") + "s"
    if tag.startswith("literal["):
        return "one of " + ", ".join(tag[8:-1].split(","))
    if tag.startswith("dict["):
        return "a mapping"
    return tag


def _real_path(raw: Any, loc: Sequence[Any]) -> list[Any]:
    """A pydantic error location without its type tags (``int``, ``list[int]``...).

    A part that is a key of the document at that point stays even when it looks like a
    tag: a block or an argument may well be called ``int``.
    """
    node, path = raw, []
    for part in loc:
        in_mapping = isinstance(node, MDict) and part in node
        in_list = isinstance(node, MList) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
        elif _is_tag(part):
            continue
        else:
            node = None
        path.append(part)
    return path


def locate(raw: Any, path: Sequence[Any]) -> Loc | None:
    """The location of ``raw[path[0]][path[1]]...``, as deep as the marks go."""
    loc = getattr(raw, "loc", None)
    node = raw
    for part in path:
        if isinstance(node, MDict) and part in node:
            loc, node = node.val_loc[part], node[part]
        elif isinstance(node, MList) and isinstance(part, int) and 0 <= part < len(node):
            loc, node = node.item_loc[part], node[part]
        else:
            break
    return loc


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {shown(value)}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, (MDict, dict)):
        return "a mapping"
    if isinstance(value, (MList, list)):
        text = str(list(value))
        return f"list {text if len(text) <= 60 else text[:56] + ' ...]'}"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + " ..."


#: the bound pydantic names in ``ctx`` for each comparison error, and its symbol
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
           "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}


def _bound(err: ErrorDetails, where: str) -> str:
    key, symbol = _BOUNDS[err["type"]]
    return f"{where} must be {symbol} {(err.get('ctx') or {})[key]}, got {err.get('input')}"


def _finite(err: ErrorDetails, where: str) -> str:
    return f"{where} must be a finite number, got {err.get('input')}"


def _options(err: ErrorDetails) -> list[str]:
    """The values a ``literal_error`` names (its ``'a', 'b' or 'c'``)."""
    return re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected")))


def _literal(err: ErrorDetails, where: str) -> str:
    expected, value = (err.get("ctx") or {})["expected"], err.get("input")
    hint = suggest(value, _options(err)) if isinstance(value, str) else ""
    return f"{where} must be {expected}, got {_show(value)}{hint}"


def _length(err: ErrorDetails, where: str) -> str | None:
    ctx, value = err.get("ctx") or {}, err.get("input")
    if "actual_length" not in ctx:
        return None
    bound = ("at least", ctx.get("min_length")) if err["type"] == "too_short" else \
        ("at most", ctx.get("max_length"))
    items = f" ({_show(value)[5:]})" if isinstance(value, list) and value else ""
    return (f"{where} must have {bound[0]} {bound[1]} item{'s' if bound[1] != 1 else ''}, "
            f"got {ctx['actual_length']}{items}")


def _wrong_type(err: ErrorDetails, where: str) -> str:
    return f"{where} must be {_TYPE_ERRORS[err['type']]}, got {_show(err.get('input'))}"


def _value_error(err: ErrorDetails, where: str) -> str:
    text = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


#: one sentence maker per pydantic error type (None: the generic sentence instead)
_SENTENCES: dict[str, typing.Callable[[ErrorDetails, str], str | None]] = {
    **dict.fromkeys(_BOUNDS, _bound), "finite_number": _finite, "literal_error": _literal,
    "too_short": _length, "too_long": _length, "value_error": _value_error,
    **dict.fromkeys(_TYPE_ERRORS, _wrong_type),
}


def _sentence(err: ErrorDetails, where: str) -> str:
    handler = _SENTENCES.get(err["type"])
    sentence = handler(err, where) if handler else None
    if sentence is not None:
        return sentence
    return f"{where}: {err['msg'][0].lower()}{err['msg'][1:]}, got {_show(err.get('input'))}"


def _where(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _submodel(model: Any, parts: Sequence[Any]) -> Any:
    """The pydantic model that validates ``parts`` below ``model``, or None."""
    current: Any = model
    for part in parts:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
            continue
        candidates = [current]
        while candidates:  # unwrap Optional / Union / Annotated / dict[str, X] / list[X]
            current = candidates.pop(0)
            args = typing.get_args(current)
            origin = typing.get_origin(current)
            if origin in (dict, list):
                current = args[-1]
                break
            candidates += list(args)
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unknown_key(err: ErrorDetails, raw: Any, model: Any, what: str) -> SpecError:
    # the unknown key is always last, even when it is named like a type tag ("int")
    key, parents = err["loc"][-1], _real_path(raw, err["loc"][:-1])
    owner = _submodel(model, parents) if model else None
    names = [f.alias or n for n, f in owner.model_fields.items()] if owner else []
    hint = suggest(str(key), names)
    known = f" (known: {', '.join(names)})" if names else ""
    node = raw
    for part in parents:
        node = node[part] if isinstance(node, (MDict, MList)) else None
    loc = node.key_loc.get(key) if isinstance(node, MDict) else locate(raw, parents)
    text = shown(key_text(node, key)) if isinstance(node, MDict) else shown(key)
    where = f"{what} {text}" if not parents else f"key {text} in {_where(parents)}"
    return SpecError(f"unknown {where}{hint}{known}", loc=loc)


def _key_not_a_name(raw: Any, parents: list[Any], key: Any, what: str) -> SpecError:
    """A mapping key that is not a string (``~``, ``yes``, ``3``), located at the key and
    shown as written."""
    node = raw
    for part in parents:
        node = node[part] if isinstance(node, (MDict, MList)) else None
    if isinstance(node, MDict):
        key = next((k for k in node if not isinstance(k, str)), key)
    written = key_text(node, key) if isinstance(node, MDict) else _show(key)
    loc = node.key_loc.get(key) if isinstance(node, MDict) and key in node.key_loc else \
        locate(raw, parents)
    text = shown(written, quote="")
    head = f"the {what} {text}" if not parents else f"{_where(parents)}: the key {text}"
    return SpecError(f"{head} is not a name; keys are names like out or k", loc=loc,
                     hints=("quote a key that YAML would read as a number, a boolean or null "
                            "('3', 'yes', 'null')",))


def spec_error(exc: ValidationError, raw: Any, model: type[BaseModel] | None = None,
               what: str = "argument") -> SpecError:
    """The first problem of ``exc`` as a SpecError located in ``raw``: the errors of the
    first field that has any, read by the first handler that knows them."""
    # an unknown key usually explains a missing one ("kernel" for "k"): report it first
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    field = errors[0]["loc"][0] if errors[0]["loc"] else None
    problem = _Problem(raw, model, what, [e for e in errors if _field(e) == field],
                       (FIELD_HINTS[field],) if what == "top-level key" and field in FIELD_HINTS
                       else ())
    for handler in _HANDLERS:
        found = handler(problem)
        if found is not None:
            return found
    raise AssertionError("the last handler always answers")  # pragma: no cover


def _field(err: ErrorDetails) -> Any:
    return err["loc"][0] if err["loc"] else None


@dataclass(frozen=True)
class _Problem:
    """One field's validation errors, with what they are located in."""

    raw: Any
    model: type[BaseModel] | None
    what: str
    group: list[ErrorDetails]
    hints: tuple[str, ...]

    @property
    def first(self) -> ErrorDetails:
        return self.group[0]


def _unknown(p: _Problem) -> SpecError | None:
    return _unknown_key(p.first, p.raw, p.model, p.what) \
        if p.first["type"] == "extra_forbidden" else None


def _missing(p: _Problem) -> SpecError | None:
    if p.first["type"] != "missing":
        return None
    path = _real_path(p.raw, p.first["loc"])
    inside = f" in {_where(path[:-1])}" if len(path) > 1 else ""
    name = path[-1] if len(path) > 1 else _where(path)
    return SpecError(f"missing required {'key' if inside else p.what} '{name}'{inside}",
                     loc=locate(p.raw, path[:-1]), hints=p.hints)


def _bad_key(p: _Problem) -> SpecError | None:
    if p.first["type"] == "invalid_key":  # a model's own mapping has a key that is no name
        return _key_not_a_name(p.raw, _real_path(p.raw, p.first["loc"][:-1]), p.first["input"],
                               p.what)
    keyed = [e for e in p.group if "[key]" in e["loc"]]
    if keyed:  # a mapping with a key that is not a name (pydantic: dict[str, ...])
        path = _real_path(p.raw, keyed[0]["loc"])
        return _key_not_a_name(p.raw, path[:-1], keyed[0]["input"], p.what)
    return None


def _past_type_check(p: _Problem) -> list[ErrorDetails]:
    return [e for e in p.group if not e["type"].endswith("_type")
            and e["type"] != "literal_error"]


def _no_member_fits(p: _Problem) -> SpecError | None:
    """A union reports one error per member; when none got past the type check, say
    which kinds of value would do."""
    union = any(_is_tag(part) for e in p.group for part in e["loc"])
    if len(p.group) < 2 or _past_type_check(p) or not union:
        return None
    tags = [next((part for part in e["loc"] if _is_tag(part)), None) for e in p.group]
    described = list(dict.fromkeys(_describe_tag(t) for t in tags if isinstance(t, str)))
    expected = ", ".join(described[:-1]) + " or " + described[-1] if len(described) > 1 \
        else "".join(described) or "something else"
    path = _real_path(p.raw, p.first["loc"])
    value = p.first["input"]
    options = [o for e in p.group if e["type"] == "literal_error" for o in _options(e)]
    hint = suggest(value, options) if isinstance(value, str) else ""
    message = f"{_where(path)} must be {expected}, got {_show(value)}"
    return SpecError(message + hint, loc=locate(p.raw, path),
                     hints=p.hints + _rounding_hint(value, message))


def _deepest(p: _Problem) -> SpecError:
    """The error that got furthest (past the type check, deepest path), as a sentence."""
    pick = max(_past_type_check(p) or p.group, key=lambda e: len(e["loc"]))
    path = _real_path(p.raw, pick["loc"])
    message = _sentence(pick, _where(path))
    return SpecError(message, loc=locate(p.raw, path),
                     hints=p.hints + _rounding_hint(pick.get("input"), message))


#: tried in order; the last always answers
_HANDLERS: tuple[typing.Callable[[_Problem], SpecError | None], ...] = (
    _unknown, _missing, _bad_key, _no_member_fits, _deepest)


def _rounding_hint(value: Any, message: str) -> tuple[str, ...]:
    """A float where an integer is needed (``"${64 * 1.5}"`` is 96.0): say how to round."""
    if not isinstance(value, float) or "an integer" not in message:
        return ()
    return (f"round it: \"${{round(...)}}\" (or ceil(...), floor(...), int(...)) makes an "
            f"integer of {value!r}",)
