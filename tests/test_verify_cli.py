"""`--verify`: the analysis checked against the built torch module from the CLI."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.ops.base import Params
from cnncalc.ops.conv.conv import Conv


def test_verify_agrees_on_a_zoo_net() -> None:
    result = CliRunner().invoke(app, ["summary", "resnet18", "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "verified: all 63 layers agree" in result.stderr
    assert result.stdout.lstrip().startswith("{")


def test_verify_reports_a_wrong_figure_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv.params
    monkeypatch.setattr(Conv, "params", lambda self, ins: Params(real(self, ins).trainable + 1))
    result = CliRunner().invoke(app, ["shapes", "lenet5", "--verify"])
    assert result.exit_code == 1
    assert "verify: C1: params: analysed 157, measured 156" in result.stderr


def test_verify_of_an_input_too_big_for_memory_runs_on_meta(tmp_path) -> None:
    big = tmp_path / "big.yaml"  # a 95 GiB input: checked on the meta device, nothing allocated
    big.write_text("cnncalc: 1\ninput: [64, 20000, 20000]\n"
                   "layers:\n  - {id: p, op: maxpool, k: 2}\n")
    result = CliRunner().invoke(app, ["summary", str(big), "--verify"])
    assert result.exit_code == 0, result.output
    assert "verified: the 1 layer agrees" in result.stderr


def test_verify_of_sizes_torch_cannot_index_is_exit_2(tmp_path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("cnncalc: 1\ninput: [3, 100000000000, 100000000000]\n"
                    "layers:\n  - {id: p, op: maxpool, k: 2}\n")
    result = CliRunner().invoke(app, ["shapes", str(huge), "--verify"])
    assert result.exit_code == 2 and "int64" in result.stderr
    assert "internal error" not in result.output


def test_verify_refuses_a_layer_torch_cannot_run_located(tmp_path) -> None:
    spec = tmp_path / "n.yaml"
    spec.write_text("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {id: c, op: conv, out: 4, k: 8}\n"
                    "  - {id: n, op: instancenorm}\n")
    result = CliRunner().invoke(app, ["shapes", str(spec), "--verify"])
    assert result.exit_code == 2, result.output
    assert "warning: " in result.stderr and "single spatial element" in result.stderr
    assert f"{spec}:5:5: error: n: instancenorm in eval mode" in result.stderr


def test_verify_out_of_memory_is_exit_3(monkeypatch) -> None:
    from cnncalc.pytorch import verify

    def oom(model, x):  # type: ignore[no-untyped-def]
        raise MemoryError()

    monkeypatch.setattr(verify, "measure", oom)
    result = CliRunner().invoke(app, ["shapes", "lenet5", "--verify"])
    assert result.exit_code == 3 and "out of memory" in result.stderr
