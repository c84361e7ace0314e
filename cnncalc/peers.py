"""Rebuild the totals that torchinfo, fvcore, ptflops and thop print, from a Report.

The four tools disagree on ResNet-50 at 224x224 because each counts a different
subset of the arithmetic (docs/counting.md, "Reconciling with torchinfo, fvcore,
ptflops and thop").  Every function here reads only per-layer report data (op name,
input/output shapes, params, MACs and the FLOP breakdown) and applies that tool's
per-module rule, assuming each cnncalc op is the torch module a torchvision-style
model uses for it (``conv`` = ``nn.ConvNd``, global ``avgpool`` =
``nn.AdaptiveAvgPoolNd(1)``, ``add`` = ``a + b``, ...).  The rules were read from, and
checked against, the versions in :data:`PEER_VERSIONS`.

>>> import cnncalc
>>> r = cnncalc.analyze(cnncalc.load("resnet50"))
>>> torchinfo_mult_adds(r), fvcore_flops(r), ptflops_macs(r), thop_macs(r)
(4089238376, 4111512576, 4132436968, 4133742592)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from math import prod
from typing import Literal

from .ops import FLOP_CATEGORIES, REGISTRY
from .report import LayerReport, Report, plain

Peer = Literal["torchinfo", "fvcore", "ptflops", "thop"]
PEERS: tuple[Peer, ...] = ("torchinfo", "fvcore", "ptflops", "thop")
#: the releases whose source the rules below follow (and the tests run when installed)
PEER_VERSIONS: Mapping[str, str] = {
    "torchinfo": "1.8.0", "fvcore": "0.1.5.post20221221", "ptflops": "0.7.5",
    "thop": "0.1.1.post2209072238",
}
#: what each tool calls its figure
PEER_UNITS: Mapping[str, str] = {
    "torchinfo": "Total mult-adds", "fvcore": "FlopCountAnalysis.total() (1 per multiply-add)",
    "ptflops": "MACs (get_model_complexity_info)", "thop": "MACs (profile)",
}
#: ops with no standard torch module: what a peer counts depends on how they are built
UNMODELLED: frozenset[str] = frozenset({"local", "subsample", "rbf"})

Counts = dict[str, Fraction | int]
Rule = Callable[[LayerReport, int], Counts]


@dataclass(frozen=True)
class PeerCount:
    """One peer's total rebuilt from a report, split by cnncalc FLOP category."""

    peer: str
    #: what the tool prints: int() of the exact sum, as the tools truncate
    total: int
    #: exact contribution per category (a float only where ptflops averages a batch)
    parts: Mapping[str, int | float]
    #: layers whose op has no peer rule here (counted as 0)
    unmodelled: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------ row helpers
def _n(shape: tuple[int, ...]) -> int:
    return prod(shape)


def _spatial(shape: tuple[int, ...]) -> int:
    return prod(shape[1:])


def _bias_params(row: LayerReport, axis: int) -> int:
    """Bias parameters of a conv (axis 0) or linear (axis -1) row, 0 without bias."""
    return row.output_shape[axis] if row.flops_breakdown.get("bias") else 0


def _projections(row: LayerReport, b: int) -> int:
    """How many 1x1 conv + batchnorm projections an ``add`` row holds (each maps its
    input onto the last input's shape)."""
    return row.flops_breakdown.get("norm", 0) // (2 * _n(row.input_shapes[-1]) * b)


def _is_global(row: LayerReport) -> bool:
    """A pool whose output is 1 along every spatial axis (built as AdaptiveAvgPool(1))."""
    return len(row.output_shape) > 1 and all(s == 1 for s in row.output_shape[1:])


def _upsample_mode(row: LayerReport) -> str:
    if not row.flops_breakdown.get("other"):
        return "nearest"
    return {2: "linear", 3: "bilinear", 4: "trilinear"}[len(row.output_shape)]


