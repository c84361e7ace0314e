"""The table of tensor-method handlers: one small function per kind of ``call_method``
node (``x.view(...)``, ``x.size(1)``, ``x.relu()``), looked up by the method's name.  The
methods that are torch functions called on their first argument (``x.flatten(1)``,
``x.chunk(2, dim=1)``, ``x.add(y)``) share :mod:`.function_map`'s handlers.  A handler
returns the value the call computes, or raises :class:`Unmapped` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import function_map as fn
from .graph_values import BATCH, ShapeOf, Tensor_
from .torch_args import Unmapped

if TYPE_CHECKING:
    from .capture import Interpreter

#: (interpreter, the method's name, its arguments (the tensor first), keyword arguments)
Handler = Callable[["Interpreter", str, list[Any], dict[str, Any]], Any]

#: argument-free activation methods -> their op
METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
           "sigmoid_": "sigmoid"}


def handler_for(name: str) -> Handler:
    """The handler of a tensor method (one that refuses it if none maps it)."""
    return METHOD_HANDLERS.get(name, refuse)


def refuse(ip: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    raise Unmapped(f"no cnncalc op for the tensor method .{name}()")


def map_size(ip: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``x.size()``, ``x.size(1)``, ``x.dim()`` and ``x.shape``: the batch a symbol."""
    x = args[0]
    if not isinstance(x, Tensor_):
        raise Unmapped(f".{name}() of a {type(x).__name__}")
    shape = ip.shape(x)
    dims = (BATCH, *shape) if x.layout == "cf" else (BATCH, *shape[1:], shape[0])
    if name == "dim":
        return len(dims)
    if len(args) > 1 or "dim" in kwargs:
        return dims[args[1] if len(args) > 1 else kwargs["dim"]]
    return ShapeOf(x.entry, dims)


def map_same(ip: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``contiguous()`` and ``clone()``: the value itself."""
    return args[0]


def map_view(ip: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``view``/``reshape``, the shape given as numbers or as one tuple (or ``x.shape``)."""
    shape = args[1:] if len(args) > 2 or not isinstance(args[1], (tuple, list, ShapeOf)) \
        else args[1]
    return ip.reshape(args[0], list(shape.dims if isinstance(shape, ShapeOf) else shape))


def map_activation(ip: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.pointwise(METHODS[name], args[0], {})


#: the method's name -> its handler
METHOD_HANDLERS: dict[str, Handler] = {
    "size": map_size, "dim": map_size, "__getattribute__": map_size,
    "contiguous": map_same, "clone": map_same,
    "view": map_view, "reshape": map_view,
    "flatten": fn.map_flatten, "permute": fn.map_permute, "transpose": fn.map_transpose,
    "chunk": fn.map_chunk, "split": fn.map_split, "mean": fn.map_mean,
    "add": fn.map_add, "add_": fn.map_add, "mul": fn.map_mul, "mul_": fn.map_mul,
    **dict.fromkeys(METHODS, map_activation),
}
