"""``upsample`` to a reference input's size (``in: [x, ref]``): values against torchvision's
``F.interpolate(x, size=ref.shape[-2:])``, FLOPs and the receptive field (the reference
adds nothing to it: only its shape is read), and the located errors."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import CnncalcError, ShapeError
from cnncalc.ops import get_op

torch = pytest.importorskip("torch")
F = torch.nn.functional

HEAD = """\
cnncalc: 1
input: [3, 33, 47]
layers:
  - {id: down, op: conv, out: 8, k: 3, stride: 4, pad: 1}
  - {id: deep, op: conv, out: 8, k: 3, stride: 2, pad: 1}
"""


def _report(layers: str) -> tuple[cnncalc.Network, cnncalc.Report]:
    spec = cnncalc.loads(HEAD + layers)
    return spec, cnncalc.analyze(spec)


@pytest.mark.parametrize(("mode", "corners"), [("nearest", None), ("bilinear", False),
                                                ("bilinear", True)])
def test_resize_to_the_input_is_torchvisions_interpolate(mode: str, corners: bool | None) -> None:
    extra = "" if corners is None else f", align_corners: {str(corners).lower()}"
    spec, report = _report(
        f"  - {{id: up, op: upsample, mode: {mode}{extra}, in: [deep, input]}}\n")
    row = report.layer("up")
    assert row.input_shapes == ((8, 5, 6), (3, 33, 47)) and row.output_shape == (8, 33, 47)
    corners_n = 0 if mode == "nearest" else 4
    assert row.flops == (2 * corners_n - 1) * 8 * 33 * 47 if corners_n else row.flops == 0
    model = cnncalc.build_torch(spec).eval()
    x = torch.randn(2, 3, 33, 47)
    with torch.no_grad():
        deep = model.layer("deep")(model.layer("down")(x))
        want = F.interpolate(deep, size=x.shape[-2:], mode=mode, align_corners=corners)
        torch.testing.assert_close(model(x), want)
    from cnncalc.pytorch.verify import verify

    assert verify(spec, report) == []


def test_reference_at_another_input_size() -> None:
    """The module reads the reference's size when it runs (torchvision's heads do), and
    the analysis re-resolves it for a new input."""
    spec, _ = _report("  - {id: up, op: upsample, mode: bilinear, in: [deep, input]}\n")
    report = cnncalc.analyze(spec, input_shape=(3, 64, 80))
    assert report.output_shape == (8, 64, 80)
    model = cnncalc.build_torch(spec).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 80)).shape == (1, 8, 64, 80)


def test_reference_adds_nothing_to_the_receptive_field() -> None:
    """The reference is a huge-field path (a global pool); the output's field is x's own
    upsampled field, and the network's field is still read at the end."""
    _, report = _report(
        "  - {id: gp, op: avgpool, global: true, in: input}\n"
        "  - {id: big, op: upsample, scale: 7, in: gp}\n"  # [3, 7, 7], whole-input field
        "  - {id: up, op: upsample, mode: bilinear, in: [deep, down]}\n"
        "  - {id: same, op: upsample, size: [9, 12], mode: bilinear, in: deep}\n")
    up, same = report.layer("up").receptive_field, report.layer("same").receptive_field
    assert report.layer("up").output_shape == report.layer("same").output_shape == (8, 9, 12)
    assert up == same  # as if resized to an explicit size: the reference is not read
    assert report.receptive_field_layer == "same"


def test_fpn_style_top_down_merge() -> None:
    """A feature pyramid's top-down step: upsample the coarse map to the lateral's size,
    add; figures and the built module agree with torch."""
    from cnncalc.pytorch.verify import verify

    spec, report = _report(
        "  - {id: lateral, op: conv, out: 8, k: 1, in: down}\n"
        "  - {id: top, op: upsample, in: [deep, lateral]}\n"
        "  - {id: merged, op: add, in: [lateral, top]}\n")
    assert report.layer("top").output_shape == report.layer("lateral").output_shape
    assert report.layer("top").flops == 0  # nearest
    assert verify(spec, report) == []
    model = cnncalc.build_torch(spec).eval()
    torch.fx.symbolic_trace(model)  # traceable: the size is read from the reference


def test_one_dimensional_and_three_dimensional_references() -> None:
    op = get_op("upsample").from_args({"mode": "linear"})
    assert op.resolve([(2, 5), (9, 13)]).out == (2, 13)
    op = get_op("upsample").from_args({"mode": "trilinear"})
    layer = op.resolve([(2, 2, 3, 3), (1, 4, 6, 5)])
    assert layer.out == (2, 4, 6, 5)
    assert op.flops(layer) == {"other": 15 * 2 * 4 * 6 * 5}
    from cnncalc.pytorch import modules as kit

    y = op.torch(layer, kit)(torch.randn(2, 2, 2, 3, 3), torch.randn(2, 1, 4, 6, 5))
    assert tuple(y.shape) == (2, *layer.out)


@pytest.mark.parametrize(("args", "ins", "message"), [
    ({"scale": 2}, [(3, 4, 4), (3, 8, 8)], "remove scale: 2"),
    ({"size": [8, 8]}, [(3, 4, 4), (3, 8, 8)], "remove size: [8, 8]"),
    ({}, [(3, 4, 4), (3, 8)], "has 1 spatial axis but x [3,4,4] has 2"),
    ({}, [(3, 4, 4)], "give one of scale (a factor) or size (the output size), or a reference"),
    ({"mode": "bilinear"}, [(3, 4), (3, 8)], "mode bilinear needs 2 spatial axes"),
])
def test_errors(args: dict, ins: list[tuple[int, ...]], message: str) -> None:
    with pytest.raises(ShapeError) as info:
        get_op("upsample").from_args(args).resolve(ins)
    assert message in info.value.message


def test_three_inputs_and_both_arguments_are_refused_located() -> None:
    for layers, message in [
        ("  - {op: upsample, in: [deep, down, input]}\n", "upsample takes 1 to 2 inputs, got 3"),
        ("  - {op: upsample, scale: 2, size: 4}\n", "give exactly one of scale"),
        ("  - {op: upsample, scale: 2, in: [deep, input]}\n", "remove scale: 2"),
    ]:
        with pytest.raises(CnncalcError) as info:
            cnncalc.analyze(cnncalc.loads(HEAD + layers))
        assert info.value.exit_code == 2 and info.value.loc is not None
        assert message in info.value.format(), info.value.format()


def test_explain_says_where_the_size_comes_from() -> None:
    op = get_op("upsample").from_args({"mode": "bilinear"})
    layer = op.resolve([(8, 9, 12), (3, 33, 47)])
    texts = [s.text() for s in op.explain(layer)]
    assert "33x47, the spatial size of input 1 (3x33x47), whose values are not read" in texts
