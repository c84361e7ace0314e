"""`cnncalc calc`: one layer from the command line.

Oracles: the same layer written as a spec file (calc must build it through
``cnncalc.loads``, so figures and errors are identical); torch's own modules for
shapes and parameter counts; ResNet-50's stem (torchvision: 9,408 weights, 112x112).
"""

from __future__ import annotations

import json

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
    assert "floor((4 + 2*0 - (5-1) - 1) / 1) + 1" in result.stderr


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
    m = eval(module, {"torch": torch})  # noqa: S307 - the test's own literal
    c, *spatial = data["input_shape"]
    with torch.no_grad():
        out = m(torch.zeros(1, c, *spatial))
    assert data["output_shape"] == list(out.shape[1:])
    assert data["totals"]["params"] == sum(p.numel() for p in m.parameters())
