"""The table of function handlers: one small function per kind of ``call_function`` node
(a torch or ``operator`` function the traced model calls), mapping it to cnncalc ops or to
the Python value it computes from shapes.

:func:`handler_for` looks the called function up by identity; torchvision's
``stochastic_depth`` and ``channel_shuffle`` are recognised by name.  A handler returns the
value the call computes, or raises :class:`Unmapped` with the reason.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch.nn import functional as F

from .graph_values import BATCH, Param, Tensor_
from .torch_args import Unmapped, registrar

if TYPE_CHECKING:
    from .capture import Interpreter

#: (interpreter, the called function, its arguments, its keyword arguments) -> the value
Handler = Callable[["Interpreter", Any, list[Any], dict[str, Any]], Any]

#: argument-free activation functions -> their op
FUNCTIONS: dict[Any, str] = {
    F.relu: "relu", torch.relu: "relu", F.relu_: "relu", torch.relu_: "relu",
    F.relu6: "relu6", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh",
    F.tanh: "tanh", F.silu: "silu", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid",
    F.mish: "mish", F.gelu: "gelu",
}
#: the called function -> its handler
FUNCTION_HANDLERS: dict[Any, Handler] = {}
#: the operators that compute on Python numbers (shapes) when no tensor is involved
ARITHMETIC = (operator.floordiv, operator.mul, operator.add, operator.sub, operator.truediv)


def callable_name(target: Any) -> str:
    """A called function's name as an error says it (``torch.sort``, ``_operator.sub``)."""
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if str(name).startswith("_VariableFunctionsClass."):  # torch.sort and friends
        return "torch." + str(name).split(".", 1)[1]
    return f"{module}.{name}" if module and module != "builtins" else str(name)


#: ``@maps(*targets)``: the decorated handler maps ``targets`` (each at most once)
maps = registrar(FUNCTION_HANDLERS, callable_name)


def handler_for(target: Any) -> Handler:
    """The handler of a called function (one that refuses it if none maps it)."""
    handler = FUNCTION_HANDLERS.get(target)
    if handler is not None:
        return handler
    name = getattr(target, "__name__", "")
    if name == "stochastic_depth":
        return map_stochastic_depth
    if name == "channel_shuffle":
        return map_channel_shuffle
    return refuse


