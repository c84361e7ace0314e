"""Normalisation layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..errors import ShapeError
from ..working import Step, bracketed, dims
from .base import (
    Layer,
    Op,
    OpArgs,
    Params,
    RFStep,
    Sample,
    Saved,
    Shape,
    TorchKit,
    needs_backward,
    numel,
    pointwise_rf,
    register,
    saved_input,
    spatial,
)
from .types import PosFloat, PosInt

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


# ------------------------------------------------------------ run-time rules
# torch refuses some inputs at run time that the analysis accepts: a norm whose
# statistics would be taken over a single value.  Each norm op states its rule as
# ``torch_refusal(ins, batch, training)`` (the message, or None when torch runs it);
# cnncalc.pytorch.runnable applies them before a forward pass, and a rule that holds
# for every batch is also a warning at analysis (``warnings``).


def batch_stats_refusal(x: Shape, batch: int, training: bool, op: str = "batchnorm") -> str | None:
    """batchnorm in training takes each channel's statistics over batch x spatial values:
    torch refuses one ("Expected more than 1 value per channel when training")."""
    values = batch * numel(x[1:])
    if not training or values > 1:
        return None
    return (f"{op} in training mode takes each channel's statistics over batch x spatial "
            f"values: at batch {batch} the input {bracketed(x)} gives {values}, and torch needs "
            "more than 1")


class BatchNormArgs(OpArgs):
    eps: float = 1e-5
    momentum: float = 0.1
    affine: bool = True


@register
class BatchNorm(Op[None]):
    name = "batchnorm"
    saved_doc = ("its input and the batch statistics `save_mean`, `save_invstd` (2C values, "
                 "whatever the batch); nothing with `affine: false` on an input that needs no "
                 "gradient")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not needs_backward(layer, grads):
            return []
        c = layer.x[0]
        return [saved_input(layer), Saved("save_mean", c, per_sample=False),
                Saved("save_invstd", c, per_sample=False)]
    notes = (
        "Counted for inference: the running statistics fold into one scale and one shift per\n"
        "element. Buffers are torch's: running mean and variance (C each) plus\n"
        "`num_batches_tracked`, so 2C + 1."
    )
    samples = (Sample({}, ((3, 8, 8),), "pbf"),)
    fresh_output = True
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

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        c = layer.x[0]
        return Params(trainable=2 * c if self.args.affine else 0, buffers=2 * c + 1)

    def macs(self, layer: Layer[None]) -> int:
        return 0

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        # inference: statistics folded into one scale and one shift per element
        return {"norm": 2 * numel(layer.out)}

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """Why torch cannot run this layer at ``batch`` in this mode, or None."""
        return batch_stats_refusal(layer.x, batch, training)

    def explain(self, layer: Layer[None]) -> list[Step]:
        """Worked arithmetic: a weight and a bias per channel; running mean and variance
        per channel plus one batch counter as buffers."""

        c, p = layer.x[0], self.params(layer)
        steps = [Step("output shape", "", dims(layer.out), "unchanged", "shape")]
        if self.args.affine:
            steps.append(Step("params", f"2 x {c}", p.total, "2 x C (weight and bias)", "params"))
        return [*steps, Step("buffers", f"2 x {c} + 1", p.buffers,
                             "2 x C + 1 (running mean, running var, num_batches_tracked)",
                             "params")]

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.BatchNormNd`` by rank (1d for vectors and sequences)."""
        a = self.args
        cls = kit.layer_class("BatchNorm", max(len(layer.x) - 1, 1))
        return cls(layer.x[0], a.eps, a.momentum, a.affine)


#: FLOPs per element of a norm that computes its statistics at inference:
#: mean (1 add), x - mean (1), square (1), variance add (1), times 1/std (1)
STAT_FLOPS = 5


def _stat_flops(x: Shape, weight: bool, bias: bool) -> dict[str, int]:
    return {"norm": (STAT_FLOPS + int(weight) + int(bias)) * numel(x)}


