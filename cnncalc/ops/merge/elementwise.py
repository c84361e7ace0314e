"""The base of the element-wise merges ``add`` and ``mul``."""

from __future__ import annotations

from ...working import Step
from ..base import G, Layer, Op, Params, RFStep, Shape, generic_steps, numel, pointwise_rf
from .broadcast import broadcast, broadcast_steps


class Elementwise(Op[G]):
    arity = (2, None)

    def shape(self, ins: list[Shape], geo: G) -> Shape:
        return broadcast(self.name, ins)

    def params(self, layer: Layer[G]) -> Params:
        return Params()

    def macs(self, layer: Layer[G]) -> int:
        return 0

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {"merge": (len(layer.ins) - 1) * numel(layer.out)}

    def rf(self, layer: Layer[G]) -> RFStep | None:
        return pointwise_rf(layer.out)

    def explain(self, layer: Layer[G]) -> list[Step]:
        """The formula steps, and which inputs broadcast along which axes."""
        steps = generic_steps(layer)
        return steps[:1] + broadcast_steps(layer) + steps[1:]

    def rf_inputs(self, layer: Layer[G]) -> list[RFStep | None]:
        """Every input maps its field unchanged: an input of size 1 along an axis (a
        ``[C, 1, 1]`` gate) has one position there, which every output position reads, so
        its field (a global pool's: the whole input) is carried as it is."""
        return [pointwise_rf(x) for x in layer.ins]
