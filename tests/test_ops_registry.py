"""Every registered op, parametrised over the registry: a newly registered op fails
here until it has a sample in SAMPLES, so it is tested the moment it is added."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.explain import Step
from cnncalc.ops import FLOP_CATEGORIES, REGISTRY, Op, Params, RFStep, get_op, op_info
from cnncalc.ops.base import (
    OPTIONAL_PARTS,
    REQUIRED_PARTS,
    OpArgs,
    Sample,
    Window,
    missing_parts,
    register,
)
from cnncalc.ops.docs import SECTIONS

# Every op carries its own samples (``Op.samples``): minimal args, sample input shapes and
# the figures that must be non-zero: p = params (trainable + fixed), b = buffers, m = MACs,
# f = FLOPs.  A figure not listed must be exactly 0: no op is a silent zero, none counts
# what it does not do.  A new op is tested here the moment it is registered.
#: (op name, sample number) of every sample of every registered op
CASES = [(name, i) for name, cls in sorted(REGISTRY.items()) for i in range(len(cls.samples))]
IDS = [f"{name}-{i}" if i else name for name, i in CASES]
#: op -> (args, input shapes, non-zero figures) of its first sample
SAMPLES: dict[str, tuple[dict, list[tuple[int, ...]], str]] = {
    name: (dict(cls.samples[0].args), list(cls.samples[0].ins), cls.samples[0].nonzero)
    for name, cls in REGISTRY.items()}

def rf_may_be_none(name: str) -> bool:
    """The op says its output can have no spatial layout (rf() None): its ``rf`` formula
    says ``none`` (rbf, flatten; linear on its last axis: over the channels, axis 0, it is
    pointwise, tests/test_linear_axis.py).  Read from the op, so a new op lists nothing."""
    return "none" in REGISTRY[name].formulas["rf"]


def rf_is_none(name: str) -> bool:
    """The op's output never has a spatial layout: its ``rf`` formula is ``none (...)``."""
    return REGISTRY[name].formulas["rf"].startswith("none")
FIGURES = ("shape", "params", "macs", "flops", "rf")

# The contract of design/spec-format.md: op -> {argument: default}, ... = required
REQUIRED = ...
CONTRACT: dict[str, dict[str, object]] = {
    "conv": {"out": REQUIRED, "k": REQUIRED, "stride": 1, "pad": 0, "dilation": 1, "groups": 1,
             "bias": True, "connect": None, "act": "none", "bn": False},
    "conv_transpose": {"out": REQUIRED, "k": REQUIRED, "stride": 1, "pad": 0,
                       "output_padding": 0, "dilation": 1, "groups": 1, "bias": True},
    "local": {"out": REQUIRED, "k": REQUIRED, "stride": 1, "pad": 0, "bias": True},
    "maxpool": {"k": None, "stride": None, "pad": 0, "dilation": 1, "ceil_mode": False,
                "global": False},
    "avgpool": {"k": None, "stride": None, "pad": 0, "ceil_mode": False, "global": False},
    "adaptive_avgpool": {"size": REQUIRED},
    "adaptive_maxpool": {"size": REQUIRED},
    "subsample": {"k": 2},
    "linear": {"out": REQUIRED, "bias": True, "axis": -1, "act": "none", "bn": False},
    "rbf": {"out": REQUIRED, "trainable": False},
    "flatten": {}, "identity": {}, "dropout": {"p": 0.5},
    "relu": {}, "sigmoid": {}, "tanh": {}, "gelu": {}, "silu": {}, "softmax": {},
    "leaky_relu": {"slope": 0.01},
    "batchnorm": {}, "layernorm": {}, "instancenorm": {}, "lrn": {"size": REQUIRED},
    "groupnorm": {"groups": REQUIRED},
    "add": {"project": "none"}, "concat": {}, "mul": {},
    "upsample": {"scale": None, "mode": "nearest"},
    "zeropad": {"pad": REQUIRED},
    "channel_shuffle": {"groups": REQUIRED},
    "slice": {"start": None, "stop": None, "part": None, "parts": None, "axis": 0},
    "drop_path": {"p": REQUIRED, "mode": "row"},
    "layer_scale": {"init": 1e-6},
}


