"""What ``conv`` and ``local`` share: the sliding window and its figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ShapeError
from ..base import (
    G,
    Layer,
    Op,
    RFStep,
    Shape,
    Window,
    effective_kernel,
    per_axis,
    resolve_padding,
    same_form,
    spatial,
    weight_flops,
)
from ..types import Padding

if TYPE_CHECKING:  # pragma: no cover
    from .conv import ConvArgs
    from .local import LocalArgs


def sliding_window(x: Shape, op: str, k: int | list[int], stride: int | list[int],
                   pad: Padding, dilation: int | list[int] = 1) -> Window:
    """The window of a ``conv`` or ``local`` layer over the input ``x``: kernel, stride and
    dilation per axis, and the padding in any form (``same`` too) resolved per axis."""
    n = spatial(x, op)
    r = len(n)
    ks, ds = per_axis(k, r, "k"), per_axis(dilation, r, "dilation")
    ss = per_axis(stride, r, "stride")
    pads = resolve_padding(pad, n, effective_kernel(ks, ds), ss)
    return Window(n, ks, ds, ss, pads, same=same_form(pad))


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

    args: ConvArgs | LocalArgs

    def window(self, layer: Layer[G]) -> Window:
        raise NotImplementedError

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return weight_flops("conv", self.macs(layer), layer.out, self.args.bias)

    def rf(self, layer: Layer[G]) -> RFStep:
        return self.window(layer).rf()

    def warnings(self, layer: Layer[G]) -> list[str]:
        return self.window(layer).truncation(self.name)
