"""``slice``: ranges and torch.chunk pieces against torch itself (shapes, values, that the
module is a view), the receptive field of a spatial slice against backpropagation, and
the errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, ShapeError
from cnncalc.ops import get_op

torch = pytest.importorskip("torch")


def _built(args: dict, shape: tuple[int, ...]):  # type: ignore[no-untyped-def]
    from cnncalc.pytorch import modules as kit

    op = get_op("slice").from_args(args)
    layer = op.resolve([shape])
    return op, layer, op.torch(layer, kit)


@settings(max_examples=200)
@given(st.integers(1, 12), st.integers(1, 6), st.data())
def test_part_of_parts_is_torch_chunk(n: int, parts: int, data: st.DataObject) -> None:
    """Every piece torch.chunk returns is a part, with its values; any other part is an
    error naming how many pieces there are."""
    x = torch.randn(2, n, 3)
    pieces = torch.chunk(x, parts, dim=1)
    part = data.draw(st.integers(0, parts - 1))
    if part >= len(pieces):
        with pytest.raises(ShapeError, match=f"into {len(pieces)} piece"):
            _built({"part": part, "parts": parts}, (n, 3))
        return
    _, layer, module = _built({"part": part, "parts": parts}, (n, 3))
    assert (2, *layer.out) == tuple(pieces[part].shape)
    assert torch.equal(module(x), pieces[part])


@settings(max_examples=100)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.data())
def test_start_stop_is_python_slicing(shape: list[int], data: st.DataObject) -> None:
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    x = torch.randn(2, *shape)
    _, layer, module = _built({"start": start, "stop": stop, "axis": axis}, tuple(shape))
    index = (slice(None),) * (axis + 1) + (slice(start, stop),)
    want = x[index]
    got = module(x)
    assert (2, *layer.out) == tuple(want.shape) and torch.equal(got, want)
    assert got.data_ptr() == want.data_ptr()  # a view, as narrow is: nothing copied


def test_defaults_are_the_start_and_end_of_the_axis() -> None:
    op = get_op("slice")
    assert op.from_args({"stop": 3}).resolve([(8, 4, 4)]).out == (3, 4, 4)
    assert op.from_args({"start": 5}).resolve([(8, 4, 4)]).out == (3, 4, 4)
    assert op.from_args({"start": 1, "axis": 1}).resolve([(8, 4, 4)]).out == (8, 3, 4)


def test_shufflenet_channel_split() -> None:
    """ShuffleNetV2's stride-1 unit: x.chunk(2, dim=1), one half through the branch."""
    text = """\
cnncalc: 1
input: [116, 28, 28]
layers:
  - {id: x1, op: slice, part: 0, parts: 2}
  - {id: x2, op: slice, part: 1, parts: 2, in: input}
  - {id: b, op: conv, out: 58, k: 1, bias: false, bn: true, act: relu}
  - {id: cat, op: concat, in: [x1, b]}
  - {op: channel_shuffle, groups: 2}
"""
    from cnncalc.pytorch.verify import verify

    spec = cnncalc.loads(text)
    report = cnncalc.analyze(spec)
    assert report.layer("x1").output_shape == report.layer("x2").output_shape == (58, 28, 28)
    assert report.layer("x1").flops == report.layer("x1").params == 0
    assert report.output_shape == (116, 28, 28)
    assert verify(spec, report) == []


def test_spatial_slice_moves_the_field_start() -> None:
    """A conv after a width slice: the analysed field's centre is where backpropagation
    puts it (the slice's start shifts it by start * jump)."""
    text = """\
cnncalc: 1
input: [1, 20, 40]
layers:
  - {op: conv, out: 1, k: 3, stride: 2}
  - {op: slice, start: 5, stop: 15, axis: 2}
  - {op: conv, out: 1, k: 3}
"""
    spec = cnncalc.loads(text)
    rf = cnncalc.analyze(spec).layers[-1].receptive_field
    model = cnncalc.build_torch(spec).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.05)
    x = (torch.rand(1, 1, 20, 40) + 0.5).requires_grad_(True)
    y = model(x)
    unit = [n // 2 for n in y.shape[2:]]
    y[(0, 0, *unit)].backward()
    hit = (x.grad[0, 0] > 0).nonzero()
    lo, hi = hit.min(0).values.tolist(), hit.max(0).values.tolist()
    assert [h - lo_ + 1 for lo_, h in zip(lo, hi)] == [int(s) for s in rf.size]
    assert [(lo_ + h) / 2 for lo_, h in zip(lo, hi)] == [
        float(st_ + i * j) for st_, i, j in zip(rf.start, unit, rf.jump)]


def test_explain_shows_the_piece_arithmetic() -> None:
    op, layer, _ = _built({"part": 2, "parts": 3}, (10, 4, 4))
    texts = [s.text() for s in op.explain(layer)]
    assert "ceil(10 / 3) = 4" in texts
    assert any("8 to 9" in t for t in texts)
    assert layer.out == (2, 4, 4)


@pytest.mark.parametrize(("args", "shape", "message"), [
    ({"start": 0, "stop": 9}, (8, 4, 4), "stop 9 is past the end of axis 0 (channels)"),
    ({"start": 4, "axis": 1}, (8, 4, 4), "start 4 is outside axis 1 (height), which has 4"),
    ({"part": 2, "parts": 3}, (2, 4), "part 2 of 3 does not exist along axis 0 (channels)"),
    ({"stop": 1, "axis": 2}, (8, 4), "axis 2 is outside the input [8,4]"),
    ({"start": 0, "stop": 20}, (12,), "stop 20 is past the end of axis 0 (features)"),
])
def test_shape_errors(args: dict, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        get_op("slice").from_args(args).resolve([shape])


@pytest.mark.parametrize(("args", "message"), [
    ({}, "give start and/or stop"),
    ({"start": 1, "part": 0, "parts": 2}, "not both"),
    ({"stop": 2, "parts": 2}, "not both"),
    ({"part": 1}, "part and parts go together"),
    ({"part": 2, "parts": 2}, "part 2 is outside parts: 2"),
    ({"start": 3, "stop": 2}, "the slice is empty: stop 2 <= start 3"),
    ({"start": -1}, "start must be >= 0, got -1"),
    ({"parts": 0, "part": 0}, "parts must be > 0, got 0"),
])
def test_argument_errors_are_located(args: dict, message: str) -> None:
    import json

    text = f"cnncalc: 1\ninput: [8, 4, 4]\nlayers:\n  - {json.dumps({'op': 'slice', **args})}\n"
    with pytest.raises(CnncalcError) as info:
        cnncalc.analyze(cnncalc.loads(text))
    assert info.value.exit_code == 2 and info.value.loc is not None
    assert message in info.value.format()
