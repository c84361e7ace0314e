"""The expression language: numbers, floats, rounding, make_divisible, comparisons,
booleans, if-else; input-shape names; conditional entries; and their errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, LimitError, SpecError
from cnncalc.spec import parse_network
from cnncalc.spec.expr import MAX_DIGITS, evaluate, make_divisible


def reference_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, copied from torchvision 0.28.0's source
    (the oracle when torchvision cannot be imported; see test_make_divisible_is_torchvisions)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def torchvision_make_divisible() -> Any:
    """torchvision's own function (imported by the oracle's trick), or skip."""
    from torchvision_oracle import torchvision_models

    return torchvision_models()._utils._make_divisible


def value(text: str, **scope: Any) -> Any:
    return evaluate(text, scope)


def error(text: str, **scope: Any) -> CnncalcError:
    with pytest.raises(CnncalcError) as info:
        evaluate(text, scope)
    return info.value


# ------------------------------------------------------------------ arithmetic
@pytest.mark.parametrize("text, expected", [
    ("7 / 2", 3.5), ("6 / 3", 2.0), ("1.5 * 2", 3.0), ("1e-3 * 1000", 1.0),
    ("2 ** 10", 1024), ("2 ** 0.5", 2 ** 0.5), ("4.0 ** 2", 16.0), ("7 // 2", 3),
    ("-7 // 2", -4), ("7.5 // 2", 3.0), ("-7 % 3", 2), ("(1 + 2) * 3", 9), ("+3", 3),
])
def test_arithmetic_is_pythons(text: str, expected: Any) -> None:
    got = value(text)
    assert got == expected and type(got) is type(expected)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_round_ceil_floor_int_are_pythons(x: float) -> None:
    assert value("round(x)", x=x) == round(x)  # half to even, as torchvision's int(round())
    assert value("ceil(x)", x=x) == math.ceil(x)
    assert value("floor(x)", x=x) == math.floor(x)
    assert value("int(x)", x=x) == int(x)  # toward zero
    assert all(type(value(f"{f}(x)", x=x)) is int for f in ("round", "ceil", "floor", "int"))


@pytest.mark.parametrize("x, rounded", [(0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2)])
def test_round_is_half_to_even(x: float, rounded: int) -> None:
    assert value("round(x)", x=x) == rounded


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False),
       st.integers(min_value=1, max_value=64),
       st.none() | st.integers(min_value=0, max_value=512))
def test_make_divisible_is_the_reference(v: float, divisor: int, least: int | None) -> None:
    want = reference_make_divisible(v, divisor, least)
    scope = {"v": v, "d": divisor, "m": least}
    text = "make_divisible(v, d)" if least is None else "make_divisible(v, d, m)"
    assert evaluate(text, scope) == want == make_divisible(v, divisor, least)


def test_make_divisible_is_torchvisions() -> None:
    theirs = torchvision_make_divisible()
    widths = [0.25, 0.35, 0.5, 0.75, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2]
    for width in widths:
        for channels in (3, 8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 160, 192, 320, 960, 1280):
            for divisor in (1, 4, 8, 16):
                v = channels * width
                got = value("make_divisible(c * w, d)", c=channels, w=width, d=divisor)
                assert got == theirs(v, divisor), (channels, width, divisor)
                assert value("make_divisible(c * w, d, 16)", c=channels, w=width, d=divisor) \
                    == theirs(v, divisor, 16)


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-50, 50))
def test_comparisons_and_booleans_are_pythons(a: int, b: int, c: int) -> None:
    scope = {"a": a, "b": b, "c": c}
    for text in ("a < b", "a <= b < c", "a == b", "a != b", "a > b >= c",
                 "a < b and b < c", "a < b or not b < c", "a if a > b else b",
                 "(a if c > 0 else b) * 2", "max(a, b, c) - min(a, b)"):
        assert evaluate(text, scope) == eval(text, {}, dict(scope)), text  # (the oracle)


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("True", True), ("False", False),
    ("not false", True), ("true and false", False), ("false or true", True),
    ("1 < 2 < 3", True), ("3 > 2 > 2", False), ("2.0 == 2", True),
    ("false and 1 // 0 == 0", False), ("true or 1 // 0 == 0", True),  # short-circuit
    ("1 if true else 1 // 0", 1),
])
def test_boolean_values(text: str, expected: Any) -> None:
    got = value(text)
    assert got == expected and type(got) is type(expected)


# -------------------------------------------------------------------- refusals
@pytest.mark.parametrize("text, message", [
    ("1 / 0", "division by zero"), ("1 // 0.0", "division by zero"), ("5 % 0", "division by zero"),
    ("0.0 ** -1.0", "division by zero"),
    ("2 ** -1", "** needs a non-negative integer exponent or a float"),
    ("(-8) ** 0.5", "a negative number to a fractional power"),
    ("1e999", "too large for a float"),
    ("1e59 / 1e-300", "not a finite number"),
    ("3 if 1 else 4", "the condition of if-else must be true or false, got an integer (1)"),
    ("not 3", "the operand of not must be true or false, got an integer (3)"),
    ("1 and true", "each side of and must be true or false, got an integer (1)"),
    ("true + 1", "the operator + needs a number, got a boolean (true)"),
    ("true < 2", "the comparison < needs a number, got a boolean (true)"),
    ("true == 1", "== compares like with like"),
    ("ciel(2.5)", "calling ciel() is not allowed in expressions (the functions are min, max, "
                  "round, ceil, floor, int, make_divisible, len); did you mean 'ceil'?"),
    ("abs(-2)", "calling abs() is not allowed"),
    ("round(2.5, 1)", "round() takes 1 argument, got 2"),
    ("round(x=2.5)", "round() takes no keyword arguments"),
    ("make_divisible(10)", "make_divisible() takes 2 to 3 arguments, got 1"),
    ("make_divisible(10, 0)", "divisor must be a positive integer"),
    ("make_divisible(10, 2.0)", "divisor must be a positive integer, got a float (2.0)"),
    ("make_divisible(10, 8, 1.5)", "min_value must be an integer"),
    ("1 << 2", "the operator << is not allowed"),
    ("1 in 2", "the comparison 'in' is not allowed"),
    ("1 is 1", "the comparison 'is' is not allowed"),
    ("[1] < [2]", "a list display is not allowed"),
    ("widths < widths", "'widths' is a list ([1, 2]); arithmetic needs a number"),
    ("widths[0]", "indexing (a[i]) is not allowed"),
    ("len(widths)", "len() takes one of in_shape, input_shape"),
    ("min(*widths)", "unpacking (*) in min()"),
    ("'a' == 'a'", "the string literal 'a' is not allowed"),
    ("None", "the NoneType literal None is not allowed"),
])
def test_bad_expressions_are_refused_with_a_reason(text: str, message: str) -> None:
    err = error(text, widths=[1, 2])
    assert isinstance(err, SpecError) and message in err.message, err.message


@pytest.mark.parametrize("text", [
    "2 ** 10000", "10 ** 60", "10.0 ** 400", "1e308 * 10", "1e59 * 1e59", "9 ** 9 ** 9",
    "10 ** 59 * 10", "2.0 ** 1000", "1e60", "-1e60", "ceil(1e60)",
])
def test_values_past_the_digit_limit_are_refused_before_they_cost(text: str) -> None:
    err = error(text)
    assert isinstance(err, LimitError) and f"more than {MAX_DIGITS} digits" in err.message


def test_a_float_argument_where_an_integer_is_needed_says_round_it() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {w: 1.5}\n'
            'layers:\n  - {op: conv, out: "${64 * w}", k: 3}\n')
    with pytest.raises(SpecError) as info:
        parse_network(text.encode(), "f.yaml")
    err = info.value
    assert err.message == "out must be an integer, got float 96.0"
    assert (err.loc.line, err.loc.col) == (5, 21)
    assert any("round(" in h for h in err.hints)


def test_floats_rounded_in_a_spec_give_torchvisions_widths() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {w: 1.4}\n'
            'layers:\n  - {op: conv, out: "${make_divisible(32 * w, 8)}", k: 3}\n'
            '  - {op: conv, out: "${int(round(24 * w))}", k: 1}\n'
            '  - {op: dropout, p: "${0.1 * 2}"}\n')
    report = cnncalc.analyze(parse_network(text.encode(), "f.yaml"))
    assert [r.output_shape[0] for r in report.layers[:2]] == \
        [reference_make_divisible(32 * 1.4, 8), round(24 * 1.4)]


def test_a_bool_argument_takes_an_expressions_bool() -> None:
    text = ('cnncalc: 1\ninput: [3, 8, 8]\ntables: {c: 8}\n'
            'layers:\n  - {op: conv, out: $c, k: 3, bias: "${c > 16}"}\n')
    report = cnncalc.analyze(parse_network(text.encode(), "f.yaml"))
    assert report.layers[0].params == 8 * 3 * 9


# ------------------------------------------------------------ input-shape names
#: a depthwise conv reading the network's input, a pointwise conv, a squeeze-excitation
#: block (torchvision's SqueezeExcitation) and a classifier whose widths all come from the
#: input shape, so the layers differ at every input
SHAPE_SPEC = """\
cnncalc: 1
input: [16, 12, 12]
blocks:
  se:
    args: {squeeze: 4}
    layers:
      - {op: avgpool, global: true}
      - {id: fc1, op: conv, out: "${input_channels // squeeze}", k: 1, act: relu}
      - {id: fc2, op: conv, out: "${input_channels}", k: 1, act: sigmoid}
      - {id: scale, op: mul, in: [input, fc2]}