def make(name: str, number: int = 0) -> tuple[Op, list[tuple[int, ...]], str]:
    sample = REGISTRY[name].samples[number]
    return get_op(name).from_args(dict(sample.args)), list(sample.ins), sample.nonzero


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_has_its_own_sample(name: str) -> None:
    cls = REGISTRY[name]
    assert "samples" in vars(cls) and cls.samples, f"op {name!r} carries no samples"
    for sample in cls.samples:
        assert isinstance(sample, Sample) and sample.ins
        assert set(sample.nonzero) <= set("pbmf")


def test_register_refuses_an_op_without_samples() -> None:
    figures = {p: (lambda self, *a: None) for p in REQUIRED_PARTS}
    cls = type("NoSample", (Op,), {"name": "no_sample_op", "family": "merge", "summary": "x",
                                   **figures})
    with pytest.raises(RuntimeError, match="samples"):
        register(cls)
    assert "no_sample_op" not in REGISTRY


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_op_describes_itself(name: str) -> None:
    cls = REGISTRY[name]
    assert cls.name == name
    assert isinstance(cls.summary, str) and cls.summary.strip()
    assert cls.family in SECTIONS, f"{name}: family {cls.family!r} has no docs/ops.md section"
    assert issubclass(cls.Args, OpArgs)
    assert set(cls.formulas) == set(FIGURES), f"{name}.formulas keys {sorted(cls.formulas)}"
    assert all(isinstance(v, str) and v for v in cls.formulas.values())
    lo, hi = cls.arity
    assert lo >= 1 and (hi is None or hi >= lo)


@pytest.mark.parametrize(("name", "number"), CASES, ids=IDS)
def test_every_figure(name: str, number: int) -> None:
    op, ins, nonzero = make(name, number)
    lo, hi = op.arity
    assert lo <= len(ins) <= (hi or len(ins))
    layer = op.resolve(ins)
    out = layer.out
    assert isinstance(out, tuple) and out and all(type(d) is int and d > 0 for d in out)
    p = op.params(layer)
    assert isinstance(p, Params)
    assert all(type(v) is int and v >= 0 for v in (p.trainable, p.fixed, p.buffers))
    macs = op.macs(layer)
    flops = op.flops(layer)
    assert type(macs) is int and macs >= 0
    assert set(flops) <= set(FLOP_CATEGORIES)
    assert all(type(v) is int and v >= 0 for v in flops.values())
    got = {"p": p.total, "b": p.buffers, "m": macs, "f": sum(flops.values())}
    for fig, value in got.items():
        assert (value > 0) == (fig in nonzero), f"{name}: {fig} = {value}"
    if macs:  # a MAC is a multiply and an add: at least 2 FLOPs each
        assert sum(flops.values()) >= 2 * macs
    ws = op.warnings(layer)
    assert isinstance(ws, list) and all(isinstance(w, str) for w in ws)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_op_implements_every_part(name: str) -> None:
    """Every required part of the protocol is the op's own; every part is callable."""
    cls = REGISTRY[name]
    assert missing_parts(cls) == []
    for part in REQUIRED_PARTS + OPTIONAL_PARTS:
        assert callable(getattr(cls, part)), f"{name}.{part}"
    assert isinstance(cls.fresh_output, bool) and isinstance(cls.inplace_ok, bool)


@pytest.mark.parametrize(("name", "number"), CASES, ids=IDS)
def test_every_part_answers(name: str, number: int) -> None:
    """The parts explain and the torch build call answer with their declared types."""
    op, ins, _ = make(name, number)
    layer = op.resolve(ins)
    steps = op.explain(layer)
    assert steps and all(isinstance(s, Step) for s in steps)
    window = op.window(layer)
    assert window is None or isinstance(window, Window)
    for batch, training in ((1, True), (1, False), (8, True)):
        why = op.torch_refusal(layer, batch, training)
        assert why is None or (isinstance(why, str) and why)


def test_register_refuses_a_name_taken() -> None:
    """A second class under a registered name is refused, the first one kept."""
    first = REGISTRY["dropout"]
    cls = type("Again", (first,), {"samples": first.samples})
    with pytest.raises(RuntimeError, match="'dropout' registered twice"):
        register(cls)
    assert REGISTRY["dropout"] is first


@pytest.mark.parametrize("part", REQUIRED_PARTS)
def test_register_refuses_an_op_missing_a_part(part: str) -> None:
    figures = {p: (lambda self, *a: None) for p in REQUIRED_PARTS if p != part}
    cls = type("Half", (Op,), {"name": "half_op", "family": "merge", "summary": "x", **figures})
    with pytest.raises(RuntimeError, match=part):
        register(cls)
    assert "half_op" not in REGISTRY


