"""Broadcasting ``add`` and ``mul``: shapes against ``torch.broadcast_shapes`` (hypothesis),
the modules cnncalc builds against torch, squeeze-excitation's figures and receptive field,
``add project: auto`` with a broadcast input, and the located mismatch errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, ShapeError
from cnncalc.ops import get_op

torch = pytest.importorskip("torch")

SE = """\
cnncalc: 1
input: [3, 24, 24]
blocks:
  se:
    args: {channels: int}
    layers:
      - {id: pool, op: avgpool, global: true}
      - {id: fc1, op: conv, out: 4, k: 1, act: relu}
      - {id: fc2, op: conv, out: $channels, k: 1, act: sigmoid}
      - {id: scale, op: mul, in: [input, fc2]}
layers:
  - {id: c1, op: conv, out: 8, k: 3, stride: 2, pad: 1}
  - {id: se1, op: se, channels: 8}
  - {id: c2, op: conv, out: 8, k: 3, pad: 1}
"""


def net(text: str) -> cnncalc.Network:
    return cnncalc.loads(text)


# ------------------------------------------------------------ shapes, against torch
@st.composite
def same_rank_shapes(draw: st.DrawFn) -> list[tuple[int, ...]]:
    """2 to 4 shapes of one rank (1 to 4 axes), sizes 1 to 4, often broadcastable."""
    rank = draw(st.integers(1, 4))
    full = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    n = draw(st.integers(2, 4))
    shapes = []
    for _ in range(n):
        shape = [draw(st.sampled_from([d, 1, d, draw(st.integers(1, 4))])) for d in full]
        shapes.append(tuple(shape))
    return shapes


@settings(max_examples=300)
@given(same_rank_shapes(), st.sampled_from(["add", "mul"]))
def test_broadcast_shape_is_torchs(shapes: list[tuple[int, ...]], name: str) -> None:
    op = get_op(name).from_args({})
    try:
        want = tuple(torch.broadcast_shapes(*((2, *s) for s in shapes)))
    except RuntimeError:
        with pytest.raises(ShapeError, match="do not broadcast: axis"):
            op.resolve(shapes)
        return
    layer = op.resolve(shapes)
    assert (2, *layer.out) == want
    flops = {k: v for k, v in op.flops(layer).items() if v}
    assert flops == {"merge": (len(shapes) - 1) * torch.Size(want[1:]).numel()}


@settings(max_examples=50)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=4), st.integers(1, 3))
def test_ranks_must_be_equal_though_torch_would_add_axes(shape: list[int], cut: int) -> None:
    """torch lines shapes up from the right and adds axes; cnncalc refuses, since a [C]
    vector against a [C, H, W] map would pair the channels with the width."""
    longer = tuple(shape)
    short = longer[min(cut, len(longer) - 1):]
    torch.broadcast_shapes(longer, short)  # torch accepts a suffix
    with pytest.raises(ShapeError, match="differ in rank") as info:
        get_op("mul").from_args({}).resolve([longer, short])
    assert "broadcasting adds no axis" in info.value.message


@settings(max_examples=25)
@given(same_rank_shapes().filter(lambda s: len(s[0]) > 1), st.sampled_from(["add", "mul"]))
def test_built_module_broadcasts_as_analysed(shapes: list[tuple[int, ...]], name: str) -> None:
    """The module cnncalc builds runs on the shapes the analysis accepts, to its output."""
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.pytorch import modules as kit

    op = get_op(name).from_args({})
    try:
        layer = op.resolve(shapes)
    except ShapeError:
        return
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = op.torch(layer, kit)(*(torch.randn(2, *s) for s in shapes))
    assert tuple(y.shape) == (2, *layer.out)
    assert counter.get_total_flops() == 0 == op.macs(layer)


def test_mul_computes_the_broadcast_product() -> None:
    from cnncalc.pytorch import modules as kit

    op = get_op("mul").from_args({})
    layer = op.resolve([(4, 5, 6), (4, 1, 1), (1, 5, 1)])
    a, b, c = torch.randn(2, 4, 5, 6), torch.rand(2, 4, 1, 1), torch.rand(2, 1, 5, 1)
    torch.testing.assert_close(op.torch(layer, kit)(a, b, c), a * b * c)


# ------------------------------------------------------------ squeeze-excitation
def test_se_block_figures_match_torch() -> None:
    from cnncalc.pytorch.verify import verify

    spec = net(SE)
    report = cnncalc.analyze(spec)
    scale = report.layer("se1.scale")
    assert scale.input_shapes == ((8, 12, 12), (8, 1, 1))
    assert scale.output_shape == (8, 12, 12)
    assert scale.flops_breakdown == {"merge": 8 * 12 * 12} and scale.macs == 0
    assert verify(spec, report) == []
    model = cnncalc.build_torch(spec).eval()
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert model(torch.randn(2, 3, 24, 24)).shape == (2, 8, 12, 12)


def test_se_gate_gives_every_unit_the_whole_input() -> None:
    """Backpropagation from one unit after the gate reaches every input pixel: the field
    the analysis carries covers the input, the positions keep the map's jump, and the
    network's receptive field is read before the gate's global pool."""
    spec = net(SE)
    report = cnncalc.analyze(spec)
    c1, scale, c2 = (report.layer(i).receptive_field for i in ("c1", "se1.scale", "c2"))
    assert all(s >= 24 for s in scale.size)  # the whole 24x24 input
    assert scale.jump == c1.jump == (2, 2) and scale.start == c1.start
    assert not scale.aligned
    assert c2.size == tuple(s + 2 * 2 for s in scale.size)  # a 3x3 conv at jump 2
    assert report.receptive_field_layer == "c1" and report.receptive_field.size == (3, 3)

    model = cnncalc.build_torch(spec).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.05)
    x = (torch.rand(1, 3, 24, 24) + 0.5).requires_grad_(True)
    model(x)[0, 0, 6, 6].backward()
    assert bool((x.grad[0].abs().sum(0) > 0).all())


# ------------------------------------------------------------ add with project: auto
def test_add_projects_only_what_does_not_broadcast() -> None:
    from cnncalc.pytorch.verify import verify

    spec = net("""\