layers:
  - {id: dw, op: conv, out: "${in_channels}", k: 3, pad: 1, groups: "${in_channels}",
     bias: false, bn: true, act: relu}
  - {id: pw, op: conv, out: "${2 * in_channels}", k: "${min(3, in_shape[-1])}", pad: 0}
  - {id: se, op: se}
  - {op: avgpool, global: true}
  - flatten
  - {id: fc, op: linear, out: "${in_channels // 2}", act: sigmoid}
"""


def torch_figures(shape: tuple[int, ...]) -> dict[str, Any]:
    """The torch module SHAPE_SPEC describes at ``shape``, built by hand around
    torchvision's own SqueezeExcitation: its parameter and buffer counts, output shape and
    MACs (FlopCounterMode / 2)."""
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from torchvision_oracle import import_torchvision, torchvision_models

    torchvision_models()  # (or skip)
    squeeze_excitation = import_torchvision().ops.SqueezeExcitation  # type: ignore[union-attr]
    c, k = shape[0], min(3, shape[-1])
    model = nn.Sequential(
        nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
        nn.Conv2d(c, 2 * c, k), squeeze_excitation(2 * c, 2 * c // 4, scale_activation=nn.Sigmoid),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * c, c), nn.Sigmoid(),
    ).eval()
    x = torch.randn(1, *shape)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(x)
    return {"params": sum(p.numel() for p in model.parameters()),
            "buffers": sum(b.numel() for b in model.buffers()),
            "output_shape": tuple(out.shape[1:]), "macs": counter.get_total_flops() // 2}


def figures(report: cnncalc.Report) -> dict[str, Any]:
    return {"params": report.totals.params, "buffers": report.totals.buffers,
            "output_shape": tuple(report.output_shape), "macs": report.totals.macs}


@pytest.mark.parametrize("shape", [(16, 12, 12), (24, 7, 7), (8, 5, 9), (4, 2, 2)])
def test_input_shape_names_give_torchs_figures_at_every_input(shape: tuple[int, ...]) -> None:
    net = cnncalc.loads(SHAPE_SPEC, "se.yaml")
    assert net.input_dependent
    assert figures(cnncalc.analyze(net, input_shape=shape)) == torch_figures(shape)
    again = cnncalc.analyze(net)  # the spec's own input, after another
    assert figures(again) == torch_figures((16, 12, 12))


def test_input_shape_names_through_the_cli() -> None:
    from typer.testing import CliRunner

    from cnncalc.cli import app

    result = CliRunner().invoke(app, ["summary", "-", "--input", "24x7x7", "--format", "json"],
                                input=SHAPE_SPEC)
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    want = torch_figures((24, 7, 7))
    assert (data["totals"]["params"], data["totals"]["macs"]) == (want["params"], want["macs"])
    assert tuple(data["output_shape"]) == want["output_shape"]


def test_sizes_re_expands_for_every_size() -> None:
    from cnncalc.solve import input_sizes

    net = cnncalc.loads(SHAPE_SPEC, "se.yaml")
    results = input_sizes(net, range(1, 6))
    # pw's kernel is min(3, width): a 2x2 input gets a 2x2 kernel, so every size fits
    assert [r.problems for r in results] == [()] * 5
    assert [r.output_shape for r in results] == \
        [torch_figures(r.input_shape)["output_shape"] for r in results]


def test_a_torch_build_for_another_input_is_that_inputs_network() -> None:
    pytest.importorskip("torch")
    from cnncalc.pytorch.build import build

    net = cnncalc.loads(SHAPE_SPEC, "se.yaml")
    model = build(net, (24, 7, 7))
    assert sum(p.numel() for p in model.parameters()) == torch_figures((24, 7, 7))["params"]


def test_a_spec_without_shape_names_is_not_input_dependent() -> None:
    net = cnncalc.loads("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {op: conv, out: 4, k: 3}\n")
    assert not net.input_dependent
    unused = ('cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n'
              '  - {op: conv, out: "${4 if true or in_channels > 2 else 8}", k: 3}\n')
    assert not cnncalc.loads(unused).input_dependent  # (short-circuit: never asked)


def test_shape_names_in_a_block_are_the_blocks_input_and_in_a_repeat_each_copys() -> None:
    text = """\
