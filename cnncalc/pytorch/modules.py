"""Torch modules for the ops torch has no layer for, and small helpers the ops'
``torch()`` methods share (rank -> layer class, explicit asymmetric padding).

Every op's ``torch(ins, out)`` method (in cnncalc/ops/) imports this module lazily.
Standard layers are used wherever one exists; the classes here are:

- :class:`PadConv1d` / ``2d`` / ``3d``: ``nn.ConvNd`` after an explicit ``F.pad``, for
  asymmetric (e.g. ``same`` with an even kernel) padding.
- :class:`ConnectConv`: LeNet-5's partial connection table, holding exactly the connected
  kernels (C3: 60 x 5 x 5 + 16 biases = 1,516 parameters).
- :class:`LocallyConnected`: unshared weights, via ``Tensor.unfold`` and one batched matmul.
- :class:`Subsample`: LeNet-5's trainable sub-sampling (window sum * coefficient + bias).
- :class:`RBF`: LeNet-5's Euclidean RBF output with fixed (``requires_grad=False``) centres.
- :class:`Add`, :class:`Mul`, :class:`Concat`: merges; ``Add`` owns its ``proj`` shortcut.
- :class:`GroupNorm`: ``nn.GroupNorm`` working around a crash of torch's CPU kernel.
- :class:`ChannelLinear`: ``nn.Linear`` over the channels of a map (``linear axis: 0``).
- :class:`Narrow`: one range of one axis (``slice``), a view.
- :class:`ResizeLike`: ``F.interpolate`` to a reference input's size (``upsample``).
- :class:`LayerScale`: a learned per-channel multiplier (``layer_scale``).
- :class:`DropPath`: stochastic depth (``drop_path``), torchvision's formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ShapeError

Pairs = Sequence[tuple[int, int]]


# ------------------------------------------------------------------- helpers
def layer_class(kind: str, rank: int) -> type[nn.Module]:
    """``nn.Conv2d`` for ``("Conv", 2)``, ``nn.BatchNorm1d`` for ``("BatchNorm", 1)``, ..."""
    if rank not in (1, 2, 3):
        raise ShapeError(f"torch has no {kind} layer for {rank} spatial axes (1 to 3)")
    return getattr(nn, f"{kind}{rank}d")


def torch_pad(pairs: Pairs) -> tuple[int, ...]:
    """``[(top, bottom), (left, right)]`` -> F.pad's order ``(left, right, top, bottom)``."""
    return tuple(v for pair in reversed(list(pairs)) for v in pair)


def symmetric(pairs: Pairs) -> tuple[int, ...] | None:
    """The per-axis padding when every axis pads both sides equally, else None."""
    if all(b == a for b, a in pairs):
        return tuple(b for b, _ in pairs)
    return None


class _PrePad(nn.Module):
    """Mixin: zero-pad explicitly (possibly asymmetrically), then run the layer."""

    pre_pad: tuple[int, ...] = ()

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, self.pre_pad))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", pre_pad={self.pre_pad}"


class PadConv1d(_PrePad, nn.Conv1d):
    """``nn.Conv1d`` after an explicit ``F.pad`` (asymmetric padding)."""


class PadConv2d(_PrePad, nn.Conv2d):
    """``nn.Conv2d`` after an explicit ``F.pad`` (asymmetric padding)."""


class PadConv3d(_PrePad, nn.Conv3d):
    """``nn.Conv3d`` after an explicit ``F.pad`` (asymmetric padding)."""


_PADDED: dict[int, Callable[..., _PrePad]] = {1: PadConv1d, 2: PadConv2d, 3: PadConv3d}


def conv(rank: int, c_in: int, c_out: int, k: Sequence[int], stride: Sequence[int], pairs: Pairs,
         dilation: Sequence[int], groups: int = 1, bias: bool = True) -> nn.Module:
    """A standard ``nn.ConvNd``; a :class:`PadConv2d` (etc.) when the padding is asymmetric."""
    sym = symmetric(pairs)
    if sym is not None:
        return layer_class("Conv", rank)(c_in, c_out, tuple(k), tuple(stride), sym,
                                         tuple(dilation), groups, bias)
    m = _PADDED[rank](c_in, c_out, tuple(k), tuple(stride), 0, tuple(dilation), groups, bias)
    m.pre_pad = torch_pad(pairs)
    return m


