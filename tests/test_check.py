"""``expect:`` and ``cnncalc check``: figures, bounds, SI suffixes, every output format
and every exit code.

Oracles: the small net below is worked by hand -- conv 3->8, k=3 on 3x32x32 gives
8x30x30 with 8*3*3*3 + 8 = 224 params and 8*30*30*27 = 194,400 MACs; the linear layer
7200->10 has 72,010 params and 72,000 MACs; 72,234 params and 266,400 MACs in all; a
single 3x3 conv sees 3x3 pixels.  LeNet-5's 60,000 trainable parameters are the paper's.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.check import (
    Candidate,
    Skip,
    check_file,
    check_source,
    collect,
    evaluate,
    parse_budgets,
    run_check,
)
from cnncalc.cli import app
from cnncalc.errors import SpecError, UsageError
from cnncalc.spec.expect import parse_quantity, parse_target

NET = """\
cnncalc: 1
input: [3, 32, 32]
layers:
  - {id: c1, op: conv, out: 8, k: 3}
  - flatten
  - {id: fc, op: linear, out: 10}
"""
GOOD = NET + """\
expect:
  output_shape: [10]
  params: 72234
  macs: {max: 300k}
  receptive_field: 3
  layers:
    c1: {output_shape: [8, 30, 30], params: 224, macs: 194400}
"""
# five expectations miss; line numbers are found by text search in the tests
FAILING = NET + """\
expect:
  output_shape: [100]
  params: 1M
  macs: {max: 10k}
  receptive_field: {min: 5}
  trainable_params: 72234
  layers:
    c1:
      params: 225
      output_shape: [8, 30, 30]
