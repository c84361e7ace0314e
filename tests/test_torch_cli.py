"""`cnncalc build` and `cnncalc export` from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from cnncalc.cli import app  # noqa: E402


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_build_prints_the_module_tree_named_by_spec_ids() -> None:
    result = run("build", "lenet5")
    assert result.exit_code == 0
    assert "(C3): ConnectConv(" in result.stdout and "(OUTPUT): RBF(" in result.stdout
    assert "60,840 parameters" in result.stderr


def test_export_torchscript_loads_back_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "lenet5.pt"
    result = run("export", "lenet5", "--torchscript", str(out))
    assert result.exit_code == 0, result.output
    model = torch.jit.load(str(out))
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_export_needs_a_target() -> None:
    result = run("export", "lenet5")
    assert result.exit_code == 2 and "--onnx" in result.output


@pytest.mark.parametrize("args", [["build", "lenet5"],
                                  ["export", "lenet5", "--torchscript", "x.pt"]])
def test_without_torch_says_how_to_install_and_exits_3(args: list[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = run(*args)
    assert result.exit_code == 3 and "pip install 'cnncalc[torch]'" in result.output