def projection(rank: int, c_in: int, c_out: int, stride: Sequence[int]) -> nn.Sequential:
    """ResNet's shortcut: 1x1 conv (no bias, ``stride``) then batchnorm."""
    return nn.Sequential(
        layer_class("Conv", rank)(c_in, c_out, 1, tuple(stride), bias=False),
        layer_class("BatchNorm", rank)(c_out),
    )


# ------------------------------------------------------------ connection table
class ConnectConv(nn.Module):
    """A convolution whose output map ``j`` reads only the input maps ``table[j]``.

    ``weight`` has shape ``(connections, *k)``: one kernel per (output map, input map)
    pair, in table order (row 0's maps, then row 1's, ...), so it holds exactly the
    connected weights (LeNet-5's C3: 60 x 5 x 5 + 16 biases = 1,516) and only they get
    gradients.  ``bias`` has one entry per output map.

    The forward scatters the kernels into a zero dense weight ``(out, C_in, *k)`` and runs
    one standard convolution: on CPU that is 4x (batch 1) to 25x (batch 64) faster than
    grouped convolutions over gathered maps.  The zeros are constants, not parameters.
    So torch's FlopCounterMode sees the dense convolution (C3: 16*6*25 MACs per
    position) while the analysis counts the connected weights' MACs (60*25 per position),
    the arithmetic the layer means; cnncalc.pytorch.verify documents this exception.
    """

    def __init__(self, table: Sequence[Sequence[int]], in_channels: int, k: Sequence[int],
                 stride: Sequence[int], pairs: Pairs, dilation: Sequence[int],
                 bias: bool = True) -> None:
        super().__init__()
        self.table = [list(row) for row in table]
        self.in_channels, self.out_channels = in_channels, len(table)
        self.kernel_size, self.stride, self.dilation = tuple(k), tuple(stride), tuple(dilation)
        sym = symmetric(pairs)
        self.padding, self.pre_pad = ((sym, ()) if sym is not None
                                      else ((0,) * len(k), torch_pad(pairs)))
        self._conv = getattr(F, f"conv{len(k)}d")
        self.weight = nn.Parameter(torch.empty(sum(map(len, table)), *k))
        self.bias = nn.Parameter(torch.empty(len(table))) if bias else None
        self._slots = self._make_slots(self.weight.device)
        self.reset_parameters()

    def _make_slots(self, device: torch.device) -> Tensor:
        """Row of each kernel in the dense weight viewed as ``(out * C_in, *k)``."""
        return torch.tensor([j * self.in_channels + i for j, row in enumerate(self.table)
                             for i in row], device=device)

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> ConnectConv:
        """Rebuild the index on the parameters' new device (``.to``, ``to_empty``): it is
        not state, so it is a plain attribute, not a buffer."""
        super()._apply(fn, recurse)
        self._slots = self._make_slots(self.weight.device)
        return self

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(fan_in) per output map, as torch initialises a conv."""
        k = math.prod(self.kernel_size)
        with torch.no_grad():
            start = 0
            for j, row in enumerate(self.table):
                bound = 1 / math.sqrt(len(row) * k)
                self.weight[start:start + len(row)].uniform_(-bound, bound)
                if self.bias is not None:
                    self.bias[j].uniform_(-bound, bound)
                start += len(row)

    def dense_weight(self) -> Tensor:
        """The equivalent ``(out, C_in, *k)`` weight, zeros where the table has no link."""
        dense = self.weight.new_zeros(self.out_channels * self.in_channels, *self.kernel_size)
        dense = dense.index_copy(0, self._slots, self.weight)
        return dense.view(self.out_channels, self.in_channels, *self.kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        if self.pre_pad:
            x = F.pad(x, self.pre_pad)
        return self._conv(x, self.dense_weight(), self.bias, self.stride, self.padding,
                          self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, connections={self.weight.shape[0]}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (f", pre_pad={self.pre_pad}" if self.pre_pad else "")
                + (", bias=False" if self.bias is None else ""))


# ------------------------------------------------------------ locally connected
class LocallyConnected(nn.Module):
    """Unshared weights: every output position has its own kernel.

    ``weight`` has shape ``(positions, C_in * prod(k), C_out)`` (positions in row-major
    order over the output's spatial axes; the middle axis is ``(C_in, *k)`` flattened),
    ``bias`` has shape ``(C_out, *out_spatial)`` (untied, one per output unit).  The
    forward takes the patches with ``Tensor.unfold`` on each spatial axis (any rank) and
    applies all kernels with one batched matmul.
    """

    def __init__(self, c_in: int, c_out: int, k: Sequence[int], stride: Sequence[int],
                 pairs: Pairs, out_spatial: Sequence[int], bias: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride = tuple(k), tuple(stride)
        self.out_spatial = tuple(out_spatial)
        self.pre_pad = torch_pad(pairs) if any(b or a for b, a in pairs) else ()
        positions, fan_in = math.prod(out_spatial), c_in * math.prod(k)
        self.weight = nn.Parameter(torch.empty(positions, fan_in, c_out))
        self.bias = nn.Parameter(torch.empty(c_out, *out_spatial)) if bias else None
        bound = 1 / math.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if self.pre_pad:
            x = F.pad(x, self.pre_pad)
        r = len(self.kernel_size)
        for axis, (k, s) in enumerate(zip(self.kernel_size, self.stride)):
            x = x.unfold(2 + axis, k, s)  # (B, C, *out, *k) once every axis is done
        batch = x.shape[0]
        patches = x.permute(0, *range(2, 2 + r), 1, *range(2 + r, 2 + 2 * r))
        patches = patches.reshape(batch, self.weight.shape[0], self.weight.shape[1])
        y = torch.bmm(patches.transpose(0, 1), self.weight)  # (positions, B, C_out)
        y = y.permute(1, 2, 0).reshape(batch, -1, *self.out_spatial)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (f"in_features={self.weight.shape[1]}, out_channels={self.weight.shape[2]}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"out_spatial={self.out_spatial}"
                + (f", pre_pad={self.pre_pad}" if self.pre_pad else ""))


# ---------------------------------------------------------------------- LeNet-5
class Subsample(nn.Module):
    """LeNet-5 sub-sampling: per map, ``sum(window) * weight + bias``, stride = window.

    ``weight`` and ``bias`` have one entry per map (2 trainable parameters per map).
    """

    def __init__(self, channels: int, k: Sequence[int]) -> None:
        super().__init__()
        self.kernel_size = tuple(k)
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))
        self._pool = getattr(F, f"avg_pool{len(k)}d")
        bound = 1 / math.sqrt(math.prod(k))
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        view = (1, -1) + (1,) * len(self.kernel_size)
        mean = self._pool(x, self.kernel_size, self.kernel_size)
        scale = self.weight * math.prod(self.kernel_size)  # mean * k = the window's sum
        return torch.addcmul(self.bias.view(view), mean, scale.view(view))

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, kernel_size={self.kernel_size}"


class RBF(nn.Module):
    """LeNet-5's Euclidean RBF output: ``y_i = sum_j (x_j - w_ij)^2``.

    ``weight`` (``out x in``) holds the centres; with ``trainable=False`` it is a
    parameter with ``requires_grad=False`` (counted in ``params``, not in
    ``trainable_params``).  The centres start as random +-1 codes, like the paper's
    stylised 7x12 bitmaps.  Computed as ``|x|^2 - 2 x.w + |w|^2`` (one matmul).
    """

    def __init__(self, in_features: int, out_features: int, trainable: bool = False) -> None:
        super().__init__()
        codes = torch.randint(0, 2, (out_features, in_features)).float() * 2 - 1
        self.weight = nn.Parameter(codes, requires_grad=trainable)

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight
        dist = (x * x).sum(-1, keepdim=True) - 2 * F.linear(x, w) + (w * w).sum(-1)
        return dist.clamp_min(0)

    def extra_repr(self) -> str:
        out, inp = self.weight.shape
        return f"in_features={inp}, out_features={out}, trainable={self.weight.requires_grad}"


# ----------------------------------------------------------------------- merges
class Add(nn.Module):
    """Element-wise sum of the inputs.  A projected input (``project: auto``) goes through
    its shortcut first: the submodule ``proj`` (or ``proj0``, ``proj1``, ... by input
    index when several inputs are projected), a 1x1 conv + batchnorm."""

    def __init__(self, projections: dict[int, nn.Module] | None = None) -> None:
        super().__init__()
        projections = projections or {}
        self._projected: list[tuple[int, nn.Module]] = []
        for i, module in projections.items():
            name = "proj" if len(projections) == 1 else f"proj{i}"
            self.add_module(name, module)
            self._projected.append((i, module))

    def forward(self, *xs: Tensor) -> Tensor:
        if self._projected:
            xs_list = list(xs)
            for i, module in self._projected:
                xs_list[i] = module(xs_list[i])
            xs = tuple(xs_list)
        y = xs[0] + xs[1]
        for x in xs[2:]:
            y = y + x
        return y


class Mul(nn.Module):
    """Element-wise product of the inputs."""

    def forward(self, *xs: Tensor) -> Tensor:
        y = xs[0] * xs[1]
        for x in xs[2:]:
            y = y * x
        return y


class Concat(nn.Module):
    """Join the inputs along the channel axis."""

    def forward(self, *xs: Tensor) -> Tensor:
        return torch.cat(xs, 1)


# ------------------------------------------------------------- opsa: moves, scales
class Narrow(nn.Module):
    """``x.narrow(dim, start, length)``: one range of one axis, a view (``slice``)."""

    def __init__(self, dim: int, start: int, length: int) -> None:
        super().__init__()
        self.dim, self.start, self.length = dim, start, length

    def forward(self, x: Tensor) -> Tensor:
        return x.narrow(self.dim, self.start, self.length)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, start={self.start}, length={self.length}"


class ResizeLike(nn.Module):
    """``F.interpolate(x, size=ref.shape[2:], mode=..., align_corners=...)``: resize ``x`` to
    the spatial size of ``ref`` (``upsample`` with ``in: [x, ref]``), read when it runs, as
    torchvision's segmentation heads do."""

    def __init__(self, mode: str, align_corners: bool | None) -> None:
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: Tensor, ref: Tensor) -> Tensor:
        return F.interpolate(x, size=ref.shape[2:], mode=self.mode,
                             align_corners=self.align_corners)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, align_corners={self.align_corners}"