def refuse(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    raise no_op_for(target)


def no_op_for(target: Any) -> Unmapped:
    """The refusal of a function no handler maps."""
    return Unmapped(f"no cnncalc op for the function {callable_name(target)}")


def _arg(args: list[Any], kwargs: dict[str, Any], position: int, name: str,
         default: Any) -> Any:
    """An argument given by position or by name (positional wins, as torch reads it)."""
    return args[position] if len(args) > position else kwargs.get(name, default)


# ---------------------------------------------------------------------- Python values
@maps(operator.getitem)
def map_getitem(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.getitem(args[0], args[1])


@maps(getattr)
def map_getattr(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``x.shape`` (any other attribute is refused)."""
    if len(args) == 2 and args[1] == "shape":
        return ip.method("size", [args[0]], {})
    raise no_op_for(target)


def _on_numbers(args: list[Any]) -> bool:
    return not any(isinstance(a, (Tensor_, Param)) for a in args)


def _arith(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if a is BATCH or b is BATCH:
        return BATCH
    return op(a, b)


@maps(operator.floordiv, operator.sub, operator.truediv)
def map_arithmetic(ip: Interpreter, target: Any, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
    """Arithmetic on shapes (the batch size stays a symbol); on tensors it is refused."""
    if _on_numbers(args):
        return _arith(target, args[0], args[1])
    raise no_op_for(target)


# ---------------------------------------------------------------------- merging
@maps(operator.add, operator.iadd, torch.add)
def map_add(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if target in ARITHMETIC and _on_numbers(args):
        return _arith(target, args[0], args[1])
    return ip.merge("add", args, kwargs)


@maps(operator.mul, operator.imul, torch.mul)
def map_mul(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if target in ARITHMETIC and _on_numbers(args):
        return _arith(target, args[0], args[1])
    return ip.merge("mul", args, kwargs)


@maps(torch.cat, torch.concat)
def map_cat(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.cat(args[0], kwargs.get("dim", args[1] if len(args) > 1 else 0))


# ---------------------------------------------------------------------- pointwise
@maps(*FUNCTIONS)
def map_activation(ip: Interpreter, target: Any, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
    return ip.pointwise(FUNCTIONS[target], args[0], {}, kwargs.get("approximate", "none"))


@maps(F.leaky_relu)
def map_leaky_relu(ip: Interpreter, target: Any, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
    slope = _arg(args, kwargs, 1, "negative_slope", 0.01)
    return ip.pointwise("leaky_relu", args[0], {"slope": slope})


@maps(F.dropout, torch.dropout)
def map_dropout(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    p = _arg(args, kwargs, 1, "p", 0.5)
    return ip.pointwise("dropout", args[0], {"p": float(p)})


def map_stochastic_depth(ip: Interpreter, target: Any, args: list[Any],
                         kwargs: dict[str, Any]) -> Any:
    """torchvision's ``stochastic_depth`` (recognised by name)."""
    p = args[1] if len(args) > 1 else kwargs["p"]
    mode = _arg(args, kwargs, 2, "mode", "row")
    return ip.pointwise("drop_path", args[0], {"p": float(p), "mode": mode})


# ---------------------------------------------------------------------- pools and norms
@maps(F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)
def map_adaptive_avg_pool(ip: Interpreter, target: Any, args: list[Any],
                          kwargs: dict[str, Any]) -> Any:
    size = args[1] if len(args) > 1 else kwargs["output_size"]
    return ip.adaptive("avgpool", ip.tensor_of(args[0]), size, None)


@maps(F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)
def map_adaptive_max_pool(ip: Interpreter, target: Any, args: list[Any],
                          kwargs: dict[str, Any]) -> Any:
    size = args[1] if len(args) > 1 else kwargs["output_size"]
    return ip.adaptive("maxpool", ip.tensor_of(args[0]), size, None)


@maps(F.max_pool1d, F.max_pool2d, F.max_pool3d)
def map_max_pool(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.functional_pool("maxpool", args, kwargs)


@maps(F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)
def map_avg_pool(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.functional_pool("avgpool", args, kwargs)


@maps(torch.mean)
def map_mean(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.mean(args, kwargs)


@maps(F.layer_norm)
def map_layer_norm(ip: Interpreter, target: Any, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
    return ip.functional_layer_norm(args, kwargs)


@maps(F.interpolate)
def map_interpolate(ip: Interpreter, target: Any, args: list[Any],
                    kwargs: dict[str, Any]) -> Any:
    return ip.interpolate(args, kwargs)


# ---------------------------------------------------------------------- layout
@maps(torch.flatten)
def map_flatten(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    x = ip.tensor_of(args[0])
    start = _arg(args, kwargs, 1, "start_dim", 0)
    end = _arg(args, kwargs, 2, "end_dim", -1)
    return ip.flatten(x, start, end, None)


@maps(torch.permute)
def map_permute(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.permute(args[0], args[1] if len(args) == 2 else args[1:])


@maps(torch.transpose)
def map_transpose(ip: Interpreter, target: Any, args: list[Any],
                  kwargs: dict[str, Any]) -> Any:
    return ip.transpose(args[0], args[1], args[2])


def _dim(args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``dim`` of chunk/split: by name first, then the third argument, else 0."""
    return kwargs.get("dim", args[2] if len(args) > 2 else 0)


@maps(torch.chunk)
def map_chunk(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.chunk(args[0], args[1], _dim(args, kwargs))


@maps(torch.split)
def map_split(ip: Interpreter, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ip.split(args[0], args[1], _dim(args, kwargs))


def map_channel_shuffle(ip: Interpreter, target: Any, args: list[Any],
                        kwargs: dict[str, Any]) -> Any:
    """``channel_shuffle(x, groups)`` (torch's or torchvision's, recognised by name)."""
    if len(args) != 2:
        raise no_op_for(target)
    return ip.add("channel_shuffle", {"groups": int(args[1])}, [ip.tensor_of(args[0])])
