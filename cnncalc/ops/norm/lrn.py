"""``lrn``: local response normalisation (AlexNet)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base import (
    Layer,
    OpArgs,
    Params,
    Sample,
    Saved,
    Shape,
    TorchKit,
    numel,
    register,
    saved_input,
    spatial,
)
from ..types import PosInt
from .sample_norm import SampleNorm

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


class LrnArgs(OpArgs):
    size: PosInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


@register
class Lrn(SampleNorm):
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