cnncalc: 1
input: [3, 8, 8]
blocks:
  grow:
    args: {extra: "${in_channels + 1}"}
    layers:
      - {id: a, op: conv, out: "${input_channels + extra}", k: 1}
      - {id: b, op: conv, out: "${in_channels + input_channels}", k: 1}
layers:
  - {id: r, op: conv, out: "${2 * in_channels}", k: 1, repeat: 3}
  - {id: g, op: grow}
  - {id: n, op: conv, out: "${len(in_shape) + len(input_shape) + input_shape[0]}", k: 1}
"""
    report = cnncalc.analyze(cnncalc.loads(text))
    widths = {r.id: r.output_shape[0] for r in report.layers}
    assert [widths[f"r[{i}]"] for i in range(3)] == [6, 12, 24]
    assert widths["g.a"] == 24 + 25  # the block's input, and the default from it
    assert widths["g.b"] == 49 + 24
    assert widths["n"] == 3 + 3 + 3


@pytest.mark.parametrize("text, message, at", [
    ('{op: conv, out: "${in_shape[3]}", k: 1}',
     "in_shape[3] is out of range: in_shape is [3, 8, 8], of rank 3 (indices 0 to 2, or -3 "
     "to -1)", (5, 21)),
    ('{op: conv, out: "${in_shape}", k: 1}',
     "'in_shape' is a list ([3, 8, 8]); arithmetic needs a number (index it", (5, 21)),
    ('{op: conv, out: "${in_shape[in_channels]}", k: 1}', "indexing (a[i]) is not allowed",
     (5, 21)),
    ('{op: conv, out: "${len(in_channels)}", k: 1}', "len() takes one of in_shape", (5, 21)),
    ('{op: conv, out: "${in_chanels}", k: 1}', "did you mean 'in_channels'?", (5, 21)),
    ('{op: conv, out: "${in_shape == input_shape}", k: 1}',
     "out must be an integer, got boolean true", (5, 21)),
])
def test_bad_shape_expressions_are_located(text: str, message: str,
                                           at: tuple[int, int]) -> None:
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {{op: relu}}\n  - {text}\n",
                      "s.yaml")
    assert message in info.value.message and (info.value.loc.line, info.value.loc.col) == at


def test_a_shape_error_met_while_expanding_is_the_layer_that_caused_it() -> None:
    text = ("cnncalc: 1\ninput: [3, 4, 4]\nlayers:\n  - {id: big, op: conv, out: 8, k: 5}\n"
            '  - {op: conv, out: "${in_channels}", k: 1}\n')
    with pytest.raises(CnncalcError) as info:
        cnncalc.loads(text, "s.yaml")
    err = info.value
    assert err.layer == "big" and (err.loc.line, err.loc.col) == (4, 36)  # at k: (arg_locs)
    assert "output height is 0" in err.message
    assert "its shape was needed for in_channels of layer 'conv1'" in err.format()


def test_re_expansion_errors_are_located_too() -> None:
    text = 'cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {op: conv, out: "${in_shape[2]}", k: 1}\n'
    net = cnncalc.loads(text, "s.yaml")
    with pytest.raises(SpecError) as info:
        cnncalc.analyze(net, input_shape=(3, 8))
    assert "in_shape[2] is out of range: in_shape is [3, 8], of rank 2" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (4, 21)


@pytest.mark.parametrize("where", ["tables: {in_channels: 3}\n", "args: {input_shape: 1}\n",
                                   "blocks:\n  b:\n    args: {in_shape: 1}\n    layers: [relu]\n"])
def test_shape_names_are_reserved(where: str) -> None:
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\n{where}layers: [relu]\n", "s.yaml")
    assert "is reserved: it names the input shape" in info.value.message


# ---------------------------------------------------------------- conditional layers
#: a residual unit whose shortcut exists only when the shapes match (stride 1, same width)
RESIDUAL = """\
cnncalc: 1
input: [16, 8, 8]
blocks:
  unit:
    args: {out: int, stride: 1}
    layers:
      - {id: a, op: conv, out: $out, k: 3, stride: $stride, pad: 1, bias: false, bn: true}
      - {id: sum, op: add, in: [input, a], if: "${stride == 1 and in_channels == out}"}
      - relu
