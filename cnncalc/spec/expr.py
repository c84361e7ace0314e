"""Safe expressions for specs: ``$name`` and ``"${make_divisible(32 * width, 8)}"``.

Parsed with :mod:`ast` and evaluated by walking a whitelist of node types; nothing
is ever passed to ``eval``.  Values are integers, floats and booleans.  Allowed:
number and boolean literals, names bound in the scope, ``+ - * / // % **``, unary
``-``/``+``, comparisons (chained too), ``and``/``or``/``not``, ``a if c else b``,
parentheses, the functions of :data:`FUNCTIONS`, and the input-shape names
(``in_shape[1]``, ``len(input_shape)``).  Every value is bounded (finite, fewer than
:data:`MAX_DIGITS` digits) before the next one is computed.

>>> substitute("${4 * width}", {"width": 64})
256
>>> substitute("$c3", {"c3": [[0, 1, 2]]})
[[0, 1, 2]]
>>> substitute("${make_divisible(32 * 1.1, 8)}", {})
32
>>> substitute("${stride == 1 and c == 64}", {"stride": 1, "c": 64})
True
"""

from __future__ import annotations

import ast
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import LimitError, SpecError
from ..suggest import did_you_mean, name_list, shown

MAX_EXPR_CHARS = 256
#: no value computed by an expression may have more digits (bounds time and memory)
MAX_DIGITS = 60
#: the names of the input shapes: an integer each for ``*_channels``, a list for ``*_shape``
SHAPE_LISTS = ("in_shape", "input_shape")
SHAPE_NAMES = ("in_channels", "input_channels", *SHAPE_LISTS)
#: the boolean literals (Python's ``True``/``False`` are literals of the parser already)
BOOLEANS = {"true": True, "false": False}
#: what an expression may contain, for the error that refuses anything else
ALLOWED = ("allowed: numbers, true/false, names, + - * / // % **, comparisons, and/or/not, "
           "a if c else b, parentheses, min() max() round() ceil() floor() int() "
           "make_divisible() len(), in_shape[i]")
#: (matched with fullmatch: ``$`` alone would accept a trailing newline, "$w\n")
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_EXPR = re.compile(r"\$\{(.*)\}", re.S)

Value = int | float | bool
Number = int | float
Scope = Mapping[str, Any]

_BINOPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}
_COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
}


# ------------------------------------------------------------------------ values
def _bounded(value: Value) -> Value:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"expression value is not a finite number ({value})")
        if abs(value) >= 1e60:
            raise LimitError(f"expression value has more than {MAX_DIGITS} digits ({value:.3g})")
        return value
    if abs(value) >= 10 ** MAX_DIGITS:
        raise LimitError(f"expression value has more than {MAX_DIGITS} digits")
    return value