class _Norm(Op[None]):
    """Shape-preserving normalisations with no MACs."""

    family = "norm"
    saved_doc = ("its input and a mean and a reciprocal deviation per normalised group "
                 "(per sample); nothing without affine parameters on an input that needs no "
                 "gradient")

    def groups(self, layer: Layer[None]) -> int:
        """How many statistics (means) one sample has."""
        return 1

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not needs_backward(layer, grads):
            return []
        n = self.groups(layer)
        return [saved_input(layer), Saved("mean", n), Saved("rstd", n)]

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return ins[0]

    def macs(self, layer: Layer[None]) -> int:
        return 0

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)


class LayerNormArgs(OpArgs):
    over: Literal["all", "channels"] = "all"
    eps: PosFloat = 1e-5
    affine: bool = True  # torch's elementwise_affine
    bias: bool = True


@register
class LayerNorm(_Norm):
    def groups(self, layer: Layer[None]) -> int:
        """One per sample (``over: all``), one per position (``over: channels``)."""
        return 1 if self.args.over == "all" else numel(layer.x[1:])

    name = "layernorm"
    notes = (
        "`over: all` (the default) is `nn.LayerNorm([C, *spatial])`, the literal layer norm of\n"
        "Ba et al. (2016) over every value of a sample; its parameters grow with the input size.\n"
        "`over: channels` is the channels-last form used by ConvNeXt and transformers,\n"
        "`nn.LayerNorm(C)` at every position, with 2C parameters. Norms that compute statistics\n"
        "at inference count 5 FLOPs per element (mean add, subtract, square, variance add,\n"
        "scale by 1/std) plus one per element for the weight and one for the bias."
    )
    samples = (Sample({}, ((3, 8, 8),), "pf"),)
    fresh_output = True
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

    def params(self, layer: Layer[None]) -> Params:
        n = numel(layer.x) if self.args.over == "all" else layer.x[0]
        a = self.args
        return Params(n * int(a.affine) + n * int(a.affine and a.bias))

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return _stat_flops(layer.out, self.args.affine, self.args.affine and self.args.bias)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.LayerNorm``; over channels, one applied channels-last at every position."""
        from torch import nn

        a = self.args
        if a.over == "all":
            return nn.LayerNorm(list(layer.x), a.eps, elementwise_affine=a.affine, bias=a.bias)
        return kit.ChannelLayerNorm(layer.x[0], a.eps, elementwise_affine=a.affine, bias=a.bias)


class InstanceNormArgs(OpArgs):
    eps: PosFloat = 1e-5
    momentum: float = 0.1
    affine: bool = False
    track_running_stats: bool = False


@register
class InstanceNorm(_Norm):
    def groups(self, layer: Layer[None]) -> int:
        return layer.x[0]

    name = "instancenorm"
    notes = (
        "As torch: no affine parameters and no running statistics unless asked. With\n"
        "`track_running_stats: true` inference uses the running statistics, counted like\n"
        "`batchnorm`."
    )
    samples = (Sample({}, ((3, 8, 8),), "f"),)
    fresh_output = True
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

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        spatial(ins[0], self.name)
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        c = layer.x[0]
        a = self.args
        return Params(2 * c if a.affine else 0, buffers=2 * c + 1 if a.track_running_stats else 0)

    def warnings(self, layer: Layer[None]) -> list[str]:
        if numel(layer.x[1:]) > 1:
            return []
        return [f"instancenorm over a single spatial element {bracketed(layer.x)}: each value "
                "is its own mean, so the output is 0; torch refuses it in training mode"
                + ("" if self.args.track_running_stats else
                   " and, without track_running_stats, in eval mode too")]

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """torch takes instance statistics (training, or eval without running statistics)
        over the spatial axes and refuses a single element."""
        uses_input_stats = training or not self.args.track_running_stats
        if not uses_input_stats or numel(layer.x[1:]) > 1:
            return None
        mode = "training mode" if training else "eval mode without track_running_stats"
        return (f"instancenorm in {mode} takes each channel's statistics over the spatial "
                f"axes, but the input {bracketed(layer.x)} has one spatial element, and torch "
                "needs more than 1 (\"Expected more than 1 spatial element\")")

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        if self.args.track_running_stats:
            return {"norm": 2 * numel(layer.out)}
        return _stat_flops(layer.out, self.args.affine, self.args.affine)

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.InstanceNormNd`` by rank."""
        a = self.args
        cls = kit.layer_class("InstanceNorm", len(layer.x) - 1)
        return cls(layer.x[0], a.eps, a.momentum, a.affine, a.track_running_stats)


