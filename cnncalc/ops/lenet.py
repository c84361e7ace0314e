"""LeNet-5's own layers (LeCun et al., 1998): trainable sub-sampling and the
Euclidean RBF output.  (The partial connection table of C3 is ``conv``'s ``connect``.)"""

from __future__ import annotations

from .base import Op, OpArgs, Params, RFStep, Shape, Window, numel, per_axis, register, spatial
from .conv import Shorthand
from .types import IntPerAxis, PosInt


class SubsampleArgs(Shorthand):
    k: IntPerAxis = 2


@register
class Subsample(Op):
    name = "subsample"
    family = "lenet"
    fresh_output = True
    summary = ("LeNet-5 sub-sampling: each map's k x k window sum times one trainable "
               "coefficient plus one trainable bias (2 params per map), stride k")
    formulas = {
        "shape": "C, floor(n / k) per axis",
        "params": "2C (one coefficient and one bias per map)",
        "macs": "numel(out) (one coefficient multiply per output)",
        "flops": "pool: (prod(k) - 1) * numel(out); conv: numel(out); bias: numel(out)",
        "rf": "size += (k-1)*jump; jump *= k; start += (k-1)/2*jump",
    }
    Args = SubsampleArgs
    args: SubsampleArgs

    def window(self, ins: list[Shape]) -> Window:
        n = spatial(ins[0], self.name)
        k = per_axis(self.args.k, len(n), "k")
        return Window(n, k, (1,) * len(n), k, ((0, 0),) * len(n))

    def shape(self, ins: list[Shape]) -> Shape:
        return (ins[0][0], *self.window(ins).out(self.name))

    def params(self, ins: list[Shape]) -> Params:
        return Params(2 * ins[0][0])

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return numel(out)  # one coefficient multiply per output unit

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        window = numel(self.window(ins).k)
        return {"pool": (window - 1) * numel(out), "conv": numel(out), "bias": numel(out)}

    def rf(self, ins: list[Shape]) -> RFStep:
        return self.window(ins).rf()

    def warnings(self, ins: list[Shape]) -> list[str]:
        return self.window(ins).truncation(self.name)

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: output size (stride k), 2 params per map, 1 multiply per output."""
        from ..explain import Step, dims, letters, truncation, window_size

        w, c = self.window(ins), ins[0][0]
        return window_size(w, out[1:]) + [
            Step("params", f"2 x {c}", self.params(ins).total,
                 "2 x C (a coefficient and a bias per map)", "params"),
            Step("MACs", f"{c} x {dims(out[1:], ' x ')}", self.macs(ins, out),
                 f"C x {letters('m', len(w.k))} (the coefficient times each window sum)", "macs"),
        ] + truncation(w)

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """Window sum * coefficient + bias per map (cnncalc.torch.modules.Subsample)."""
        from ..torch import modules

        return modules.Subsample(ins[0][0], self.window(ins).k)


class RbfArgs(OpArgs):
    out: PosInt
    trainable: bool = False


@register
class Rbf(Op):
    name = "rbf"
    family = "lenet"
    summary = ("LeNet-5 Euclidean RBF output: y_i = sum_j (x_j - w_ij)^2; the centres are "
               "fixed (trainable: false) as in the paper")
    formulas = {
        "shape": "(*x[:-1], out)",
        "params": "in * out centres (fixed unless trainable: true)",
        "macs": "numel(x) * out",
        "flops": "other: 3 * macs (subtract, square, add per input and centre)",
        "rf": "none (no spatial layout)",
    }
    Args = RbfArgs
    args: RbfArgs

    def shape(self, ins: list[Shape]) -> Shape:
        return (*ins[0][:-1], self.args.out)

    def params(self, ins: list[Shape]) -> Params:
        n = ins[0][-1] * self.args.out
        return Params(trainable=n) if self.args.trainable else Params(fixed=n)

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return numel(ins[0]) * self.args.out

    def flops(self, ins: list[Shape], out: Shape) -> dict[str, int]:
        # per (input, centre) pair: a subtraction, a square and an add
        return {"other": 3 * self.macs(ins, out)}

    def rf(self, ins: list[Shape]) -> RFStep | None:
        return None

    def explain(self, ins: list[Shape], out: Shape) -> list["Step"]:
        """Worked arithmetic: one centre per (input, class) pair."""
        from ..explain import Step

        n, o = ins[0][-1], self.args.out
        kind = "trainable" if self.args.trainable else "fixed"
        return [Step("params", f"{n} x {o}", self.params(ins).total, f"in x out ({kind} centres)",
                     "params"),
                Step("MACs", f"{numel(ins[0])} x {o}", self.macs(ins, out), "numel(x) x out",
                     "macs")]

    def torch(self, ins: list[Shape], out: Shape) -> "torch.nn.Module":
        """Centres as a parameter, ``requires_grad=trainable`` (cnncalc.torch.modules.RBF)."""
        from ..torch import modules

        return modules.RBF(ins[0][-1], self.args.out, self.args.trainable)