layers:
  - {id: u1, op: unit, out: 16}
  - {id: u2, op: unit, out: 32, stride: 2}
  - {id: u3, op: unit, out: 32}
"""


def ids(text: str, **kwargs: Any) -> list[str]:
    return [n.id for n in cnncalc.loads(text, "c.yaml", **kwargs).nodes]


def test_a_residual_exists_only_where_the_shapes_match() -> None:
    got = ids(RESIDUAL)
    assert [i for i in got if i.endswith(".sum")] == ["u1.sum", "u3.sum"]
    # u2's relu reads u2.a's bn row: the skipped sum named its last input
    net = cnncalc.loads(RESIDUAL)
    assert net.node("u2.relu1").inputs == ("u2.a.bn",)


def test_a_residual_against_torch() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Unit(nn.Module):
        def __init__(self, c_in: int, out: int, stride: int) -> None:
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(c_in, out, 3, stride, 1, bias=False),
                                   nn.BatchNorm2d(out))
            self.residual = stride == 1 and c_in == out

        def forward(self, x: Any) -> Any:
            y = self.a(x)
            return torch.relu(x + y if self.residual else y)

    model = nn.Sequential(Unit(16, 16, 1), Unit(16, 32, 2), Unit(32, 32, 1))
    report = cnncalc.analyze(cnncalc.loads(RESIDUAL))
    out = model(torch.randn(1, 16, 8, 8))
    assert report.output_shape == tuple(out.shape[1:])
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert [r.op for r in report.layers].count("add") == 2


@pytest.mark.parametrize("condition, present", [
    ("true", True), ("false", False), ("True", True), ('"${1 < 2}"', True),
    ('"${flag}"', False), ("$flag", False), ('"${not flag}"', True),
    ('"${input_channels == 3 and len(in_shape) == 3}"', True),
])
def test_if_takes_a_boolean_or_an_expression_giving_one(condition: str, present: bool) -> None:
    text = (f"cnncalc: 1\ninput: [3, 8, 8]\ntables: {{flag: false}}\nlayers:\n"
            f"  - {{id: c, op: conv, out: 4, k: 1, if: {condition}}}\n  - relu\n")
    assert ("c" in ids(text)) is present


def test_skipped_ids_name_their_last_input_for_in_and_output() -> None:
    text = """\
