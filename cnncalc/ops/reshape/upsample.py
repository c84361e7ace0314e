"""``upsample``: nearest or (bi/tri)linear interpolation."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from ...errors import ShapeError
from ...working import RFWorking, Step, bracketed, dims, operand
from ..base import (
    Layer,
    OpArgs,
    RFStep,
    Sample,
    Shape,
    TorchKit,
    generic_steps,
    numel,
    per_axis,
    register,
    spatial,
)
from ..types import IntPerAxis
from .moves import Moves

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: the rank each interpolating mode needs (nearest works on any rank)
MODE_RANK = {"linear": 1, "bilinear": 2, "trilinear": 3}


class UpsampleArgs(OpArgs):
    scale: IntPerAxis | None = None
    size: IntPerAxis | None = None
    mode: Literal["nearest", "linear", "bilinear", "trilinear"] = "nearest"
    align_corners: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> UpsampleArgs:
        if self.scale is not None and self.size is not None:
            raise ValueError("give exactly one of scale (a factor) or size (the output size)")
        if self.align_corners and self.mode == "nearest":
            raise ValueError("align_corners only applies to linear, bilinear and trilinear modes")
        return self


#: (input size, output size) per spatial axis of a resize
Sizes = tuple[tuple[int, int], ...]


@register
class Upsample(Moves[Sizes]):
    name = "upsample"
    notes = (
        "Give one of `scale` (an integer per axis) or `size`, or neither and a second input:\n"
        "`in: [x, ref]` resizes `x` to `ref`'s spatial size (only `ref`'s shape is used, so it\n"
        "adds nothing to the receptive field; its channels may differ). That is torchvision's\n"
        "`F.interpolate(x, size=ref.shape[-2:], mode=\"bilinear\", align_corners=False)` of the\n"
        "segmentation heads and feature pyramids; `in: [x, input]` resizes to the network's\n"
        "input. `linear`, `bilinear` and `trilinear` need 1, 2 and 3 spatial axes;\n"
        "`align_corners: true` only with them. The r-linear modes count a weighted sum of the\n"
        "2^r neighbours per output element."
    )
    samples = (Sample({'scale': 2}, ((3, 8, 8),), ""),
               Sample({"mode": "bilinear"}, ((4, 3, 5), (2, 7, 9)), "f"),
               Sample({}, ((3, 4), (5, 12)), ""))
    summary = ("resize the spatial axes by an integer `scale`, to a `size`, or to a second "
               "input's spatial size (in: [x, ref]); mode nearest, or linear / bilinear / "
               "trilinear for 1-D / 2-D / 3-D inputs")
    arity = (1, 2)
    Args = UpsampleArgs
    args: UpsampleArgs
    formulas = {
        "shape": "C, n*scale per axis (or size, or the reference input's spatial size)",
        "params": "0",
        "macs": "0",
        "flops": "other: 0 for nearest; (2^r + 2^r - 1) * numel(out) for the r-linear modes "
                 "(weighted sum of 2^r neighbours: linear 3, bilinear 7, trilinear 15 per output); "
                 "the same to a reference input's size (in: [x, ref]: only ref's shape is read)",
        "rf": "size += (0 for nearest, 1 otherwise)*jump; jump *= n/out; "
              "start += (0 for nearest, 1/2 otherwise)*jump",
    }

    def geometry(self, ins: list[Shape]) -> Sizes:
        x = ins[0]
        n = spatial(x, self.name)
        a = self.args
        want = MODE_RANK.get(a.mode)
        if want is not None and want != len(n):
            raise ShapeError(f"mode {a.mode} needs {want} spatial "
                             f"{'axes' if want > 1 else 'axis'}, the input {list(x)} has "
                             f"{len(n)}")
        if len(ins) == 2:
            return self._like(x, ins[1])
        if a.size is not None:
            return tuple(zip(n, per_axis(a.size, len(n), "size")))
        if a.scale is None:
            raise ShapeError("give one of scale (a factor) or size (the output size), or a "
                             "reference input whose spatial size to take: in: [x, ref]")
        return tuple((m, m * s) for m, s in zip(n, per_axis(a.scale, len(n), "scale")))

    def _like(self, x: Shape, ref: Shape) -> Sizes:
        """Resize ``x`` to the spatial size of the reference ``ref`` (checked)."""
        a = self.args
        given = [f"{k}: {v}" for k, v in (("scale", a.scale), ("size", a.size)) if v is not None]
        if given:
            raise ShapeError(
                f"upsample to a reference input takes its size from it: remove {given[0]}, or "
                "read one input (in: x) to resize by scale or to size")
        if len(ref) != len(x):
            axes = len(ref) - 1
            raise ShapeError(
                f"the reference input {bracketed(ref, ',')} has {axes} spatial "
                f"ax{'is' if axes == 1 else 'es'} but x {bracketed(x, ',')} has "
                f"{len(x) - 1}: upsample resizes to the reference's spatial size, axis by axis")
        return tuple(zip(x[1:], ref[1:]))

    def explain(self, layer: Layer[Sizes]) -> list[Step]:
        """The formula steps; with a reference input, where the size comes from."""
        steps = generic_steps(layer)
        if len(layer.ins) == 2:
            ref = layer.ins[1]
            steps.insert(1, Step("size", "", f"{dims(ref[1:])}, the spatial size of input 1 "
                                 f"({dims(ref)}), whose values are not read",
                                 "F.interpolate(x, size=ref.shape[2:])", "note"))
        return steps

    def reads(self, layer: Layer[Sizes]) -> list[bool]:
        """The reference input gives only its spatial size."""
        return [True, False][:len(layer.ins)]

    def rf_inputs(self, layer: Layer[Sizes]) -> list[RFStep | None]:
        """x's step; the reference's values are never read (see :meth:`reads`)."""
        return [self.rf(layer), None][:len(layer.ins)]

    def shape(self, ins: list[Shape], geo: Sizes) -> Shape:
        return (ins[0][0], *(o for _, o in geo))

    def flops(self, layer: Layer[Sizes]) -> dict[str, int]:
        if self.args.mode == "nearest":
            return {}
        corners = 2 ** (len(layer.out) - 1)
        return {"other": (2 * corners - 1) * numel(layer.out)}

    def rf(self, layer: Layer[Sizes]) -> RFStep:
        sizes = layer.geo
        reach = Fraction(0) if self.args.mode == "nearest" else Fraction(1)
        return RFStep(
            (reach,) * len(sizes),
            tuple(Fraction(n, o) for n, o in sizes),
            (reach / 2,) * len(sizes),
        )

    def rf_working(self, layer: Layer[Sizes], step: RFStep) -> RFWorking:
        """A resize (upsample): outputs ``n/out`` input rows apart; linear modes read one
        more row (``reach`` 1), nearest none."""
        n, out = layer.x[1:], layer.out[1:]
        reach = operand(step.span[0]) if step.span else "0"
        return RFWorking(
            lambda i, r, j: f"{r} + {reach}*{j}",
            lambda i, j: f"{j}*{n[i]}/{out[i]}",
            lambda i, st, j: f"{st} + {reach}/2*{j}",
            ("r = r_in + reach*j_in (reach: 0 nearest, 1 linear)", "j = j_in*n_in/n_out",
             "start = start_in + reach/2*j_in"))

    def torch(self, layer: Layer[Sizes], kit: TorchKit) -> nn.Module:
        """``nn.Upsample`` with the spec's size, or its scale factors; with a reference
        input, :class:`cnncalc.pytorch.modules.ResizeLike` (``F.interpolate`` to the
        reference's spatial size, as torchvision's heads call it)."""
        from torch import nn

        a = self.args
        corners = None if a.mode == "nearest" else a.align_corners
        if len(layer.ins) == 2:
            return kit.ResizeLike(a.mode, corners)
        if a.size is not None:
            return nn.Upsample(size=tuple(layer.out[1:]), mode=a.mode, align_corners=corners)
        scale = tuple(float(o // n) for n, o in layer.geo)  # the geometry's out = n * scale
        return nn.Upsample(scale_factor=scale, mode=a.mode, align_corners=corners)
