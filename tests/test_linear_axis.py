"""``linear`` with ``axis``: -1 (the last axis, ``nn.Linear``'s) or 0 (the channels at every
position, ConvNeXt's pointwise layers).  Oracles: a 1x1 convolution with the same weights
(numerically), plain ``nn.Linear`` applied channels-last, FlopCounterMode for the MACs,
and the warning for a ``linear`` on a map that does not say which axis it means."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.ops import get_op

HEAD = "cnncalc: 1\ninput: {shape}\nlayers:\n"


def spec(layers: str, shape: str = "[64, 7, 7]", extra: str = "") -> cnncalc.Network:
    return cnncalc.loads(f"cnncalc: 1\ninput: {shape}\n{extra}layers:\n{layers}")


# ----------------------------------------------------------------- the figures
@pytest.mark.parametrize("shape", [(4, 9), (6, 5, 3), (3, 2, 4, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_axis_0_is_a_1x1_conv(shape: tuple[int, ...], bias: bool) -> None:
    """Over the channels, linear's figures are a 1x1 conv's (same params, MACs, FLOPs,
    output shape), and its receptive field is unchanged."""
    lin = get_op("linear").from_args({"out": 7, "axis": 0, "bias": bias})
    conv = get_op("conv").from_args({"out": 7, "k": 1, "bias": bias})
    a, b = lin.resolve([shape]), conv.resolve([shape])
    assert a.out == b.out == (7, *shape[1:])
    assert lin.params(a) == conv.params(b)
    assert lin.macs(a) == conv.macs(b)
    assert sum(lin.flops(a).values()) == sum(conv.flops(b).values())
    step = lin.rf(a)
    assert step is not None and step.is_identity and len(step.span) == len(shape) - 1


def test_axis_minus_1_on_a_map_acts_on_the_width() -> None:
    op = get_op("linear").from_args({"out": 10, "axis": -1})
    layer = op.resolve([(64, 7, 5)])
    assert layer.out == (64, 7, 10)
    assert op.params(layer).total == 5 * 10 + 10
    assert op.macs(layer) == 64 * 7 * 5 * 10
    assert op.rf(layer) is None  # every column mixed
    assert op.warnings(layer) == []  # said on purpose


def test_axis_on_a_vector_is_the_same_layer() -> None:
    for axis in (-1, 0):
        op = get_op("linear").from_args({"out": 10, "axis": axis})
        layer = op.resolve([(20,)])
        assert layer.out == (10,) and op.params(layer).total == 210 and op.rf(layer) is None


def test_receptive_field_passes_through_axis_0() -> None:
    """conv 3x3 -> linear axis 0 -> conv 3x3 has the receptive field of two 3x3 convs."""
    layers = ("  - {op: conv, out: 8, k: 3}\n  - {op: linear, out: 16, axis: 0}\n"
              "  - {op: conv, out: 8, k: 3}\n")
    report = cnncalc.analyze(spec(layers, "[3, 16, 16]"))
    assert report.receptive_field is not None and report.receptive_field.size == (5, 5)
    assert report.receptive_field_layer == report.layers[-1].id


# ----------------------------------------------------------------- torch
@pytest.mark.parametrize("shape", [(4, 9), (6, 5, 3), (3, 2, 4, 5)])
def test_channel_linear_equals_a_1x1_conv_numerically(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    from cnncalc.pytorch import modules as kit

    op = get_op("linear").from_args({"out": 7, "axis": 0})
    layer = op.resolve([shape])
    torch.manual_seed(0)
    module = op.torch(layer, kit).eval()
    assert type(module.linear) is torch.nn.Linear  # a plain torch layer: peers count it
    assert set(module.state_dict()) == {"linear.weight", "linear.bias"}
    conv = getattr(torch.nn.functional, f"conv{len(shape) - 1}d")
    x = torch.randn(2, *shape)
    weight = module.linear.weight.reshape(7, shape[0], *(1,) * (len(shape) - 1))
    with torch.no_grad():
        assert torch.allclose(module(x), conv(x, weight, module.linear.bias), atol=1e-6)


def test_axis_0_with_bn_and_act_shorthand_builds_and_counts() -> None:
    """The `bn` shorthand after `linear axis: 0` normalises the `out` channels (a
    BatchNorm2d of `out`), and the built model has the analysis' parameter count."""
    torch = pytest.importorskip("torch")
    net = spec("  - {id: pw, op: linear, out: 32, axis: 0, bn: true, act: gelu}\n")
    report = cnncalc.analyze(net)
    bn = report.layer("pw.bn")
    assert bn.output_shape == (32, 7, 7)
    assert (bn.params, bn.buffers) == (2 * 32, 2 * 32 + 1)
    assert report.layer("pw").params == 64 * 32 + 32
    model = cnncalc.build_torch(net).eval()
    assert isinstance(model.get_submodule("pw.bn"), torch.nn.BatchNorm2d)
    assert model.get_submodule("pw.bn").num_features == 32
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(b.numel() for b in model.buffers()) == report.totals.buffers
    with torch.no_grad():
        y = model(torch.randn(2, 64, 7, 7))
    assert tuple(y.shape) == (2, *report.output_shape)


