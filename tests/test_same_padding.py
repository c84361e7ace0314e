"""``pad: same_upper`` and ``pad: same_lower`` (and ``same`` = ``same_lower``).

Oracles: torch's own ``padding='same'`` at stride 1 (the same output shape, and the same
numbers for a conv built with ``same_upper`` and torch's conv sharing its weights), and
TensorFlow's SAME rule at any stride as a property test (the rule written out from TF's
documentation, ``pad_before = total // 2``, against ``resolve_padding`` and against an
explicit ``F.pad`` + conv run by torch).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.ops import get_op
from cnncalc.ops.base import resolve_padding

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn


def tf_same(n: int, k_eff: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (tf.nn.convolution's documentation): ``ceil(n / s)``
    outputs; the total split with the smaller half first."""
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def built(args: dict, shape: tuple[int, ...]) -> tuple[nn.Module, tuple[int, ...]]:
    from cnncalc.pytorch import modules as kit

    op = get_op("conv").from_args(args)
    layer = op.resolve([shape])
    return op.torch(layer, kit).eval(), layer.out


# ------------------------------------------------------------- the resolved pairs
@pytest.mark.parametrize(("n", "k", "s", "lower", "upper"), [
    (8, 4, 1, (2, 1), (1, 2)),    # odd total 3 at stride 1
    (8, 3, 1, (1, 1), (1, 1)),    # even total: the forms agree
    (224, 3, 2, (1, 0), (0, 1)),  # TF's stride-2 stem: total 1
    (7, 1, 2, (0, 0), (0, 0)),    # no padding needed
    (6, 2, 1, (1, 0), (0, 1)),
])
def test_the_forms_split_an_odd_total_on_opposite_sides(n: int, k: int, s: int,
                                                        lower: tuple[int, int],
                                                        upper: tuple[int, int]) -> None:
    assert resolve_padding("same", (n,), (k,), (s,)) == (lower,)
    assert resolve_padding("same_lower", (n,), (k,), (s,)) == (lower,)
    assert resolve_padding("same_upper", (n,), (k,), (s,)) == (upper,)


# ------------------------------------------------------------- stride 1: torch
@pytest.mark.parametrize(("shape", "k", "dilation"), [
    ((3, 8, 8), 4, 1), ((3, 9, 7), [2, 4], 1), ((2, 12, 10), 2, [3, 1]), ((2, 11), 6, 1),
    ((2, 5, 6, 7), [2, 3, 4], 1), ((3, 8, 8), 3, 1),
])
def test_same_upper_is_torchs_padding_same_numerically(shape: tuple[int, ...], k, dilation
                                                       ) -> None:  # type: ignore[no-untyped-def]
    """A conv built with same_upper and torch's ``padding='same'`` conv with its weights
    give the same tensor (odd totals included)."""
    torch.manual_seed(0)
    ours, out = built({"out": 4, "k": k, "dilation": dilation, "pad": "same_upper"}, shape)
    rank = len(shape) - 1
    ref = getattr(nn, f"Conv{rank}d")(shape[0], 4, k, padding="same", dilation=dilation).eval()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        mine, theirs = ours(x), ref(x)
    assert tuple(mine.shape) == tuple(theirs.shape) == (2, *out)
    assert torch.allclose(mine, theirs, atol=1e-5)


def test_same_lower_differs_from_torch_on_an_odd_total_and_pads_leading() -> None:
    """The test above can fail: with the extra row leading the numbers differ from
    torch's 'same', and equal an explicit F.pad with the extra row first."""
    torch.manual_seed(0)
    ours, _ = built({"out": 2, "k": 4, "pad": "same_lower"}, (1, 8, 8))
    ref = nn.Conv2d(1, 2, 4, padding="same").eval()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(1, 1, 8, 8)
    with torch.no_grad():
        assert not torch.allclose(ours(x), ref(x), atol=1e-3)
        lead = F.conv2d(F.pad(x, (2, 1, 2, 1)), ref.weight, ref.bias)
        assert torch.allclose(ours(x), lead, atol=1e-5)