cnncalc: 1
input: [3, 8, 8]
output: skip2
layers:
  - {id: a, op: conv, out: 4, k: 1}
  - {id: b, op: conv, out: 4, k: 1}
  - {id: skip, op: add, in: [a, b], if: false}
  - {id: c, op: relu, in: skip}
  - {id: skip2, op: conv, out: 8, k: 1, repeat: 3, if: false}
  - {id: d, op: relu}
"""
    net = cnncalc.loads(text)
    assert net.node("c").inputs == ("b",)
    assert net.output == "c"  # skip2 read c (the entry before it)
    assert "skip2[0]" not in ids(text)


def test_a_block_whose_last_entry_is_skipped_outputs_the_entry_before() -> None:
    text = """\
cnncalc: 1
input: [3, 8, 8]
blocks:
  b:
    args: {extra: false}
    layers:
      - {id: x, op: conv, out: 4, k: 1}
      - {id: y, op: relu, if: $extra}
  named:
    output: y
    layers:
      - {id: x, op: conv, out: 4, k: 1}
      - {id: y, op: relu, if: false}
      - {id: z, op: conv, out: 2, k: 1}
layers:
  - {id: p, op: b}
  - {id: q, op: relu}
  - {id: r, op: named}
  - {id: s, op: relu}
"""
    net = cnncalc.loads(text)
    assert net.node("q").inputs == ("p.x",)
    assert net.node("s").inputs == ("r.x",)  # output: y, skipped, is what y read


def test_skipped_entries_keep_the_auto_ids_of_the_others() -> None:
    text = ("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {op: relu, if: false}\n  - relu\n")
    assert ids(text) == ["relu2"]  # the second relu written, whichever exist


def test_the_layer_bound_counts_a_conditional_entry_as_none() -> None:
    # 1 layer always + 50 conditional (false) ones, 60 copies: 60 layers, under a limit of
    # 100; counting each conditional entry as one would refuse it (51 * 60)
    skipped = "".join("      - {op: relu, if: false}\n" for _ in range(50))
    text = (f"cnncalc: 1\ninput: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - relu\n{skipped}"
            "layers:\n  - {op: b, repeat: 60}\n")
    assert len(ids(text, limits=cnncalc.Limits(max_layers=100))) == 60


def test_repeat_first_and_last_may_set_the_op() -> None:
    text = """\