"""
BROKEN = "cnncalc: 1\ninput: [3, 32, 32]\nlayers:\n  - {id: c1, op: conv, out: 8, k: 0}\n"

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    """A folder with a passing, a failing and an invalid spec and a non-spec YAML."""
    write(tmp_path, "a_good.yaml", GOOD)
    write(tmp_path, "b_failing.yaml", FAILING)
    write(tmp_path, "sub/c_broken.yml", BROKEN)
    write(tmp_path, ".github/workflows/ci.yaml", "on: push\n")
    write(tmp_path, "docker-compose.yml", "services: {}\n")
    return tmp_path


# ---------------------------------------------------------------- quantities
@pytest.mark.parametrize("text, value, tol", [
    (25557032, 25557032, 0), ("25557032", 25557032, 0), ("25,557,032", 25557032, 0),
    ("25.6M", 25_600_000, 50_000), ("4.5G", 4_500_000_000, 50_000_000), ("300k", 300_000, 500),
    ("2T", 2 * 10**12, 5 * 10**11),
])
def test_quantities(text: object, value: int, tol: int) -> None:
    assert parse_quantity(text) == (Fraction(value), Fraction(tol))


def test_binary_suffixes_only_for_bytes() -> None:
    assert parse_quantity("200Mi", binary=True)[0] == 200 * 2**20
    assert parse_quantity("1GiB", binary=True)[0] == 2**30
    with pytest.raises(ValueError, match="byte figures"):
        parse_quantity("200Mi")


@pytest.mark.parametrize("bad", [True, -3, "lots", "4.5X", [1], None])
def test_bad_quantities(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(bad)


def test_targets_exact_rounded_and_bounds() -> None:
    assert parse_target(72234).holds(72234) and not parse_target(72234).holds(72235)
    approx = parse_target("25.6M")  # as precise as written: 25.55M .. 25.65M
    assert approx.holds(25_557_032) and approx.holds(25_650_000) and not approx.holds(25_650_001)
    bounds = parse_target({"min": "1M", "max": "30M"})
    assert bounds.holds(1_000_000) and bounds.holds(30_000_000)
    assert not bounds.holds(999_999) and not bounds.holds(30_000_001)
    with pytest.raises(ValueError, match="above max"):
        parse_target({"min": 5, "max": 3})
    with pytest.raises(ValueError, match=re.escape("min: ..., max")):
        parse_target({"mx": 3})


# ------------------------------------------------------------ spec validation
def load(text: str) -> cnncalc.Network:
    return cnncalc.loads(text, "t.yaml")


def test_unknown_expectation_is_located_with_a_suggestion() -> None:
    with pytest.raises(SpecError) as err:
        load(NET + "expect:\n  params: 3\n  parms: 4\n")
    assert err.value.loc is not None and (err.value.loc.line, err.value.loc.col) == (9, 3)
    assert "did you mean 'params'" in err.value.message


def test_unknown_layer_expectation_is_located() -> None:
    with pytest.raises(SpecError) as err:
        load(NET + "expect:\n  layers:\n    c1: {output_shap: [8, 30, 30]}\n")
    assert (err.value.loc.line, err.value.loc.col) == (9, 10)
    assert "did you mean 'output_shape'" in err.value.message


def test_bad_figure_is_located() -> None:
    with pytest.raises(SpecError) as err:
        load(NET + "expect:\n  macs: 4.5Gi\n")
    assert err.value.loc.line == 8 and "byte figures" in err.value.message


def test_unknown_layer_id_in_expect() -> None:
    net = load(NET + "expect:\n  layers:\n    c1x: {params: 3}\n")
    with pytest.raises(SpecError) as err:
        evaluate(cnncalc.analyze(net), net.expect)
    assert "no layer 'c1x'" in err.value.message and "did you mean 'c1'" in err.value.message
    assert err.value.loc.line == 9


# ---------------------------------------------------------------- evaluation
def test_good_spec_meets_every_expectation() -> None:
    net = load(GOOD)
    outcomes = evaluate(cnncalc.analyze(net), net.expect)
    assert [o.key for o in outcomes] == ["output_shape", "params", "macs", "receptive_field",
                                         "layers.c1.output_shape", "layers.c1.params",
                                         "layers.c1.macs"]
    assert all(o.ok for o in outcomes)


def test_every_failing_expectation_is_reported() -> None:
    net = load(FAILING)
    outcomes = evaluate(cnncalc.analyze(net), net.expect)
    failed = {o.key: o.actual for o in outcomes if not o.ok}
    assert failed == {"output_shape": (10,), "params": 72234, "macs": 266400,
                      "receptive_field": 3, "layers.c1.params": 224}
    by_key = {o.key: o for o in outcomes}
    assert by_key["params"].loc.line == line_of(FAILING, "params: 1M")
    assert by_key["layers.c1.params"].loc.line == line_of(FAILING, "params: 225")


def test_receptive_field_per_axis_and_none_on_vectors() -> None:
    net = load(NET + "expect: {receptive_field: [3, 3]}\n")
    assert evaluate(cnncalc.analyze(net), net.expect)[0].ok
    vec = load("cnncalc: 1\ninput: [16]\nlayers: [{op: linear, out: 4}]\n"
               "expect: {receptive_field: 1}\n")
    (outcome,) = evaluate(cnncalc.analyze(vec), vec.expect)
    assert outcome.actual is None and not outcome.ok


def test_budgets() -> None:
    budgets = parse_budgets({"max_params": "70k", "max_macs": "1G", "max_flops": None})
    net = load(NET)
    outcomes = evaluate(cnncalc.analyze(net), None, budgets)
    assert [(o.key, o.ok, o.source) for o in outcomes] == [("params", False, "budget"),
                                                           ("macs", True, "budget")]
    with pytest.raises(UsageError, match="--max-macs"):
        parse_budgets({"max_macs": "lots"})


def test_lenet5_from_the_zoo_passes_its_paper_figures() -> None:
    result = check_source("lenet5")
    assert result.status == "pass"
    assert result.report.totals.trainable_params == 60_000  # LeCun et al. 1998


def test_invalid_spec_is_an_error_result(tmp_path: Path) -> None:
    result = check_source(write(tmp_path, "b.yaml", BROKEN))
    assert result.status == "error" and result.error.loc.line == 4


def test_strict_turns_truncation_into_an_error(tmp_path: Path) -> None:
    text = "cnncalc: 1\ninput: [1, 8, 8]\nlayers: [{op: conv, out: 2, k: 3, stride: 2}]\n"
    path = write(tmp_path, "t.yaml", text)  # (8 - 3) % 2 = 1: the last row is dropped
    # cnncalc check is strict by default (the design brief): truncation is an error ...
    assert check_source(path).status == "error"
    assert check_source(path, strict=True).status == "error"
    assert check_source(write(tmp_path, "s.yaml", text + "strict: true\n")).status == "error"
    # ... unless the spec truncates on purpose, or the run says --no-strict
    loose = check_source(write(tmp_path, "l.yaml", text + "strict: false\n"))
    assert loose.status == "pass" and loose.warnings
    assert check_source(path, strict=False).status == "pass"


# ------------------------------------------------------------------- collect
def names(paths: list[str]) -> list[str]:
    return [Path(p).name for p in paths]


def test_collect_recurses_skips_hidden_folders(mixed: Path) -> None:
    found = collect([str(mixed)])  # .github is not walked; what is a spec is decided later
    assert names(found.paths) == ["a_good.yaml", "b_failing.yaml", "docker-compose.yml",
                                  "c_broken.yml"]
    assert all(c.may_skip and c.folder == str(mixed) for c in found.files)
    assert found.empty == []
    run_ = run_check(found.files)
    assert names([r.file for r in run_.results]) == ["a_good.yaml", "b_failing.yaml",
                                                     "c_broken.yml"]
    assert run_.skipped == (Skip(str(mixed / "docker-compose.yml"), "no top-level `cnncalc:` key"),)


def test_collect_glob_and_empty_folders(mixed: Path, tmp_path: Path) -> None:
    assert names(collect([str(mixed)], ["*.yml"]).paths) == ["docker-compose.yml", "c_broken.yml"]
    assert names(collect([str(mixed)], ["sub/*.yml"]).paths) == ["c_broken.yml"]
    assert names(collect([str(mixed)], ["**/c_*"]).paths) == ["c_broken.yml"]
    (tmp_path / "empty").mkdir()
    assert collect([str(tmp_path / "empty")]).empty == [str(tmp_path / "empty")]


def test_explicit_non_spec_is_checked_unless_skipped(mixed: Path) -> None:
    compose = str(mixed / "docker-compose.yml")
    assert collect([compose]).files == [Candidate(compose, None, False)]
    assert check_file(Candidate(compose)).status == "error"
    assert isinstance(check_file(Candidate(compose, may_skip=True)), Skip)
    good = check_file(Candidate(str(mixed / "a_good.yaml"), may_skip=True))
    assert isinstance(good, cnncalc.check.SpecResult) and good.status == "pass"


def test_run_reports_every_spec_and_calls_back(mixed: Path) -> None:
    seen: list[str] = []
    found = collect([str(mixed)])
    run_ = run_check(found.files, on_result=lambda r: seen.append(getattr(r, "status", "skip")))
    assert seen == ["pass", "fail", "skip", "error"]
    assert run_.exit_code() == 2 and run_check(found.files[:2]).exit_code() == 1
    assert run_check(found.files[:1]).exit_code() == 0
    assert run_check([]).exit_code() == 2 and run_check([]).exit_code(allow_empty=True) == 0


# ----------------------------------------------------------------------- CLI
def test_cli_exit_0_when_all_pass(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    result = run("check", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "PASS" in result.stdout and "1 spec: 1 passed, 0 failed, 0 invalid" in result.stdout


def test_cli_exit_1_lists_every_failure(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", FAILING)
    result = run("check", str(path))
    assert result.exit_code == 1
    assert "5 of 7 expectations failed" in result.stdout
    for needle in ("params: 1M", "macs: {max: 10k}", "output_shape: [100]",
                   "receptive_field: {min: 5}", "params: 225"):
        assert f"{path}:{line_of(FAILING, needle)}:" in result.stdout, needle


def test_cli_malformed_among_good_exit_2_and_reports_all(mixed: Path) -> None:
    result = run("check", str(mixed))
    assert result.exit_code == 2
    out = result.stdout
    assert "PASS" in out and "FAIL" in out and "ERROR" in out
    assert "k must be > 0, got 0" in out
    assert "3 specs: 1 passed, 1 failed, 1 invalid, 1 file skipped (not specs)" in out
    assert f"skipped {mixed / 'docker-compose.yml'}: no top-level `cnncalc:` key" in out


def test_cli_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("check", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert "no spec found in folder" in result.stderr and "--allow-empty" in result.stderr
    assert run("check", str(tmp_path / "empty"), "--allow-empty").exit_code == 0


def test_cli_missing_path_is_invalid_but_others_checked(tmp_path: Path) -> None:
    good = write(tmp_path, "a.yaml", GOOD)
    result = run("check", str(tmp_path / "nope.yaml"), str(good))
    assert result.exit_code == 2 and "no such file" in result.stdout and "PASS" in result.stdout


def test_cli_budgets(tmp_path: Path) -> None:
    path = str(write(tmp_path, "n.yaml", NET))
    assert run("check", path, "--max-params", "100k", "--max-macs", "1M").exit_code == 0
    over = run("check", path, "--max-params", "70k", "--max-activation-bytes", "1Mi")
    assert over.exit_code == 1
    assert "params: 72,234 (72.23 K) is over the budget --max-params 70k" in over.stdout
    assert run("check", path, "--max-macs", "many").exit_code == 2


def test_cli_strict(tmp_path: Path) -> None:
    path = str(write(tmp_path, "t.yaml", "cnncalc: 1\ninput: [1, 8, 8]\n"
                                         "layers: [{op: conv, out: 2, k: 3, stride: 2}]\n"))
    assert run("check", path, "--no-strict").exit_code == 0
    strict = run("check", path)
    assert strict.exit_code == 2 and "(an error when strict)" in strict.stdout


def test_cli_json(mixed: Path) -> None:
    result = run("check", str(mixed), "--format", "json")
    data = json.loads(result.stdout)
    assert data["exit_code"] == result.exit_code == 2
    assert data["summary"] == {**data["summary"], "specs": 3, "passed": 1, "failed": 1,
                               "invalid": 1, "skipped": 1}
    failing = next(s for s in data["specs"] if s["status"] == "fail")
    params = next(e for e in failing["expectations"] if e["key"] == "params")
    assert params["actual"] == 72234 and params["expected"]["exact"] == 1_000_000
    assert params["line"] == line_of(FAILING, "params: 1M")
    broken = next(s for s in data["specs"] if s["status"] == "error")
    assert broken["error"]["line"] == 4 and broken["error"]["type"] == "SpecError"


def test_cli_github_annotations_point_at_the_expect_lines(mixed: Path) -> None:
    result = run("check", str(mixed), "--format", "github")
    assert result.exit_code == 2
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("::error ")]
    failing = str(mixed / "b_failing.yaml")
    lines = sorted(int(ln.split("line=")[1].split(",")[0]) for ln in errors if failing in ln)
    expected = sorted(line_of(FAILING, n) for n in ("output_shape: [100]", "params: 1M",
                                                     "macs: {max: 10k}", "receptive_field:",
                                                     "params: 225"))
    assert lines == expected
    broken = next(ln for ln in errors if "c_broken.yml" in ln)
    assert "line=4,col=35" in broken and broken.endswith("c1: k must be > 0, got 0")
    assert "%25" in result.stdout  # '%' in "+24.76%" is escaped for the workflow command


def test_cli_junit_parses(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    result = run("check", str(mixed), "--format", "junit", "--output", str(out))
    assert result.exit_code == 2 and "3 specs" in result.stdout  # text summary still shown
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 4 and root.find("testsuite").get("skipped") == "1"
    skipped = next(c for c in cases if c.find("skipped") is not None)
    assert skipped.get("name") == str(mixed / "docker-compose.yml")
    assert skipped.find("skipped").get("message") == "no top-level `cnncalc:` key"
    failure = next(c for c in cases if c.find("failure") is not None).find("failure")
    assert failure.get("message") == "5 of 7 expectations failed"
    assert failure.text.count("\n") == 4  # one line per failed expectation
    stdout_xml = ET.fromstring(run("check", str(mixed), "--format", "junit").stdout)
    assert stdout_xml.get("tests") == "4"


def test_cli_skip_non_specs_for_pre_commit(mixed: Path) -> None:
    compose = str(mixed / "docker-compose.yml")
    assert run("check", compose).exit_code == 2  # named explicitly: it is checked
    skipped = run("check", compose, "--skip-non-specs", "--allow-empty")
    assert skipped.exit_code == 0 and "1 file skipped (not specs)" in skipped.stdout


def test_cli_check_never_imports_torch(tmp_path: Path) -> None:
    from helpers import fresh_cli, torch_modules

    done, modules = fresh_cli("check", str(write(tmp_path, "a.yaml", GOOD)))
    assert done.returncode == 0, done.stderr
    assert modules and torch_modules(modules) == []


# ---------------------------------------------------- docs and the pre-commit hook
ROOT = Path(__file__).resolve().parent.parent


def test_docs_check_examples_are_what_cnncalc_prints(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "check.md").read_text()
    blocks = doc.split("```")
    spec = next(b for b in blocks if b.startswith("yaml\ncnncalc: 1\nname: tiny"))[5:]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "tiny.yaml").write_text(spec)
    family = (ROOT / "specs" / "resnet.yaml").read_bytes()
    (tmp_path / "specs" / "resnet.yaml").write_bytes(family)
    monkeypatch.chdir(tmp_path)
    for fmt, prefix in (("text", ("PASS", "FAIL", "  specs/")), ("github", ("::error",))):
        out = run("check", "specs/", "--format", fmt).stdout.splitlines()
        shown = [ln for ln in doc.splitlines() if ln.startswith(prefix)]
        assert [ln for ln in out if ln.startswith(prefix)] == shown, fmt


def test_pre_commit_hook_entry(tmp_path: Path) -> None:
    import shlex

    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "cnncalc-check" and hook["language"] == "python"
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["cnncalc", "check"]
    import re

    staged = [write(tmp_path, "a.yaml", GOOD), write(tmp_path, ".github/ci.yml", "on: push\n")]
    assert all(re.search(hook["files"], str(p)) for p in staged)
    assert run(*entry[1:], *map(str, staged)).exit_code == 0  # the workflow file is skipped
    assert run(*entry[1:], str(staged[1])).exit_code == 0     # no spec staged: pass
    failing = write(tmp_path, "f.yaml", FAILING)
    assert run(*entry[1:], *map(str, staged), str(failing)).exit_code == 1


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from cnncalc.render.check import progress

    files = [str(write(tmp_path, f"s{i:02d}.yaml", GOOD)) for i in range(25)]
    buf = io.StringIO()
    with progress(len(files), Console(file=buf, force_terminal=True, width=80), True) as step:
        run_ = run_check(files, on_result=step)
    shown = buf.getvalue()
    assert run_.count("pass") == 25 and "checking" in shown and "s24.yaml" in shown
    result = run("check", str(tmp_path))  # CliRunner's stderr is not a terminal: no bar
    assert result.exit_code == 0 and "checking" not in result.stderr


@pytest.mark.parametrize("command", ["check", "diff", "schema"])
def test_help_has_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and f"cnncalc {command}" in result.stdout
    assert "Examples" in result.stdout


def test_recap_of_what_did_not_pass_after_many_specs(tmp_path: Path) -> None:
    for i in range(10):
        write(tmp_path, f"s{i}.yaml", GOOD)
    write(tmp_path, "t_fail.yaml", FAILING)
    out = run("check", str(tmp_path)).stdout.splitlines()
    recap = out[out.index("not passed:") + 1:]
    assert recap[0] == f"  FAIL {tmp_path / 't_fail.yaml'} - 5 failed"
    assert recap[1].startswith("11 specs: 10 passed, 1 failed")


def test_output_file_for_text_and_unwritable_output(tmp_path: Path) -> None:
    good = str(write(tmp_path, "a.yaml", GOOD))
    out = tmp_path / "check.txt"
    assert run("check", good, "-o", str(out)).exit_code == 0
    assert out.read_text().startswith("PASS ") and "\x1b[" not in out.read_text()
    made = run("check", good, "--format", "json", "-o", str(tmp_path / "new" / "sub" / "x.json"))
    assert made.exit_code == 0 and json.loads((tmp_path / "new" / "sub" / "x.json").read_text())
    bad = run("check", good, "--format", "json", "-o", str(tmp_path / "a.yaml" / "x.json"))
    assert bad.exit_code == 2 and "cannot create the folder: File exists" in bad.stderr


def test_docs_workflow_and_pre_commit_examples_are_valid_yaml() -> None:
    import yaml

    blocks = [b[5:] for b in (ROOT / "docs" / "check.md").read_text().split("```")
              if b.startswith("yaml\n")]
    workflow = yaml.safe_load(next(b for b in blocks if "jobs:" in b))
    steps = workflow["jobs"]["check"]["steps"]
    assert any("cnncalc check specs/" in s.get("run", "") for s in steps)
    config = yaml.safe_load(next(b for b in blocks if "repos:" in b))
    assert config["repos"][0]["hooks"][0]["id"] == "cnncalc-check"


# ------------------------------------------------- spec or not: the parsed document
SPEC_BODY = "input: [3, 32, 32]\nlayers: [{id: c1, op: conv, out: 8, k: 3}]\n"
MISS = "expect: {params: 1}\n"  # 224: the spec fails (exit 1) when it is checked
SPELLINGS = {
    "bom": "\ufeffcnncalc: 1\n" + SPEC_BODY + MISS,
    "double-quoted": '"cnncalc": 1\n' + SPEC_BODY + MISS,
    "single-quoted": "'cnncalc': 1\n" + SPEC_BODY + MISS,
    "flow": "{cnncalc: 1, input: [3, 32, 32], layers: [{id: c1, op: conv, out: 8, k: 3}], "
            "expect: {params: 1}}\n",
    "merge": "<<: {cnncalc: 1}\n" + SPEC_BODY + MISS,
    "explicit-key": "? cnncalc\n: 1\n" + SPEC_BODY + MISS,
    "escaped-key": '"\\x63nncalc": 1\n' + SPEC_BODY + MISS,
    "document-start": "%YAML 1.1\n---\ncnncalc: 1\n" + SPEC_BODY + MISS,
    "crlf": ("cnncalc: 1\n" + SPEC_BODY + MISS).replace("\n", "\r\n"),
    "indented-comment-first": "# a net\n  # more\ncnncalc: 1\n" + SPEC_BODY + MISS,
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_every_spelling_of_a_spec_in_a_folder_is_checked(tmp_path: Path, spelling: str) -> None:
    write(tmp_path, "net.yaml", "").write_bytes(SPELLINGS[spelling].encode())
    result = run("check", str(tmp_path), "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1, result.output  # checked, and its expectation fails
    assert data["summary"]["failed"] == 1 and data["skipped"] == []
    # --skip-non-specs never skips it either, when it is named
    named = run("check", str(tmp_path / "net.yaml"), "--skip-non-specs", "--allow-empty")
    assert named.exit_code == 1 and "FAIL" in named.stdout


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "latin-1"])
def test_a_spec_in_another_encoding_is_not_skipped(tmp_path: Path, encoding: str) -> None:
    text = "cnncalc: 1\nname: caf\u00e9\n" + SPEC_BODY
    (tmp_path / "net.yaml").write_bytes(text.encode(encoding))
    result = run("check", str(tmp_path))
    assert result.exit_code == 2 and "not valid UTF-8" in result.stdout, result.output


@pytest.mark.parametrize("text, reason", [
    ("services: {web: {image: cnncalc}}\n", "no top-level `cnncalc:` key"),
    ("# cnncalc: 1 (a comment)\nkey: value\n", "no top-level `cnncalc:` key"),
    ("- cnncalc: 1\n- input: [3]\n", "no top-level `cnncalc:` key"),      # a list
    ("nested: {cnncalc: 1}\n", "no top-level `cnncalc:` key"),
    ("just a string\n", "no top-level `cnncalc:` key"),
    ("on: [push\n", "not YAML that cnncalc can read, and it does not mention cnncalc"),
    ("", "not YAML that cnncalc can read, and it does not mention cnncalc"),  # empty
    ("a: 1\n---\nb: 2\n", "not YAML that cnncalc can read, and it does not mention cnncalc"),
])
def test_non_specs_in_a_folder_are_skipped_by_name(tmp_path: Path, text: str, reason: str) -> None:
    write(tmp_path, "a.yaml", GOOD)
    other = write(tmp_path, "other.yml", text)
    result = run("check", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"skipped {other}: {reason}" in result.stdout
    data = json.loads(run("check", str(tmp_path), "--format", "json").stdout)
    assert data["skipped_reasons"] == [{"file": str(other), "reason": reason}]
    gh = run("check", str(tmp_path), "--format", "github").stdout
    assert f"skipped {other}: {reason}" in gh


@pytest.mark.parametrize("text", [
    "cnncalc: 1\ninput: [3, 32, 32\nlayers: []\n",           # a YAML syntax error
    "cnncalc: 1\ncnncalc: 1\n" + SPEC_BODY,                    # a duplicate key
    "cnncalc: 1\n" + SPEC_BODY + "---\ncnncalc: 1\n",          # two documents
    "cnncalc: 1\nname: !!python/object:os.system x\n" + SPEC_BODY,
    "cnncalc: 2\n" + SPEC_BODY,                                # a version it does not read
    "{cnncalc: 1, input: [3, 32, 32], layers: [{op: conv, out: 8, k: 0}]}\n",
])
def test_a_broken_spec_in_a_folder_fails_the_gate(tmp_path: Path, text: str) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "broken.yaml", text)
    result = run("check", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "ERROR" in result.stdout and "skipped" not in result.stdout


def test_explicit_non_spec_is_an_error_unless_the_flag_skips_it(tmp_path: Path) -> None:
    compose = str(write(tmp_path, "docker-compose.yml", "services: {}\n"))
    named = run("check", compose)
    assert named.exit_code == 2 and "missing `cnncalc: 1`" in named.stdout
    skipped = run("check", compose, "--skip-non-specs", "--allow-empty")
    assert skipped.exit_code == 0 and f"skipped {compose}: no top-level" in skipped.stdout
    broken = str(write(tmp_path, "broken.yaml", "cnncalc: 1\ninput: [3\n"))
    assert run("check", broken, "--skip-non-specs", "--allow-empty").exit_code == 2


def test_a_folder_whose_yaml_are_all_non_specs_is_empty(tmp_path: Path) -> None:
    write(tmp_path, "ci/compose.yml", "services: {}\n")
    result = run("check", str(tmp_path / "ci"))
    assert result.exit_code == 2 and "no spec found in folder" in result.stderr
    assert run("check", str(tmp_path / "ci"), "--allow-empty").exit_code == 0


# ------------------------------------------------- one bad file never ends the run
@pytest.mark.parametrize("exc", [RuntimeError("boom"), OverflowError("int too large"),
                                 RecursionError("deep"), KeyError("k"), MemoryError(),
                                 ZeroDivisionError("division by zero")])
def test_an_exception_in_one_file_is_that_files_verdict(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       exc: Exception) -> None:
    import cnncalc.analysis

    real = cnncalc.analysis.analyze

    def analyze(net, *args, **kwargs):  # type: ignore[no-untyped-def]
        if net.name == "b_bad":
            raise exc
        return real(net, *args, **kwargs)

    monkeypatch.setattr(cnncalc.analysis, "analyze", analyze)
    write(tmp_path, "specs/a_good.yaml", GOOD)
    write(tmp_path, "specs/b_bad.yaml", GOOD)
    write(tmp_path, "specs/c_failing.yaml", FAILING)
    report = tmp_path / "out" / "junit.xml"
    result = run("check", str(tmp_path / "specs"), "--format", "junit", "-o", str(report))
    assert result.exit_code == 2, result.output  # an invalid file: 2 (not 70)
    assert f"internal error: {type(exc).__name__}" in result.stdout
    assert "PASS" in result.stdout and "FAIL" in result.stdout  # the others were checked
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    data = json.loads(run("check", str(tmp_path / "specs"), "--format", "json").stdout)
    bad = next(s for s in data["specs"] if s["file"].endswith("b_bad.yaml"))
    assert bad["status"] == "error" and bad["error"]["type"] == "InternalCheckError"
    assert data["exit_code"] == 2


def test_an_exception_while_formatting_one_result_is_its_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cnncalc.render import check as fmt

    real = fmt.describe
    monkeypatch.setattr(fmt, "describe", lambda o: (_ for _ in ()).throw(ValueError("fmt"))
                        if o.key == "trainable_params" else real(o))
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", FAILING)  # has a trainable_params expectation
    for form in ("text", "json", "github", "junit"):
        out = tmp_path / f"report.{form}"
        result = run("check", str(tmp_path), "--format", form, "-o", str(out))
        assert result.exit_code == 2, (form, result.output)
        assert out.exists() and "internal error: ValueError: fmt" in out.read_text()


@pytest.mark.parametrize("figure", [".inf", "-.inf", ".nan", "1e400", "{max: .inf}"])
def test_infinite_expectations_do_not_end_the_run(tmp_path: Path, figure: str) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", NET + f"expect: {{params: {figure}}}\n")
    report = tmp_path / "junit.xml"
    result = run("check", str(tmp_path), "--format", "junit", "-o", str(report))
    assert result.exit_code == 2, result.output
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("errors")) == ("2", "1")


def test_traceback_of_an_internal_error_on_request(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.analysis

    monkeypatch.setattr(cnncalc.analysis, "analyze",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    path = str(write(tmp_path, "a.yaml", GOOD))
    assert "Traceback" not in run("check", path).stderr
    shown = run("check", path, "--traceback")
    assert shown.exit_code == 2
    assert "Traceback" in shown.stderr and "RuntimeError: boom" in shown.stderr


# ---------------------------------------------------------------------- paths
@pytest.mark.parametrize("pattern", ["/etc/*", "/", "../*", "**/../*", "a/../../b.yaml", "",
                                     "\\\\server\\share\\*.yaml", "C:\\specs\\*.yaml"])
def test_globs_never_leave_the_folder(tmp_path: Path, pattern: str) -> None:
    write(tmp_path, "a.yaml", GOOD)
    result = run("check", str(tmp_path), "--glob", pattern)
    assert result.exit_code == 2 and "--glob" in result.stderr, result.output
    assert "internal error" not in result.stderr


def test_empty_path_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.yaml", GOOD)
    monkeypatch.chdir(tmp_path)
    result = run("check", "")
    assert result.exit_code == 2 and "empty PATH" in result.stderr and "PASS" not in result.stdout


def test_broken_symlinks_and_loops_are_named_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    result = run("check", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'gone.yaml'}: a broken symbolic link" in result.stdout
    assert f"{tmp_path / 'loop.yaml'}: cannot read" in result.stdout
    assert "3 specs: 1 passed, 0 failed, 2 invalid" in result.stdout
    named = run("check", str(tmp_path / "gone.yaml"))
    assert named.exit_code == 2 and "broken symbolic link" in named.stdout


def test_symlinked_spec_is_checked(tmp_path: Path) -> None:
    real = write(tmp_path, "elsewhere/net.txt", FAILING)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "net.yaml").symlink_to(real)
    assert run("check", str(tmp_path / "specs")).exit_code == 1


def test_unreadable_file_and_folder_are_named_errors(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    write(tmp_path, "a.yaml", GOOD)
    locked = write(tmp_path, "locked.yaml", GOOD)
    write(tmp_path, "sub/hidden_from_us.yaml", FAILING)
    real_open, real_scandir = Path.open, os.scandir

    def open_(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def scandir(path="."):  # type: ignore[no-untyped-def]
        if Path(path) == tmp_path / "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(os, "scandir", scandir)
    result = run("check", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{locked}: cannot read: Permission denied" in result.stdout
    assert f"{tmp_path / 'sub'}: cannot list the folder: Permission denied" in result.stdout


def test_fifo_in_a_folder_is_skipped_unopened(tmp_path: Path) -> None:
    import os

    from helpers import fresh_cli

    write(tmp_path, "a.yaml", GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it to read would block: no writer
    done, _ = fresh_cli("check", str(tmp_path))  # a hang guard: fresh_cli's timeout
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"skipped {tmp_path / 'pipe.yaml'}: a FIFO, not a regular file: never opened" \
        in done.stdout


def test_symlink_to_a_folder_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "../outside/bad.yaml", BROKEN)
    (tmp_path / "link").symlink_to(tmp_path.parent / "outside")
    assert run("check", str(tmp_path)).exit_code == 0


# ------------------------------------------------------------ well-formed output
C0 = "".join(map(chr, range(32))) + "\x7f\x85\u2028\u202e\ud800\udfff\ufffe"
#: the same in YAML's double-quoted escapes (YAML has no lone surrogates: a file name brings them)
YAML_C0 = "".join(f"\\x{i:02x}" for i in range(32)) + "\\x7f\\x85\\u2028\\u202e\\ufffe"


def _control_specs(folder: Path) -> None:
    head = f'cnncalc: 1\nname: "n{YAML_C0}"\ninput: [3, 8, 8]\n'
    write(folder, "fail.yaml", head + "layers: [{id: c1, op: conv, out: 4, k: 3, stride: 2}]\n"
          f'strict: false\nexpect: {{params: 1, macs: {{max: "{YAML_C0}"}}}}\n')
    write(folder, "fail2.yaml", head + "layers: [{id: c1, op: conv, out: 4, k: 3, stride: 2}]\n"
          "strict: false\nexpect: {params: 1}\n")
    write(folder, "error.yaml", head + "layers: [{id: c1, op: conv, out: 4, k: 3}]\n"
          f'expect: {{layers: {{"z{YAML_C0}": {{params: 1}}}}}}\n')
    write(folder, f"file{''.join(map(chr, range(1, 32)))}.yaml", GOOD)
    import os

    fd = os.open(os.fsencode(folder) + b"/latin\xe9.yaml", os.O_CREAT | os.O_WRONLY)
    os.write(fd, FAILING.encode())  # a name that is not UTF-8: a lone surrogate in Python
    os.close(fd)


def test_junit_is_well_formed_with_every_control_character(tmp_path: Path) -> None:
    _control_specs(tmp_path)
    out = tmp_path / "junit.xml"
    result = run("check", str(tmp_path), "--format", "junit", "-o", str(out))
    assert result.exit_code == 2, result.output
    text = out.read_text(encoding="utf-8")
    root = ET.fromstring(text)  # well-formed: parses
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "2")
    assert "\\x1b" in text and "\\x00" in text and "\\udce9" in text and "\\u202e" in text
    for ch in C0.replace("\n", ""):
        assert ch not in text, repr(ch)
    stdout_xml = run("check", str(tmp_path), "--format", "junit").stdout
    assert ET.fromstring(stdout_xml).get("errors") == "2"
    assert run("check", str(tmp_path), "--format", "json").exit_code == 2


def test_text_output_never_passes_control_characters(tmp_path: Path) -> None:
    _control_specs(tmp_path)
    for args in ((), ("-v",), ("--format", "github")):
        out = run("check", str(tmp_path), *args).stdout
        assert "\\x1b" in out, args
        for ch in C0.replace("\n", ""):
            assert ch not in out, (args, repr(ch))


def test_github_annotations_are_one_line_and_escaped(tmp_path: Path) -> None:
    _control_specs(tmp_path)
    out = run("check", str(tmp_path), "--format", "github").stdout.splitlines()
    annotations = [ln for ln in out if ln.startswith("::")]
    assert len(annotations) >= 4
    for ln in annotations:
        command, _, message = ln[2:].partition("::")
        kind, _, props = command.partition(" ")
        assert kind in ("error", "warning")
        for prop in props.split(","):  # ',' and ':' inside a property are escaped
            key, _, value = prop.partition("=")
            assert key in ("file", "line", "col", "title") and ":" not in value, prop
        assert "%0A" not in props and "\n" not in message
    assert any("title=cnncalc check%3A n\\x00" in ln for ln in annotations)


def test_annotation_escapes_percent_cr_lf_colon_comma() -> None:
    from cnncalc.render.check import annotation

    line = annotation("error", "a,b:c%.yaml", "50%\r\nnext", 3, 4, "t: a, b")
    assert line == ("::error file=a%2Cb%3Ac%25.yaml,line=3,col=4,title=t%3A a%2C b"
                    "::50%25\\x0d%0Anext")


# -------------------------------------------------------------- warnings, located
TRUNC = "cnncalc: 1\ninput: [1, 8, 8]\nlayers:\n  - {id: c, op: conv, out: 2, k: 3, stride: 2}\n" \
        "strict: false\n"


def test_github_warning_annotations_for_spec_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", TRUNC)
    out = run("check", str(path), "--format", "github")
    assert out.exit_code == 0
    warnings = [ln for ln in out.stdout.splitlines() if ln.startswith("::warning ")]
    assert len(warnings) == 2  # the dropped row and the dropped column
    assert all(ln.startswith(f"::warning file={path},line=4,col=5,") for ln in warnings)
    assert "c: stride 2 does not tile the padded height" in warnings[0]
    assert run("check", str(path), "--format", "github", "--strict").stdout.count("::warning") == 0


def test_verbose_text_warnings_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", TRUNC)
    out = run("check", str(path), "-v").stdout
    assert f"  warning: {path}:4:5: c: stride 2 does not tile the padded height" in out
    data = json.loads(run("check", str(path), "--format", "json").stdout)
    assert data["specs"][0]["located_warnings"][0]["line"] == 4
    xml = ET.fromstring(run("check", str(path), "--format", "junit").stdout)
    assert f"warning: {path}:4:5: c:" in xml.find("./testsuite/testcase/system-out").text


# --------------------------------------------------------------- large figures
BIG = 10**29 + 7  # 30 digits


def _big_spec(expect: str = "") -> str:
    return (f"cnncalc: 1\ninput: [{BIG}, 1, 1]\n"
            f"layers:\n  - {{id: c, op: conv, out: {BIG}, k: 1}}\n" + expect)


def test_figures_too_large_for_a_float_are_exact(tmp_path: Path) -> None:
    params = BIG * BIG + BIG  # weights + bias
    path = str(write(tmp_path, "big.yaml", _big_spec("expect: {params: 1, macs: {max: 1k}}\n")))
    result = run("check", path)
    assert result.exit_code == 1, result.output
    assert f"got {params:,} (1.00e58, +1.00e60%)" in result.stdout
    data = json.loads(run("check", path, "--format", "json").stdout)
    assert data["specs"][0]["expectations"][0]["actual"] == params
    assert ET.fromstring(run("check", path, "--format", "junit").stdout).get("failures") == "1"
    assert run("check", path, "--format", "github").exit_code == 1


def test_budgets_compare_exact_integers(tmp_path: Path) -> None:
    """A 30-digit budget (the most a figure may have) against a 30-digit figure: exact."""
    width = 10**14 + 3
    path = str(write(tmp_path, "big.yaml", f"cnncalc: 1\ninput: [{width}]\nlayers:\n"
                                          f"  - {{id: f, op: linear, out: {width}}}\n"))
    params = width * width + width  # 29 digits: past a float's 53-bit mantissa
    assert float(params) == float(params - 1)  # a float comparison could not tell
    assert run("check", path, "--max-params", str(params)).exit_code == 0
    over = run("check", path, "--max-params", str(params - 1))
    assert over.exit_code == 1 and f"params: {params:,} (1.00e28) is over the budget" in over.stdout
    past = run("check", path, "--max-params", "1" + "0" * 30)
    assert past.exit_code == 2 and "30" in past.output


def test_huge_non_integer_receptive_field_expectation(tmp_path: Path) -> None:
    from cnncalc.check import Outcome
    from cnncalc.render.check import describe
    from cnncalc.spec.expect import parse_target

    huge = Fraction(10**400 + 1, 2)
    o = Outcome("receptive_field", parse_target(3), huge, False)
    assert describe(o) == "receptive_field: expected 3, got 5.00e399 (+1.67e401%)"


# ------------------------------------------------------- every --help example runs
def _examples(command: str) -> list[str]:
    import re

    import typer.main

    epilog = typer.main.get_command(app).commands[command].epilog or ""  # type: ignore[attr-defined]
    return re.findall(r"\[bold\](.*?)\[/bold\]", epilog)


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git not installed")
@pytest.mark.parametrize("command", ["check", "diff", "schema"])
def test_every_help_example_runs(command: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex
    import subprocess

    write(tmp_path, "specs/net.yaml", NET)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True, capture_output=True)
    for text in (NET, GOOD):  # two revisions of specs/net.yaml: HEAD~1 exists
        write(tmp_path, "specs/net.yaml", text)
        subprocess.run([*git, "add", "."], cwd=tmp_path, check=True, capture_output=True)
        subprocess.run([*git, "commit", "-qm", "rev"], cwd=tmp_path, check=True,
                       capture_output=True)
    write(tmp_path, "net.yaml", NET)
    write(tmp_path, "old.yaml", NET)
    write(tmp_path, "new.yaml", GOOD)
    monkeypatch.chdir(tmp_path)
    examples = _examples(command)
    assert len(examples) >= 2
    for line in examples:
        words = shlex.split(line)
        assert words[:2] == ["cnncalc", command], line
        args, target = (words[1:words.index(">")], words[-1]) if ">" in words else (words[1:], "")
        result = run(*args)
        assert result.exit_code == 0, (line, result.output)
        if target:
            Path(target).write_text(result.stdout)
        for name in [target] + [w for w in words if w.endswith((".xml", ".json", ".md"))]:
            assert name == "" or Path(name).read_text().strip(), (line, name)
    if command == "check":
        assert ET.parse(tmp_path / "check.xml").getroot().get("tests") == "1"
    if command == "schema":
        assert json.loads((tmp_path / ".vscode" / "cnncalc.schema.json").read_text())


def test_pre_commit_rev_is_a_commit_hash_not_a_missing_tag() -> None:
    import re

    revs = []
    for name in ("docs/check.md", ".pre-commit-hooks.yaml", "README.md"):
        text = (ROOT / name).read_text()
        revs += re.findall(r"^[#\s]*rev:\s*(.*?)\s*(?:#.*)?$", text, re.MULTILINE)
    assert revs  # the docs show one
    for rev in revs:  # no release is tagged: a full commit sha (or the placeholder for it)
        assert re.fullmatch(r"[0-9a-f]{40}|<full commit sha>", rev), rev
    assert "git ls-remote" in (ROOT / "docs" / "check.md").read_text()


@pytest.mark.parametrize("path", ["a" * 5000, "a/" * 3000 + "x.yaml", "nul\0byte.yaml"])
def test_paths_the_os_refuses_are_that_paths_error(tmp_path: Path, path: str) -> None:
    good = str(write(tmp_path, "a.yaml", GOOD))
    found = collect([path, good])
    result = run_check(found.files)
    assert [r.status for r in result.results] == ["error", "pass"]
    assert result.exit_code() == 2


def test_a_bug_while_loading_still_skips_non_specs(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.spec

    monkeypatch.setattr(cnncalc.spec, "parse_network",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("loader bug")))
    write(tmp_path, "a.yaml", GOOD)
    compose = write(tmp_path, "compose.yml", "services: {}\n")
    result = run("check", str(tmp_path))
    assert result.exit_code == 2
    assert "internal error: RuntimeError: loader bug" in result.stdout
    assert f"skipped {compose}: no top-level `cnncalc:` key" in result.stdout


def test_a_failing_progress_callback_never_stops_the_check(mixed: Path) -> None:
    def boom(verdict: object) -> None:
        raise RuntimeError("display")

    run_ = run_check(collect([str(mixed)]).files, on_result=boom)
    assert [r.status for r in run_.results] == ["pass", "fail", "error"]