# ------------------------------------------------------------- any stride: TF's rule
@settings(max_examples=60, deadline=None)
@given(n=st.lists(st.integers(1, 40), min_size=1, max_size=2),
       k=st.integers(1, 7), d=st.integers(1, 3), s=st.integers(1, 4))
def test_same_upper_is_tensorflows_same_at_any_stride(n: list[int], k: int, d: int, s: int
                                                      ) -> None:
    """The rule in letters, resolve_padding, and torch running an explicit F.pad + conv
    of TF's pads with our weights: one output of ceil(n / s) per axis, the same numbers."""
    k_eff = d * (k - 1) + 1
    pairs = resolve_padding("same_upper", tuple(n), (k_eff,) * len(n), (s,) * len(n))
    assert pairs == tuple(tf_same(size, k_eff, s) for size in n)
    shape = (2, *n)
    torch.manual_seed(0)
    ours, out = built({"out": 3, "k": k, "dilation": d, "stride": s, "pad": "same_upper"},
                      shape)
    assert out[1:] == tuple(-(-size // s) for size in n)
    conv = F.conv1d if len(n) == 1 else F.conv2d
    flat = tuple(v for pair in reversed(pairs) for v in pair)  # F.pad's last-axis-first order
    weight, bias = ours.state_dict()["weight"], ours.state_dict()["bias"]
    x = torch.randn(1, *shape)
    with torch.no_grad():
        mine = ours(x)
        theirs = conv(F.pad(x, flat), weight, bias, stride=s, dilation=d)
    assert tuple(mine.shape) == tuple(theirs.shape) == (1, *out)
    assert torch.allclose(mine, theirs, atol=1e-5)


# ------------------------------------------------------------- through a spec
def spec(pad: str, op: str = "conv") -> cnncalc.Network:
    return cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n"
                         f"  - {{id: c, op: {op}, out: 4, k: 4, pad: {pad}}}\n")


def test_receptive_field_start_follows_the_leading_pad() -> None:
    """A 4x4 kernel on 8x8: same/same_lower pad 2 before (start -1/2), same_upper 1
    before (start +1/2); size and jump agree."""
    starts = {}
    for pad in ("same", "same_lower", "same_upper"):
        rf = cnncalc.analyze(spec(pad)).receptive_field
        assert rf is not None and rf.size == (4, 4) and rf.jump == (1, 1)
        starts[pad] = rf.start
    assert starts["same"] == starts["same_lower"] == (-0.5, -0.5)
    assert starts["same_upper"] == (0.5, 0.5)


@pytest.mark.parametrize("op", ["conv", "local"])
def test_figures_agree_across_the_forms(op: str) -> None:
    reports = [cnncalc.analyze(spec(pad, op)) for pad in ("same", "same_lower", "same_upper")]
    assert {r.output_shape for r in reports} == {(4, 8, 8)}
    assert len({(r.totals.params, r.totals.macs, r.totals.flops) for r in reports}) == 1


def test_local_same_upper_builds_with_the_trailing_pad() -> None:
    net = spec("same_upper", "local")
    model = cnncalc.build_torch(net).eval()
    report = cnncalc.analyze(net)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    with torch.no_grad():
        assert tuple(model(torch.randn(2, 3, 8, 8)).shape) == (2, 4, 8, 8)
    assert model.get_submodule("c").pre_pad == (1, 2, 1, 2)


def test_explain_writes_the_total_and_its_split() -> None:
    from cnncalc.explain import explain_network

    (layer,) = explain_network(spec("same_upper"))
    steps = {s.label: s for s in layer.steps}
    total, split = steps["pad total height, width"], steps["pad split height, width"]
    assert total.text() == "(ceil(8/1) - 1)*1 + 4 - 8 = 3"
    assert split.result == "1 before, 2 after (same_upper: the odd one trailing)"
    (layer,) = explain_network(spec("same"))
    assert {s.label: s for s in layer.steps}["pad split height, width"].result == (
        "2 before, 1 after (same: the odd one leading)")
    (layer,) = explain_network(spec("1"))
    assert not any(s.label.startswith("pad ") for s in layer.steps)