cnncalc: 1
input: [16, 16, 16]
blocks:
  down:
    args: {out: int}
    layers: [{op: conv, out: $out, k: 3, stride: 2, pad: 1}]
  unit:
    args: {out: int}
    layers: [{op: conv, out: $out, k: 3, pad: 1}, relu]
layers:
  - {id: s, op: unit, out: 32, repeat: {n: 4, first: {op: down}, last: {op: conv, k: 1}}}
"""
    report = cnncalc.analyze(cnncalc.loads(text))
    assert [r.id for r in report.layers] == ["s[0].conv1", "s[1].conv1", "s[1].relu1",
                                             "s[2].conv1", "s[2].relu1", "s[3]"]
    assert report.layers[0].output_shape == (32, 8, 8)
    assert report.layer("s[3]").params == 32 * 32 + 32


@pytest.mark.parametrize("entry, message, col", [
    ("{op: relu, if: 3}", "if: must be true or false, got 3", 20),
    ("{op: relu, if: 'yes'}", "if: must be true or false, got 'yes'", 20),
    ("{op: relu, if: null}", "if: must be true or false, got null", 20),
    ("{op: relu, if: [true]}", "if: must be true or false, got [True]", 20),
    ('{op: relu, if: "${in_channels}"}', "if: must be true or false, got 3", 20),
    ('{op: relu, if: "${1 +}"}', "does not parse", 20),
    ('{op: relu, if: "${nope}"}', "unknown name 'nope'", 20),
    ("{op: relu, repeat: {n: 2, first: {if: false}}}", "cannot override 'if'", 24),
    ("{op: relu, repeat: {n: 2, last: {op: nope}}}", "op 'nope' is unknown", 42),
])
def test_bad_conditions_are_located(entry: str, message: str, col: int) -> None:
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - relu\n  - {entry}\n", "c.yaml")
    assert message in info.value.message, info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (5, col)


BLOCK_B = "blocks:\n  b:\n    args: {w: int}\n    layers: [{op: conv, out: $w, k: 1}]\n"


@pytest.mark.parametrize("entry, message, col", [
    ("{op: conv, out: 8, kernal: 3, if: false}", "unknown argument 'kernal' of 'conv'", 24),
    ("{op: conv, out: 8, kernel: 3, if: false}", "did you mean 'k'?", 24),
    ("{op: cnv, out: 8, k: 3, if: false}", "op 'cnv' is unknown; did you mean 'conv'?", 10),
    ("{op: b, wdth: 8, if: false}", "unknown argument 'wdth' of 'b'", 13),
    ("{op: conv, out: 8, k: 3, if: false, repeat: 2, bn: {eps: 1}, stirde: 2}",
     "unknown argument 'stirde'", 66),
])
def test_a_skipped_entry_still_has_its_names_checked(entry: str, message: str, col: int) -> None:
    """A typo under a false if: is an error, located at the name, not silence."""
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\n{BLOCK_B}layers:\n  - relu\n  - {entry}\n",
                      "c.yaml")
    assert message in info.value.message, info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (9, col)
    assert any("skipped" in h for h in info.value.hints)


@pytest.mark.parametrize("entry", [
    "{op: conv, out: 8, k: 3, if: false}", "{op: b, w: 8, if: false}",
    "{op: b, args: [8], if: false}",
    '{op: conv, out: "${undefined_name}", k: 3, if: false}', "{op: $maybe, whatever: 1, if: false}",
    "{op: maxpool, global: true, if: false}",
])
def test_a_skipped_entry_with_right_names_is_not_expanded(entry: str) -> None:
    """Values are not evaluated: they may only make sense when the entry is present."""
    net = cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\n{BLOCK_B}layers:\n  - relu\n  - {entry}\n")
    assert [n.op.name for n in net.nodes] == ["relu"]


@pytest.mark.parametrize("text, message", [
    ("layers: [{op: relu, if: false}]", "every layer is skipped"),
    ("layers: [relu, {op: relu, in: input, if: false}]", "the last layer is skipped"),
    ("output: x\nlayers: [{id: x, op: relu, if: false}, relu]", "output: 'x' is skipped"),
])
def test_a_network_cannot_end_at_its_input(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\n{text}\n", "c.yaml")
    assert message in info.value.message and info.value.loc is not None


# ------------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("layer", [
    '{op: conv, out: "${ciel(2.5)}", k: 1}', '{op: conv, out: "${64 * 1.5}", k: 1}',
    '{op: conv, out: "${1 / 0}", k: 1}', '{op: conv, out: "${in_shape[5]}", k: 1}',
    '{op: conv, out: "${2 ** 1000}", k: 1}', '{op: conv, out: "${1e999}", k: 1}',
    "{op: relu, if: 3}", '{op: relu, if: "${3 if 1 else 2}"}',
])
def test_the_cli_says_each_new_error_once_located_with_exit_2(layer: str) -> None:
    from typer.testing import CliRunner

    from cnncalc.cli import app

    text = f"cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {layer}\n"
    result = CliRunner().invoke(app, ["summary", "-"], input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:4:") and result.stderr.count("error:") == 1
    assert "Traceback" not in result.stderr


#: a layer that exists only for large inputs: at another --input, the layers themselves differ
SIZE_DEPENDENT = """\
cnncalc: 1
input: [3, 16, 16]
layers:
  - {id: a, op: conv, out: 8, k: 3, pad: 1}
  - {id: big, op: maxpool, k: 2, if: "${input_shape[1] > 8}"}
  - {id: head, op: conv, out: "${in_channels // 2}", k: 1}
