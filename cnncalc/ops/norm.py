"""Normalisation layers."""

from __future__ import annotations

from typing import Literal

from ..errors import ShapeError
from .base import Op, OpArgs, Params, RFStep, Shape, numel, pointwise_rf, register, spatial
from .types import PosFloat, PosInt


class BatchNormArgs(OpArgs):
    eps: float = 1e-5
    momentum: float = 0.1
    affine: bool = True


@register
class BatchNorm(Op):
    name = "batchnorm"
    family = "norm"
    summary = "batch normalisation over channels; running statistics are buffers"
    Args = BatchNormArgs
    formulas = {
        "shape": "unchanged",
        "params": "2C if affine (weight, bias); buffers 2C + 1 (running mean, var, "
                  "num_batches_tracked)",
        "macs": "0",
        "flops": "norm: 2 * numel (inference: statistics folded into one scale and one shift)",
        "rf": "unchanged",
    }
    args: BatchNormArgs

    def shape(self, ins: list[Shape]) -> Shape:
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        c = ins[0][0]
        return Params(trainable=2 * c if self.args.affine else 0, buffers=2 * c + 1)

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        # inference: statistics folded into one scale and one shift per element
        return {"norm": 2 * numel(out)}

    def rf(self, ins: list[Shape]) -> RFStep | None:
        return pointwise_rf(ins[0])

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: a weight and a bias per channel; running mean and variance
        per channel plus one batch counter as buffers."""
        from ..explain import Step, dims

        c, p = ins[0][0], self.params(ins)
        steps = [Step("output shape", "", dims(out), "unchanged", "shape")]
        if self.args.affine:
            steps.append(Step("params", f"2 x {c}", p.total, "2 x C (weight and bias)", "params"))
        return steps + [Step("buffers", f"2 x {c} + 1", p.buffers,
                             "2 x C + 1 (running mean, running var, num_batches_tracked)",
                             "params")]

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """``nn.BatchNormNd`` by rank (1d for vectors and sequences)."""
        from ..torch import modules

        a = self.args
        cls = modules.layer_class("BatchNorm", max(len(ins[0]) - 1, 1))
        return cls(ins[0][0], a.eps, a.momentum, a.affine)


#: FLOPs per element of a norm that computes its statistics at inference:
#: mean (1 add), x - mean (1), square (1), variance add (1), times 1/std (1)
STAT_FLOPS = 5


def _stat_flops(x: Shape, weight: bool, bias: bool) -> dict[str, int]:
    return {"norm": (STAT_FLOPS + int(weight) + int(bias)) * numel(x)}


class _Norm(Op):
    """Shape-preserving normalisations with no MACs."""

    family = "norm"

    def shape(self, ins: list[Shape]) -> Shape:
        return ins[0]

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def rf(self, ins: list[Shape]) -> RFStep | None:
        return pointwise_rf(ins[0])


class LayerNormArgs(OpArgs):
    over: Literal["all", "channels"] = "all"
    eps: PosFloat = 1e-5
    affine: bool = True  # torch's elementwise_affine
    bias: bool = True


@register
class LayerNorm(_Norm):
    name = "layernorm"
    summary = ("layer normalisation of each sample: over: all = nn.LayerNorm([C, *spatial]); "
               "over: channels = nn.LayerNorm(C) applied channels-last at every position")
    Args = LayerNormArgs
    args: LayerNormArgs
    formulas = {
        "shape": "unchanged",
        "params": "N (weight, if affine) + N (bias, if affine and bias); N = numel(x) for "
                  "over: all, C for over: channels",
        "macs": "0",
        "flops": "norm: (5 + affine + (affine and bias)) * numel",
        "rf": "unchanged",
    }

    def params(self, ins: list[Shape]) -> Params:
        n = numel(ins[0]) if self.args.over == "all" else ins[0][0]
        a = self.args
        return Params(n * int(a.affine) + n * int(a.affine and a.bias))

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return _stat_flops(out, self.args.affine, self.args.affine and self.args.bias)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """``nn.LayerNorm``; over channels, one applied channels-last at every position."""
        from ..torch import modules

        a = self.args
        shape = list(ins[0]) if a.over == "all" else ins[0][0]
        cls = modules.nn.LayerNorm if a.over == "all" else modules.ChannelLayerNorm
        return cls(shape, a.eps, elementwise_affine=a.affine, bias=a.bias)


class InstanceNormArgs(OpArgs):
    eps: PosFloat = 1e-5
    momentum: float = 0.1
    affine: bool = False
    track_running_stats: bool = False


@register
class InstanceNorm(_Norm):
    name = "instancenorm"
    summary = ("instance normalisation: each channel of each sample over its spatial axes; "
               "affine and running statistics off by default, as in torch")
    Args = InstanceNormArgs
    args: InstanceNormArgs
    formulas = {
        "shape": "unchanged (needs spatial axes)",
        "params": "2C if affine; buffers 2C + 1 if track_running_stats",
        "macs": "0",
        "flops": "norm: 2 * numel with track_running_stats (folded, as batchnorm), "
                 "else (5 + 2*affine) * numel",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape]) -> Shape:
        spatial(ins[0], self.name)
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        c = ins[0][0]
        a = self.args
        return Params(2 * c if a.affine else 0, buffers=2 * c + 1 if a.track_running_stats else 0)

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        if self.args.track_running_stats:
            return {"norm": 2 * numel(out)}
        return _stat_flops(out, self.args.affine, self.args.affine)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """``nn.InstanceNormNd`` by rank."""
        from ..torch import modules

        a = self.args
        cls = modules.layer_class("InstanceNorm", len(ins[0]) - 1)
        return cls(ins[0][0], a.eps, a.momentum, a.affine, a.track_running_stats)


class GroupNormArgs(OpArgs):
    groups: PosInt
    eps: PosFloat = 1e-5
    affine: bool = True


@register
class GroupNorm(_Norm):
    name = "groupnorm"
    summary = "group normalisation: channels split into `groups`, each normalised per sample"
    Args = GroupNormArgs
    args: GroupNormArgs
    formulas = {
        "shape": "unchanged; groups must divide C",
        "params": "2C if affine",
        "macs": "0",
        "flops": "norm: (5 + 2*affine) * numel",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape]) -> Shape:
        c = ins[0][0]
        if c % self.args.groups:
            raise ShapeError(f"groups={self.args.groups} does not divide the {c} input channels")
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        return Params(2 * ins[0][0] if self.args.affine else 0)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        from torch import nn

        return nn.GroupNorm(self.args.groups, ins[0][0], self.args.eps, self.args.affine)

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return _stat_flops(out, self.args.affine, self.args.affine)


class LrnArgs(OpArgs):
    size: PosInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


@register
class Lrn(_Norm):
    name = "lrn"
    summary = ("local response normalisation across `size` neighbouring channels "
               "(AlexNet): x / (k + alpha/size * sum x^2)^beta")
    Args = LrnArgs
    args: LrnArgs
    formulas = {
        "shape": "unchanged (needs spatial axes)",
        "params": "0",
        "macs": "0",
        "flops": "norm: (size + 4) * numel (square, size-1 adds, scale, + k, pow, divide)",
        "rf": "unchanged",
    }

    def shape(self, ins: list[Shape]) -> Shape:
        spatial(ins[0], self.name)
        return ins[0]

    def params(self, ins: list[Shape]) -> Params:
        return Params()

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        return {"norm": (self.args.size + 4) * numel(out)}

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        from torch import nn

        a = self.args
        return nn.LocalResponseNorm(a.size, a.alpha, a.beta, a.k)
