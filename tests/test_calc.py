"""`cnncalc calc`: one layer from the command line.

Oracles: the same layer written as a spec file (calc must build it through
``cnncalc.loads``, so figures and errors are identical); torch's own modules for
shapes and parameter counts; ResNet-50's stem (torchvision: 9,408 weights, 112x112).
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.cli.teach import parse_op_args, parse_value

runner = CliRunner()


def calc_json(*args: str) -> dict:
    result = runner.invoke(app, ["calc", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_parse_value() -> None:
    assert parse_value("3") == 3
    assert parse_value("3,5") == [3, 5]
    assert parse_value("3x5") == [3, 5]
    assert parse_value("[1,2]") == [1, 2]
    assert parse_value("[[1,2],[0,1]]") == [[1, 2], [0, 1]]
    assert parse_value("same") == "same" and parse_value("valid") == "valid"
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("0.2") == 0.2
    assert parse_value("relu") == "relu"


def test_parse_op_args_forms() -> None:
    got = parse_op_args(["--out", "64", "--k=7", "--ceil-mode", "--global", "--pad", "same"])
    assert got == {"out": 64, "k": 7, "ceil_mode": True, "global": True, "pad": "same"}


def test_resnet_stem() -> None:
    data = calc_json("conv", "--input", "3x224x224", "--out", "64", "--k", "7", "--stride", "2",
                     "--pad", "3", "--bias", "false")
    assert data["output_shape"] == [64, 112, 112]
    assert data["totals"]["params"] == 9408
    assert data["totals"]["macs"] == 118_013_952
    assert data["receptive_field"]["size"] == [7, 7]
    assert data["receptive_field"]["jump"] == [2, 2]
    steps = {s["label"]: s["text"] for s in data["layers"][0]["steps"]}
    assert steps["output height, width"] == "floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112"
    assert steps["params"] == "7x7x3 x 64 = 9,408"


def test_same_as_a_spec_file() -> None:
    args = ["conv", "--input", "16x20x30", "--out", "8", "--k", "3,5", "--stride", "2",
            "--pad", "same", "--dilation", "2", "--groups", "4", "--bn", "--act", "relu"]
    data = calc_json(*args)
    spec = ("cnncalc: 1\ninput: [16, 20, 30]\nlayers:\n  - {op: conv, out: 8, k: [3, 5], "
            "stride: 2, pad: same, dilation: 2, groups: 4, bn: true, act: relu}\n")
    report = cnncalc.analyze(cnncalc.loads(spec))
    assert data["output_shape"] == list(report.output_shape)
    assert data["totals"]["params"] == report.totals.params
    assert data["totals"]["macs"] == report.totals.macs
    assert data["totals"]["flops"] == report.totals.flops
    assert [layer["id"] for layer in data["layers"]] == ["conv", "conv.bn", "conv.act"]


def test_table_output_has_summary_and_working() -> None:
    result = runner.invoke(app, ["calc", "maxpool", "--input", "64x112x112", "--k", "3",
                                 "--stride", "2", "--pad", "1", "--no-color"])
    assert result.exit_code == 0, result.stderr
    assert "64x112x112 -> 64x56x56" in result.stdout
    assert "floor((112 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 56" in result.stdout
    assert "receptive field 3x3, jump 2x2" in result.stdout


def test_truncation_is_explained_and_warned() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "1x8x8", "--out", "1", "--k", "3",
                                 "--stride", "2", "--no-color"])
    assert result.exit_code == 0
    assert "input row 7 (of 0-7) never read" in result.stdout
    assert "warning" in result.stderr and "never read" in result.stderr


def test_unknown_argument_suggests() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "3x32x32", "--out", "8", "--k", "3",
                                 "--strid", "2"])
    assert result.exit_code == 2
    assert "conv has no argument --strid" in result.stderr
    assert "did you mean --stride?" in result.stderr


def test_invalid_value_same_error_as_spec() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "3x32x32", "--out", "8", "--k", "0"])
    assert result.exit_code == 2
    assert "k must be > 0" in result.stderr
    assert "calc:" not in result.stderr  # no line numbers of a file the user never saw


def test_shape_error_exit_2() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "3x4x4", "--out", "8", "--k", "5"])
    assert result.exit_code == 2
    assert "floor((4 + 2*0 - 1*(5-1) - 1) / 1) + 1" in result.stderr


def test_unknown_op_and_merge_op() -> None:
    result = runner.invoke(app, ["calc", "cnv", "--input", "3x32x32"])
    assert result.exit_code == 2 and "did you mean 'conv'" in result.stderr
    result = runner.invoke(app, ["calc", "add", "--input", "3x32x32"])
    assert result.exit_code == 2 and "one input" in result.stderr


def test_global_pool_alias_and_bad_input() -> None:
    data = calc_json("avgpool", "--input", "512x7x7", "--global")
    assert data["output_shape"] == [512, 1, 1]
    bad = runner.invoke(app, ["calc", "conv", "--input", "3xx", "--out", "1", "--k", "1"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("args, module", [
    (["conv", "--input", "3x33x31", "--out", "5", "--k", "4,3", "--stride", "2", "--pad", "1"],
     "torch.nn.Conv2d(3, 5, (4, 3), 2, 1)"),
    (["maxpool", "--input", "4x17x17", "--k", "3", "--stride", "2", "--ceil-mode", "true"],
     "torch.nn.MaxPool2d(3, 2, ceil_mode=True)"),
    (["conv_transpose", "--input", "8x7x7", "--out", "4", "--k", "3", "--stride", "2",
      "--pad", "1", "--output-padding", "1"], "torch.nn.ConvTranspose2d(8, 4, 3, 2, 1, 1)"),
])
def test_against_torch(args: list[str], module: str) -> None:
    torch = pytest.importorskip("torch")
    data = calc_json(*args)
    m = eval(module, {"torch": torch})
    c, *spatial = data["input_shape"]
    with torch.no_grad():
        out = m(torch.zeros(1, c, *spatial))
    assert data["output_shape"] == list(out.shape[1:])
    assert data["totals"]["params"] == sum(p.numel() for p in m.parameters())


# ------------------------------------------------ errors point at the option typed
@pytest.mark.parametrize("args, first_line", [
    (["--out", "8", "--k", "0"], "calc --k 0: error: conv: k must be > 0, got 0"),
    (["--out", "8", "--k", "3", "--stride", "0"],
     "calc --stride 0: error: conv: stride must be > 0, got 0"),
    (["--out", "0", "--k", "3"], "calc --out 0: error: conv: out must be > 0, got 0"),
    (["--out", "8", "--k", "3", "--bn", "3"],
     "calc --bn 3: error: conv: bn must be true or false, got 3"),
    (["--out", "8", "--k=3", "--pad", "foo"], "calc --pad foo: error: conv: pad must be"),
    (["--out", "8", "--k", "a: b"], "calc --k 'a: b': error: conv: k must be an integer"),
    (["--out", "8", "--k", "[1,2"], "calc --k '[1,2': error: YAML syntax"),
    (["--out", "8", "--k", "*x"], "calc --k '*x': error: YAML syntax: the alias *x has no anchor"),
    (["--out", "8", "--k", "!!python/object:os.system"], "calc --k '!!python/object:os.system': "
                                                          "error: the YAML tag"),
    (["--out", "8", "--k", "9" * 35], f"calc --k {'9' * 35}: error: the integer"),
    (["--out", "2", "--k", "3", "--connect", "[[0], [-1]]"],
     "calc --connect '[[0], [-1]]': error: conv: connect[1][0] must be >= 0, got -1"),
])
def test_errors_point_at_the_option(args: list[str], first_line: str) -> None:
    """calc builds a one-layer spec; its errors name the option the user typed, never
    a line of that hidden file (`calc:8:3:`)."""
    result = runner.invoke(app, ["calc", "conv", "--input", "3x8x8", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0].startswith(first_line), result.stderr
    assert not re.search(r"calc:\d|line \d", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_input_and_layer_errors() -> None:
    """A bad --input points at it; a shape problem of the layer as a whole (no single
    option to blame) has no location at all, and the numbers in the message."""
    result = runner.invoke(app, ["calc", "conv", "--input", "0x4x4", "--out", "2", "--k", "1"])
    assert result.exit_code == 2 and result.stderr.startswith("calc --input 0x4x4: error: ")
    for args, says in [(["conv", "--out", "8", "--k", "5"], "error: conv: output height is 0"),
                       (["conv", "--out", "8", "--k", "3", "--groups", "5"],
                        "error: conv: groups=5 does not divide"),
                       (["maxpool", "--k", "3", "--pad", "2"], "error: maxpool: pad 2 is more"),
                       (["conv_transpose", "--out", "2", "--k", "3", "--stride", "2",
                         "--output-padding", "2"], "error: conv_transpose: output_padding 2")]:
        result = runner.invoke(app, ["calc", args[0], "--input", "3x4x4", *args[1:]])
        assert result.exit_code == 2 and result.stderr.startswith(says), result.stderr
        assert not re.search(r"calc:\d|line \d", result.stderr)


def test_repeated_option_and_deep_value() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "3x8x8", "--out", "2", "--k", "3",
                                 "--k", "5"])
    assert result.exit_code == 2
    assert "--k is given twice (--k 3, then --k 5)" in result.stderr
    same = runner.invoke(app, ["calc", "maxpool", "--input", "3x8x8", "--k", "2", "--ceil-mode",
                               "--ceil_mode", "false"])
    assert same.exit_code == 2 and "given twice" in same.stderr
    deep = "[" * 20000 + "]" * 20000  # read with the spec reader's nesting limit
    result = runner.invoke(app, ["calc", "conv", "--input", "3x8x8", "--out", "2", "--k", deep])
    assert result.exit_code == 2 and "nested deeper than 64 levels" in result.stderr
    assert result.stderr.startswith("calc --k '[[[[") and "(40,000 characters)" in result.stderr
    assert len(result.stderr) < 400


BAD_VALUES = ["0", "-1", "x", "{a: 1}", "[[1, 0], [0]]"]


def _single_input_ops() -> list[str]:
    from cnncalc.ops import REGISTRY

    return sorted(n for n, c in REGISTRY.items() if c.arity[0] <= 1)


@pytest.mark.parametrize("op", _single_input_ops())
def test_every_error_of_every_op_names_an_option_or_nothing(op: str) -> None:
    """The whole class: for every argument of every op and a handful of bad values,
    an error's location is one of the options typed (or there is none); never a line
    of the hidden spec, never a traceback, never exit 70."""
    from cnncalc.cli.teach import _arg_names
    from cnncalc.ops import get_op

    names = list(_arg_names(get_op(op)))
    base = {"conv": ["--out", "2", "--k", "3"], "conv_transpose": ["--out", "2", "--k", "3"],
            "local": ["--out", "2", "--k", "3"], "linear": ["--out", "2"],
            "rbf": ["--out", "2"], "maxpool": ["--k", "2"], "avgpool": ["--k", "2"],
            "adaptive_avgpool": ["--size", "2"], "adaptive_maxpool": ["--size", "2"],
            "upsample": ["--scale", "2"], "zeropad": ["--pad", "1"], "groupnorm": ["--groups", "2"],
            "lrn": ["--size", "3"], "channel_shuffle": ["--groups", "2"]}.get(op, [])
    shape = "4x10" if op in ("linear", "rbf") else "4x8x8"
    for name in names:
        flag = f"--{name.replace('_', '-')}"
        for value in BAD_VALUES:
            args = [a for i, a in enumerate(base) if flag not in (a, base[i - 1] if i else "")]
            result = runner.invoke(app, ["calc", op, "--input", shape, *args, flag, value])
            assert result.exit_code in (0, 2), (op, flag, value, result.output)
            if result.exit_code == 0:
                continue
            first = result.stderr.splitlines()[0]
            assert not re.search(r"calc:\d|line \d", result.stderr), (op, flag, value, first)
            located = re.match(r"calc (--[\w-]+)", first)
            assert first.startswith("error: ") or (
                located and located.group(1) in [flag, "--input", *base]), (op, flag, value, first)
