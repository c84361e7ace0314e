"""`cnncalc plot`: matplotlib figures (skipped without matplotlib; its absence is
tested by hiding it).  Oracle: the report: bar heights are the layers' figures, the
rf line is the receptive field size layer by layer (LeNet-5: 5, 6, 14, 16, 32)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app

runner = CliRunner()


def test_without_matplotlib_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(app, ["plot", "lenet5", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 3
    assert "pip install 'cnncalc[plot]'" in result.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.fixture()
def plot_module():  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    from cnncalc.render import plot

    return plot


@pytest.mark.parametrize("what, attr", [("params", "params"), ("macs", "macs"),
                                        ("memory", "activation_bytes")])
def test_bars_are_the_figures(plot_module, what: str, attr: str) -> None:  # type: ignore[no-untyped-def]
    report = cnncalc.analyze(cnncalc.load("lenet5"))
    fig = plot_module.figure(report, what)
    try:
        ax = fig.axes[0]
        heights = [p.get_height() for p in ax.patches]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        rows = [r for r in report.layers if r.shorthand is None or what == "memory"]
        assert labels == [r.id for r in rows]
        assert heights == [getattr(r, attr) for r in rows]
        assert f"{sum(heights):,.0f}" in ax.get_title()
    finally:
        plot_module.require_matplotlib().close(fig)


def test_rf_line(plot_module) -> None:  # type: ignore[no-untyped-def]
    report = cnncalc.analyze(cnncalc.load("lenet5"))
    fig = plot_module.figure(report, "rf")
    try:
        size_line = fig.axes[0].get_lines()[0]
        assert list(size_line.get_ydata()) == [5, 6, 14, 16, 32]
    finally:
        plot_module.require_matplotlib().close(fig)


def test_cli_writes_png(plot_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for what in ("params", "macs", "rf", "memory"):
        out = tmp_path / f"{what}.png"
        result = runner.invoke(app, ["plot", "resnet18", "--what", what, "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = runner.invoke(app, ["plot", "lenet5", "--what", "flops", "-o",
                                 str(tmp_path / "x.png")])
    assert result.exit_code == 2
