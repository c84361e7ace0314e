"""The table of module handlers: one small function per kind of torch layer, mapping a
called module (on a channels-first tensor) to a cnncalc op.

:func:`handler_for` looks a module's class up: the activations of ``ACTIVATIONS`` by their
exact class, every other layer by the first class of its MRO the table holds (so a subclass
of a torch layer that keeps ``forward``, torchvision's ``Conv3DSimple``, maps as its base);
torchvision's ``StochasticDepth`` is recognised by name.  A handler returns the value the
call computes, or raises :class:`Unmapped` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torch import nn

from .torch_args import Unmapped, conv_padding, ints, registrar, zeropad_pairs

if TYPE_CHECKING:
    from .capture import Interpreter
    from .graph_values import Tensor_

#: (interpreter, module path, module, its input, its own tensors by name) -> the value
Handler = Callable[["Interpreter", str, Any, "Tensor_", dict[str, str]], Any]

#: argument-free activations, looked up by their exact class (a subclass may change them)
ACTIVATIONS: dict[type, str] = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
    nn.SiLU: "silu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
    nn.Mish: "mish",
}
#: torch layer class -> its handler (a subclass finds its base's through the MRO)
MODULE_HANDLERS: dict[type, Handler] = {}
#: ``@maps(*classes)``: the decorated handler maps ``classes`` (each at most once)
maps = registrar(MODULE_HANDLERS, lambda cls: f"{cls.__module__}.{cls.__name__}")


def handler_for(cls: type) -> Handler | None:
    """The handler of a module class, or None (see the module docstring)."""
    if cls in ACTIVATIONS:
        return map_activation
    for klass in cls.__mro__:
        if klass in MODULE_HANDLERS:
            return MODULE_HANDLERS[klass]
    if is_stochastic_depth(cls):
        return map_stochastic_depth
    return None


def is_stochastic_depth(cls: type) -> bool:
    """torchvision's ``StochasticDepth``, recognised by name (the package never imports
    torchvision): a leaf of the trace, mapped whole, on either layout."""
    return cls.__name__ == "StochasticDepth"


# ---------------------------------------------------------------------- weighted layers
@maps(nn.Conv1d, nn.Conv2d, nn.Conv3d)
def map_conv(ip: Interpreter, path: str, m: nn.Conv2d, x: Tensor_,
             tensors: dict[str, str]) -> Tensor_:
    if m.padding_mode != "zeros":
        raise Unmapped(f"padding_mode={m.padding_mode!r} (cnncalc pads with zeros)")
    return ip.add("conv", {"out": m.out_channels, "k": ints(m.kernel_size),
                           "stride": ints(m.stride), "pad": conv_padding(m),
                           "dilation": ints(m.dilation), "groups": m.groups,
                           "bias": m.bias is not None}, [x], source=path, tensors=tensors)


@maps(nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
def map_conv_transpose(ip: Interpreter, path: str, m: nn.ConvTranspose2d, x: Tensor_,
                       tensors: dict[str, str]) -> Tensor_:
    return ip.add("conv_transpose", {
        "out": m.out_channels, "k": ints(m.kernel_size), "stride": ints(m.stride),
        "pad": ints(m.padding), "output_padding": ints(m.output_padding),
        "dilation": ints(m.dilation), "groups": m.groups, "bias": m.bias is not None},
        [x], source=path, tensors=tensors)


@maps(nn.Linear)
def map_linear(ip: Interpreter, path: str, m: nn.Linear, x: Tensor_,
               tensors: dict[str, str]) -> Tensor_:
    args: dict[str, Any] = {"out": m.out_features, "bias": m.bias is not None}
    if len(ip.shape(x)) > 1:  # nn.Linear on a map: its last axis, said explicitly
        args["axis"] = -1
    return ip.add("linear", args, [x], source=path, tensors=tensors)


@maps(nn.PReLU)
def map_prelu(ip: Interpreter, path: str, m: nn.PReLU, x: Tensor_,
              tensors: dict[str, str]) -> Tensor_:
    return ip.add("prelu", {"shared": m.num_parameters == 1}, [x], source=path,
                  tensors=tensors)


# ---------------------------------------------------------------------- norms
@maps(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def map_batchnorm(ip: Interpreter, path: str, m: nn.BatchNorm2d, x: Tensor_,
                  tensors: dict[str, str]) -> Tensor_:
    if not m.track_running_stats:
        raise Unmapped("a batch norm without running statistics")
    return ip.add("batchnorm", {"eps": m.eps, "momentum": m.momentum or 0.1,
                                "affine": m.affine}, [x], source=path, tensors=tensors)


@maps(nn.LayerNorm)
def map_layernorm(ip: Interpreter, path: str, m: nn.LayerNorm, x: Tensor_,
                  tensors: dict[str, str]) -> Tensor_:
    if tuple(m.normalized_shape) != ip.shape(x):
        raise Unmapped(f"LayerNorm over {list(m.normalized_shape)} of a "
                       f"{list(ip.shape(x))} input (cnncalc normalises the whole "
                       "sample, or the channels at every position)")
    return ip.add("layernorm", {"over": "all", "eps": m.eps, "affine": m.elementwise_affine,
                                "bias": m.bias is not None}, [x], source=path, tensors=tensors)


@maps(nn.GroupNorm)
def map_groupnorm(ip: Interpreter, path: str, m: nn.GroupNorm, x: Tensor_,
                  tensors: dict[str, str]) -> Tensor_:
    return ip.add("groupnorm", {"groups": m.num_groups, "eps": m.eps, "affine": m.affine},
                  [x], source=path, tensors=tensors)


@maps(nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
def map_instancenorm(ip: Interpreter, path: str, m: nn.InstanceNorm2d, x: Tensor_,
                     tensors: dict[str, str]) -> Tensor_:
    return ip.add("instancenorm", {"eps": m.eps, "momentum": m.momentum or 0.1,
                                   "affine": m.affine,
                                   "track_running_stats": m.track_running_stats},
                  [x], source=path, tensors=tensors)


@maps(nn.LocalResponseNorm)
def map_lrn(ip: Interpreter, path: str, m: nn.LocalResponseNorm, x: Tensor_,
            tensors: dict[str, str]) -> Tensor_:
    return ip.add("lrn", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": float(m.k)},
                  [x], source=path)


# ---------------------------------------------------------------------- activations
def map_activation(ip: Interpreter, path: str, m: nn.Module, x: Tensor_,
                   tensors: dict[str, str]) -> Tensor_:
    """One of ACTIVATIONS (exact class): its op, no arguments."""
    return ip.add(ACTIVATIONS[type(m)], {}, [x], source=path)


@maps(nn.GELU)
def map_gelu(ip: Interpreter, path: str, m: nn.GELU, x: Tensor_,
             tensors: dict[str, str]) -> Tensor_:
    if m.approximate != "none":
        raise Unmapped("GELU(approximate='tanh') (cnncalc's gelu is the exact erf form)")
    return ip.add("gelu", {}, [x], source=path)


@maps(nn.LeakyReLU)
def map_leaky_relu(ip: Interpreter, path: str, m: nn.LeakyReLU, x: Tensor_,
                   tensors: dict[str, str]) -> Tensor_:
    return ip.add("leaky_relu", {"slope": m.negative_slope}, [x], source=path)


@maps(nn.ELU)
def map_elu(ip: Interpreter, path: str, m: nn.ELU, x: Tensor_,
            tensors: dict[str, str]) -> Tensor_:
    if m.alpha != 1.0:
        raise Unmapped(f"ELU(alpha={m.alpha}) (cnncalc's elu has alpha 1)")
    return ip.add("elu", {}, [x], source=path)


@maps(nn.Softplus)
def map_softplus(ip: Interpreter, path: str, m: nn.Softplus, x: Tensor_,
                 tensors: dict[str, str]) -> Tensor_:
    if (m.beta, m.threshold) != (1.0, 20.0):
        raise Unmapped("Softplus with beta or threshold other than torch's defaults")
    return ip.add("softplus", {}, [x], source=path)


@maps(nn.Softmax)
def map_softmax(ip: Interpreter, path: str, m: nn.Softmax, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    return ip.add("softmax", {"dim": ip.sample_dim(m.dim, x)}, [x], source=path)


# ---------------------------------------------------------------------- pools
@maps(nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
def map_maxpool(ip: Interpreter, path: str, m: nn.MaxPool2d, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    if m.return_indices:
        raise Unmapped("max pooling that returns its indices")
    return ip.pool("maxpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                   m.dilation, path)


@maps(nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
def map_avgpool(ip: Interpreter, path: str, m: nn.AvgPool2d, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    ip.check_avg(m.count_include_pad, getattr(m, "divisor_override", None), m.padding)
    return ip.pool("avgpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode, 1, path)


@maps(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
def map_adaptive_avgpool(ip: Interpreter, path: str, m: nn.AdaptiveAvgPool2d, x: Tensor_,
                         tensors: dict[str, str]) -> Tensor_:
    return ip.adaptive("avgpool", x, m.output_size, path)


@maps(nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
def map_adaptive_maxpool(ip: Interpreter, path: str, m: nn.AdaptiveMaxPool2d, x: Tensor_,
                         tensors: dict[str, str]) -> Tensor_:
    if m.return_indices:
        raise Unmapped("adaptive max pooling that returns its indices")
    return ip.adaptive("maxpool", x, m.output_size, path)


# ---------------------------------------------------------------------- shape and pass-through
@maps(nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
def map_dropout(ip: Interpreter, path: str, m: nn.Dropout, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    return ip.add("dropout", {"p": float(m.p)}, [x], source=path)


def map_stochastic_depth(ip: Interpreter, path: str, m: nn.Module, x: Tensor_,
                         tensors: dict[str, str]) -> Tensor_:
    """torchvision's StochasticDepth, duck-typed (the package never imports torchvision)."""
    if not (hasattr(m, "p") and hasattr(m, "mode")):
        raise no_op_for(type(m))
    return ip.add("drop_path", {"p": float(getattr(m, "p")),  # noqa: B009
                                "mode": getattr(m, "mode")}, [x], source=path)  # noqa: B009


