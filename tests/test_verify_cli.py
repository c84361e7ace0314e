"""`--verify`: the analysis checked against the built torch module from the CLI."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from cnncalc.cli import app  # noqa: E402
from cnncalc.ops.base import Params  # noqa: E402
from cnncalc.ops.conv import Conv  # noqa: E402


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
