"""The op protocol, the registry and the small helpers every op family shares.

Every op is one class registered with :func:`register`.  It declares its arguments
as a strict pydantic model and defines, side by side, each figure the analysis
reports: output shape, parameters, MACs, FLOPs by category and its receptive-field
step.  Shapes are tuples of plain ints *without* the batch axis: ``(C, *spatial)``
for feature maps, ``(F,)`` for vectors.

An op is bound to its input shapes once, by :meth:`Op.resolve`: the resulting
:class:`Layer` holds the geometry the op worked out (a conv's window, an add's
projections, a transposed conv's axes) and the output shape, and every other figure,
the explanation and the torch build read that layer (nothing is recomputed, and no op
caches on itself).

>>> from cnncalc.ops import get_op
>>> conv = get_op("conv").from_args({"out": 6, "k": 5})
>>> layer = conv.resolve([(1, 32, 32)])
>>> layer.out
(6, 28, 28)
>>> conv.params(layer).trainable
156
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from ..errors import ShapeError
from ..working import (
    CEIL_LAST,
    WINDOW_SYMBOLIC,
    WINDOW_SYMBOLIC_PAIR,
    RFWorking,
    Step,
    axis_names,
    axis_rows,
    axis_steps,
    axis_unit,
    dims,
    generic_rf,
    window_formula,
)
from .registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    import torch
    from torch import nn

Shape = tuple[int, ...]


class TorchKit(Protocol):
    """What an op builds its torch module from: the module :mod:`cnncalc.pytorch.modules`
    (cnncalc's own layers and the helpers below), handed in by the torch build, so that no
    op imports the torch side (and the analysis never loads torch).  Its two helpers and
    torch's ``nn`` are declared; every other name in it builds a module.  (``torch.nn``
    in the annotations: ``nn`` here is the attribute.)"""

    nn: ModuleType

    def layer_class(self, kind: str, rank: int) -> type[torch.nn.Module]:
        """``nn.Conv2d`` for ``("Conv", 2)``, ...; refused for a rank torch has no layer for."""

    def torch_pad(self, pairs: Sequence[tuple[int, int]]) -> tuple[int, ...]:
        """``[(top, bottom), (left, right)]`` -> ``F.pad``'s order."""

    def __getattr__(self, name: str) -> Callable[..., torch.nn.Module]: ...

#: an op's geometry type: what it works out once from its input shapes
G = TypeVar("G")

#: FLOP categories (the keys of every op's ``flops`` dict).  docs/counting.md says
#: what each one holds and how peers' totals are rebuilt from them.
FLOP_CATEGORIES = ("conv", "linear", "bias", "norm", "activation", "pool", "merge", "other")


