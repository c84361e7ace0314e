"""The base of the norms that compute their statistics per sample, at inference too."""

from __future__ import annotations

from collections.abc import Sequence

from ..base import Layer, Pointwise, Saved, Shape, needs_backward, numel, saved_input

#: FLOPs per element of a norm that computes its statistics at inference:
#: mean (1 add), x - mean (1), square (1), variance add (1), times 1/std (1)
STAT_FLOPS = 5


def stat_flops(x: Shape, weight: bool, bias: bool) -> dict[str, int]:
    return {"norm": (STAT_FLOPS + int(weight) + int(bias)) * numel(x)}


class SampleNorm(Pointwise):
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
