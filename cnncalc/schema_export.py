"""The JSON Schema (draft 2020-12) of the spec format, for editors (``cnncalc schema``).

Built from the pydantic models: the top level from :class:`cnncalc.spec.schema.Spec`
(with the ``expect:`` section), each layer entry from the registered ops' argument
models, one alternative per op keyed by its ``op`` constant, so an editor completes
``op:`` names and then that op's arguments.  Any argument may also be an expression
(``$width``, ``${4 * width}``); a mapping whose ``op`` is not a registered op is a
block call and takes any arguments.

>>> s = spec_schema()
>>> s["$schema"], "conv" in [alt["properties"]["op"].get("const")
...                          for alt in s["$defs"]["Layer"]["anyOf"][1]["oneOf"]]
('https://json-schema.org/draft/2020-12/schema', True)
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .ops import REGISTRY, Op
from .spec.schema import ID_PATTERN, Repeat, Spec

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EXPR_DEF = {"type": "string", "pattern": r"^\$",
            "description": "an expression: $name (a block argument or table) or ${4 * width} "
                           "(see docs/spec-format.md#expressions)"}
EXPR = {"$ref": "#/$defs/Expr"}
_ID = {"type": "string", "pattern": ID_PATTERN, "description": "this layer's name (letters, "
       "digits, _); later layers wire to it with `in:`"}
_IN = {"description": "input(s): a layer id, `input`, or a list of ids for a merge "
                      "(default: the previous layer)",
       "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_REPEAT = {"description": "chained copies: a count, or {n, first: {...}, last: {...}} overrides",
           "anyOf": [{"type": "integer", "minimum": 1}, EXPR, {"$ref": "#/$defs/Repeat"}]}

_IF = {"description": "the layer exists only when this is true: true, false or an expression "
                      "giving one (${stride == 1})", "anyOf": [{"type": "boolean"}, EXPR]}

_META_REFS = {"id": {"$ref": "#/$defs/LayerId"}, "in": {"$ref": "#/$defs/LayerIn"},
              "repeat": {"$ref": "#/$defs/LayerRepeat"}, "if": {"$ref": "#/$defs/LayerIf"}}


def _strip_titles(node: Any) -> Any:
    """Drop pydantic's generated ``title`` keys (``"Out"``, ``"K"``): noise in an editor."""
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items()
                if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def _items_or_expr(prop: dict[str, Any]) -> dict[str, Any]:
    """Let the items of a list (``stride: [1, $s, $s]``), at any depth, be expressions too."""
    prop = dict(prop)
    if isinstance(prop.get("items"), dict):
        prop["items"] = _or_expr(prop["items"])
    if isinstance(prop.get("prefixItems"), list):
        prop["prefixItems"] = [_or_expr(p) for p in prop["prefixItems"]]
    if "anyOf" in prop:
        prop["anyOf"] = [_items_or_expr(p) for p in prop["anyOf"]]
    return prop


def _or_expr(prop: dict[str, Any]) -> dict[str, Any]:
    """Let an argument, and each item of a list argument, be an expression string too."""
    prop = _items_or_expr(prop)
    if prop == EXPR or EXPR in prop.get("anyOf", ()):
        return prop
    if "anyOf" in prop:
        prop["anyOf"] = [*(_items_or_expr(a) for a in prop["anyOf"]), EXPR]
        return prop
    keep: dict[str, Any] = {k: prop.pop(k) for k in ("default", "description") if k in prop}
    return {**keep, "anyOf": [prop, EXPR]}


def op_args_schema(cls: type[Op], defs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``properties`` of an op's arguments (as written in YAML: aliases)."""
    schema = _strip_titles(cls.Args.model_json_schema(by_alias=True))
    for name, sub in schema.pop("$defs", {}).items():
        sub = _items_or_expr(sub)
        if defs.setdefault(name, sub) != sub:
            raise RuntimeError(f"two ops define different schemas named {name}")
    return {k: _or_expr(v) for k, v in schema.get("properties", {}).items()}


def _op_alternative(cls: type[Op], defs: dict[str, Any]) -> dict[str, Any]:
    props = {"op": {"const": cls.name}, **_META_REFS, **op_args_schema(cls, defs)}
    # arguments may come from `defaults:` or a repeat override, so none is required here
    return {"title": cls.name, "description": cls.summary, "type": "object",
            "properties": props, "required": ["op"], "additionalProperties": False}


def layer_schema(defs: dict[str, Any]) -> dict[str, Any]:
    """A layer entry: an op name, or ``{op, ...}`` with that op's arguments, or a block call."""
    names = sorted(REGISTRY)
    block_call = {"title": "block call", "description": "a block defined under `blocks:`, "
                  "with its arguments", "type": "object", "required": ["op"],
                  "properties": {"op": {"type": "string", "not": {"enum": names}}, **_META_REFS}}
    bare = {"anyOf": [{"enum": names, "description": "an op without arguments"},
                      {"type": "string", "description": "a block without arguments"}]}
    alts = [_op_alternative(REGISTRY[n], defs) for n in names]
    return {"description": "one layer: {op: conv, out: 64, k: 3, ...} or a bare op name",
            "anyOf": [bare, {"oneOf": [*alts, block_call]}]}


def defaults_schema(defs: dict[str, Any]) -> dict[str, Any]:
    """``defaults: {conv: {bias: false}}``: per-op default arguments (in ``$defs/Defaults``)."""
    if "Defaults" not in defs:
        props = {}
        for name in sorted(REGISTRY):
            args = op_args_schema(REGISTRY[name], defs)
            props[name] = {"type": "object", "properties": args, "additionalProperties": False}
        defs["Defaults"] = {"description": "default arguments per op (or block)", "type": "object",
                            "properties": props, "additionalProperties": {"type": "object"}}
    return {"$ref": "#/$defs/Defaults"}


def spec_schema() -> dict[str, Any]:
    """The whole schema, as a JSON-ready dict."""
    schema = _strip_titles(copy.deepcopy(Spec.model_json_schema(by_alias=True)))
    defs = schema.setdefault("$defs", {})
    defs["Expr"] = EXPR_DEF
    defs["Repeat"] = _strip_titles(Repeat.model_json_schema())
    count = defs["Repeat"]["properties"]["n"]  # the count may be an expression too
    defs["Repeat"]["properties"]["n"] = _or_expr(count)
    defs.update(LayerId=_ID, LayerIn=_IN, LayerRepeat=_REPEAT, LayerIf=_IF)
    defs["Layer"] = layer_schema(defs)
    for holder in (schema, defs["Block"]):
        holder["properties"]["layers"]["items"] = {"$ref": "#/$defs/Layer"}
        holder["properties"]["defaults"] = defaults_schema(defs)
    return {"$schema": DRAFT, "title": "cnncalc spec, format version 1",
            "description": "A CNN architecture for cnncalc: https://json-schema.org draft "
                           "2020-12; see docs/spec-format.md and docs/check.md",
            **{k: v for k, v in schema.items() if k not in ("title", "description")}}


def schema_json() -> str:
    """``cnncalc schema``: the schema as indented JSON with a trailing newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"