class OpArgs(BaseModel):
    """Base of every op's argument model: strict types, unknown keys rejected, and every
    float argument finite (``.nan``, ``.inf`` and ``1e400`` are refused, whatever op)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True,
                              allow_inf_nan=False)


@dataclass(frozen=True)
class Params:
    """Parameter counts of one layer: trainable, fixed (requires_grad=False), buffers."""

    trainable: int = 0
    fixed: int = 0
    buffers: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.fixed


@dataclass(frozen=True)
class RFStep:
    """How one layer maps receptive fields, per spatial axis (Araujo et al., 2019).

    ``size_out = size_in + span * jump_in``, ``jump_out = jump_in * factor``,
    ``start_out = start_in + offset * jump_in``.  ``whole`` marks a reduction over the
    entire input (global pooling): the network's receptive field is read before it.
    """

    span: tuple[Fraction | int, ...]
    factor: tuple[Fraction | int, ...]
    offset: tuple[Fraction | int, ...]
    whole: bool = False

    @property
    def is_identity(self) -> bool:
        return not self.whole and all(s == 0 for s in self.span) and all(
            f == 1 for f in self.factor) and all(o == 0 for o in self.offset)

    @staticmethod
    def identity(n: int) -> RFStep:
        return RFStep((0,) * n, (1,) * n, (0,) * n)

    @staticmethod
    def window(k_eff: Sequence[int], stride: Sequence[int], pad_before: Sequence[int],
               whole: bool = False) -> RFStep:
        """A sliding window: effective kernel, stride and leading padding per axis."""
        return RFStep(
            tuple(k - 1 for k in k_eff),
            tuple(stride),
            tuple(exact(Fraction(k - 1, 2) - p) for k, p in zip(k_eff, pad_before)),
            whole,
        )


def exact(x: Fraction) -> Fraction | int:
    """An int when the fraction is whole (int arithmetic is much faster)."""
    return x.numerator if x.denominator == 1 else x


#: the parts every op must define itself (``register`` refuses a class missing one); the
#: others have a default on :class:`Op` that an op overrides when it has more to say
REQUIRED_PARTS = ("shape", "params", "macs", "flops", "rf", "torch")
OPTIONAL_PARTS = ("geometry", "rf_inputs", "reads", "warnings", "window", "explain",
                  "rf_working", "torch_refusal", "saved")

#: the element types of a tensor autograd saves: ``act`` the activation dtype (float),
#: ``index`` int64 (a max-pool's argmax), ``mask`` bool (one byte an element)
SAVED_KINDS = ("act", "index", "mask")


@dataclass(frozen=True)
class Saved:
    """One tensor a layer's backward keeps (what ``torch.autograd`` saves for it).

    ``numel`` elements per sample (``per_sample``) or in all (per-channel statistics);
    ``kind`` one of :data:`SAVED_KINDS`; ``shared`` says whose storage it is: ``"input"``
    (input ``index`` of the layer, saved as it is), ``"output"`` (the layer's output), or
    None (a tensor of its own).  A shared tensor is one storage however many layers save
    it (a ReLU's output that the next conv saves as its input counts once)."""

    what: str
    numel: int
    kind: str = "act"
    shared: str | None = None
    index: int = 0
    per_sample: bool = True

    def elements(self, batch: int) -> int:
        return self.numel * batch if self.per_sample else self.numel


def saved_input(layer: Layer[Any], index: int = 0, what: str = "input") -> Saved:
    """Input ``index`` of ``layer``, saved as it is (its storage is the input's)."""
    return Saved(what, numel(layer.ins[index]), shared="input", index=index)


def saved_output(layer: Layer[Any], what: str = "output") -> Saved:
    return Saved(what, numel(layer.out), shared="output")


def needs_backward(layer: Layer[Any], grads: Sequence[bool]) -> bool:
    """Whether autograd records ``layer`` at all: an input requires grad, or it has
    trainable parameters."""
    return any(grads) or layer.op.params(layer).trainable > 0


@dataclass(frozen=True)
class Sample:
    """One use of an op that every op is tested with: its arguments as written in a spec,
    its input shapes, and which figures must be non-zero (``p`` params, ``b`` buffers,
    ``m`` MACs, ``f`` FLOPs; any other must be exactly 0)."""

    args: Mapping[str, Any]
    ins: tuple[Shape, ...]
    nonzero: str = ""


@dataclass(frozen=True, eq=False, slots=True)
class Layer(Generic[G]):
    """An op bound to its input shapes (:meth:`Op.resolve`): the geometry the op worked
    out from them, once, and the output shape.  Every figure reads it."""

    op: Op[G]
    ins: list[Shape]
    #: the op's own geometry (a Window, the projections, ...); None when it needs none
    geo: G
    out: Shape

    @property
    def x(self) -> Shape:
        """The first (for most ops the only) input shape."""
        return self.ins[0]


class Op(Generic[G]):
    """Base class of every op: the whole protocol an op implements.

    Class attributes describe it (``name``, ``family``, ``summary``, ``formulas``,
    ``Args``, ``arity``, and for the torch build ``fresh_output`` / ``inplace_ok``).
    :meth:`resolve` binds it to input shapes: :meth:`geometry` works out (and checks)
    what depends on them, :meth:`shape` the output shape; every other part reads the
    resulting :class:`Layer`.  The required parts (:data:`REQUIRED_PARTS`) have no
    default; the others (:data:`OPTIONAL_PARTS`) do.  Nothing about an op is found by
    ``getattr`` or by its name.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    #: figure -> human-readable formula, for docs/ops.md and `cnncalc ops`
    formulas: ClassVar[dict[str, str]] = {}
    Args: ClassVar[type[OpArgs]] = OpArgs
    #: how many inputs the op takes: (min, max); max None = any number
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: the torch module's output is a fresh tensor (never a view of, or identical to, a
    #: live one), so an in-place activation after it may overwrite it
    fresh_output: ClassVar[bool] = False
    #: the torch module may overwrite its input (its backward does not need it)
    inplace_ok: ClassVar[bool] = False
    #: uses of the op that the registry, figure, build and explain tests run (one at least)
    samples: ClassVar[tuple[Sample, ...]] = ()
    #: what docs/ops.md says after the op's formulas (markdown; may be empty)
    notes: ClassVar[str] = ""
    #: the torch module's output is a view of its first input (same storage)
    view: ClassVar[bool] = False
    #: run in place by the build (``inplace_ok``), its output is its input's storage (torch's
    #: in-place ReLU; its in-place ReLU6, hardtanh, still makes a new tensor)
    inplace_shares: ClassVar[bool] = False
    #: what docs/ops.md says autograd saves for the backward (see :meth:`saved`)
    saved_doc: ClassVar[str] = "every input (the default)"

    def __init__(self, args: OpArgs) -> None:
        self.args = args

    @classmethod
    def from_args(cls, raw: dict[str, Any]) -> Op[Any]:
        """Validate ``raw`` with the op's model (raises pydantic.ValidationError)."""
        return cls(cls.Args.model_validate(raw))

    def __repr__(self) -> str:
        return f"{self.name}({self.args!r})"

    def resolve(self, ins: Sequence[Shape]) -> Layer[G]:
        """Bind the op to ``ins``: its geometry and output shape, worked out once
        (raises ShapeError when the shapes do not fit the op)."""
        shapes = list(ins)
        geo = self.geometry(shapes)
        return Layer(self, shapes, geo, self.shape(shapes, geo))

    def geometry(self, ins: list[Shape]) -> G:
        """What the figures need from the input shapes, checked (None by default)."""
        return None  # type: ignore[return-value]  # G is None for ops without geometry

    # ---- the figures: every op defines all of them (``register`` enforces it)
    def shape(self, ins: list[Shape], geo: G) -> Shape:
        raise NotImplementedError

    def params(self, layer: Layer[G]) -> Params:
        raise NotImplementedError

    def macs(self, layer: Layer[G]) -> int:
        raise NotImplementedError

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        raise NotImplementedError

    def rf(self, layer: Layer[G]) -> RFStep | None:
        """The receptive-field step, or None when the output has no spatial layout."""
        raise NotImplementedError

    def torch(self, layer: Layer[G], kit: TorchKit) -> nn.Module:
        """The ``torch.nn.Module`` computing this layer, built with ``kit``
        (:mod:`cnncalc.pytorch.modules`, passed by ``cnncalc.build_torch``; an op that needs
        torch itself imports it inside the method)."""
        raise NotImplementedError

    # ---- the parts with a default
    def rf_inputs(self, layer: Layer[G]) -> list[RFStep | None]:
        """One receptive-field step per input (merges override this)."""
        return [self.rf(layer)] * len(layer.ins)

    def reads(self, layer: Layer[G]) -> list[bool]:
        """Per input: whether the op reads its values (all, by default); an input it
        reads only the shape of (upsample's reference) adds nothing to the receptive
        field."""
        return [True] * len(layer.ins)

    def warnings(self, layer: Layer[G]) -> list[str]:
        """Non-fatal findings, e.g. a stride that drops rows (truncation)."""
        return []

    def window(self, layer: Layer[G]) -> Window | None:
        """The sliding window the op applies, or None when it has none (explain writes
        a window's receptive-field recurrence from it)."""
        return None

    def explain(self, layer: Layer[G]) -> list[Step]:
        """Worked arithmetic, as a teacher writes it; by default the formula in words
        next to each figure."""
        return generic_steps(layer)

    def rf_working(self, layer: Layer[G], step: RFStep) -> RFWorking:
        """How ``explain`` writes this layer's receptive-field step (``step`` is
        ``self.rf(layer)``): a sliding window's (k, d, s, p) when the step is its
        window's, else the step's own span, factor and offset as numbers."""
        w = self.window(layer)
        found = window_rf(w, step) if w is not None else None
        return found if found is not None else generic_rf(step.span, step.factor, step.offset)

    def saved(self, layer: Layer[G], grads: Sequence[bool]) -> list[Saved]:
        """What autograd saves for this layer's backward in training, ``grads[i]`` telling
        whether input ``i`` requires grad (the network's input does not).  By default:
        every input, as it is, when the layer is recorded at all (most ops' backward
        reads its inputs); ``tests/test_memory.py`` checks every op against torch."""
        if not needs_backward(layer, grads):
            return []
        return [saved_input(layer, i) for i in range(len(layer.ins))]

    def torch_refusal(self, layer: Layer[G], batch: int, training: bool) -> str | None:
        """Why torch would refuse to run this layer at ``batch`` in this mode (a norm
        whose statistics would be over one value), or None when it runs."""
        return None


class Free(Op[G]):
    """Base of the ops with no parameters and no arithmetic (they move or pass data):
    ``flatten``, ``identity``, ``dropout``, ``drop_path``, ``concat``, and the reshaping
    ops' :class:`~cnncalc.ops.reshape.moves.Moves`."""

    def params(self, layer: Layer[G]) -> Params:
        return Params()

    def macs(self, layer: Layer[G]) -> int:
        return 0

    def flops(self, layer: Layer[G]) -> dict[str, int]:
        return {}


class Pointwise(Op[None]):
    """Base of the ops that keep their input's shape and map each position to itself,
    with no weight sums (activations, norms, ``layer_scale``, ``identity``, ``dropout``,
    ``drop_path``): shape and receptive field unchanged, no MACs, and no parameters unless
    the op has some.  Each states its own FLOPs."""

    def shape(self, ins: list[Shape], geo: None) -> Shape:
        return ins[0]

    def params(self, layer: Layer[None]) -> Params:
        return Params()

    def macs(self, layer: Layer[None]) -> int:
        return 0

    def rf(self, layer: Layer[None]) -> RFStep | None:
        return pointwise_rf(layer.x)


# --------------------------------------------------------------------- registry
#: op name -> op class, each op's module imported on first use (``cnncalc.ops`` declares them)
REGISTRY = Registry()
#: a registered op class (what :func:`register` hands back unchanged)
OpT = TypeVar("OpT", bound=Op[Any])


def missing_parts(cls: type[Op[Any]]) -> list[str]:
    """The required parts of the protocol ``cls`` leaves to :class:`Op`'s placeholder."""
    return [part for part in REQUIRED_PARTS if getattr(cls, part) is getattr(Op, part)]


def register(cls: type[OpT]) -> type[OpT]:
    """Class decorator: make ``cls`` available under ``cls.name``; a class missing a
    part of the protocol, or a name taken twice, is a programming error at import."""
    if REGISTRY.registered(cls.name):
        raise RuntimeError(f"op {cls.name!r} registered twice")
    missing = missing_parts(cls)
    if not vars(cls).get("samples"):  # its own, not a parent's
        missing.append("samples")
    if missing:
        raise RuntimeError(f"op {cls.name!r} does not define {', '.join(missing)}")
    REGISTRY.add(cls)
    return cls


# ---------------------------------------------------------------------- helpers
def numel(shape: Shape) -> int:
    return math.prod(shape)


def spatial(shape: Shape, op: str, min_rank: int = 1) -> Shape:
    """The spatial dims of a ``(C, *spatial)`` input, checking there are some."""
    if len(shape) - 1 < min_rank:
        raise ShapeError(
            f"{op} needs an input of shape [C, L], [C, H, W] or [C, D, H, W]; got {list(shape)}"
        )
    return shape[1:]


def per_axis(value: int | Sequence[int], n: int, what: str) -> tuple[int, ...]:
    """Broadcast an int to ``n`` axes, or check a list has one value per axis."""
    if isinstance(value, int):
        return (value,) * n
    if len(value) == 1:
        return (value[0],) * n
    if len(value) != n:
        raise ShapeError(f"{what} has {len(value)} values {list(value)} "
                         f"but the input has {n} spatial axes", arg=what)
    return tuple(value)


def weight_flops(kind: str, macs: int, out: Shape, bias: bool) -> dict[str, int]:
    """The FLOPs of a weight sum (conv, conv_transpose, local, linear): two per MAC (a
    multiply and an add) in category ``kind``, and one add per output element for a bias."""
    return {kind: 2 * macs, "bias": numel(out) if bias else 0}


def pointwise_rf(x: Shape) -> RFStep | None:
    """Identity step for element-wise ops; None on a vector (no spatial layout)."""
    return RFStep.identity(len(x) - 1) if len(x) > 1 else None


def effective_kernel(k: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """k + (k-1)(d-1): the span a dilated kernel covers."""
    return tuple(d * (kk - 1) + 1 for kk, d in zip(k, dilation))


def window_out(n: int, k_eff: int, stride: int, before: int, after: int,
               ceil_mode: bool = False) -> int:
    """Output length of a sliding window (conv or pool) along one axis.

    ``floor((n + before + after - k_eff) / stride) + 1``; with ``ceil_mode`` the
    last partial window is kept unless it would start in the trailing padding
    (torch's rule).
    """
    span = n + before + after - k_eff
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= n + before:
            out -= 1
        return out
    return span // stride + 1


class Leftover(NamedTuple):
    """What the last window leaves over along one axis (:func:`leftover`)."""

    #: padded positions after the last window: ``(n + before + after - k_eff) % stride``
    rest: int
    #: of those, real input beyond the trailing padding: rows never read (truncation)
    dropped: int


def leftover(n: int, k_eff: int, stride: int, before: int, after: int) -> Leftover:
    """The positions a floor-mode window never reaches along one axis; only those beyond
    the trailing padding are input that is lost (unused padding alone loses nothing, as
    in ResNet's stem).  Every truncation figure (warning, working, solver) is this one.

    >>> leftover(224, 7, 2, 3, 3), leftover(227, 11, 4, 0, 0)
    (Leftover(rest=1, dropped=0), Leftover(rest=0, dropped=0))
    >>> leftover(30, 2, 4, 0, 0)
    Leftover(rest=0, dropped=0)
    >>> leftover(31, 2, 4, 0, 0)
    Leftover(rest=1, dropped=1)
    """
    rest = (n + before + after - k_eff) % stride
    return Leftover(rest, max(rest - after, 0))


#: the ``same`` padding forms, and the side that takes the extra row of an odd total:
#: ``same`` and ``same_lower`` the leading (top/left, the course notes' rule),
#: ``same_upper`` the trailing (torch's ``padding='same'``, TF's SAME, ONNX's SAME_UPPER)
SAME_SIDES = {"same": "leading", "same_lower": "leading", "same_upper": "trailing"}


def same_form(pad: Any) -> str | None:
    """The ``same`` form ``pad`` is written in (``same``, ``same_upper``, ``same_lower``),
    or None for every other padding."""
    return pad if isinstance(pad, str) and pad in SAME_SIDES else None


def same_total(n: int, k_eff: int, stride: int) -> int:
    """The total padding that gives ``ceil(n / stride)`` outputs along one axis:
    ``max((ceil(n / s) - 1) * s + k_eff - n, 0)``."""
    return max((-(-n // stride) - 1) * stride + k_eff - n, 0)


def resolve_padding(
    pad: Any, n: Sequence[int], k_eff: Sequence[int], stride: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """Normalise every padding form to one ``(before, after)`` pair per axis.

    ``int`` | ``[p_h, p_w]`` | ``[[top, bottom], [left, right]]`` | ``"same"`` |
    ``"same_lower"`` | ``"same_upper"`` | ``"valid"``.  The ``same`` forms give
    ``ceil(n / stride)`` outputs; an odd total puts the extra row on the leading side
    (top/left) for ``same`` and ``same_lower``, as the course notes do, and on the
    trailing side (bottom/right) for ``same_upper``, as torch and TensorFlow do.

    >>> resolve_padding("same", (6,), (2,), (1,)), resolve_padding("same_upper", (6,), (2,), (1,))
    (((1, 0),), ((0, 1),))
    """
    axes = len(n)
    if pad == "valid":
        return ((0, 0),) * axes
    form = same_form(pad)
    if form is not None:
        out = []
        for size, k, s in zip(n, k_eff, stride):
            total = same_total(size, k, s)
            big, small = total - total // 2, total // 2
            out.append((big, small) if SAME_SIDES[form] == "leading" else (small, big))
        return tuple(out)
    if isinstance(pad, int):
        return ((pad, pad),) * axes
    if pad and all(isinstance(p, list) for p in pad):
        if len(pad) != axes or any(len(p) != 2 for p in pad):
            raise ShapeError(
                f"pad {pad} needs one [before, after] pair for each of the {axes} spatial axes"
            )
        return tuple((p[0], p[1]) for p in pad)
    return tuple((p, p) for p in per_axis(pad, axes, "pad"))


@dataclass(frozen=True)
class Window:
    """A resolved sliding window over the spatial axes of one input."""

    n: tuple[int, ...]
    k: tuple[int, ...]
    dilation: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    ceil_mode: bool = False
    #: the ``same`` form the padding was worked out from (explain writes its working)
    same: str | None = None
    k_eff: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "k_eff", effective_kernel(self.k, self.dilation))

    def out(self, op: str) -> tuple[int, ...]:
        """Output sizes; raises a ShapeError with the formula when one is < 1."""
        sizes = []
        for axis, (n, k, d, s, (b, a), ke) in enumerate(
            zip(self.n, self.k, self.dilation, self.stride, self.pad, self.k_eff)
        ):
            size = window_out(n, ke, s, b, a, self.ceil_mode)
            if size < 1:
                name = axis_names(len(self.n))[axis]
                raise ShapeError(
                    f"output {name} is {max(size, 0)}: "
                    f"{window_formula(n, k, d, s, b, a, self.ceil_mode)} = {size}; "
                    f"the input {name} {n} (padded {n + b + a}) is smaller than the "
                    f"effective kernel {ke}", arg="dilation" if d > 1 else "k"
                )
            sizes.append(size)
        return tuple(sizes)

    def leftovers(self) -> tuple[Leftover, ...]:
        """Per axis, what the last window leaves over (:func:`leftover`); with
        ``ceil_mode`` none is counted (a last, partial window takes the rest)."""
        if self.ceil_mode:
            return (Leftover(0, 0),) * len(self.n)
        return tuple(leftover(n, ke, s, b, a)
                     for n, ke, s, (b, a) in zip(self.n, self.k_eff, self.stride, self.pad))

    def truncation(self, op: str) -> list[str]:
        """Warnings for axes where the windows never read the last rows of the input."""
        found = []
        names = axis_names(len(self.n))
        for name, (rest, dropped), n, s, (b, a), ke in zip(
                names, self.leftovers(), self.n, self.stride, self.pad, self.k_eff):
            if dropped > 0:
                unit = axis_unit(name)
                found.append(
                    f"stride {s} does not tile the padded {name} {n + b + a} with kernel {ke}: "
                    f"({n + b + a} - {ke}) % {s} = {rest}, so the last {dropped} input "
                    f"{unit}{'s' if dropped > 1 else ''} of {n} {'are' if dropped > 1 else 'is'} "
                    "never read"
                )
        return found

    def rf(self) -> RFStep:
        return RFStep.window(self.k_eff, self.stride, [b for b, _ in self.pad])


def window_size(w: Window, outs: Sequence[int]) -> list[Step]:
    """The output size of a sliding window along each axis, numbers filled in, each
    with the formula in letters it follows.

    >>> window_size(Window((224,), (7,), (1,), (2,), ((3, 3),)), (112,))[0].text()
    'floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112'
    """
    pair = any(b != a for b, a in w.pad)
    symbolic = WINDOW_SYMBOLIC_PAIR if pair else WINDOW_SYMBOLIC
    if w.ceil_mode:
        symbolic = symbolic.replace("floor", "ceil")
    items = []
    padding = same_padding(w) if w.same is not None else []
    for n, k, d, s, (b, a), ke, o in zip(w.n, w.k, w.dilation, w.stride, w.pad, w.k_eff, outs):
        text, sym = window_formula(n, k, d, s, b, a, w.ceil_mode, pair), symbolic
        if w.ceil_mode and -(-(n + b + a - ke) // s) + 1 != o:
            # the last window would start in the trailing padding: torch drops it
            text, sym = text + CEIL_LAST, sym + CEIL_LAST + " (a last window in the padding)"
        items.append((text, o, sym))
    return padding + axis_steps("output", items, "shape")


def same_padding(w: Window) -> list[Step]:
    """How a ``same`` padding was worked out, per axis: the total that gives
    ``ceil(n / s)`` outputs, then how it splits (the extra row of an odd total leading
    for ``same``/``same_lower``, trailing for ``same_upper``)."""
    form = w.same or "same"
    totals: list[tuple[str, int | str, str]] = []
    splits: list[tuple[str, str]] = []
    for n, s, ke, (b, a) in zip(w.n, w.stride, w.k_eff, w.pad):
        raw = f"(ceil({n}/{s}) - 1)*{s} + {ke} - {n}"
        sym = "(ceil(n/s) - 1)*s + k_eff - n"
        if (-(-n // s) - 1) * s + ke - n < 0:  # no padding needed: the total is 0
            totals.append((f"max({raw}, 0)", 0, f"max({sym}, 0)"))
        else:
            totals.append((raw, b + a, sym))
        side = ("" if b == a else
                ": the odd one leading" if b > a else ": the odd one trailing")
        splits.append(("", f"{b} before, {a} after ({form}{side})"))
    kind = "shape" if all(not t[0].startswith("max") for t in totals) else "note"
    rule = ("ceil(total/2) before, floor(total/2) after" if SAME_SIDES[form] == "leading"
            else "floor(total/2) before, ceil(total/2) after")
    return axis_steps("pad total", totals, kind) + axis_rows("pad split", splits, "note", rule)


def truncation(w: Window) -> list[Step]:
    """Per axis: positions left over after the last window, and whether they are real
    input rows that are never read (truncation) or only trailing padding."""
    found: dict[str, tuple[str, str]] = {}  # axis name -> (working, result)
    for name, (rest, dropped), n, s, (b, a), ke in zip(
            axis_names(len(w.n)), w.leftovers(), w.n, w.stride, w.pad, w.k_eff):
        if rest == 0:
            continue
        working = f"({n} + {b}+{a} - {ke}) % {s}"
        if dropped > 0:
            rows = f"{n - dropped}" if dropped == 1 else f"{n - dropped}-{n - 1}"
            plural = "s" if dropped > 1 else ""
            found[name] = (working, f"{rest} left over, trailing pad {a}: input "
                                    f"{axis_unit(name)}{plural} {rows} (of 0-{n - 1}) never "
                                    "read, truncation")
        else:
            found[name] = (working, f"{rest} left over, within the trailing pad {a}: "
                                    "no input lost")
    sym = "(n + p_before + p_after - k_eff) % s"

    def kind(result: str) -> str:
        return "truncation" if "never read" in result else "note"

    worked = list(found.values())
    if len(worked) == len(w.n) > 1 and len(set(worked)) == 1:  # every axis alike: one step
        return axis_rows("tiling", worked, kind(worked[0][1]), sym)
    return [Step(f"tiling {name}", f, r, sym, kind(r)) for name, (f, r) in found.items()]


def window_rf(w: Window, step: RFStep) -> RFWorking | None:
    """``r = r_in + d*(k-1)*j_in``, ``j = j_in*s``, ``start = start_in + (d*(k-1)/2 -
    p)*j_in`` of a sliding window (``d*`` left out when no axis is dilated), when the
    step is the window's."""
    own = w.rf()
    if (own.span, own.factor, own.offset) != (step.span, step.factor, step.offset):
        return None
    dilated = any(d != 1 for d in w.dilation)

    def k_term(i: int) -> str:
        return f"{w.dilation[i]}*({w.k[i]}-1)" if dilated else f"({w.k[i]}-1)"

    kd = "d*(k-1)" if dilated else "(k-1)"
    return RFWorking(
        lambda i, r, j: f"{r} + {k_term(i)}*{j}",
        lambda i, j: f"{j}*{w.stride[i]}",
        lambda i, st, j: f"{st} + ({k_term(i)}/2 - {w.pad[i][0]})*{j}",
        (f"r = r_in + {kd}*j_in", "j = j_in*s", f"start = start_in + ({kd}/2 - p)*j_in"))


def generic_steps(layer: Layer[Any]) -> list[Step]:
    """Steps for an op without its own ``explain``: the formula in words and the figure."""
    op = layer.op
    f = op.formulas
    steps = [Step("output shape", "", dims(layer.out), f.get("shape", ""), "shape")]
    params = op.params(layer)
    if params.total or params.buffers:
        steps.append(Step("params", "", params.total, f.get("params", ""), "params"))
    if params.buffers:
        steps.append(Step("buffers", "", params.buffers, "", "params"))
    macs = op.macs(layer)
    if macs:
        steps.append(Step("MACs", "", macs, f.get("macs", ""), "macs"))
    return steps


