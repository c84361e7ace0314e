"""Static analysis: receptive fields, memory, batch/dtype scaling, strictness."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import cnncalc
from cnncalc.errors import ShapeError

from helpers import assert_json_contract


def report(layers: str, input_shape: str = "[1, 32, 32]", **kw: object) -> cnncalc.Report:
    text = f"cnncalc: 1\ninput: {input_shape}\nlayers:\n{textwrap.dedent(layers)}"
    return cnncalc.analyze(cnncalc.loads(text, "t.yaml"), **kw)


def test_stacked_3x3_receptive_field_grows_by_two() -> None:
    r = report("""
        - {op: conv, out: 4, k: 3, pad: 1}
        - {op: conv, out: 4, k: 3, pad: 1}
        - {op: conv, out: 4, k: 3, pad: 1}
    """)
    assert [layer.receptive_field.size for layer in r.layers] == [(3, 3), (5, 5), (7, 7)]
    assert r.receptive_field.start == (0, 0)


def test_stride_and_dilation_receptive_field() -> None:
    # Araujo et al.: r = r + (k-1)*j, j = j*s; dilated 3x3 with d=2 spans 5
    r = report("""
        - {op: conv, out: 4, k: 3, stride: 2}
        - {op: conv, out: 4, k: 3, dilation: 2}
    """)
    rf = r.receptive_field
    assert rf.size == (3 + 4 * 2, 3 + 4 * 2) and rf.jump == (2, 2)
    # centre of the first unit: 1 after the first conv, + (5-1)/2 * 2 after the second
    assert rf.start == (5, 5)


def test_padding_shifts_start_negative() -> None:
    r = report("- {op: conv, out: 4, k: 7, stride: 2, pad: 3}")
    assert r.receptive_field.start == (0, 0)
    r = report("- {op: conv, out: 4, k: 3, pad: 2}")
    assert r.receptive_field.start == (-1, -1)


def test_network_rf_is_read_before_global_pooling() -> None:
    r = report("""
        - {id: c, op: conv, out: 4, k: 5}
        - {op: avgpool, global: true}
        - flatten
        - {op: linear, out: 3}
    """)
    assert r.receptive_field_layer == "c" and r.receptive_field.size == (5, 5)
    assert r.layers[-1].receptive_field is None


def test_merge_alignment() -> None:
    aligned = report("""
        - {id: a, op: conv, out: 4, k: 3, pad: 1, in: input}
        - {id: b, op: conv, out: 4, k: 5, pad: 2, in: input}
        - {op: concat, in: [a, b]}
    """)
    assert aligned.receptive_field.size == (5, 5) and aligned.receptive_field.aligned
    shifted = report("""
        - {id: a, op: conv, out: 4, k: 3, pad: [[2, 0], [2, 0]], in: input}
        - {id: b, op: conv, out: 4, k: 3, pad: 1, in: input}
        - {op: add, in: [a, b]}
    """)
    assert not shifted.receptive_field.aligned


def test_memory_and_peak_from_lifetimes() -> None:
    r = report("""
        - {id: a, op: conv, out: 2, k: 1, in: input}
        - {id: b, op: conv, out: 3, k: 1, in: input}
        - {op: concat, in: [a, b]}
    """, input_shape="[1, 10, 10]", dtype="float16")
    assert [layer.activation_bytes for layer in r.layers] == [400, 600, 1000]
    # while concat runs: a (400) + b (600) + its output (1000); the input (200) is freed
    assert r.totals.peak_activation_bytes == 2000
    assert r.totals.input_bytes == 200 and r.totals.param_bytes == (4 + 6) * 2


def test_batch_scales_macs_flops_and_activations_not_params() -> None:
    one = report("- {op: conv, out: 8, k: 3}")
    four = report("- {op: conv, out: 8, k: 3}", batch=4)
    assert four.totals.macs == 4 * one.totals.macs
    assert four.totals.flops == 4 * one.totals.flops
    assert four.totals.activation_bytes == 4 * one.totals.activation_bytes
    assert four.totals.params == one.totals.params


def test_input_override() -> None:
    net = cnncalc.load("lenet5")
    with pytest.raises(ShapeError, match="output height is 0"):
        cnncalc.analyze(net, input_shape=(1, 16, 16))
    assert cnncalc.analyze(net, input_shape=(1, 36, 36)).layer("C5").output_shape == (120, 2, 2)


def test_truncation_warns_and_strict_refuses() -> None:
    layers = "- {id: c, op: conv, out: 4, k: 3, stride: 2}"
    r = report(layers, input_shape="[1, 8, 8]")
    assert r.warnings and "c: stride 2 does not tile" in r.warnings[0]
    with pytest.raises(ShapeError) as info:
        report(layers, input_shape="[1, 8, 8]", strict=True)
    assert info.value.loc.line == 4 and info.value.layer == "c"


def test_empty_output_shows_formula() -> None:
    with pytest.raises(ShapeError) as info:
        report("- {id: conv1, op: conv, out: 4, k: 5}", input_shape="[3, 3, 3]")
    assert "floor((3 + 2*0 - 1*(5-1) - 1) / 1) + 1 = -1" in info.value.message


def test_json_contract_fields() -> None:
    d = cnncalc.analyze(cnncalc.load("lenet5")).to_dict()
    assert_json_contract(d)
    assert d["totals"]["trainable_params"] == 60000 and d["totals"]["params"] == 60840


def test_lenet5_matches_the_paper() -> None:
    r = cnncalc.analyze(cnncalc.load("lenet5"))
    paper = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}
    assert {k: r.layer(k).trainable_params for k in paper} == paper
    assert r.layer("OUTPUT").params == 840 and r.layer("OUTPUT").trainable_params == 0
    # connections (the paper's figures): C1 122,304; C3 151,600; C5 48,120
    assert r.layer("C1").macs + r.layer("C1").flops_breakdown["bias"] == 122304
    assert r.layer("C3").macs + r.layer("C3").flops_breakdown["bias"] == 151600


def test_analysis_path_never_imports_torch() -> None:
    code = ("import sys, cnncalc; cnncalc.analyze(cnncalc.load('lenet5'));"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("entry", "arg"), [
    ("{id: c, op: conv, out: 4, k: 9}", "k"),
    ("{id: c, op: conv, out: 4, k: 3, dilation: 5}", "dilation"),
    ("{id: c, op: conv, out: 4, k: [3, 3, 3]}", "k"),
    ("{id: c, op: conv, out: 4, k: 1, groups: 2}", "groups"),
    ("{id: c, op: maxpool, k: 2, pad: 2}", "pad"),
    ("{id: c, op: conv_transpose, out: 4, k: 3, stride: 2, output_padding: 2}",
     "output_padding"),
])
def test_a_shape_error_points_at_the_argument_that_caused_it(entry: str, arg: str) -> None:
    """Node.arg_locs: the error is located at the value of the argument it is about."""
    col = len("  - ") + entry.index(f" {arg}: ") + len(f" {arg}: ") + 1
    text = f"cnncalc: 1\ninput: [3, 6, 6]\nlayers:\n  - {{id: a, op: relu}}\n  - {entry}\n"
    with pytest.raises(cnncalc.CnncalcError) as info:
        cnncalc.analyze(cnncalc.loads(text, "net.yaml"))
    assert (info.value.loc.line, info.value.loc.col) == (5, col), info.value.format()
    assert info.value.layer == "c"


def test_a_shape_error_of_no_one_argument_points_at_the_layer() -> None:
    text = ("cnncalc: 1\ninput: [3, 6, 6]\nlayers:\n  - {id: a, op: conv, out: 4, k: 1}\n"
            "  - {id: b, op: add, in: [input, a]}\n")
    with pytest.raises(cnncalc.CnncalcError) as info:
        cnncalc.analyze(cnncalc.loads(text, "net.yaml"))
    assert (info.value.loc.line, info.value.loc.col) == (5, 5), info.value.format()