@maps(nn.Flatten)
def map_flatten(ip: Interpreter, path: str, m: nn.Flatten, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    return ip.flatten(x, m.start_dim, m.end_dim, path)


@maps(nn.Identity)
def map_identity(ip: Interpreter, path: str, m: nn.Identity, x: Tensor_,
                 tensors: dict[str, str]) -> Tensor_:
    return x


@maps(nn.Upsample)
def map_upsample(ip: Interpreter, path: str, m: nn.Upsample, x: Tensor_,
                 tensors: dict[str, str]) -> Tensor_:
    return ip.upsample(x, m.size, m.scale_factor, m.mode, m.align_corners, None, path)


@maps(nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d)
def map_zeropad(ip: Interpreter, path: str, m: nn.ZeroPad2d, x: Tensor_,
                tensors: dict[str, str]) -> Tensor_:
    return ip.add("zeropad", {"pad": zeropad_pairs(m.padding)}, [x], source=path)


@maps(nn.ChannelShuffle)
def map_channel_shuffle(ip: Interpreter, path: str, m: nn.ChannelShuffle, x: Tensor_,
                        tensors: dict[str, str]) -> Tensor_:
    return ip.add("channel_shuffle", {"groups": m.groups}, [x], source=path)


def no_op_for(cls: type) -> Unmapped:
    """The refusal of a module class no handler maps."""
    return Unmapped(f"no cnncalc op for the module {cls.__module__}.{cls.__name__}")