def test_state_dict_keys_follow_the_layer_id() -> None:
    pytest.importorskip("torch")
    net = spec("  - {id: pwconv1, op: linear, out: 16, axis: 0}\n")
    assert set(cnncalc.build_torch(net).state_dict()) == {"pwconv1.linear.weight",
                                                          "pwconv1.linear.bias"}


# ----------------------------------------------------------------- the warning
def test_linear_on_a_map_without_axis_warns() -> None:
    report = cnncalc.analyze(spec("  - {id: fc, op: linear, out: 10}\n"))
    assert report.warnings == (
        "fc: linear on [64, 7, 7] acts on the last axis (width, 7); write axis: -1 to mean it, "
        "axis: 0 for the channels, or flatten first",)
    assert report.output_shape == (64, 7, 10)  # the figures are nn.Linear's all the same


@pytest.mark.parametrize("shape, last", [("[8, 30]", "length, 30"),
                                         ("[3, 4, 5, 6]", "width, 6")])
def test_the_warning_names_the_last_axis_at_every_rank(shape: str, last: str) -> None:
    report = cnncalc.analyze(spec("  - {id: fc, op: linear, out: 10}\n", shape))
    assert len(report.warnings) == 1 and f"acts on the last axis ({last})" in report.warnings[0]


@pytest.mark.parametrize("layers", [
    "  - {op: linear, out: 10, axis: -1}\n",
    "  - {op: linear, out: 10, axis: 0}\n",
    "  - flatten\n  - {op: linear, out: 10}\n",
])
def test_no_warning_when_the_axis_is_said_or_the_input_is_a_vector(layers: str) -> None:
    assert cnncalc.analyze(spec(layers)).warnings == ()


def test_defaults_may_say_the_axis() -> None:
    net = spec("  - {op: linear, out: 10}\n", extra="defaults: {linear: {axis: 0}}\n")
    report = cnncalc.analyze(net)
    assert report.warnings == () and report.output_shape == (10, 7, 7)


def test_check_refuses_the_unsaid_axis_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "head.yaml"
    path.write_text(HEAD.format(shape="[64, 7, 7]") + "  - {id: fc, op: linear, out: 10}\n")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code in (1, 2), result.output
    assert "acts on the last axis (width, 7)" in result.output
    result = CliRunner().invoke(app, ["shapes", str(path), "--strict"])
    assert result.exit_code == 2 and result.stderr.startswith(f"{path}:4:5: error: fc: linear on")
    assert "do what the warning says" in result.stderr


def test_explain_axis_0_writes_the_positions_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pw.yaml"
    path.write_text(HEAD.format(shape="[64, 7, 7]")
                    + "  - {id: pw, op: linear, out: 32, axis: 0}\n")
    result = CliRunner().invoke(app, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "output shape 32, 7, 7 = 32x7x7" in text
    assert "params 64 x 32 + 32 = 2,080 C x out + out" in text
    assert "MACs 49 x 64 x 32 = 100,352" in text
    assert "receptive field unchanged" in text