def _kind(value: Any) -> str:
    """``an integer (3)``: what a value is, in a user's words."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    kind = {int: "an integer", float: "a float", str: "a string"}.get(type(value))
    if kind is None:
        kind = "a list" if isinstance(value, (list, tuple)) else \
            "a mapping" if isinstance(value, dict) else type(value).__name__
    text = repr(list(value) if isinstance(value, (list, tuple)) else
                dict(value) if isinstance(value, dict) else value)
    return f"{kind} ({text[:60]})"


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _number(value: Any, what: str) -> Number:
    """``value`` if it is a number (a boolean is not one here)."""
    if not _is_number(value):
        raise SpecError(f"{what} needs a number, got {_kind(value)}")
    return value  # type: ignore[no-any-return]


def _truth(value: Any, what: str) -> bool:
    """``value`` if it is a boolean: conditions are never numbers (``if: 3`` is a slip)."""
    if type(value) is not bool:
        raise SpecError(f"{what} must be true or false, got {_kind(value)}")
    return value


def _lookup(name: str, scope: Scope) -> Any:
    if name.startswith("__"):
        raise SpecError(f"the name '{name}' is not allowed: names starting with __ are never "
                        "looked up (expressions see only block arguments and tables)")
    if name in scope:
        return scope[name]
    known = name_list(sorted((k for k in scope if k not in SHAPE_NAMES), key=str)) or "none"
    raise SpecError(f"unknown name {shown(name)}{did_you_mean(name, scope)} "
                    f"(names in scope: {known})")


# ------------------------------------------------------------------ evaluation
def _eval(node: ast.AST, scope: Scope) -> Value:
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise _refused(node)
    return handler(node, scope)


def _constant(node: ast.Constant, scope: Scope) -> Value:
    value = node.value
    if type(value) is float and not math.isfinite(value):
        raise SpecError(f"a number in the expression is too large for a float (it reads as "
                        f"{value})")
    if isinstance(value, (int, float, bool)):
        return _bounded(value)
    raise _refused(node)


def _name(node: ast.Name, scope: Scope) -> Value:
    if node.id in BOOLEANS:
        return BOOLEANS[node.id]
    value = _lookup(node.id, scope)
    if type(value) in (int, float, bool):
        return _bounded(value)
    hint = f" (index it, {node.id}[0], or take len({node.id}))" if node.id in SHAPE_LISTS else ""
    raise SpecError(f"'{node.id}' is {_kind(value)}; arithmetic needs a number{hint}")


def _unary(node: ast.UnaryOp, scope: Scope) -> Value:
    if isinstance(node.op, ast.Not):
        return not _truth(_eval(node.operand, scope), "the operand of not")
    if isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        value = _number(_eval(node.operand, scope), f"unary {sign}")
        return -value if sign == "-" else value
    raise _refused(node)


def _binary(node: ast.BinOp, scope: Scope) -> Value:
    if type(node.op) not in _BINOPS:
        raise _refused(node)
    symbol, fn = _BINOPS[type(node.op)]
    left = _number(_eval(node.left, scope), f"the operator {symbol}")
    right = _number(_eval(node.right, scope), f"the operator {symbol}")
    if symbol in ("/", "//", "%") and right == 0:
        raise SpecError("division by zero in expression")
    if symbol == "**":
        return _power(left, right)
    try:
        return _bounded(fn(left, right))
    except OverflowError:
        raise LimitError(f"expression value has more than {MAX_DIGITS} digits") from None


def _power(base: Number, exponent: Number) -> Value:
    """``base ** exponent``, refused before it is computed when it would be too large."""
    if type(exponent) is int:
        if exponent < 0:
            raise SpecError(f"** needs a non-negative integer exponent or a float, got "
                            f"{exponent} (write {exponent}.0 for a float power)")
        # (a margin of one digit: below it the value is computed and bounded exactly)
        if abs(base) > 1 and exponent * math.log10(abs(base)) >= MAX_DIGITS + 1:
            raise LimitError(f"expression value {base} ** {exponent} would have more than "
                             f"{MAX_DIGITS} digits")
    elif base < 0 and not float(exponent).is_integer():
        raise SpecError(f"({base}) ** {exponent}: a negative number to a fractional power is not "
                        "a real number")
    elif base == 0 and exponent < 0:
        raise SpecError("division by zero in expression (0 to a negative power)")
    try:
        return _bounded(base ** exponent)
    except OverflowError:
        raise LimitError(f"expression value {base} ** {exponent} has more than {MAX_DIGITS} "
                         "digits") from None


def _boolean(node: ast.BoolOp, scope: Scope) -> Value:
    word = "and" if isinstance(node.op, ast.And) else "or"
    for value_node in node.values:  # short-circuit, as Python: `false and 1 // 0` is false
        value = _truth(_eval(value_node, scope), f"each side of {word}")
        if value is (word == "or"):
            return value
    return word == "and"


def _if_else(node: ast.IfExp, scope: Scope) -> Value:
    if _truth(_eval(node.test, scope), "the condition of if-else"):
        return _eval(node.body, scope)
    return _eval(node.orelse, scope)


def _comparable(node: ast.AST, scope: Scope) -> Value | tuple[int, ...]:
    if isinstance(node, ast.Name) and node.id in SHAPE_LISTS:
        return _shape(node, scope)
    return _eval(node, scope)


def _group(value: Any) -> str:
    return "boolean" if type(value) is bool else "shape" if isinstance(value, tuple) else "number"


def _compare(node: ast.Compare, scope: Scope) -> Value:
    left = _comparable(node.left, scope)
    for op, right_node in zip(node.ops, node.comparators):
        if type(op) not in _COMPARE:
            word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
            raise SpecError(f"the comparison '{word.get(type(op), '?')}' is not allowed in "
                            f"expressions ({ALLOWED})")
        symbol, fn = _COMPARE[type(op)]
        right = _comparable(right_node, scope)
        if symbol in ("==", "!="):
            if _group(left) != _group(right):
                raise SpecError(f"{symbol} compares like with like, got {_kind(left)} and "
                                f"{_kind(right)}")
        else:
            _number(left, f"the comparison {symbol}")
            _number(right, f"the comparison {symbol}")
        if not fn(left, right):
            return False
        left = right
    return True


def _shape(node: ast.Name, scope: Scope) -> tuple[int, ...]:
    value = _lookup(node.id, scope)
    if not isinstance(value, (list, tuple)) or any(type(d) is not int for d in value):
        raise SpecError(f"'{node.id}' is {_kind(value)}, not a shape")
    return tuple(value)


def _subscript(node: ast.Subscript, scope: Scope) -> Value:
    index = _literal_index(node.slice)
    if not (isinstance(node.value, ast.Name) and node.value.id in SHAPE_LISTS) or index is None:
        raise _refused(node)
    shape = _shape(node.value, scope)
    if not -len(shape) <= index < len(shape):
        raise SpecError(f"{node.value.id}[{index}] is out of range: {node.value.id} is "
                        f"[{', '.join(map(str, shape))}], of rank {len(shape)} (indices 0 to "
                        f"{len(shape) - 1}, or -{len(shape)} to -1)")
    return shape[index]


def _literal_index(node: ast.AST) -> int | None:
    """``i`` of ``x[i]`` when it is an integer literal (``-1`` too), else None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign, node = (-1 if isinstance(node.op, ast.USub) else 1), node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value < 10:
        return sign * node.value
    return None


