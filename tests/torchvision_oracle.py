"""torchvision 0.28.0 as the oracle of the zoo: its models, built as the model cards describe
them, measured by torch itself, and compared with cnncalc's report layer by layer.

torchvision is a test dependency only (the ``peers`` extra pins ``torchvision==0.28.0``,
which pins ``torch==2.13.0``); the package never imports it.  That wheel's compiled ops do
not load against the CPU torch: its import fails with ``RuntimeError: operator
torchvision::nms does not exist`` when ``torchvision/_meta_registrations.py`` registers fake
kernels for them.  The model definitions are plain Python, so :func:`import_torchvision`
tries a plain import and, on that error, imports it again with
``torch.library.register_fake`` made a no-op decorator for the duration of the import (the
detection ops are then unusable; no CNN here calls them).  ptflops imports ``torchvision.ops``
at its own import: the peers tests call :func:`import_torchvision` first
(:func:`import_peer`).

What torch measures (:func:`figures`): parameters, buffers (BatchNorm's
``num_batches_tracked`` included, as cnncalc counts it: 2C + 1 per batchnorm), the output
shape, MACs = ``FlopCounterMode`` total / 2 (torchvision's model-card "GFLOPS" are these
MACs), all on the meta device (no memory, no arithmetic), and per conv / linear / norm
module call (:class:`LayerFigure`): kind, output shape without the batch, params, buffers,
MACs (FlopCounterMode's count during that call, / 2).  :func:`compare` sets them beside a
cnncalc report of the zoo spec of the same name (the report's conv, linear and norm rows;
an ``add`` row with ``project: auto`` holds the 1x1 conv + batchnorm of each projected input,
split out here) and returns the differences, readably; none means exact.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from types import ModuleType
from typing import Any

import pytest

#: the release the oracle's figures are checked against (the peers extra pins it)
TORCHVISION_VERSION = "0.28.0"

#: the torchvision model builders whose figures take a ``weights_backbone`` (segmentation)
SEGMENTATION = ("fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
                "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large")
#: video classifiers: input [3, frames, H, W]
VIDEO = ("r3d_18", "mc3_18", "r2plus1d_18")
#: the eval graph without auxiliary classifiers (aux_logits=False)
AUX_LOGITS = ("googlenet", "inception_v3")

#: every torchvision CNN issue 13 names: the zoo must hold each by this name
CLASSIFICATION = (
    "alexnet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
    "wide_resnet50_2", "wide_resnet101_2",
    "googlenet", "inception_v3",
    "densenet121", "densenet161", "densenet169", "densenet201",
    "squeezenet1_0", "squeezenet1_1",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    *(f"efficientnet_b{i}" for i in range(8)),
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
    *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    *(f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf",
                                "128gf")),
    "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
)
ALL_CNNS = (*CLASSIFICATION, *SEGMENTATION, *VIDEO)

#: the video cards' clips: 16 frames of 112 x 112
VIDEO_INPUT = (3, 16, 112, 112)

#: the report ops compared layer by layer (torch modules of these kinds: :func:`kind_of`)
COMPARED_OPS = frozenset({"conv", "conv_transpose", "linear", "batchnorm", "layernorm",
                          "groupnorm", "instancenorm", "lrn"})
#: kinds whose torch module may act channels-last (ConvNeXt's nn.Linear and nn.LayerNorm on
#: a permuted map): their shapes compare up to a rotation of the axes
CHANNELS_LAST_KINDS = frozenset({"linear", "layernorm"})


# ------------------------------------------------------------------ importing torchvision
def _purge_torchvision() -> None:
    """Forget a half-imported torchvision (its failed import leaves submodules behind)."""
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]


def _no_op_register_fake(*args: Any, **kwargs: Any) -> Any:
    """``torch.library.register_fake`` doing nothing: as ``@register_fake("ns::op")`` and as
    ``register_fake("ns::op", fn)``."""
    if len(args) >= 2 and callable(args[1]):
        return args[1]
    return lambda fn: fn


@contextlib.contextmanager
def _fake_registration_off() -> Iterator[None]:
    import torch

    saved = torch.library.register_fake
    torch.library.register_fake = _no_op_register_fake
    try:
        yield
    finally:
        torch.library.register_fake = saved


def import_torchvision() -> ModuleType | None:
    """torchvision, imported (with the register_fake trick when its ops do not load), or
    None when it is not installed.  Idempotent and cheap after the first call."""
    if "torchvision" in sys.modules and hasattr(sys.modules["torchvision"], "models"):
        return sys.modules["torchvision"]
    if importlib.util.find_spec("torchvision") is None:
        return None
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as exc:
        if "does not exist" not in str(exc):
            raise
    _purge_torchvision()
    with _fake_registration_off():
        return importlib.import_module("torchvision")


def torchvision_models() -> ModuleType:
    """``torchvision.models``; skips the test when torchvision is not installed (in CI that
    skip is a failure: tests/ci_skips.py)."""
    pytest.importorskip("torch")
    torchvision = import_torchvision()
    if torchvision is None:
        pytest.skip("torchvision is not installed (the peers extra: "
                    f"pip install torchvision=={TORCHVISION_VERSION})")
    return torchvision.models


def import_peer(module: str) -> ModuleType:
    """A peer tool's module, or a skip when it is not installed.  torchvision is imported
    first (ptflops imports ``torchvision.ops`` at its own import)."""
    if importlib.util.find_spec("torch") is not None:
        import_torchvision()
    return pytest.importorskip(module)


# ------------------------------------------------------------------ building the models
def builder_kwargs(name: str) -> dict[str, Any]:
    """The constructor arguments of the zoo's graph: no weights, no auxiliary heads."""
    kwargs: dict[str, Any] = {"weights": None}
    if name in SEGMENTATION:
        kwargs.update(weights_backbone=None, aux_loss=False)
    if name in AUX_LOGITS:
        kwargs.update(aux_logits=False, init_weights=False)
    return kwargs


