"""``cnncalc diff``: layers matched by id, totals' deltas, formats, and ``--rev``.

Oracles: torchvision's ResNet-18 has 11,689,512 parameters and ResNet-34 21,797,672
(their model cards); ResNet-34 adds 1, 2, 4 and 1 basic blocks to stages 1-4 over
ResNet-18's 2, 2, 2, 2 -- 8 blocks of 7 report rows each (2 convs with bn, an act, an
add and a relu); the hand-worked net of test_check.py has 224 conv params.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.diff import diff_reports

runner = CliRunner()
OLD = """\
cnncalc: 1
input: [3, 32, 32]
layers:
  - {id: c1, op: conv, out: 8, k: 3}
  - {id: drop, op: dropout}
  - flatten
  - {id: fc, op: linear, out: 10}
"""
NEW = """\
cnncalc: 1
input: [3, 32, 32]
layers:
  - {id: c1, op: conv, out: 16, k: 3}
  - {id: c2, op: conv, out: 16, k: 3}
  - flatten
  - {id: fc, op: linear, out: 10}
"""


def analyse(text: str) -> cnncalc.Report:
    return cnncalc.analyze(cnncalc.loads(text, "t.yaml"))


@pytest.fixture(scope="module")
def resnets() -> tuple[cnncalc.Report, cnncalc.Report]:
    return cnncalc.analyze(cnncalc.load("resnet18")), cnncalc.analyze(cnncalc.load("resnet34"))


def test_added_removed_changed_in_order() -> None:
    d = diff_reports(analyse(OLD), analyse(NEW))
    assert [(c.id, c.kind) for c in d.layers] == [
        ("c1", "changed"), ("drop", "removed"), ("c2", "added"), ("flatten1", "changed"),
        ("fc", "changed")]
    c1 = d.change("c1")
    assert (c1.old.params, c1.new.params) == (224, 448)  # 8*27+8, 16*27+16
    assert "output_shape" in c1.fields and "inputs" not in c1.fields
    assert "inputs" in d.change("flatten1").fields  # was wired to drop, now to c2


def test_totals_deltas_and_percentages() -> None:
    d = diff_reports(analyse(OLD), analyse(NEW))
    params = d.total("params")
    assert params.old == 224 + 7200 * 10 + 10
    assert params.new == 448 + (16 * 16 * 9 + 16) + 16 * 28 * 28 * 10 + 10
    assert params.delta == params.new - params.old
    assert params.percent == pytest.approx(100 * params.delta / params.old)
    assert d.total("buffers").percent is None  # 0 -> 0: no percentage


def test_identical() -> None:
    d = diff_reports(analyse(OLD), analyse(OLD))
    assert d.identical and d.count("same") == 4


def test_resnet18_vs_resnet34(resnets: tuple[cnncalc.Report, cnncalc.Report]) -> None:
    d = diff_reports(*resnets)
    assert (d.total("params").old, d.total("params").new) == (11_689_512, 21_797_672)
    assert d.count("added") == (34 - 18) // 2 * 7 and d.count("removed") == 0
    assert all(c.fields == ("inputs",) for c in d.layers if c.kind == "changed")
    assert not d.shapes_changed


def test_cli_table_markdown_json(resnets: tuple[cnncalc.Report, cnncalc.Report]) -> None:
    table = runner.invoke(app, ["diff", "resnet18", "resnet34"])
    assert table.exit_code == 0 and "+86.5%" in table.stdout  # 21.80 M / 11.69 M - 1
    md = runner.invoke(app, ["diff", "resnet18", "resnet34", "--format", "markdown"])
    assert md.exit_code == 0
    assert "| params | 11.69 M | 21.80 M | +10.11 M | +86.5% |" in md.stdout
    assert "| `+` | `layer1[2].conv1` | conv | 64x56x56 |" in md.stdout
    data = json.loads(runner.invoke(app, ["diff", "resnet18", "resnet34", "--format",
                                          "json"]).stdout)
    assert data["totals"]["params"] == {"old": 11_689_512, "new": 21_797_672,
                                        "delta": 10_108_160,
                                        "percent": pytest.approx(86.472, abs=1e-3)}
    assert data["summary"]["added"] == 56


def test_cli_needs_two_specs_or_rev() -> None:
    assert runner.invoke(app, ["diff", "lenet5"]).exit_code == 2
    assert runner.invoke(app, ["diff", "lenet5", "lenet5", "--rev", "HEAD"]).exit_code == 2


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_cli_rev_reads_the_old_version_from_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    spec = repo / "specs" / "net.yaml"
    spec.write_text(OLD)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "old"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True, capture_output=True)
    spec.write_text(NEW)
    result = runner.invoke(app, ["diff", str(spec), "--rev", "HEAD", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["old"] == f"{spec}@HEAD" and data["totals"]["params"]["old"] == 72234
    assert {c["id"]: c["kind"] for c in data["layers"]}["drop"] == "removed"
    bad = runner.invoke(app, ["diff", str(spec), "--rev", "nosuchrev"])
    assert bad.exit_code == 2 and "git show nosuchrev" in bad.stderr


def test_docs_diff_example_is_what_cnncalc_prints() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "check.md").read_text()
    block = doc.split("$ cnncalc diff resnet18 resnet34 --format markdown\n")[1].split("```")[0]
    shown = [ln for ln in block.splitlines() if ln and ln != "..."]
    out = runner.invoke(app, ["diff", "resnet18", "resnet34", "--format", "markdown"]).stdout
    assert len(shown) == 6 and all(ln in out.splitlines() for ln in shown)


# ------------------------------------------------ large figures, escaped labels
def test_figures_too_large_for_a_float() -> None:
    """Every count times 10^320 (past a float's range): the renderers stay exact.  (The
    CLI caps --batch at the spec's 30 digits; the library takes any batch.)"""
    from cnncalc.diff import diff_reports
    from cnncalc.render.diff import diff_json, diff_markdown

    batch = 10**320
    old, new = (cnncalc.analyze(cnncalc.load(n), batch=batch) for n in ("lenet5", "alexnet"))
    d = diff_reports(old, new, "lenet5", "alexnet")
    assert "| macs | 3.28e325 | 7.14e328 | +7.14e328 | +217576.7% |" in diff_markdown(d)
    data = json.loads(diff_json(d))
    macs, lenet = data["totals"]["macs"], cnncalc.analyze(cnncalc.load("lenet5")).totals.macs
    assert macs["old"] == lenet * batch and macs["delta"] == macs["new"] - macs["old"]
    assert f"| macs | {lenet * batch:,} |" in diff_markdown(d, exact=True)


def test_the_largest_cli_batch_is_exact_in_every_format() -> None:
    batch = "9" * 30
    for form in ("table", "markdown", "json"):
        result = runner.invoke(app, ["diff", "lenet5", "alexnet", "--batch", batch, "-f", form])
        assert result.exit_code == 0, (form, result.output)
    data = json.loads(runner.invoke(app, ["diff", "lenet5", "alexnet", "--batch", batch,
                                          "-f", "json"]).stdout)
    lenet = cnncalc.analyze(cnncalc.load("lenet5")).totals.macs
    assert data["totals"]["macs"]["old"] == lenet * int(batch)


def test_huge_percentages_are_exact() -> None:
    from fractions import Fraction

    from cnncalc.diff import Delta

    d = Delta("params", 1, 10**400)
    assert d.percent == Fraction(100 * (10**400 - 1))
    assert d.to_dict()["percent"] == 100 * (10**400 - 1) and Delta("p", 0, 5).percent is None
    assert d.to_dict()["percent"] == round(d.percent)
    assert Delta("p", 3, 4).to_dict()["percent"] == pytest.approx(100 / 3)


def test_huge_shapes_and_receptive_fields(tmp_path: Path) -> None:
    big = 10**29 + 7
    spec = tmp_path / "big.yaml"
    spec.write_text(f"cnncalc: 1\ninput: [{big}, 9, 9]\nlayers:\n"
                    f"  - {{id: c, op: conv, out: {big}, k: 3}}\n")
    for form in ("table", "markdown", "json"):
        result = runner.invoke(app, ["diff", str(spec), "lenet5", "-f", form])
        assert result.exit_code == 0, (form, result.output)
    md = runner.invoke(app, ["diff", str(spec), "lenet5", "-f", "markdown"]).stdout
    assert f"output {big}x7x7 -> 10" in md


def test_labels_are_escaped_and_never_rich_markup(tmp_path: Path) -> None:
    weird = tmp_path / "[bold red]x\x1b[2J`y|.yaml"
    weird.write_text(OLD)
    table = runner.invoke(app, ["diff", str(weird), "lenet5"])
    assert table.exit_code == 0, table.output
    assert "[bold red]x\\x1b[2J`y|.yaml" in table.stdout and "\x1b" not in table.stdout
    md = runner.invoke(app, ["diff", str(weird), "lenet5", "-f", "markdown"]).stdout
    assert "``" in md.splitlines()[0] and "\x1b" not in md  # a code span around a backtick


def test_code_span_holds_backticks() -> None:
    from cnncalc.render.diff import _code

    assert _code("a") == "`a`" and _code("a`b") == "`` a`b ``" and _code("``") == "``` `` ```"


def test_json_of_figures_past_pythons_int_to_str_limit() -> None:
    import sys

    from cnncalc.diff import diff_reports
    from cnncalc.render.diff import diff_json

    batch = "9" * 4299  # MACs then have more than 4,300 digits (the library takes any batch)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        reports = [cnncalc.analyze(cnncalc.load(n), batch=int(batch))
                   for n in ("lenet5", "alexnet")]
    finally:
        sys.set_int_max_str_digits(limit)
    text = diff_json(diff_reports(*reports, "lenet5", "alexnet"))
    assert sys.get_int_max_str_digits() == limit  # restored
    sys.set_int_max_str_digits(0)
    try:
        macs = json.loads(text)["totals"]["macs"]["old"]
    finally:
        sys.set_int_max_str_digits(limit)
    assert macs.bit_length() > 14_000 and macs % int(batch) == 0