class LayerScale(nn.Module):
    """A learned per-channel multiplier (``layer_scale``): ``x * gamma`` with ``gamma`` of
    shape ``[C, 1, ..., 1]`` over ``spatial`` axes (torchvision's ConvNeXt shape; ``[C]``
    on a vector), every value starting at ``init``."""

    def __init__(self, channels: int, spatial: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, *([1] * spatial)), float(init)))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma

    def extra_repr(self) -> str:
        return f"{self.gamma.shape[0]}, shape={list(self.gamma.shape)}"


class DropPath(nn.Module):
    """Stochastic depth (Huang et al., 2016), as ``torchvision.ops.stochastic_depth``
    computes it: in training, ``mode="row"`` draws one Bernoulli(1 - p) keep per sample,
    ``mode="batch"`` one for the whole batch, and the input is multiplied by keep / (1 - p)
    (the expected output is the input); in eval mode, or with ``p == 0``, the identity.
    ``rank`` is the sample's number of axes, so the mask's shape is known when traced."""

    def __init__(self, p: float, mode: str, rank: int) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0 or mode not in ("row", "batch"):
            raise ValueError(f"DropPath needs 0 <= p < 1 and mode row or batch, got {p}, {mode}")
        self.p, self.mode, self.rank = p, mode, rank

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        rows = x.shape[0] if self.mode == "row" else 1
        noise = x.new_empty([rows] + [1] * self.rank).bernoulli_(keep)
        return x * noise.div_(keep)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


