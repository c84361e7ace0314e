"""What ``conv`` and ``local`` share: the sliding window and its figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import G, Layer, Op, RFStep, Window, numel

if TYPE_CHECKING:  # pragma: no cover
    from .conv import ConvArgs
    from .local import LocalArgs


def check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise ShapeError(f"groups={groups} does not divide the {c_in} input channels",
                         arg="groups")
    if c_out % groups:
        raise ShapeError(f"groups={groups} does not divide out={c_out}", arg="groups")


class Convolution(Op[G]):
    """The figures ``conv`` and ``local`` share, given their ``window`` and ``macs``:
    FLOPs (two per MAC, plus one add per output for a bias), the window's receptive-field
    step and the input rows its stride leaves unread."""

    saved_doc = "its input (for the weight gradient, even when the input needs none)"

    args: ConvArgs | LocalArgs

    def window(self, layer: Layer[G]) -> Window:
        raise NotImplementedError

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {"conv": 2 * self.macs(layer), "bias": numel(layer.out) if self.args.bias else 0}

    def rf(self, layer: Layer[G]) -> RFStep:
        return self.window(layer).rf()

    def warnings(self, layer: Layer[G]) -> list[str]:
        return self.window(layer).truncation(self.name)
