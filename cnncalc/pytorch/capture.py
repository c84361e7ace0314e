"""Capture an ``nn.Module`` as cnncalc layers: trace it with torch.fx and map every graph
node to a spec entry (an op and its arguments), without running the model.

The graph is walked in order by a small abstract interpreter.  A tensor is known by the
entry that computes it and its layout; Python values the model computes from shapes
(``x.size(1) // 2``) are worked out from the shapes cnncalc's own analysis gives each
entry (the batch size stays a symbol), so a model is never called on data.  Patterns that
span several nodes become one op: ``view -> transpose -> view`` is a channel shuffle,
``permute`` to channels-last around ``LayerNorm``/``Linear`` is ``layernorm over:
channels`` / ``linear axis: 0``, a learned ``[C, 1, 1]`` parameter times a tensor is
``layer_scale``, ``view(B, -1)`` is ``flatten``.

A called module is mapped by its handler in :mod:`.module_map` (one function per kind of
torch layer), a called function by its handler in :mod:`.function_map`, a tensor method by
its handler in :mod:`.method_map`; mapping a new torch layer, function or method is one
handler there.

What cannot be mapped raises :class:`~cnncalc.errors.UsageError` (exit 2) naming the
graph node, its module path, the op and the source line torch.fx recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import ValidationError
from torch import fx, nn

from ..errors import CnncalcError, UsageError
from ..ops import get_op
from ..spec.diagnose import spec_error
from .function_map import callable_name
from .function_map import handler_for as function_handler
from .graph_values import BATCH, Param, Shape, ShapeOf, Tensor_
from .method_map import handler_for as method_handler
from .module_map import ACTIVATIONS, is_stochastic_depth, no_op_for
from .module_map import handler_for as module_handler
from .torch_args import Unmapped, ints


@dataclass
class Entry:
    """One spec layer: ``op`` with ``args``, reading ``ins`` (ids or ``input``)."""

    id: str
    op: str
    args: dict[str, Any]
    ins: list[str]
    #: the module path (``layer1.0.conv1``) it came from, or None for a function
    source: str | None = None
    #: the source's tensors, by the name the built module uses: ``{"weight": "fc.weight"}``
    tensors: dict[str, str] = field(default_factory=dict)
    #: the first module path above a function node (for ids and folding)
    scope: str = ""
    #: the class name of every module above it, by path (``{"layer1.0": "Bottleneck"}``)
    classes: dict[str, str] = field(default_factory=dict)


class Interpreter:
    """Walks one traced graph and builds the entries (see the module docstring)."""

    def __init__(self, root: nn.Module, graph: fx.Graph, input_shape: Shape) -> None:
        self.root = root
        self.graph = graph
        self.input_shape = tuple(input_shape)
        self.entries: list[Entry] = []
        self.shapes: dict[str, Shape] = {"input": self.input_shape}
        self.values: dict[fx.Node, Any] = {}
        self.used_ids: set[str] = {"input"}
        self.output: Any = None
        self.node: fx.Node | None = None

    # ------------------------------------------------------------------ driving
    def run(self) -> list[Entry]:
        for node in self.graph.nodes:
            self.node = node
            try:
                self.values[node] = self.visit(node)
            except Unmapped as exc:
                raise self.error(node, str(exc)) from None
        return self.entries

    def error(self, node: fx.Node, why: str) -> UsageError:
        where = node.target if node.op == "call_module" else _scope(node)
        what = (type(self.root.get_submodule(str(node.target))).__name__
                if node.op == "call_module" else _target_name(node))
        line = _source_line(node)
        notes = (f"graph node {node.name!r} ({node.op} {what})"
                 + (f", module {where!r}" if where else ""),) + ((line,) if line else ())
        return UsageError(f"cannot import {what}: {why}", notes=notes,
                          hints=("cnncalc maps the ops `cnncalc ops` lists; write this part of "
                                 "the model as a spec by hand, or open an issue with the model",))

    def visit(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            if self.values:
                raise Unmapped("the model takes more than one input; cnncalc specs have one")
            return Tensor_("input")
        if node.op == "get_attr":
            tensor = _attr(self.root, str(node.target))
            return Param(str(node.target), tuple(tensor.shape))
        if node.op == "output":
            self.output = self.tensor_of(_output_value(self.arg(node.args[0])))
            return None
        args = [self.arg(a) for a in node.args]
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        if node.op == "call_module":
            module = self.root.get_submodule(str(node.target))
            return self.module(str(node.target), module, args, kwargs)
        if node.op == "call_method":
            return self.method(str(node.target), args, kwargs)
        return self.function(node.target, args, kwargs)

    def arg(self, value: Any) -> Any:
        if isinstance(value, fx.Node):
            return self.values[value]
        if isinstance(value, (list, tuple)):
            return type(value)(self.arg(v) for v in value)
        if isinstance(value, dict):
            return {k: self.arg(v) for k, v in value.items()}
        return value

    # ------------------------------------------------------------------ entries
    def add(self, op: str, args: dict[str, Any], ins: Sequence[Tensor_ | str], *,
            source: str | None = None, tensors: dict[str, str] | None = None,
            layout: str = "cf") -> Tensor_:
        reads = [i.entry if isinstance(i, Tensor_) else i for i in ins]
        entry_id = self.new_id(source)
        op_cls = get_op(op)
        try:
            layer = op_cls.from_args(args).resolve([self.shapes[r] for r in reads])
        except ValidationError as exc:  # an argument cnncalc's op cannot take
            raise Unmapped(f"as {op} {args}: {spec_error(exc, args, op_cls.Args).message}") \
                from None
        except CnncalcError as exc:  # shapes this op refuses (cnncalc's words)
            raise Unmapped(f"as {op} {args}: {exc.message}") from None
        self.shapes[entry_id] = layer.out
        scope = source or _scope(self.node)
        self.entries.append(Entry(entry_id, op, args, reads, source, tensors or {}, scope,
                                  _classes(self.node)))
        return Tensor_(entry_id, layout)

    def new_id(self, source: str | None) -> str:
        if source:
            base = source
        else:  # a function: named after its op, inside the module it was called in
            stem = re.sub(r"_\d+$", "", self.node.name) if self.node is not None else "layer"
            scope = _scope(self.node)
            base = f"{scope}.{stem}" if scope else stem
        name = as_name(base)
        candidate, n = name, 1
        while candidate in self.used_ids:
            n += 1
            candidate = f"{name}_{n}"
        self.used_ids.add(candidate)
        return candidate

    def shape(self, value: Tensor_) -> Shape:
        return self.shapes[value.entry]

    def tensor_of(self, value: Any) -> Tensor_:
        if not isinstance(value, Tensor_):
            raise Unmapped(f"expected a tensor, got {type(value).__name__}")
        if value.view is not None:
            raise Unmapped("a reshape that cnncalc cannot follow (only a channel shuffle's "
                           "view-transpose-view and flatten are understood)")
        if value.layout != "cf":
            raise Unmapped("a channels-last (permuted) tensor is used where cnncalc needs "
                           "channels first; permute it back")
        return value

    # ------------------------------------------------------------------ modules
    def module(self, path: str, m: nn.Module, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0] if args else None
        if not isinstance(x, Tensor_):
            raise Unmapped("the module's input is not a tensor cnncalc follows")
        tensors = {name: f"{path}.{name}" for name, _ in m.named_parameters(recurse=False)}
        tensors |= {name: f"{path}.{name}" for name, _ in m.named_buffers(recurse=False)}
        if x.layout == "cl":
            return self.channels_last_module(path, m, x, tensors)
        x = self.tensor_of(x)
        handler = module_handler(type(m))
        if handler is None:
            raise no_op_for(type(m))
        return handler(self, path, m, x, tensors)

    def channels_last_module(self, path: str, m: nn.Module, x: Tensor_,
                             tensors: dict[str, str]) -> Tensor_:
        """A module applied to a permuted (channels-last) tensor: over its channels."""
        c = self.shape(x)[0]
        if isinstance(m, nn.LayerNorm):
            if tuple(m.normalized_shape) != (c,):
                raise Unmapped(f"LayerNorm over {list(m.normalized_shape)} of a channels-last "
                               f"tensor with {c} channels")
            return self.add("layernorm", {"over": "channels", "eps": m.eps,
                                          "affine": m.elementwise_affine,
                                          "bias": m.bias is not None}, [x], source=path,
                            tensors=tensors, layout="cl")
        if isinstance(m, nn.Linear):
            return self.add("linear", {"out": m.out_features, "bias": m.bias is not None,
                                       "axis": 0}, [x], source=path,
                            tensors={f"linear.{k}": v for k, v in tensors.items()},
                            layout="cl")
        if type(m) in ACTIVATIONS or isinstance(m, (nn.GELU, nn.Dropout, nn.Identity)) \
                or is_stochastic_depth(type(m)):
            out = self.module(path, m, [Tensor_(x.entry)], {})
            return Tensor_(out.entry, "cl") if isinstance(out, Tensor_) else out
        raise Unmapped(f"{type(m).__name__} on a channels-last (permuted) tensor")

    def pool(self, op: str, x: Tensor_, k: Any, stride: Any, pad: Any, ceil: bool,
             dilation: Any, path: str | None) -> Tensor_:
        args: dict[str, Any] = {"k": ints(k), "stride": ints(stride if stride else k),
                                "pad": ints(pad)}
        if ceil:
            args["ceil_mode"] = True
        if op == "maxpool" and ints(dilation) != 1:
            args["dilation"] = ints(dilation)
        return self.add(op, args, [x], source=path)

    @staticmethod
    def check_avg(count_include_pad: bool, divisor: Any, pad: Any) -> None:
        if divisor is not None:
            raise Unmapped("average pooling with divisor_override")
        if not count_include_pad and ints(pad) != 0:
            raise Unmapped("average pooling with count_include_pad=False and padding "
                           "(cnncalc's avgpool counts the padding, torch's default)")

    def adaptive(self, kind: str, x: Tensor_, size: Any, path: str | None) -> Tensor_:
        axes = len(self.shape(x)) - 1
        sizes = size if isinstance(size, (tuple, list)) else (size,) * axes
        if any(s is None for s in sizes):
            raise Unmapped("an adaptive pool that keeps an axis (output size None)")
        if all(s == 1 for s in sizes):
            return self.add(kind, {"global": True}, [x], source=path)
        return self.add(f"adaptive_{kind}", {"size": ints(sizes)}, [x], source=path)

    def flatten(self, x: Tensor_, start: int, end: int, path: str | None) -> Tensor_:
        rank = len(self.shape(x)) + 1
        if start % rank != 1 or end % rank != rank - 1:
            raise Unmapped(f"flatten(start_dim={start}, end_dim={end}) (cnncalc flattens "
                           "everything but the batch axis)")
        if len(self.shape(x)) == 1:
            return x
        return self.add("flatten", {}, [x], source=path)

    def upsample(self, x: Tensor_, size: Any, scale: Any, mode: str, align: Any,
                 ref: str | None, path: str | None) -> Tensor_:
        args: dict[str, Any] = {"mode": mode}
        if align:
            args["align_corners"] = True
        ins: list[Tensor_ | str] = [x]
        if ref is not None:
            ins.append(ref)
        elif size is not None:
            args["size"] = ints(size)
        elif scale is not None:
            factors = scale if isinstance(scale, (tuple, list)) else (scale,)
            if any(float(f) != int(f) for f in factors):
                raise Unmapped(f"a fractional scale factor {scale}")
            args["scale"] = ints([int(f) for f in factors])
        return self.add("upsample", args, ins, source=path)

    def sample_dim(self, dim: Any, x: Tensor_) -> int:
        rank = len(self.shape(x)) + 1
        if dim is None or dim % rank == 0:
            raise Unmapped(f"softmax over dim {dim} (over the batch)")
        return dim % rank - 1

    # ------------------------------------------------------------------ functions
    def function(self, target: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return function_handler(target)(self, target, args, kwargs)

    def method(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return method_handler(name)(self, name, args, kwargs)

    # ------------------------------------------------------------------ patterns
    def pointwise(self, op: str, x: Any, args: dict[str, Any],
                  approximate: str = "none") -> Tensor_:
        if not isinstance(x, Tensor_):
            raise Unmapped(f"{op} of a {type(x).__name__}")
        if op == "gelu" and approximate != "none":
            raise Unmapped("gelu(approximate='tanh') (cnncalc's gelu is the exact erf form)")
        layout = x.layout
        out = self.add(op, args, [Tensor_(x.entry)])
        return Tensor_(out.entry, layout)

    def merge(self, op: str, args: list[Any], kwargs: dict[str, Any]) -> Tensor_:
        a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other")
        if kwargs.get("alpha", 1) != 1:
            raise Unmapped(f"{op} with alpha={kwargs['alpha']}")
        params = [v for v in (a, b) if isinstance(v, Param)]
        tensors = [v for v in (a, b) if isinstance(v, Tensor_)]
        if op == "mul" and len(params) == 1 and len(tensors) == 1:
            return self.layer_scale(params[0], tensors[0])
        if len(tensors) != 2:
            other = b if isinstance(a, Tensor_) else a
            raise Unmapped(f"{op} of a tensor and a {type(other).__name__} ({other!r:.40}); "
                           f"cnncalc's {op} combines layer outputs")
        x, y = tensors
        if x.layout != y.layout:
            raise Unmapped(f"{op} of a channels-first and a channels-last tensor")
        layout = x.layout
        return self.add(op, {}, [Tensor_(x.entry), Tensor_(y.entry)], layout=layout)

    def layer_scale(self, param: Param, x: Tensor_) -> Tensor_:
        c = self.shape(x)[0]
        rank = len(self.shape(x))
        want_cf = (c,) + (1,) * (rank - 1)
        if (x.layout == "cf" and param.shape not in (want_cf, (c,) if rank == 1 else ())) or \
                (x.layout == "cl" and param.shape != (c,)):
            raise Unmapped(f"a parameter of shape {list(param.shape)} times a tensor of "
                           f"{list(self.shape(x))} (a layer scale is one value per channel)")
        out = self.add("layer_scale", {}, [Tensor_(x.entry)], source=None,
                       tensors={"gamma": param.path})
        return Tensor_(out.entry, x.layout)

    def cat(self, items: Sequence[Any], dim: int) -> Tensor_:
        tensors = [self.tensor_of(t) for t in items]
        rank = len(self.shape(tensors[0])) + 1
        if dim % rank != 1:
            raise Unmapped(f"cat along dim {dim} (cnncalc's concat joins channels, dim 1)")
        return self.add("concat", {}, tensors)

    def getitem(self, value: Any, index: Any) -> Any:
        if isinstance(value, ShapeOf):
            if isinstance(index, slice):
                start = index.start or 0
                dims = value.dims[index]
                return ShapeOf(value.entry, tuple(dims), start % len(value.dims))
            return value.dims[index]
        if isinstance(value, (tuple, list)):
            return value[index]
        if isinstance(value, dict):
            return value[index]
        if isinstance(value, Tensor_):
            return self.index_tensor(value, index)
        raise Unmapped(f"indexing a {type(value).__name__}")

    def index_tensor(self, x: Tensor_, index: Any) -> Tensor_:
        x = self.tensor_of(x)
        items = index if isinstance(index, tuple) else (index,)
        if len(items) < 2 or items[0] != slice(None) or not isinstance(items[1], slice) or \
                any(i != slice(None) for i in items[2:]) or items[1].step not in (None, 1):
            raise Unmapped(f"indexing {index!r} (cnncalc slices a channel range: x[:, a:b])")
        c = self.shape(x)[0]
        start, stop, _ = items[1].indices(c)
        return self.add("slice", {"start": start, "stop": stop}, [x])

    def chunk(self, x: Any, parts: int, dim: int) -> tuple[Tensor_, ...]:
        x = self.tensor_of(x)
        rank = len(self.shape(x)) + 1
        if dim % rank != 1:
            raise Unmapped(f"chunk along dim {dim} (cnncalc slices channels, dim 1)")
        c = self.shape(x)[0]
        size = -(-c // parts)
        count = -(-c // size)
        return tuple(self.add("slice", {"part": i, "parts": parts}, [x]) for i in range(count))

    def split(self, x: Any, sizes: Any, dim: int) -> tuple[Tensor_, ...]:
        x = self.tensor_of(x)
        rank = len(self.shape(x)) + 1
        if dim % rank != 1:
            raise Unmapped(f"split along dim {dim} (cnncalc slices channels, dim 1)")
        c = self.shape(x)[0]
        if isinstance(sizes, int):
            sizes = [min(sizes, c - s) for s in range(0, c, sizes)]
        out, start = [], 0
        for size in sizes:
            out.append(self.add("slice", {"start": start, "stop": start + int(size)}, [x]))
            start += int(size)
        return tuple(out)

    def permute(self, x: Any, dims: Sequence[int]) -> Tensor_:
        if not isinstance(x, Tensor_) or x.view is not None:
            raise Unmapped("permute of a value cnncalc does not follow")
        rank = len(self.shape(x)) + 1
        dims = [d % rank for d in dims]
        to_last = [0, *range(2, rank), 1]
        to_first = [0, rank - 1, *range(1, rank - 1)]
        if x.layout == "cf" and dims == to_last:
            return Tensor_(x.entry, "cl")
        if x.layout == "cl" and dims == to_first:
            return Tensor_(x.entry, "cf")
        if dims == list(range(rank)):
            return x
        raise Unmapped(f"permute{tuple(dims)} (cnncalc follows channels moved last and back)")

    def transpose(self, x: Any, a: int, b: int) -> Tensor_:
        if isinstance(x, Tensor_) and x.view is not None and x.view[0] == "split" and \
                {a % 5, b % 5} == {1, 2}:
            return Tensor_(x.entry, x.layout, ("split_t", x.view[1]))
        raise Unmapped(f"transpose({a}, {b}) (only a channel shuffle's transpose is followed)")

    def reshape(self, x: Any, shape: list[Any]) -> Tensor_:
        if not isinstance(x, Tensor_) or x.layout != "cf":
            raise Unmapped("a reshape of a value cnncalc does not follow")
        own = self.shape(x)
        n = math.prod(own)
        sizes = [s for s in shape[1:]]
        if x.view is None and shape and (shape[0] is BATCH or shape[0] == -1):
            if sizes in ([-1], [n]) and len(own) > 1:
                return self.add("flatten", {}, [x])
            if tuple(sizes) == own:
                return x
            c = own[0]
            if len(sizes) == len(own) + 1 and isinstance(sizes[0], int) and sizes[0] > 0 and \
                    c % sizes[0] == 0 and sizes[1] == c // sizes[0] and tuple(sizes[2:]) == own[1:]:
                return Tensor_(x.entry, "cf", ("split", sizes[0]))
        if x.view is not None and shape and shape[0] is BATCH and \
                tuple(sizes) in (own, (-1, *own[1:])):
            kind, groups = x.view
            if kind == "split":
                return Tensor_(x.entry)
            return self.add("channel_shuffle", {"groups": groups}, [Tensor_(x.entry)])
        raise Unmapped(f"view/reshape to {['B' if s is BATCH else s for s in shape]} of a "
                       f"{list(own)} tensor (cnncalc follows flatten and a channel shuffle)")

    def mean(self, args: list[Any], kwargs: dict[str, Any]) -> Tensor_:
        x = self.tensor_of(args[0])
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keep = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        rank = len(self.shape(x)) + 1
        if dims is None:
            raise Unmapped("mean over every axis, the batch's too")
        axes = sorted(d % rank for d in (dims if isinstance(dims, (tuple, list)) else [dims]))
        if axes != list(range(2, rank)):
            raise Unmapped(f"mean over dims {axes} (cnncalc averages every spatial axis)")
        pooled = self.add("avgpool", {"global": True}, [x])
        return pooled if keep else self.add("flatten", {}, [pooled])

    def functional_pool(self, op: str, args: list[Any], kwargs: dict[str, Any]) -> Tensor_:
        names = ["input", "kernel_size", "stride", "padding"] + (
            ["dilation", "ceil_mode", "return_indices"] if op == "maxpool"
            else ["ceil_mode", "count_include_pad", "divisor_override"])
        got = dict(zip(names, args)) | kwargs
        x = self.tensor_of(got["input"])
        if got.get("return_indices"):
            raise Unmapped("max pooling that returns its indices")
        if op == "avgpool":
            self.check_avg(got.get("count_include_pad", True), got.get("divisor_override"),
                           got.get("padding", 0))
        return self.pool(op, x, got["kernel_size"], got.get("stride") or got["kernel_size"],
                         got.get("padding", 0), bool(got.get("ceil_mode", False)),
                         got.get("dilation", 1), None)

    def interpolate(self, args: list[Any], kwargs: dict[str, Any]) -> Tensor_:
        names = ["input", "size", "scale_factor", "mode", "align_corners"]
        got = dict(zip(names, args)) | kwargs
        x = self.tensor_of(got["input"])
        size, ref = got.get("size"), None
        if isinstance(size, ShapeOf):  # size=ref.shape[-2:]: resize to ref's spatial size
            spatial = len(self.shape(x)) - 1
            ref_shape = self.shapes[size.entry]
            if len(size.dims) != spatial or tuple(size.dims) != tuple(ref_shape[1:]):
                raise Unmapped(f"interpolate to {list(size.dims)}, part of the shape of "
                               f"{size.entry} {list(ref_shape)} that is not its spatial size")
            ref, size = size.entry, None
        return self.upsample(x, size, got.get("scale_factor"), got.get("mode", "nearest"),
                             got.get("align_corners"), ref, None)

    def functional_layer_norm(self, args: list[Any], kwargs: dict[str, Any]) -> Tensor_:
        names = ["input", "normalized_shape", "weight", "bias", "eps"]
        got = dict(zip(names, args)) | kwargs
        x = got["input"]
        if not isinstance(x, Tensor_):
            raise Unmapped("layer_norm of a value cnncalc does not follow")
        normalized = tuple(got["normalized_shape"])
        weight, bias = got.get("weight"), got.get("bias")
        tensors = {}
        if isinstance(weight, Param):
            tensors["weight"] = weight.path
        if isinstance(bias, Param):
            tensors["bias"] = bias.path
        args_ = {"eps": float(got.get("eps", 1e-5)), "affine": weight is not None,
                 "bias": bias is not None}
        if x.layout == "cl" and normalized == (self.shape(x)[0],):
            out = self.add("layernorm", {"over": "channels", **args_}, [Tensor_(x.entry)],
                           tensors=tensors)
            return Tensor_(out.entry, "cl")
        if x.layout == "cf" and normalized == self.shape(x):
            return self.add("layernorm", {"over": "all", **args_}, [x], tensors=tensors)
        raise Unmapped(f"layer_norm over {list(normalized)} of a {list(self.shape(x))} tensor")


# ---------------------------------------------------------------------- helpers
def as_name(text: str) -> str:
    """A module path or id fragment as a spec name: ``.`` and other non-word characters
    become ``_``, and a leading digit gets an ``m`` (``0.conv`` -> ``m0_conv``)."""
    name = re.sub(r"\W", "_", text.replace(".", "_"))
    return "m" + name if not name or name[0].isdigit() else name


def _attr(root: nn.Module, path: str) -> torch.Tensor:
    owner, _, name = path.rpartition(".")
    module = root.get_submodule(owner) if owner else root
    value = getattr(module, name)
    if not isinstance(value, torch.Tensor):
        raise Unmapped(f"the attribute {path} is not a tensor")
    return value


def _output_value(value: Any) -> Any:
    """The tensor a model returns: itself, ``out`` of a dict (torchvision's segmentation
    models), or the first item of a tuple/list."""
    if isinstance(value, dict):
        if "out" in value:
            return value["out"]
        return next(iter(value.values()))
    if isinstance(value, (tuple, list)):
        return value[0]
    return value


def _scope(node: fx.Node | None) -> str:
    """The innermost module a function node was called in (fx's nn_module_stack)."""
    if node is None:
        return ""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        last = list(stack.values())[-1]
        return str(last[0] if isinstance(last, tuple) else last)
    return ""


def _classes(node: fx.Node | None) -> dict[str, str]:
    """Module path -> class name of every module around a node (fx's nn_module_stack)."""
    stack = (node.meta.get("nn_module_stack") or {}) if node is not None else {}
    out = {}
    for value in stack.values():
        if isinstance(value, tuple) and len(value) == 2:
            out[str(value[0])] = getattr(value[1], "__name__", str(value[1]))
    return out


def _target_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f".{node.target}()"
    return callable_name(node.target)


def _source_line(node: fx.Node) -> str | None:
    """``File "...", line N, in forward: code`` from fx's recorded stack trace."""
    trace = node.stack_trace or node.meta.get("stack_trace")
    if not trace:
        return None
    lines = [line.strip() for line in str(trace).strip().splitlines() if line.strip()]
    frames = [i for i, line in enumerate(lines) if line.startswith("File ")
              and "/torch/" not in line.replace("\\", "/")]
    if not frames:
        return None
    last = frames[-1]
    code = lines[last + 1] if last + 1 < len(lines) else ""
    return f"source: {lines[last]}{': ' + code if code else ''}"


# ---------------------------------------------------------------------- tracing
#: torch layers mapped whole: a subclass that does not override ``forward`` is one too
LEAF_TYPES: tuple[type, ...] = (
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
    nn.ConvTranspose3d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
    nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.Dropout, nn.Dropout2d, nn.ReLU, nn.ReLU6,
    nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.SiLU, nn.GELU, nn.Upsample)
_LEAF_FORWARDS = frozenset(getattr(cls, "forward") for cls in LEAF_TYPES)  # noqa: B009


class Tracer(fx.Tracer):
    """torch.fx's tracer with torch's own layers as leaves (fx's rule) plus modules
    cnncalc maps whole: torchvision's StochasticDepth."""

    def __init__(self, record_stack_traces: bool = False) -> None:
        super().__init__()
        #: torch's traceback capture costs seconds on first use (it imports much of torch):
        #: only a failed capture traces again with it, for the error's source line
        self.record_stack_traces = record_stack_traces

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if is_stochastic_depth(type(m)):
            return True
        # a subclass of a torch layer that keeps its forward (torchvision's Conv3DSimple)
        if isinstance(m, LEAF_TYPES) and type(m).forward in _LEAF_FORWARDS:
            return True
        return super().is_leaf_module(m, module_qualified_name)


def trace(model: nn.Module, record_stack_traces: bool = False) -> fx.Graph:
    """The model's graph, traced symbolically (never run on data).  Control flow that
    depends on the data is reported as such, with the model's line."""
    tracer = Tracer(record_stack_traces)
    try:
        return tracer.trace(model)
    except fx.proxy.TraceError as exc:
        raise UsageError(f"cannot import the model: data-dependent control flow: {exc}",
                         notes=_user_frame(exc),
                         hints=("an `if` or loop on a tensor's values has no static graph; "
                                "cnncalc needs one (make the branch a constructor argument)",)
                         ) from None
    except (TypeError, AttributeError, RuntimeError, NotImplementedError, ValueError,
            IndexError, KeyError) as exc:
        raise UsageError(f"cannot import the model: torch.fx could not trace it: "
                         f"{type(exc).__name__}: {exc}", notes=_user_frame(exc),
                         hints=("Python code on shapes or values that torch.fx cannot follow; "
                                "cnncalc needs a static graph",)) from None


def _user_frame(exc: BaseException) -> tuple[str, ...]:
    """``source: File "net.py", line 12, in forward: if x.sum() > 0:`` for the innermost
    frame of the traceback outside torch itself."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "/torch/" not in f.filename.replace("\\", "/") and
              "/cnncalc/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ()
    f = frames[-1]
    return (f'source: File "{f.filename}", line {f.lineno}, in {f.name}: {(f.line or "").strip()}',)


def capture(model: nn.Module, input_shape: Shape) -> tuple[list[Entry], str]:
    """The entries of ``model`` for one sample of ``input_shape`` and the output's id."""
    was_training = model.training
    model.eval()  # the inference graph (dropout, stochastic depth and aux heads off)
    try:
        graph = trace(model)
    finally:
        model.train(was_training)
    interpreter = Interpreter(model, graph, input_shape)
    try:
        entries = interpreter.run()
    except UsageError as first:  # trace again with the source lines, to say where
        model.eval()
        try:
            Interpreter(model, trace(model, record_stack_traces=True), input_shape).run()
        except UsageError as located:
            raise located from None
        finally:
            model.train(was_training)
        raise first from None
    if interpreter.output is None:
        raise UsageError("cannot import the model: it returns nothing cnncalc can follow")
    if interpreter.output.entry == "input":  # returns its input (nn.Identity): one layer
        interpreter.node = None
        interpreter.output = interpreter.add("identity", {}, ["input"])
    return entries, interpreter.output.entry