"""


@pytest.mark.parametrize("command", [["summary"], ["shapes"], ["rf"], ["graph"], ["explain"],
                                     ["flops", "--format", "json"], ["summary", "--verify"],
                                     ["build"]])
def test_every_command_analyses_the_network_of_its_input(command: list[str]) -> None:
    from typer.testing import CliRunner

    from cnncalc.cli import app

    if command[0] == "build" or "--verify" in command:
        pytest.importorskip("torch")
    args = [command[0], "-", *command[1:], "--input", "3x8x8"]
    result = CliRunner().invoke(app, args, input=SIZE_DEPENDENT)
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "big" not in result.stdout  # the 8x8 network has no maxpool
    net = cnncalc.loads(SIZE_DEPENDENT)
    assert [n.id for n in net.nodes] == ["a", "big", "head"]
    small = cnncalc.analyze(net, input_shape=(3, 8, 8))
    assert [r.id for r in small.layers] == ["a", "head"] and small.output_shape == (4, 8, 8)


# ------------------------------------------- random expressions against Python itself
class Refused(Exception):
    """The reference refuses a value as cnncalc must: past the digit limit or not finite."""


_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b}
_CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_ROUND = {"round": round, "ceil": math.ceil, "floor": math.floor, "int": int}

_numbers: Any = st.deferred(lambda: st.one_of(
    st.integers(-50, 50).map(lambda v: ("lit", v)),
    st.sampled_from([0.5, 1.5, 2.25, 1e-3, 3.0, 0.1, 7.75]).map(lambda v: ("lit", v)),
    st.tuples(st.sampled_from(sorted(_ARITH)), _numbers, _numbers),
    st.tuples(st.just("**"), _numbers, st.integers(0, 4)),
    st.tuples(st.just("neg"), _numbers),
    st.tuples(st.sampled_from(sorted(_ROUND)), _numbers),
    st.tuples(st.sampled_from(["min", "max"]), _numbers, _numbers),
    st.tuples(st.just("if"), _conditions, _numbers, _numbers)))
_conditions: Any = st.deferred(lambda: st.one_of(
    st.booleans().map(lambda v: ("bool", v)),
    st.tuples(st.sampled_from(sorted(_CMP)), _numbers, _numbers),
    st.tuples(st.sampled_from(["and", "or"]), _conditions, _conditions),
    st.tuples(st.just("not"), _conditions)))


def _text(t: Any) -> str:
    kind = t[0]
    if kind == "lit":
        return f"({t[1]!r})" if t[1] < 0 else repr(t[1])
    if kind == "bool":
        return "true" if t[1] else "false"
    if kind in ("neg", "not"):
        return f"({'-' if kind == 'neg' else 'not '}{_text(t[1])})"
    if kind == "**":
        return f"({_text(t[1])} ** {t[2]})"
    if kind in _ROUND:
        return f"{kind}({_text(t[1])})"
    if kind in ("min", "max"):
        return f"{kind}({_text(t[1])}, {_text(t[2])})"
    if kind == "if":
        return f"({_text(t[2])} if {_text(t[1])} else {_text(t[3])})"
    return f"({_text(t[1])} {kind} {_text(t[2])})"


def _bound(v: Any) -> Any:
    if isinstance(v, float) and not (math.isfinite(v) and abs(v) < 1e60):
        raise Refused
    if type(v) is int and abs(v) >= 10 ** MAX_DIGITS:
        raise Refused
    return v


def _reference(t: Any) -> Any:
    """Python's own value of the tree, node by node (so every intermediate is bounded as
    cnncalc bounds it), short-circuiting as Python does."""
    kind = t[0]
    if kind in ("lit", "bool"):
        return t[1]
    if kind == "neg":
        return _bound(-_reference(t[1]))
    if kind == "not":
        return not _reference(t[1])
    if kind == "**":
        base = _reference(t[1])
        if isinstance(base, int) and abs(base) > 1 and t[2] * math.log10(abs(base)) > 70:
            raise Refused  # (not computed: 2 ** 10000 would be slow here too)
        try:
            return _bound(base ** t[2])
        except OverflowError:
            raise Refused from None
    if kind in _ROUND:
        return _bound(_ROUND[kind](_reference(t[1])))
    if kind in ("min", "max"):
        return (min if kind == "min" else max)(_reference(t[1]), _reference(t[2]))
    if kind == "if":
        return _reference(t[2]) if _reference(t[1]) else _reference(t[3])
    if kind == "and":
        return _reference(t[1]) and _reference(t[2])
    if kind == "or":
        return _reference(t[1]) or _reference(t[2])
    a, b = _reference(t[1]), _reference(t[2])
    if kind in _CMP:
        return _CMP[kind](a, b)
    try:
        return _bound(_ARITH[kind](a, b))
    except OverflowError:
        raise Refused from None


@given(st.one_of(_numbers, _conditions))
def test_random_expressions_are_pythons_or_refused_as_documented(tree: Any) -> None:
    from hypothesis import assume

    text = _text(tree)
    assume(len(text) <= 256)
    try:
        want: Any = _reference(tree)
    except ZeroDivisionError:
        assert "division by zero" in error(text).message
        return
    except Refused:
        err = error(text)
        assert "more than 60 digits" in err.message or "finite" in err.message, err.message
        return
    got = value(text)
    assert got == want and type(got) is type(want), (text, got, want)


# ------------------------------------------------------------------ repeat index
def test_repeat_index_names_the_copy() -> None:
    text = ("cnncalc: 1\ninput: [8, 16, 16]\nlayers:\n"
            "  - {id: c, op: conv, out: '${8 + 4 * i}', k: 3, pad: 1, repeat: {n: 3, index: i}}\n"
            "  - {id: sd, op: drop_path, p: '${0.1 * j}', repeat: {n: 2, index: j}}\n")
    net = cnncalc.loads(text)
    report = cnncalc.analyze(net)
    assert [r.output_shape[0] for r in report.layers[:3]] == [8, 12, 16]
    assert [n.op.args.p for n in net.nodes[3:]] == [0.0, 0.1]


def test_repeat_index_reaches_a_block_call_and_first() -> None:
    text = ("cnncalc: 1\ninput: [4, 8, 8]\nblocks:\n  b:\n    args: {w: int, stride: 1}\n"
            "    layers: [{op: conv, out: $w, k: 3, pad: 1, stride: $stride}]\n"
            "layers:\n  - {id: s, op: b, w: '${4 * (i + 1)}', "
            "repeat: {n: 3, index: i, first: {stride: 2}}}\n")
    report = cnncalc.analyze(cnncalc.loads(text))
    assert [r.output_shape for r in report.layers] == [(4, 4, 4), (8, 4, 4), (12, 4, 4)]


@pytest.mark.parametrize(("index", "message"), [
    ("3", "index must be a string"),
    ("'1x'", "must be a name"),
    ("in_channels", "would hide the name 'in_channels'"),
    ("w", "would hide the name 'w'"),
])
def test_a_bad_repeat_index_is_located(index: str, message: str) -> None:
    text = ("cnncalc: 1\ninput: [4, 8, 8]\ntables: {w: 2}\nlayers:\n"
            f"  - {{op: relu, repeat: {{n: 2, index: {index}}}}}\n")
    with pytest.raises(cnncalc.CnncalcError, match=message) as info:
        cnncalc.loads(text)
    assert info.value.loc is not None and info.value.loc.line == 5
