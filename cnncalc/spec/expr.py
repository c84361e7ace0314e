"""Safe integer expressions for specs: ``$name`` and ``"${4 * width}"``.

Parsed with :mod:`ast` and evaluated by walking a whitelist of node types; nothing
is ever passed to ``eval``.  Allowed: integer literals, names bound in the scope,
``+ - * // %``, unary ``-``/``+``, parentheses, ``min(...)`` and ``max(...)``.

>>> substitute("${4 * width}", {"width": 64})
256
>>> substitute("$c3", {"c3": [[0, 1, 2]]})
[[0, 1, 2]]
"""

from __future__ import annotations

import ast
import difflib
import operator
import re
from typing import Any, Mapping

from ..errors import SpecError

MAX_EXPR_CHARS = 256
_NAME = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_EXPR = re.compile(r"^\$\{(.*)\}$", re.S)
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_FUNCS = {"min": min, "max": max}


def _lookup(name: str, scope: Mapping[str, Any]) -> Any:
    if name in scope:
        return scope[name]
    near = difflib.get_close_matches(name, list(scope), n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    known = ", ".join(sorted(scope)) or "none"
    raise SpecError(f"unknown name '{name}'{hint} (names in scope: {known})")


def _eval(node: ast.AST, scope: Mapping[str, Any]) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        value = _lookup(node.id, scope)
        if type(value) is not int:
            raise SpecError(f"'{node.id}' is {type(value).__name__} {value!r}; arithmetic needs an int")
        return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, scope)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise SpecError("division by zero in expression")
        return _BINOPS[type(node.op)](left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and node.args
        and not node.keywords
    ):
        return _FUNCS[node.func.id](_eval(a, scope) for a in node.args)
    what = type(node).__name__
    if isinstance(node, ast.BinOp):
        what = f"operator {type(node.op).__name__}"
    elif isinstance(node, ast.Call):
        what = "a call other than min()/max()"
    elif isinstance(node, ast.Constant):
        what = f"the literal {node.value!r}"
    raise SpecError(f"{what} is not allowed in expressions (allowed: ints, names, + - * // %, min, max)")


def evaluate(text: str, scope: Mapping[str, Any]) -> int:
    """Evaluate one integer expression against ``scope`` (names -> values)."""
    if len(text) > MAX_EXPR_CHARS:
        raise SpecError(f"expression longer than {MAX_EXPR_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"expression '{text.strip()}' does not parse: {exc.msg}") from None
    return _eval(tree.body, scope)


def is_reference(value: Any) -> bool:
    """True if ``value`` is a ``$name`` or ``${...}`` string."""
    return isinstance(value, str) and (bool(_NAME.match(value)) or bool(_EXPR.match(value)))


def substitute(value: Any, scope: Mapping[str, Any]) -> Any:
    """Replace ``$name`` / ``${expr}`` in one value; other values pass through."""
    if not isinstance(value, str):
        return value
    m = _NAME.match(value)
    if m:
        return _lookup(m.group(1), scope)
    m = _EXPR.match(value)
    if m:
        return evaluate(m.group(1), scope)
    return value