class GroupNormArgs(OpArgs):
    groups: PosInt
    eps: PosFloat = 1e-5
    affine: bool = True


@register
class GroupNorm(_Norm):
    def groups(self, layer: Layer[None]) -> int:
        return int(self.args.groups)

    name = "groupnorm"
    notes = (
        "`groups` must divide the channels; `groups: 1` normalises all channels together and\n"
        "`groups: C` is an instance norm with affine parameters."
    )
    samples = (Sample({'groups': 3}, ((6, 4, 4),), "pf"),)
    fresh_output = True
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

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        c = ins[0][0]
        if c % self.args.groups:
            raise ShapeError(f"groups={self.args.groups} does not divide the {c} input channels")
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        return Params(2 * layer.x[0] if self.args.affine else 0)

    def _group_values(self, x: Shape) -> int:
        """Values each group's statistics are taken over, per sample."""
        return x[0] // self.args.groups * numel(x[1:])

    def warnings(self, layer: Layer[None]) -> list[str]:
        if self._group_values(layer.x) > 1:
            return []
        return [f"groupnorm with groups={self.args.groups} on {bracketed(layer.x)}: each group "
                "holds one value per sample, its own mean, so the output is 0; torch refuses it at "
                "batch 1"]

    def torch_refusal(self, layer: Layer[None], batch: int, training: bool) -> str | None:
        """torch checks batch x (C / groups) x spatial > 1 in every mode."""
        values = batch * self._group_values(layer.x)
        if values > 1:
            return None
        return (f"groupnorm with groups={self.args.groups} takes each group's statistics over "
                f"(C / groups) x spatial values: at batch {batch} the input {bracketed(layer.x)} "
                f"gives {values}, and torch needs more than 1 (in any mode)")

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        """``nn.GroupNorm`` (a subclass that avoids a torch crash on channels-last input)."""
        return kit.GroupNorm(self.args.groups, layer.x[0], self.args.eps, self.args.affine)

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return _stat_flops(layer.out, self.args.affine, self.args.affine)


class LrnArgs(OpArgs):
    size: PosInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


@register
class Lrn(_Norm):
    name = "lrn"
    saved_doc = ("its input, the squared input padded to `C + size - 1` channels (the average "
                 "pool's input) and two input-sized tensors (the power's base and result), "
                 "when its input requires grad (torch's `local_response_norm` composite)")

    def saved(self, layer: Layer[None], grads: Sequence[bool]) -> list[Saved]:
        if not grads[0]:
            return []
        c, rest = layer.x[0], numel(layer.x[1:])
        return [saved_input(layer), Saved("padded squares", (c + self.args.size - 1) * rest),
                Saved("power base", numel(layer.x)), Saved("power result", numel(layer.x))]
    notes = (
        "AlexNet used `size: 5, alpha: 0.0001, beta: 0.75, k: 2`; torch's (and cnncalc's)\n"
        "default `k` is 1."
    )
    samples = (Sample({'size': 3}, ((6, 4, 4),), "f"),)
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

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        spatial(ins[0], self.name)
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        return Params()

    def flops(self, layer: Layer[None]) -> dict[str, int]:
        return {"norm": (self.args.size + 4) * numel(layer.out)}

    def torch(self, layer: Layer[None], kit: TorchKit) -> nn.Module:
        from torch import nn

        a = self.args
        return nn.LocalResponseNorm(a.size, a.alpha, a.beta, a.k)