# ------------------------------------------------------------------- functions
def _min_max(name: str, args: Sequence[Value]) -> Value:
    values = [_number(a, f"{name}()") for a in args]
    return min(values) if name == "min" else max(values)


_ROUNDINGS: dict[str, Callable[[Number], int]] = {
    "round": round, "ceil": math.ceil, "floor": math.floor, "int": int}


def _round(name: str, args: Sequence[Value]) -> Value:
    value = _number(args[0], f"{name}()")
    return _bounded(_ROUNDINGS[name](value))


def make_divisible(v: Number, divisor: int, min_value: int | None = None) -> int:
    """torchvision's ``_make_divisible`` (from the TF MobileNet code), line for line:
    the multiple of ``divisor`` nearest ``v``, at least ``min_value``, and never more
    than 10% below ``v``.

    >>> make_divisible(32 * 0.75, 8), make_divisible(37, 8), make_divisible(3, 8)
    (24, 40, 8)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _make_divisible(name: str, args: Sequence[Value]) -> Value:
    v = _number(args[0], "make_divisible()'s value")
    divisor = args[1]
    if type(divisor) is not int or divisor < 1:
        raise SpecError(f"make_divisible()'s divisor must be a positive integer, got "
                        f"{_kind(divisor)}")
    least = args[2] if len(args) > 2 else None
    if least is not None and type(least) is not int:
        raise SpecError(f"make_divisible()'s min_value must be an integer, got {_kind(least)}")
    return _bounded(make_divisible(v, divisor, least))


#: name -> (least, most arguments, implementation); ``len`` is handled apart (it takes a name)
_FUNCS: dict[str, tuple[int, int | None, Callable[[str, Sequence[Value]], Value]]] = {
    "min": (1, None, _min_max),
    "max": (1, None, _min_max),
    "round": (1, 1, _round),
    "ceil": (1, 1, _round),
    "floor": (1, 1, _round),
    "int": (1, 1, _round),
    "make_divisible": (2, 3, _make_divisible),
}
#: every function an expression may call, for documentation and errors
FUNCTIONS = (*_FUNCS, "len")


def _call(node: ast.Call, scope: Scope) -> Value:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS or any(isinstance(a, ast.Starred) for a in node.args):
        raise _refused(node)
    if node.keywords or (not node.args and name in ("min", "max")):
        raise SpecError(f"{name}() without arguments or with keywords is not allowed in "
                        f"expressions (write {name}(a, b, ...))" if name in ("min", "max") else
                        f"{name}() takes no keyword arguments")
    if name == "len":
        return _len(node, scope)
    least, most, fn = _FUNCS[name]
    if not least <= len(node.args) <= (most if most is not None else len(node.args)):
        want = f"{least}" if least == most else f"{least} to {most}"
        raise SpecError(f"{name}() takes {want} argument{'s' if want != '1' else ''}, got "
                        f"{len(node.args)}")
    return fn(name, [_eval(a, scope) for a in node.args])


def _len(node: ast.Call, scope: Scope) -> int:
    arg = node.args[0] if len(node.args) == 1 else None
    if not (isinstance(arg, ast.Name) and arg.id in SHAPE_LISTS):
        raise SpecError(f"len() takes one of {', '.join(SHAPE_LISTS)} (the rank of an input "
                        "shape)")
    return len(_shape(arg, scope))


_HANDLERS: dict[type[ast.AST], Callable[[Any, Scope], Value]] = {
    ast.Constant: _constant,
    ast.Name: _name,
    ast.UnaryOp: _unary,
    ast.BinOp: _binary,
    ast.BoolOp: _boolean,
    ast.Compare: _compare,
    ast.IfExp: _if_else,
    ast.Call: _call,
    ast.Subscript: _subscript,
}


# ---------------------------------------------------------------------- refusals
_FORBIDDEN = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "indexing (a[i])",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "unpacking (*)",
}
_OPS = {ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^"}


def _refused(node: ast.AST) -> SpecError:
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) and \
            not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        hint = did_you_mean(name, FUNCTIONS) if name else ""
        return SpecError(f"{_describe(node)} is not allowed in expressions (the functions are "
                         f"{', '.join(FUNCTIONS)}){hint}")
    return SpecError(f"{_describe(node)} is not allowed in expressions ({ALLOWED})")


def _describe(node: ast.AST) -> str:
    """What a disallowed expression node is, in a user's words."""
    if isinstance(node, ast.BinOp):
        return f"the operator {_OPS.get(type(node.op), type(node.op).__name__)}"
    if isinstance(node, ast.UnaryOp):
        return "the operator " + ("~" if isinstance(node.op, ast.Invert) else "?")
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in FUNCTIONS:
            return f"unpacking (*) in {name}()"
        if name is None and not isinstance(node.func, ast.Attribute):
            return _describe(node.func)  # (lambda: 8)(), ...
        return f"calling {(name or ast.unparse(node.func))[:40]}()"  # unparse only prints
    if isinstance(node, ast.Constant):
        kind = "string" if isinstance(node.value, str) else type(node.value).__name__
        return f"the {kind} literal {node.value!r}"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return f"a {type(node).__name__.lower()} display"
    return _FORBIDDEN.get(type(node), type(node).__name__)


# -------------------------------------------------------------------------- API
def evaluate(text: str, scope: Scope) -> Value:
    """Evaluate one expression against ``scope`` (names -> values)."""
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


def substitute(value: Any, scope: Scope) -> Any:
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