def _zero(row: LayerReport, b: int) -> Counts:
    return {}


def _per_element(category: str, scale: int) -> Rule:
    """``scale`` per element of the (whole-batch) output."""
    return lambda row, b: {category: scale * _n(row.output_shape) * b}


def _affine(category: str, with_affine: int, without: int) -> Rule:
    """Per output element: one count with affine parameters, another without."""
    def rule(row: LayerReport, b: int) -> Counts:
        return {category: (with_affine if row.params else without) * _n(row.output_shape) * b}
    return rule


# -------------------------------------------------------------------- torchinfo
def _ti_conv(row: LayerReport, b: int) -> Counts:
    # layer_info.py calculate_macs: "Conv" in the class name -> params * output positions
    bias = _bias_params(row, 0)
    positions = b * _spatial(row.output_shape)
    return {"conv": (row.params - bias) * positions, "bias": bias * positions}


def _ti_linear(row: LayerReport, b: int) -> Counts:
    # any other module: output_size[0] (the batch) * params named weight / bias
    bias = _bias_params(row, -1)
    return {"linear": (row.params - bias) * b, "bias": bias * b}


def _ti_add(row: LayerReport, b: int) -> Counts:
    conv_weights = row.macs // (b * _spatial(row.input_shapes[-1]))
    return {"conv": row.macs, "norm": (row.params - conv_weights) * b}


def _ti_params(category: str) -> Rule:
    return lambda row, b: {category: row.params * b}


# ----------------------------------------------------------------------- fvcore
def _fv_macs(category: str) -> Rule:
    # jit_handles.py conv_flop_jit / linear_flop_jit: weight products only, no bias
    return lambda row, b: {category: row.macs}


def _fv_add(row: LayerReport, b: int) -> Counts:
    return {"conv": row.macs, "norm": 2 * _n(row.input_shapes[-1]) * b * _projections(row, b)}


def _fv_adaptive_avg(row: LayerReport, b: int) -> Counts:
    # only aten::adaptive_avg_pool2d has a handle: 1 per input element
    return {"pool": _n(row.input_shapes[0]) * b} if len(row.output_shape) == 3 else {}


def _fv_global_avg(row: LayerReport, b: int) -> Counts:
    return _fv_adaptive_avg(row, b) if _is_global(row) else {}  # aten::avg_pool2d: no handle


def _fv_upsample(row: LayerReport, b: int) -> Counts:
    scale = {"nearest": 1, "bilinear": 4}.get(_upsample_mode(row), 0)  # 2-D handles only
    return {"other": scale * _n(row.output_shape) * b} if len(row.output_shape) == 3 else {}


# ---------------------------------------------------------------------- ptflops
# Module hooks are averaged over the batch (compute_average_flops_cost); patched
# torch.nn.functional calls (count_functional=True) are summed over it.
def _pt_weights(category: str) -> Rule:
    def rule(row: LayerReport, b: int) -> Counts:
        bias = row.flops_breakdown.get("bias", 0)
        return {category: Fraction(row.macs, b), "bias": Fraction(bias, b)}
    return rule


def _pt_add(row: LayerReport, b: int) -> Counts:
    return {"conv": Fraction(row.macs, b),
            "norm": 2 * _n(row.input_shapes[-1]) * _projections(row, b)}


def _pt_hooked(category: str, module: bool, functional: bool, of: str = "out") -> Rule:
    """An element count from the module hook (per sample) and/or the F.* patch (batch)."""
    def rule(row: LayerReport, b: int) -> Counts:
        n = _n(row.output_shape if of == "out" else row.input_shapes[0])
        return {category: n * int(module) + n * b * int(functional)}
    return rule


def _pt_norm(affine_doubles: bool) -> Rule:
    def rule(row: LayerReport, b: int) -> Counts:
        return {"norm": _n(row.output_shape) * (2 if row.params and affine_doubles else 1)}
    return rule