cnncalc: 1
input: [8, 8, 8]
layers:
  - {id: main, op: conv, out: 16, k: 3, stride: 2, pad: 1}
  - {id: pool, op: avgpool, global: true, in: main}
  - {id: sum, op: add, in: [input, pool, main], project: auto}
""")
    report = cnncalc.analyze(spec)
    row = report.layer("sum")
    assert row.output_shape == (16, 4, 4)
    assert row.params == 8 * 16 + 2 * 16 and row.buffers == 2 * 16 + 1  # input 0 only
    assert row.macs == 8 * 16 * 4 * 4
    assert row.flops_breakdown["merge"] == 2 * 16 * 4 * 4
    assert verify(spec, report) == []
    module = cnncalc.build_torch(spec).layer("sum")
    assert sum(p.numel() for p in module.parameters()) == row.params


def test_add_projection_onto_a_last_input_smaller_than_the_output() -> None:
    """The projection maps onto the last input's shape; another input broadcasts it."""
    op = get_op("add").from_args({"project": "auto"})
    layer = op.resolve([(4, 6, 6), (8, 3, 3), (8, 1, 1)])
    assert layer.out == (8, 3, 3) and layer.geo == [(4, (6, 6)), None, None]
    assert op.macs(layer) == 4 * 8 * 1 * 1
    assert op.flops(layer)["norm"] == 2 * 8
    from cnncalc.pytorch import modules as kit

    y = op.torch(layer, kit).eval()(torch.randn(2, 4, 6, 6), torch.randn(2, 8, 3, 3),
                                   torch.randn(2, 8, 1, 1))
    assert tuple(y.shape) == (2, *layer.out)
    assert op.params(layer).trainable == 4 * 8 + 2 * 8


# ------------------------------------------------------------ errors
@pytest.mark.parametrize(("ins", "message"), [
    ([(64, 16, 16), (32, 1, 1)], "axis 0 (channels) is 64 in input 0 and 32 in input 1"),
    ([(4, 1, 4), (4, 5, 4), (4, 5, 3)], "axis 2 (width) is 4 in input 0 and 3 in input 2"),
    ([(2, 7), (2, 6)], "axis 1 (length) is 7 in input 0 and 6 in input 1"),
    ([(1, 2, 3, 4), (1, 3, 3, 4)], "axis 1 (depth) is 2 in input 0 and 3 in input 1"),
    ([(10,), (12,)], "axis 0 (features) is 10 in input 0 and 12 in input 1"),
])
def test_mismatch_names_axis_and_inputs(ins: list[tuple[int, ...]], message: str) -> None:
    for name in ("add", "mul"):
        with pytest.raises(ShapeError) as info:
            get_op(name).from_args({}).resolve(ins)
        assert info.value.message == (f"{name} inputs do not broadcast: {message}; shapes "
                                      "broadcast when each axis is equal or 1")


def test_mismatch_in_a_spec_is_located_exit_2() -> None:
    text = SE.replace("out: $channels", "out: 6")
    with pytest.raises(CnncalcError) as info:
        cnncalc.analyze(net(text))
    err = info.value
    assert err.exit_code == 2 and err.loc is not None and err.layer == "se1.scale"
    assert "axis 0 (channels) is 8 in input 0 and 6 in input 1" in err.message


def test_explain_names_the_broadcast_axes() -> None:
    op = get_op("mul").from_args({})
    layer = op.resolve([(8, 12, 12), (8, 1, 1)])
    texts = [s.text() for s in op.explain(layer)]
    assert "input 1 (8x1x1) is repeated along axis 1 (height), axis 2 (width)" in texts
    same = op.resolve([(8, 12, 12), (8, 12, 12)])
    assert not [s for s in op.explain(same) if s.label == "broadcast"]
    add = get_op("add").from_args({"project": "auto"})
    layer = add.resolve([(4, 8, 8), (1, 4, 4), (8, 4, 4)])
    labels = [s.label for s in add.explain(layer)]
    assert labels.count("broadcast") == 1 and labels.count("projection") == 1