# ------------------------------------------------------------------- norms
class ChannelLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm(C)`` applied channels-last at every position of ``(B, C, *spatial)``."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() <= 2:
            return super().forward(x)
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class GroupNorm(nn.GroupNorm):
    """``nn.GroupNorm``, but a channels-last input that needs no gradient is made
    contiguous first: torch 2.13's CPU backward of ``group_norm`` crashes the interpreter
    (SIGSEGV) on such an input when only the affine weights need gradients (``profile
    --channels-last --mode training`` with a groupnorm first, or after layers without
    trainable weights).  Inputs that are contiguous or need a gradient run unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        if not x.requires_grad and torch.is_grad_enabled() and not x.is_contiguous():
            x = x.contiguous()
        return super().forward(x)


# ------------------------------------------------------------------- linear
class ChannelLinear(nn.Module):
    """``nn.Linear(C, out)`` applied channels-last at every position of ``(B, C, *spatial)``
    (``linear`` with ``axis: 0``, ConvNeXt's pointwise layers).  The ``nn.Linear`` is its
    child ``linear`` (keys ``linear.weight``, ``linear.bias``), a plain torch layer, so
    every tool that counts by module type (ptflops, thop) counts it as it counts the
    ``nn.Linear`` a torch user applies after a permute."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() <= 2:
            return self.linear(x)
        return self.linear(x.movedim(1, -1)).movedim(-1, 1)