def _pt_upsample(row: LayerReport, b: int) -> Counts:
    # module hook: numel(output[0]) / batch; F.interpolate patch: numel(output).  Resized to
    # a reference input (two inputs) it is a plain F.interpolate call, as in torchvision's
    # heads: no nn.Upsample, so no hook
    n = _n(row.output_shape)
    return {"other": n * b + (Fraction(n, b) if len(row.input_shapes) == 1 else 0)}


def _pt_lrn(row: LayerReport, b: int) -> Counts:
    # F.local_response_norm: x.mul(x), avg_pool over the channel-padded squares,
    # .mul(alpha), .add(k): all patched; the module itself has no hook
    n = _n(row.output_shape)
    size = row.flops_breakdown["norm"] // (n * b) - 4
    padded = (row.output_shape[0] + size - 1) * _spatial(row.output_shape)
    return {"norm": (padded + 3 * n) * b}


# ------------------------------------------------------------------------- thop
def _th_conv_transpose(row: LayerReport, b: int) -> Counts:
    # count_convNd: numel(y) * C_in/groups * prod(k): per *output* position
    s_in, s_out = _spatial(row.input_shapes[0]), _spatial(row.output_shape)
    return {"conv": row.macs // s_in * s_out}


def _th_add(row: LayerReport, b: int) -> Counts:
    return {"conv": row.macs, "norm": 4 * _n(row.input_shapes[-1]) * b * _projections(row, b)}


def _th_softmax(row: LayerReport, b: int) -> Counts:
    f = row.output_shape[0]  # softmax over dim 0 (channels / features), the default
    return {"activation": b * (_n(row.output_shape) // f) * (3 * f - 1)}


def _th_adaptive_avg(row: LayerReport, b: int) -> Counts:
    # count_adap_avgpool, in float64: (prod(in / out) + 1) * numel(y)
    kernel = prod(float(i) / float(o)
                  for i, o in zip(row.input_shapes[0][1:], row.output_shape[1:]))
    return {"pool": int((kernel + 1) * (_n(row.output_shape) * b))}


def _th_avgpool(row: LayerReport, b: int) -> Counts:
    if _is_global(row):
        return _th_adaptive_avg(row, b)
    return {"pool": _n(row.output_shape) * b}  # count_avgpool: 1 per output


def _th_upsample(row: LayerReport, b: int) -> Counts:
    if len(row.input_shapes) == 2:  # F.interpolate to a reference: thop hooks modules only
        return {}
    scale = {"nearest": 1, "linear": 5, "bilinear": 11}.get(_upsample_mode(row), 0)
    return {"other": scale * _n(row.output_shape) * b}  # trilinear: warned, counted 0


# ------------------------------------------------------------------- the tables
_POOLS = ("maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool")


def _table(rules: dict[str, Rule]) -> dict[str, Rule]:
    """Every modelled op not given a rule counts 0 (the tool ignores it): the registry's
    ops, so a new op needs a rule here only if a tool counts it (tests/test_peers.py
    measures every op's samples with every tool)."""
    return {op: _zero for op in REGISTRY if op not in UNMODELLED} | rules


RULES: Mapping[str, Mapping[str, Rule]] = {
    "torchinfo": _table({
        "conv": _ti_conv, "conv_transpose": _ti_conv, "linear": _ti_linear, "add": _ti_add,
        "batchnorm": _ti_params("norm"), "layernorm": _ti_params("norm"),
        "instancenorm": _ti_params("norm"), "groupnorm": _ti_params("norm"),
        "prelu": _ti_params("activation"),
    }),
    "fvcore": _table({
        "conv": _fv_macs("conv"), "conv_transpose": _fv_macs("conv"),
        "linear": _fv_macs("linear"), "add": _fv_add,
        "batchnorm": _affine("norm", 2, 1), "layernorm": _affine("norm", 5, 4),
        "instancenorm": _affine("norm", 5, 4), "groupnorm": _affine("norm", 5, 4),
        "avgpool": _fv_global_avg, "adaptive_avgpool": _fv_adaptive_avg, "upsample": _fv_upsample,
    }),
    "ptflops": _table({
        "conv": _pt_weights("conv"), "conv_transpose": _pt_weights("conv"),
        "linear": _pt_weights("linear"), "add": _pt_add,
        "batchnorm": _pt_norm(True), "instancenorm": _pt_norm(True),
        "groupnorm": _pt_norm(True), "layernorm": _pt_norm(False), "lrn": _pt_lrn,
        **{op: _pt_hooked("activation", True, True) for op in ("relu", "prelu", "elu", "gelu")},
        **{op: _pt_hooked("activation", True, False) for op in ("relu6", "leaky_relu")},
        **{op: _pt_hooked("activation", False, True) for op in ("silu", "softmax")},
        **{op: _pt_hooked("pool", True, True, of="in") for op in _POOLS},
        "upsample": _pt_upsample,
    }),
    "thop": _table({
        "conv": _fv_macs("conv"), "conv_transpose": _th_conv_transpose,
        "linear": _fv_macs("linear"), "add": _th_add,
        "batchnorm": _affine("norm", 4, 2), "instancenorm": _affine("norm", 4, 2),
        "layernorm": _affine("norm", 4, 2), "groupnorm": _zero,  # nn.GroupNorm: no hook
        "prelu": _per_element("activation", 1), "softmax": _th_softmax,
        "avgpool": _th_avgpool, "adaptive_avgpool": _th_adaptive_avg, "upsample": _th_upsample,
    }),
}


def peer_count(report: Report, peer: Peer) -> PeerCount:
    """``peer``'s figure for the network of ``report``, by cnncalc FLOP category.

    >>> import cnncalc
    >>> r = cnncalc.analyze(cnncalc.load("resnet50"))
    >>> dict(peer_count(r, "fvcore").parts)
    {'conv': 4087136256, 'linear': 2048000, 'norm': 22227968, 'pool': 100352}
    """
    if peer not in RULES:
        raise ValueError(f"unknown peer {peer!r} (choose from {', '.join(PEERS)})")
    rules = RULES[peer]
    sums: dict[str, Fraction] = {}
    missing = []
    for row in report.layers:
        rule = rules.get(row.op)
        if rule is None:
            missing.append(row.id)
            continue
        for category, value in rule(row, report.batch).items():
            sums[category] = sums.get(category, Fraction(0)) + value
    total = int(sum(sums.values(), Fraction(0)))
    parts = {c: plain(sums[c]) for c in FLOP_CATEGORIES if sums.get(c)}
    return PeerCount(peer, total, parts, tuple(missing))


def torchinfo_mult_adds(report: Report) -> int:
    """torchinfo's "Total mult-adds": per leaf module, Conv*: params x output
    positions; any other module: batch x its weight and bias parameters."""
    return peer_count(report, "torchinfo").total


def fvcore_flops(report: Report) -> int:
    """fvcore's ``FlopCountAnalysis(model.eval(), x).total()``: conv/linear weight
    MACs, batchnorm 2 (affine) or 1 per element, adaptive_avg_pool2d 1 per input."""
    return peer_count(report, "fvcore").total


def ptflops_macs(report: Report) -> int:
    """ptflops' ``get_model_complexity_info`` (pytorch backend, count_functional on):
    conv/linear MACs + bias, BN, and ReLU / pools counted twice (module hook and
    patched torch.nn.functional call)."""
    return peer_count(report, "ptflops").total


def thop_macs(report: Report) -> int:
    """thop's ``profile``: conv/linear weight MACs, batchnorm 4 (affine) or 2 per
    element, adaptive avg pool (window + 1) per output; ReLU and max pools 0."""
    return peer_count(report, "thop").total