@pytest.mark.parametrize(("name", "number"), CASES, ids=IDS)
def test_receptive_field_step(name: str, number: int) -> None:
    op, ins, _ = make(name, number)
    layer = op.resolve(ins)
    steps = op.rf_inputs(layer) if len(ins) > 1 else [op.rf(layer)]
    reads = op.reads(layer)
    assert len(steps) == len(ins) == len(reads) and all(type(r) is bool for r in reads)
    for x, step, read in zip(ins, steps, reads):
        if not read:  # only its shape is used (upsample's reference input)
            continue
        if rf_is_none(name) or len(x) == 1:  # a vector has no spatial layout
            assert step is None
            continue
        if step is None:
            assert rf_may_be_none(name), f"{name}: rf() is None, its rf formula says otherwise"
            continue
        assert isinstance(step, RFStep)
        assert len(step.span) == len(step.factor) == len(step.offset) == len(x) - 1
        assert all(s >= 0 for s in step.span) and all(f > 0 for f in step.factor)


@pytest.mark.parametrize(("name", "number"), CASES, ids=IDS)
def test_whole_path_through_yaml(name: str, number: int) -> None:
    """A spec using each op loads and analyses to the op's own figures (merges read the
    input and pooled / 1x1-conv'd copies of it with the sample's shapes)."""
    from helpers import sample_spec

    op, ins, _ = make(name, number)
    report = cnncalc.analyze(cnncalc.loads(sample_spec(name, number)))
    row = report.layers[-1]
    layer = op.resolve(ins)
    assert row.input_shapes == tuple(ins)
    assert row.output_shape == layer.out
    assert row.params == op.params(layer).total
    assert row.macs == op.macs(layer)
    assert row.flops == sum(op.flops(layer).values())


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_op_info(name: str) -> None:
    info = op_info(name)
    assert info["name"] == name and info["family"] == REGISTRY[name].family
    assert info["summary"] == REGISTRY[name].summary
    assert info["formulas"] == REGISTRY[name].formulas
    assert info["arity"][0] >= 1
    names = [a["name"] for a in info["args"]]
    assert len(names) == len(set(names))
    for a in info["args"]:
        assert set(a) == {"name", "type", "default", "required"}
        assert isinstance(a["type"], str) and a["type"]
        if a["required"]:
            assert a["default"] is None


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_arguments(name: str) -> None:
    """Every op of the spec-format op table exists with exactly the documented argument
    names (YAML spelling, e.g. `global`) and torch's defaults."""
    assert name in REGISTRY
    args = {a["name"]: a for a in op_info(name)["args"]}
    for arg, default in CONTRACT[name].items():
        assert arg in args, f"{name} lacks argument {arg!r} (has {sorted(args)})"
        if default is REQUIRED:
            assert args[arg]["required"], f"{name}.{arg} should be required"
        else:
            assert not args[arg]["required"] and args[arg]["default"] == default, (name, arg)


def test_activation_shorthand_names_are_ops() -> None:
    from typing import get_args

    from cnncalc.ops.types import ActName

    missing = [a for a in get_args(ActName) if a != "none" and a not in REGISTRY]
    assert not missing


def test_op_info_describes_types() -> None:
    args = {a["name"]: a for a in op_info("maxpool")["args"]}
    assert "global" in args and "global_" not in args
    assert args["k"]["type"] == "int > 0 | list[int > 0] (1-3 items) | none"
    conv = {a["name"]: a for a in op_info("conv")["args"]}
    assert "same" in conv["pad"]["type"] and "list[list[int >= 0] (2 items)]" in conv["pad"]["type"]
    assert op_info("dropout")["args"][0]["type"] == "float in [0, 1]"
    assert op_info("add")["arity"] == [2, None]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_docs_have_a_section_per_op(name: str) -> None:
    """docs/ops.md has a section for every op, stating the op's formulas as in the code."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "ops.md").read_text()
    head = f"### `{name}`\n"
    assert head in doc, f"docs/ops.md has no section for {name}"
    section = doc.split(head, 1)[1].split("\n### ", 1)[0]
    for fig, text in REGISTRY[name].formulas.items():
        assert f"**{fig}**: `{text}`" in section, f"docs/ops.md: {name} {fig} is stale"
    for arg in op_info(name)["args"]:
        assert f"| `{arg['name']}` |" in section, f"docs/ops.md: {name} lacks {arg['name']}"