@functools.cache
def build(name: str) -> Any:
    """torchvision's ``name`` in eval mode on the meta device (memoised: treat it as
    read-only).  RegNet computes its stage widths with tensors (``.tolist()`` of a meta
    tensor fails): that computation runs on the CPU, the modules are still built on meta
    (building regnet_y_128gf on the CPU would take 2.6 GB)."""
    import torch

    models = torchvision_models()
    builder = models.get_model_builder(name)
    with torch.device("meta"), _widths_on_cpu(models):
        model = builder(**builder_kwargs(name))
    return model.eval()


@contextlib.contextmanager
def _widths_on_cpu(models: ModuleType) -> Iterator[None]:
    """``regnet.BlockParams.from_init_params`` run under ``torch.device("cpu")``."""
    import torch

    params = models.regnet.BlockParams
    saved = params.__dict__["from_init_params"]

    def on_cpu(cls: Any, *args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return saved.__func__(cls, *args, **kwargs)

    params.from_init_params = classmethod(on_cpu)
    try:
        yield
    finally:
        params.from_init_params = saved


@dataclass(frozen=True)
class Card:
    """One published weights entry: what its model card says."""

    weights: str
    input_shape: tuple[int, ...]
    params: int
    gflops: float  # torchvision's "GFLOPS": MACs / 1e9, rounded to 3 decimals


def cards(name: str) -> list[Card]:
    """The model-card figures of every published weights entry of ``name``."""
    return [Card(weights.name, _card_input(name, weights.transforms()),
                 weights.meta["num_params"], weights.meta["_ops"])
            for weights in torchvision_models().get_model_weights(name)]


def _card_input(name: str, transform: Any) -> tuple[int, ...]:
    """The input (no batch) a weights entry's transform gives: [3, crop, crop]
    (classification), [3, 16, crop_h, crop_w] (video: 16 frames), [3, resize, resize]
    (segmentation)."""
    if name in SEGMENTATION:
        return (3, *tuple(transform.resize_size) * 2)
    if name in VIDEO:
        return (3, VIDEO_INPUT[1], *transform.crop_size)
    return (3, *tuple(transform.crop_size) * 2)


def default_input(name: str) -> tuple[int, ...]:
    """The input of the DEFAULT weights' model card."""
    return _card_input(name, torchvision_models().get_model_weights(name).DEFAULT.transforms())


# ------------------------------------------------------------------ measuring
@dataclass(frozen=True)
class LayerFigure:
    """One conv / linear / norm module call (torch) or report row (cnncalc)."""

    kind: str                     # a cnncalc op name: conv, linear, batchnorm, ...
    shape: tuple[int, ...]        # output shape without the batch
    params: int
    buffers: int
    macs: int
    where: str                    # torch's module path, or the report's layer id
    input_shape: tuple[int, ...] = ()   # the (first) input's shape without the batch

    def key(self) -> tuple[str, tuple[int, ...], int, int, int]:
        """What must match: where is only for the reader."""
        return (self.kind, _canonical_shape(self.kind, self.shape), self.params, self.buffers,
                self.macs)

    def text(self) -> str:
        return (f"{self.kind} {list(self.shape)} params {self.params:,} buffers "
                f"{self.buffers:,} macs {self.macs:,} ({self.where})")


def _canonical_shape(kind: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A channels-last linear/layernorm's [H, W, C] and cnncalc's [C, H, W] compare equal:
    the least rotation of the axes."""
    if kind not in CHANNELS_LAST_KINDS or len(shape) < 2:
        return shape
    return min(shape[i:] + shape[:i] for i in range(len(shape)))


def kind_of(module: Any) -> str | None:
    """The cnncalc op a torch module is (conv, linear, a norm), or None for the others."""
    from torch import nn

    kinds: tuple[tuple[type, str], ...] = (
        (nn.modules.conv._ConvTransposeNd, "conv_transpose"),
        (nn.modules.conv._ConvNd, "conv"),
        (nn.Linear, "linear"),
        (nn.modules.batchnorm._BatchNorm, "batchnorm"),
        (nn.modules.instancenorm._InstanceNorm, "instancenorm"),
        (nn.LayerNorm, "layernorm"),
        (nn.GroupNorm, "groupnorm"),
        (nn.LocalResponseNorm, "lrn"),
    )
    return next((kind for cls, kind in kinds if isinstance(module, cls)), None)


@dataclass(frozen=True)
class Figures:
    """What torch measures of a model at one input."""

    params: int
    buffers: int
    output_shape: tuple[int, ...]
    macs: int
    layers: tuple[LayerFigure, ...]


def _output_tensor(output: Any) -> Any:
    """The tensor a model or module returns (segmentation models: the ``out`` entry)."""
    if isinstance(output, dict):
        return output["out"]
    if isinstance(output, (tuple, list)):
        return output[0]
    return output


def measure(model: Any, input_shape: Sequence[int]) -> Figures:
    """Run ``model`` on a meta input [1, *input_shape] under FlopCounterMode, recording each
    conv / linear / norm call."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    layers: list[LayerFigure] = []
    handles = []
    for path, module in model.named_modules():
        kind = kind_of(module)
        if kind is not None:
            handles.extend(_hooks(module, kind, path, counter, layers))
    try:
        x = torch.zeros(1, *input_shape, device="meta")
        with torch.no_grad(), counter:
            out = _output_tensor(model(x))
    finally:
        for handle in handles:
            handle.remove()
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    return Figures(
        params=sum(p.numel() for p in model.parameters()),
        buffers=sum(b.numel() for b in model.buffers()),
        output_shape=tuple(out.shape[1:]), macs=flops // 2, layers=tuple(layers))


def layer_figures(model: Any, input_shape: Sequence[int]) -> list[LayerFigure]:
    """The conv / linear / norm calls of ``model`` at ``input_shape`` (no batch), in call
    order (the design's name for :func:`measure`'s layers)."""
    return list(measure(model, input_shape).layers)


def _hooks(module: Any, kind: str, path: str, counter: Any,
           layers: list[LayerFigure]) -> list[Any]:
    """A pre-hook noting FlopCounterMode's running total, a hook recording the call."""
    before: list[int] = []

    def pre(_module: Any, _args: Any) -> None:
        before.append(counter.get_total_flops())

    def post(_module: Any, args: Any, output: Any) -> None:
        flops = counter.get_total_flops() - before.pop()
        layers.append(LayerFigure(
            kind=kind, shape=tuple(_output_tensor(output).shape[1:]),
            params=sum(p.numel() for p in module.parameters()),
            buffers=sum(b.numel() for b in module.buffers()),
            macs=flops // 2, where=path, input_shape=tuple(args[0].shape[1:])))

    return [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]


def formula_macs(module: Any, input_shape: Sequence[int], output_shape: Sequence[int]) -> int:
    """MACs of one conv / linear / norm call from the module's attributes (a cross-check
    of FlopCounterMode's count; shapes without the batch): conv numel(out) * C_in / groups *
    prod(k); a transposed conv numel(in) * C_out / groups * prod(k) (per input element);
    linear numel(out) * in_features; norms 0."""
    kind = kind_of(module)
    window = prod(getattr(module, "kernel_size", ()))
    if kind == "conv":
        return prod(output_shape) * module.in_channels // module.groups * window
    if kind == "conv_transpose":
        return prod(input_shape) * module.out_channels // module.groups * window
    if kind == "linear":
        return prod(output_shape) * module.in_features
    return 0


@functools.cache
def figures(name: str, input_shape: tuple[int, ...] | None = None) -> Figures:
    """torch's figures of torchvision's ``name`` at ``input_shape`` (default: the model
    card's), memoised."""
    return measure(build(name), input_shape or default_input(name))


# ------------------------------------------------------------------ the report's side
def report_layers(report: Any) -> list[LayerFigure]:
    """A cnncalc report's conv / linear / norm rows, with the 1x1 conv + batchnorm of each
    input an ``add`` row projects split out of it."""
    out: list[LayerFigure] = []
    for row in report.layers:
        if row.op in COMPARED_OPS:
            out.append(LayerFigure(row.op, tuple(row.output_shape), row.params, row.buffers,
                                   row.macs, row.id))
        elif row.op == "add" and (row.params or row.macs):
            out.extend(_projections(row))
    return out


def _broadcasts(shape: Sequence[int], target: Sequence[int]) -> bool:
    return len(shape) == len(target) and all(a in (b, 1) for a, b in zip(shape, target))


def _projections(row: Any) -> list[LayerFigure]:
    """The projections inside an ``add`` row (project: auto): one per input that neither
    matches nor broadcasts to the output, a 1x1 conv (no bias) + batchnorm on the output's
    shape.  A row whose figures are not those gets a figure saying so (a difference)."""
    out_shape = tuple(row.output_shape)
    channels, numel = out_shape[0], prod(out_shape)
    parts = []
    for i, shape in enumerate(row.input_shapes):
        if not _broadcasts(shape, out_shape):
            c_in = shape[0]
            where = f"{row.id} (projection of input {i})"
            parts += [LayerFigure("conv", out_shape, c_in * channels, 0, c_in * numel, where),
                      LayerFigure("batchnorm", out_shape, 2 * channels, 2 * channels + 1, 0,
                                  where)]
    if (sum(p.params for p in parts), sum(p.buffers for p in parts),
            sum(p.macs for p in parts)) != (row.params, row.buffers, row.macs):
        return [LayerFigure("add (undecomposed)", out_shape, row.params, row.buffers,
                            row.macs, row.id)]
    return parts


# ------------------------------------------------------------------ comparing
def compare_layers(torch_layers: Sequence[LayerFigure],
                   cnncalc_layers: Sequence[LayerFigure], limit: int = 12) -> list[str]:
    """The differences of two multisets of layer figures, readably: what torch has and the
    report lacks, and the reverse (at most ``limit`` lines of each)."""
    theirs = Counter(f.key() for f in torch_layers)
    ours = Counter(f.key() for f in cnncalc_layers)
    missing, extra = theirs - ours, ours - theirs
    lines = []
    for title, diff, source in (("torch has, the spec lacks", missing, torch_layers),
                                ("the spec has, torch lacks", extra, cnncalc_layers)):
        shown = _examples(diff, source, limit)
        if shown:
            lines.append(f"{title} ({sum(diff.values())}):")
            lines += [f"  {text}" for text in shown]
    return lines


def _examples(diff: Counter[Any], source: Sequence[LayerFigure], limit: int) -> list[str]:
    """One line per differing figure (the first occurrence's place; a count when several)."""
    lines = []
    left = Counter(diff)
    for figure in source:
        key = figure.key()
        if left[key] > 0:
            n = left.pop(key)
            lines.append(figure.text() + (f" x{n}" if n > 1 else ""))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


def compare_totals(theirs: Figures, report: Any) -> list[str]:
    """Params, buffers, output shape and MACs of torch's figures and a report's totals."""
    lines = []
    pairs: tuple[tuple[str, Any, Any], ...] = (
        ("params", theirs.params, report.totals.params),
        ("buffers", theirs.buffers, report.totals.buffers),
        ("output shape", list(theirs.output_shape), list(report.output_shape)),
        ("MACs", theirs.macs, report.totals.macs))
    for what, t, c in pairs:
        if t != c:
            delta = f" ({c - t:+,})" if isinstance(t, int) else ""
            lines.append(f"{what}: torch {_fmt(t)}, cnncalc {_fmt(c)}{delta}")
    return lines


def _fmt(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def load_zoo(zoo_name: str) -> Any:
    """The zoo's spec ``zoo_name`` (a file of specs/ or a family's variant) as a Network."""
    import cnncalc

    return cnncalc.load(zoo_name)


def compare(zoo_name: str, report: Any = None) -> list[str]:
    """Every difference between the zoo spec ``zoo_name`` analysed at its own input and
    torchvision's model of the same name at that input; empty when exact."""
    import cnncalc

    if report is None:
        report = cnncalc.analyze(load_zoo(zoo_name))
    theirs = figures(zoo_name, tuple(report.input_shape))
    lines = compare_totals(theirs, report)
    lines += compare_layers(theirs.layers, report_layers(report))
    return lines


def params_with_aux_heads(name: str) -> int:
    """The parameters of torchvision's ``name`` built with its auxiliary classifiers
    (aux_logits=True): what inception_v3's model card counts (its weights hold AuxLogits)."""
    import torch

    kwargs = {**builder_kwargs(name), "aux_logits": True}
    with torch.device("meta"):
        model = torchvision_models().get_model_builder(name)(**kwargs)
    return sum(p.numel() for p in model.parameters())


def check_card(zoo_name: str, report: Any, expect: dict[str, Any] | None) -> list[str]:
    """The spec's input is a model card's (one of the published weights'); for the
    classifiers, the report's params and MACs (torch's, when :func:`compare` is empty) are
    that card's, and the spec's ``expect:`` holds them: ``params`` exactly, ``macs`` exactly
    or as the card's GFLOPS to its precision (``"4.089G"``).  inception_v3's card counts
    the auxiliary head the eval graph leaves out (its params are then checked against
    torchvision built with the head); the segmentation cards count their auxiliary head
    too and are checked for the input only."""
    shape = tuple(report.input_shape)
    entries = [c for c in cards(zoo_name) if c.input_shape == shape]
    if not entries:
        sizes = ", ".join(str(list(s)) for s in sorted({c.input_shape for c in cards(zoo_name)}))
        return [f"input {list(shape)} is no model card's input ({sizes})"]
    if zoo_name in SEGMENTATION:
        return []
    card, lines = entries[0], []
    params, macs = report.totals.params, report.totals.macs
    counted = params_with_aux_heads(zoo_name) if zoo_name in AUX_LOGITS else params
    if card.params not in (params, counted):
        lines.append(f"params {params:,}, the model card ({card.weights}) says {card.params:,}")
    if round(Fraction(macs, 10**9), 3) != Fraction(str(card.gflops)):
        lines.append(f"MACs {macs:,}, the model card ({card.weights}) says {card.gflops} GFLOPS")
    expect = expect or {}
    if expect.get("params") != params:
        lines.append(f"expect: params is {expect.get('params')!r}, not {params}")
    if expect.get("macs") not in (macs, f"{card.gflops}G"):
        lines.append(f"expect: macs is {expect.get('macs')!r}, the card's "
                     f"\"{card.gflops}G\" (or {macs})")
    return lines
