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
import operator
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ..errors import LimitError, SpecError
from ..suggest import did_you_mean, name_list, shown

MAX_EXPR_CHARS = 256
#: no value computed by an expression may have more digits (bounds time and memory)
MAX_DIGITS = 60
#: (matched with fullmatch: ``$`` alone would accept a trailing newline, "$w\n")
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_EXPR = re.compile(r"\$\{(.*)\}", re.S)
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_FUNCS = {"min": min, "max": max}


def _bounded(value: int) -> int:
    if abs(value) >= 10 ** MAX_DIGITS:
        raise LimitError(f"expression value has more than {MAX_DIGITS} digits")
    return value


def _lookup(name: str, scope: Mapping[str, Any]) -> Any:
    if name.startswith("__"):
        raise SpecError(f"the name '{name}' is not allowed: names starting with __ are never "
                        "looked up (expressions see only block arguments and tables)")
    if name in scope:
        return scope[name]
    known = name_list(sorted(scope, key=str)) or "none"
    raise SpecError(f"unknown name {shown(name)}{did_you_mean(name, scope)} "
                    f"(names in scope: {known})")


def _eval(node: ast.AST, scope: Mapping[str, Any]) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return _bounded(node.value)
    if isinstance(node, ast.Name):
        value = _lookup(node.id, scope)
        if type(value) is not int:
            kind = {bool: "a boolean", str: "a string", float: "a number"}.get(
                type(value), "a list" if isinstance(value, list) else
                "a mapping" if isinstance(value, dict) else type(value).__name__)
            shown = repr(value if not isinstance(value, (list, dict)) else type(value)(value))
            raise SpecError(f"'{node.id}' is {kind} ({shown[:60]}); arithmetic needs an integer")
        return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, scope)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise SpecError("division by zero in expression")
        return _bounded(_BINOPS[type(node.op)](left, right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and node.args
        and not node.keywords
    ):
        return _FUNCS[node.func.id](_eval(a, scope) for a in node.args)
    raise SpecError(f"{_describe(node)} is not allowed in expressions "
                    "(allowed: integers, names, + - * // %, parentheses, min(), max())")


_FORBIDDEN = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "indexing (a[i])",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "unpacking (*)",
}
_OPS = {ast.Pow: "**", ast.Div: "/ (use //)", ast.MatMult: "@", ast.LShift: "<<",
        ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}


def _describe(node: ast.AST) -> str:
    """What a disallowed expression node is, in a user's words."""
    if isinstance(node, ast.BinOp):
        return f"the operator {_OPS.get(type(node.op), type(node.op).__name__)}"
    if isinstance(node, ast.UnaryOp):
        return "the operator " + {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "?")
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in _FUNCS:
            return f"{name}() without arguments or with keywords"
        if name is None and not isinstance(node.func, ast.Attribute):
            return _describe(node.func)  # (lambda: 8)(), ...
        return f"calling {(name or ast.unparse(node.func))[:40]}()"  # unparse only prints
    if isinstance(node, ast.Constant):
        kind = "string" if isinstance(node.value, str) else type(node.value).__name__
        return f"the {kind} literal {node.value!r}"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return f"a {type(node).__name__.lower()} display"
    return _FORBIDDEN.get(type(node), type(node).__name__)


def evaluate(text: str, scope: Mapping[str, Any]) -> int:
    """Evaluate one integer expression against ``scope`` (names -> values)."""
    if len(text) > MAX_EXPR_CHARS:
        raise SpecError(f"expression longer than {MAX_EXPR_CHARS} characters")
    _ascii_only(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _eval(tree.body, scope)
    except (SyntaxError, ValueError) as exc:
        why = getattr(exc, "msg", exc)
        raise SpecError(f"expression '{text.strip()}' does not parse: {why}") from None
    except (RecursionError, MemoryError):  # (the length limit keeps nesting far from this)
        raise SpecError("expression nested too deeply") from None


def _ascii_only(text: str, what: str = "expressions") -> None:
    """Expressions are ASCII.  Python's parser reads identifiers in NFKC form, so
    ``${ｗ}`` (a fullwidth w) would silently name table ``w``: names are compared as
    written, and a character outside ASCII is refused, naming it."""  # noqa: RUF002
    if text.isascii():
        return
    at, char = next((i, c) for i, c in enumerate(text) if not c.isascii())
    as_python = unicodedata.normalize("NFKC", char)
    reads = f" (Python would read it as {as_python!r})" if as_python != char and \
        as_python.isascii() else ""
    raise SpecError(f"{what} are written in ASCII: {char!r} (U+{ord(char):04X} "
                    f"{unicodedata.name(char, 'a non-ASCII character')}) at character {at + 1} "
                    f"is not allowed{reads}")


def is_reference(value: Any) -> bool:
    """True if ``value`` is a ``$name`` or ``${...}`` string."""
    return isinstance(value, str) and value.startswith("$") and len(value) <= MAX_EXPR_CHARS + 3 \
        and (bool(_NAME.fullmatch(value)) or bool(_EXPR.fullmatch(value)))


def substitute(value: Any, scope: Mapping[str, Any]) -> Any:
    """Replace ``$name`` / ``${expr}`` in one value; other values pass through."""
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if len(value) > MAX_EXPR_CHARS + 3:  # (before any regex walks it)
        what = "expression" if value.startswith("${") else "name"
        raise SpecError(f"{what} {shown(value)} is longer than {MAX_EXPR_CHARS} characters")
    if not value.startswith("${") and not value.isascii():  # $ｗ: a look-alike name  # noqa: RUF003
        _ascii_only(value, "names")
    m = _NAME.fullmatch(value)
    if m:
        return _lookup(m.group(1), scope)
    m = _EXPR.fullmatch(value)
    if m:
        return evaluate(m.group(1), scope)
    return value
