"""The analysis CLI: commands, formats, options, exit codes, streams and startup.

Oracles: LeNet-5's parameters are the paper's (LeCun et al. 1998: 60,000 trainable,
C3 1,516); the JSON must equal ``Report.to_dict()`` of the library; MACs scale
linearly with the batch; ratios are recomputed from the JSON totals.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import EXIT_BROKEN_PIPE, EXIT_INTERNAL, app

from helpers import assert_json_contract, fresh_cli, torch_modules

TINY = str(Path(__file__).parent / "golden" / "tiny_resnet.yaml")
BAD_K = "cnncalc: 1\ninput: [1, 32, 32]\nlayers:\n  - {op: conv, out: 6, k: 0}\n"
runner = CliRunner()


def run(*args: str, input: str | None = None,
        env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input, env=env)


def cli_json(*args: str) -> object:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def lenet_dict() -> dict:
    return cnncalc.analyze(cnncalc.load("lenet5")).to_dict()


# ----------------------------------------------------------------- help
def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ("shapes", "params", "flops", "rf", "summary", "compare", "ops", "zoo"):
        assert name in result.stdout


def test_help_lists_each_command_in_one_flowing_paragraph() -> None:
    """typer's rich mode keeps a docstring's line breaks in the command list; the group
    joins them, so a description wraps at the terminal's width, not the source's."""
    from rich.text import Text
    from typer.main import get_command

    from cnncalc.cli.base import listing_help

    group = get_command(app)
    wide = run("--help", env={"COLUMNS": "400"})
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.short_help == listing_help(command.help), name
        assert "\n" not in command.short_help
        shown = Text.from_markup(command.short_help).plain
        assert f"{name}  " in wide.stdout and shown in wide.stdout, name


@pytest.mark.parametrize("command", ["shapes", "params", "flops", "rf", "summary", "compare",
                                     "ops", "zoo"])
def test_every_command_help_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"cnncalc {command}" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"cnncalc {cnncalc.__version__}"


# ----------------------------------------------------------------- tables
def test_summary_table() -> None:
    result = run("summary", "lenet5")
    assert result.exit_code == 0
    out = result.stdout
    assert "LeNet-5" in out and "60.84 K" in out and "C3" in out
    assert "60,000 trainable" in out and "840 fixed" in out  # the paper's split
    assert result.stderr == ""


def test_exact_shows_digits() -> None:
    result = run("params", "lenet5", "--exact")
    assert "60,840" in result.stdout and "1,516" in result.stdout
    assert "60.84 K" not in result.stdout


def test_rf_table_has_the_network_field() -> None:
    result = run("rf", "lenet5")
    assert result.exit_code == 0
    assert "receptive field 32x32 at C5.act" in result.stdout


# ----------------------------------------------------------------- formats
def test_summary_json_is_the_contract(lenet_dict: dict) -> None:
    data = cli_json("summary", "lenet5")
    assert data == lenet_dict
    assert_json_contract(data)
    assert data["totals"]["trainable_params"] == 60000


def test_params_json_is_a_subset(lenet_dict: dict) -> None:
    data = cli_json("params", "lenet5")
    c3 = next(layer for layer in data["layers"] if layer["id"] == "C3")
    assert c3["params"] == 1516 and "macs" not in c3
    assert data["totals"]["params"] == lenet_dict["totals"]["params"]


def test_csv_one_row_per_layer(lenet_dict: dict) -> None:
    result = run("summary", "lenet5", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [layer["id"] for layer in lenet_dict["layers"]]
    assert sum(int(r["trainable_params"]) for r in rows) == 60000


def test_markdown_table() -> None:
    result = run("shapes", "lenet5", "--format", "markdown")
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| id "))
    assert lines[header + 1].startswith("| ---")
    assert any(line.startswith("| C3 | conv | 6x14x14 | 16x10x10 |") for line in lines)


def test_spec_from_stdin() -> None:
    spec = "cnncalc: 1\ninput: [3, 32, 32]\nlayers:\n  - {id: c, op: conv, out: 8, k: 3}\n"
    result = run("shapes", "-", "--format", "json", input=spec)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "<stdin>" and data["output_shape"] == [8, 30, 30]


# ----------------------------------------------------------------- options
def test_batch_scales_macs() -> None:
    one = cli_json("flops", "lenet5")
    four = cli_json("flops", "lenet5", "--batch", "4")
    assert four["totals"]["macs"] == 4 * one["totals"]["macs"]
    assert four["batch"] == 4


def test_dtype_changes_bytes() -> None:
    f32 = cli_json("params", "lenet5")
    f16 = cli_json("params", "lenet5", "--dtype", "float16")
    assert f16["totals"]["param_bytes"] * 2 == f32["totals"]["param_bytes"] == 60840 * 4


def test_dtype_typo_lists_choices() -> None:
    result = run("summary", "lenet5", "--dtype", "float8")
    assert result.exit_code == 2
    assert "bfloat16" in result.stderr


@pytest.mark.parametrize(("given", "expected"), [
    ("1x36x36", [1, 36, 36]), ("36x40", [1, 36, 40]), ("36", [1, 36, 36]),
])
def test_input_forms(given: str, expected: list[int]) -> None:
    data = cli_json("shapes", "lenet5", "--input", given)
    assert data["input_shape"] == expected


@pytest.mark.parametrize("bad", ["3x", "1x2x3x4", "0x32x32"])
def test_bad_input_is_a_usage_error(bad: str) -> None:
    result = run("shapes", "lenet5", "--input", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --input")


def test_max_layers_limit() -> None:
    result = run("shapes", TINY, "--max-layers", "3")
    assert result.exit_code == 2
    assert "more than 3 layers" in result.stderr and "--max-layers" in result.stderr


def test_warnings_go_to_stderr_located() -> None:
    result = run("summary", TINY, "--format", "json")
    assert result.exit_code == 0
    json.loads(result.stdout)  # stdout stays pure data
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines)
    assert lines[0].startswith(f"warning: {TINY}:17:5: stem: stride 2 does not tile")


def test_strict_makes_warnings_errors() -> None:
    result = run("summary", TINY, "--strict")
    assert result.exit_code == 2
    assert f"{TINY}:17:5: error: stem:" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------- compare
def test_compare_ratios() -> None:
    data = cli_json("compare", "lenet5", TINY)
    a, b = data["columns"]
    assert data["baseline"] == a["label"] == "LeNet-5"
    assert b["ratios"]["macs"] == pytest.approx(b["totals"]["macs"] / a["totals"]["macs"])
    assert b["ratios"]["params"] == pytest.approx(b["totals"]["params"] / 60840)
    assert a["ratios"]["macs"] == 1.0


def test_compare_input_sweep() -> None:
    data = cli_json("compare", "lenet5", "--input", "1x32x32", "--input", "1x64x64")
    small, large = data["columns"]
    assert (small["input_shape"], large["input_shape"]) == ([1, 32, 32], [1, 64, 64])
    net = cnncalc.load("lenet5")
    assert large["totals"]["macs"] == cnncalc.analyze(net, (1, 64, 64)).totals.macs
    expected = large["totals"]["macs"] / small["totals"]["macs"]
    assert large["ratios"]["macs"] == pytest.approx(expected)


def test_compare_table_and_csv() -> None:
    table = run("compare", "lenet5", TINY)
    assert table.exit_code == 0
    assert "/ LeNet-5" in table.stdout and "MACs" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run("compare", "lenet5", TINY, "--format",
                                               "csv").stdout)))
    assert [r["name"] for r in rows] == ["LeNet-5", "tiny-resnet"]
    assert float(rows[0]["macs_ratio"]) == 1.0


# ----------------------------------------------------------------- ops, zoo
def test_ops_lists_every_registered_op() -> None:
    from cnncalc.ops import REGISTRY

    data = cli_json("ops")
    assert [d["name"] for d in data] == list(REGISTRY)
    table = run("ops").stdout
    assert "conv" in table and "subsample" in table


def test_ops_one_op() -> None:
    data = cli_json("ops", "conv")
    names = [a["name"] for a in data["args"]]
    assert {"out", "k", "stride", "pad", "dilation", "groups", "bias"} <= set(names)
    stride = next(a for a in data["args"] if a["name"] == "stride")
    assert stride["default"] == 1 and not stride["required"]
    table = run("ops", "conv").stdout
    assert "stride" in table and "formulas" in table


def test_unknown_op_suggests() -> None:
    result = run("ops", "cnv")
    assert result.exit_code == 2 and "did you mean 'conv'" in result.stderr


def test_zoo_lists_lenet5() -> None:
    data = cli_json("zoo")
    lenet = next(e for e in data if e["name"] == "lenet5")
    assert (lenet["params"], lenet["trainable_params"], lenet["input_shape"]) == \
        (60840, 60000, [1, 32, 32])
    assert "lenet5" in run("zoo").stdout


# ----------------------------------------------------------------- errors
def test_bad_spec_is_located_without_traceback() -> None:
    result = run("shapes", "-", input=BAD_K)
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:4:")
    assert "error:" in result.stderr and "k must be > 0" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_traceback_flag_shows_it() -> None:
    result = run("shapes", "-", "--traceback", input=BAD_K)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "k must be > 0" in result.stderr


def test_unknown_zoo_name_suggests() -> None:
    result = run("summary", "resnet5O")
    assert result.exit_code == 2
    assert "did you mean the built-in 'resnet50'" in result.stderr


def test_missing_file() -> None:
    result = run("summary", "nowhere/net.yaml")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_internal_error_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.cli.analysis as commands

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(commands, "analyse_spec", boom)
    result = run("summary", "lenet5")
    assert result.exit_code == EXIT_INTERNAL
    assert "internal error: ZeroDivisionError: oops" in result.stderr
    assert "--traceback" in result.stderr and "Traceback (most" not in result.stderr


def test_usage_error_exit_2() -> None:
    assert run("summary").exit_code == 2
    assert run("summary", "lenet5", "--batch", "0").exit_code == 2
    assert run("nosuchcommand").exit_code == 2


# ----------------------------------------------------------------- colour
def test_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    forced = run("summary", "lenet5", env={"FORCE_COLOR": "1", "NO_COLOR": None, "TERM": "xterm"})
    cyan = "\x1b[36m"  # the op column; bold and dim are not colours and may stay
    assert cyan in forced.stdout  # so the checks below can fail
    env_off = run("summary", "lenet5", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    flag_off = run("summary", "lenet5", "--no-color", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert cyan not in env_off.stdout and cyan not in flag_off.stdout


# ----------------------------------------------------------------- processes
def _cli(*args: str, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True,
                          text=True, timeout=120, **kw)  # type: ignore[call-overload]


def test_end_to_end_exit_codes() -> None:
    ok = _cli("params", "lenet5", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["totals"]["trainable_params"] == 60000
    bad = _cli("shapes", "-", input=BAD_K)
    assert bad.returncode == 2 and bad.stderr.startswith("<stdin>:4:")
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("args", [["summary", "lenet5"], ["summary", "lenet5", "-f", "csv"]])
def test_broken_pipe_is_quiet(args: list[str]) -> None:
    """stdout closed before anything is written (`cnncalc ... | head` once head exits)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "cnncalc", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == EXIT_BROKEN_PIPE
    assert proc.stderr == ""


@pytest.mark.parametrize("args", [["--help"], ["shapes", "lenet5"], ["summary", "lenet5"]])
def test_analysis_path_does_not_import_torch(args: list[str]) -> None:
    proc, modules = fresh_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert modules and torch_modules(modules) == []


def test_help_imports_no_analysis_machinery() -> None:
    """`cnncalc --help` stays fast: no pydantic, yaml, op registry or torch behind it."""
    proc, modules = fresh_cli("--help")
    heavy = ("pydantic", "yaml", "torch", "cnncalc.ops", "cnncalc.spec")
    stand_in = "pydantic.plugin._loader"  # (cnncalc.cli's stand-in: no pydantic code)
    assert proc.returncode == 0 and modules and stand_in in modules
    assert sorted(m for m in modules if m.startswith(heavy) and m != stand_in) == []


def test_version_imports_no_command_module() -> None:
    from cnncalc import __version__
    from cnncalc.cli import COMMANDS

    proc, modules = fresh_cli("--version")
    assert proc.returncode == 0 and proc.stdout == f"cnncalc {__version__}\n"
    assert "cnncalc.cli.base" in modules  # so the check below can fail
    assert sorted(m for m in modules if m.removeprefix("cnncalc.cli.") in COMMANDS) == []


# ------------------------------------------------------------ awkward paths
def test_a_folder_is_not_a_spec(tmp_path: Path) -> None:
    result = run("shapes", str(tmp_path))
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_unreadable_file_is_a_located_usage_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("cnncalc: 1\ninput: [1, 8, 8]\nlayers: [relu]\n")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")  # root reads anything: chmod 000 can't

    monkeypatch.setattr(Path, "open", denied)
    result = run("shapes", str(spec))
    assert result.exit_code == 2 and "cannot read: Permission denied" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("width", ["30", "60"])
def test_narrow_terminal_still_renders_every_layer(width: str) -> None:
    result = run("summary", "lenet5", env={"COLUMNS": width})
    assert result.exit_code == 0
    for layer in ("C1", "C3", "S4", "F6", "OUTPUT"):
        assert layer in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= int(width)


def test_command_map_lists_every_registered_command() -> None:
    """main() imports only the module of the command it runs: the map must be complete."""
    from cnncalc.cli import COMMANDS, _modules_for

    registered = {c.name or c.callback.__name__ for c in app.registered_commands}
    registered |= {g.name for g in app.registered_groups}  # `solve pad|stride|kernel`
    assert registered == {name for names in COMMANDS.values() for name in names}
    assert _modules_for(["summary", "lenet5"]) == ("analysis",)
    assert _modules_for(["--help"]) == tuple(COMMANDS)
    assert _modules_for(["sumary"]) == tuple(COMMANDS)  # unknown: all, for suggestions


def test_console_script_runs_one_command_module() -> None:
    out, modules = fresh_cli("shapes", "lenet5")
    assert "C3" in out.stdout
    assert "cnncalc.cli.teach" not in modules and "cnncalc.cli.analysis" in modules


# ------------------------------------------------ every documented example runs
REPO = Path(__file__).resolve().parent.parent
SHELL_SYNTAX = ("|", ">", "<", "&&", ";")


def help_examples() -> list[tuple[str, str]]:
    """(command path, example line) of every command's ``--help`` epilog, read from the
    application itself (so a new command or example is covered without editing this)."""
    import re

    from typer.main import get_command

    def walk(cmd, path):  # type: ignore[no-untyped-def]
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])
        if not getattr(cmd, "commands", None):
            yield " ".join(path), cmd

    found = []
    for path, cmd in walk(get_command(app), []):
        for line in re.findall(r"\[bold\](.*?)\[/bold\]", cmd.epilog or ""):
            found.append((path, line))
    return found


def readme_examples() -> list[tuple[str, int | None]]:
    """``$ cnncalc ...`` lines of the README's code blocks (and bare ``cnncalc ...``
    lines of a block of commands), each with the exit code the README shows for it:
    the number after a following ``$ echo $?``, 2 when its output is an error, else 0."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    found: list[tuple[str, int | None]] = []
    in_block = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        command = line[2:] if line.startswith("$ cnncalc ") else \
            line if line.startswith("cnncalc ") else None
        if command is None:
            continue
        command = command.split("  #")[0].strip()
        after = lines[i + 1] if i + 1 < len(lines) else ""
        code: int | None = 0
        if after.startswith("$ echo $?"):
            code = int(lines[i + 2])
        elif "error: " in after:
            code = 2
        else:
            for later in lines[i + 1:]:
                if later.startswith(("$ ", "```")):
                    if later.startswith("$ echo $?"):
                        code = int(lines[lines.index(later, i + 1) + 1])
                    break
        found.append((command, code))
    return found


def _example_folder(tmp: Path) -> Path:
    """A folder where the examples' file names exist: net.yaml, spec.yaml, old/new.yaml,
    specs/ and examples/ (links to the repository's), a git history for ``diff --rev``."""
    (tmp / "specs").symlink_to(REPO / "specs")
    (tmp / "examples").symlink_to(REPO / "examples")
    old, new = _resnets()
    for name in ("net.yaml", "spec.yaml", "old.yaml"):
        (tmp / name).write_text(old, encoding="utf-8")
    (tmp / "new.yaml").write_text(new, encoding="utf-8")
    return tmp


#: commands of other engineers' modules whose documented example fails today (issue 11):
#: the lead flips these at merge; strict, so a fixed one is noticed
KNOWN_FAILING: dict[str, str] = {}
#: timing commands measure for seconds by default; the examples run with the least
#: measuring (every option of the example still parsed and used)
QUICK_TIMING = " --warmup 0 --iters 1"


def _run_example(line: str, folder: Path) -> tuple[int, str]:
    """Run one documented command line in ``folder``: in a shell when it pipes or
    redirects (``cnncalc`` is this tree's ``python -m cnncalc``), else in-process."""
    import shlex

    if line.startswith("cnncalc profile"):
        line += QUICK_TIMING
    if any(s in line for s in SHELL_SYNTAX):
        env = {**os.environ, "PYTHONPATH": str(REPO), "CNNCALC_NO_PROGRESS": "1"}
        script = f'cnncalc() {{ "{sys.executable}" -m cnncalc "$@"; }}\n{line}\n'
        done = subprocess.run(["sh", "-c", script], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=600, check=False)
        return done.returncode, done.stderr
    old = Path.cwd()
    os.chdir(folder)
    try:
        result = runner.invoke(app, shlex.split(line)[1:])
    finally:
        os.chdir(old)
    return result.exit_code, result.stderr + (repr(result.exception) if result.exception
                                              and result.exit_code not in (0, 1, 2, 3) else "")


def _resnets() -> tuple[str, str]:
    """Two plain specs: the zoo's ResNet family without its variants (its defaults: a
    ResNet-50), and the same with layer3's 23 blocks (a ResNet-101)."""
    family = (REPO / "specs" / "resnet.yaml").read_text(encoding="utf-8")
    head, _, rest = family.partition("\nvariants:\n")
    plain = head + "\n" + rest[rest.index("\ndefaults:\n") + 1:]
    return plain, plain.replace("depth3: 6\n", "depth3: 23\n")


def _git_history(folder: Path) -> None:
    """``specs/net.yaml`` in a repository with two commits (for ``diff --rev HEAD~1``)."""
    work = folder / "gitrepo"
    (work / "specs").mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    for number, text in enumerate(_resnets()):
        (work / "specs" / "net.yaml").write_text(text, encoding="utf-8")
        subprocess.run([*git, "add", "-A"], cwd=work, check=True)
        subprocess.run([*git, "commit", "-qm", f"version {number}"], cwd=work, check=True)


def _needs_what_is_missing(line: str) -> str | None:
    """Why an example cannot run on this machine (a CUDA device, Graphviz), or None."""
    import shutil

    if "--device cuda" in line:
        return "needs a CUDA device"
    if ("--format svg" in line or "--format png" in line) and shutil.which("dot") is None:
        return "needs Graphviz's dot"
    return None


@pytest.mark.parametrize(("command", "line"), help_examples(),
                         ids=[f"{c}: {line}" for c, line in help_examples()])
def test_every_help_example_runs(command: str, line: str, tmp_path: Path,
                                 request: pytest.FixtureRequest) -> None:
    missing = _needs_what_is_missing(line)
    if missing:
        pytest.skip(missing)
    if line in KNOWN_FAILING:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_FAILING[line]))
    folder = _example_folder(tmp_path)
    if "--rev" in line:
        _git_history(folder)
        folder = folder / "gitrepo"
    code, stderr = _run_example(line, folder)
    assert code == 0, f"{line}: exit {code}\n{stderr}"


@pytest.mark.parametrize(("line", "code"), readme_examples(),
                         ids=[line for line, _ in readme_examples()])
def test_every_readme_command_runs(line: str, code: int, tmp_path: Path,
                                   request: pytest.FixtureRequest) -> None:
    missing = _needs_what_is_missing(line)
    if missing:
        pytest.skip(missing)
    if code == 2 and " net.yaml" in line:
        pytest.skip("an error shown for a spec the prose describes, not a file of the repo")
    if code == 0 and line in {example for _, example in help_examples()}:
        pytest.skip("also a --help example: run there")
    if line in KNOWN_FAILING:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_FAILING[line]))
    actual, stderr = _run_example(line, _example_folder(tmp_path))
    assert actual == code, f"{line}: exit {actual}, the README shows {code}\n{stderr}"


def test_the_example_lists_are_not_empty() -> None:
    """The parsers above find what they should (a broken parser would pass vacuously)."""
    commands = {c.split()[0] for c, _ in help_examples()}
    assert {"shapes", "params", "flops", "rf", "summary", "compare", "ops", "zoo", "check",
            "diff", "schema", "explain", "calc", "sizes", "graph", "plot", "solve", "build",
            "export", "profile"} <= commands
    readme = readme_examples()
    assert len(readme) >= 15 and ("cnncalc summary lenet5", 0) in readme
    assert ("cnncalc check specs/ examples/ --max-params 200M", 1) in readme


# ------------------------------------------------ strict integers (issue 11)
def flat(stderr: str) -> str:
    """typer's boxed usage error as one line (the box wraps long messages)."""
    return " ".join(stderr.replace("│", " ").split())


NOT_ASCII_INTEGERS = ["٣", "２２４", "²", " 8", "8 ", "+8", "-1", "8_0", "1e22", "0x10", "",
                      "9" * 31]


@pytest.mark.parametrize("option", ["--batch", "--max-layers", "--max-bytes"])
@pytest.mark.parametrize("value", NOT_ASCII_INTEGERS,
                         ids=[repr(v) if len(v) < 10 else "31 digits" for v in NOT_ASCII_INTEGERS])
def test_integer_options_take_ascii_digits_only(option: str, value: str) -> None:
    result = run("summary", "lenet5", option, value)
    assert result.exit_code == 2, result.stdout
    stderr = flat(result.stderr)
    assert f"'{option}'" in stderr and "Traceback" not in stderr
    bad = next((c for c in value if not "0" <= c <= "9"), None)
    if bad is not None:
        assert f"U+{ord(bad):04X}" in stderr
    elif value:
        assert "31 digits, over the limit of 30" in stderr


def test_integer_options_at_their_limit_are_analysed_exactly() -> None:
    """30 digits of batch (the spec's own integer limit) and 29-digit input sizes work,
    figures far past a float's precision; MACs scale exactly with the batch."""
    batch = "9" * 30
    data = cli_json("summary", "lenet5", "--batch", batch)
    base = cli_json("summary", "lenet5")
    assert data["totals"]["macs"] == base["totals"]["macs"] * int(batch)  # type: ignore[index]
    for command in ("summary", "flops", "params", "rf", "shapes"):
        for fmt in ("table", "markdown", "csv"):
            result = run(command, "lenet5", "--batch", batch, "--input", "9" * 29,
                         "--format", fmt)
            assert result.exit_code == 0, (command, fmt, result.stderr)
    result = run("compare", "lenet5", "--input", "32", "--input", "9" * 29, "--batch", batch)
    assert result.exit_code == 0, result.stderr


def test_strict_integers_are_one_definition() -> None:
    """Every integer option of the analysis commands parses through common.strict_int,
    and its digit limit is the spec's."""
    from typer.main import get_command

    from cnncalc.cli.common import MAX_INT_DIGITS
    from cnncalc.spec import Limits

    assert Limits().max_int_digits == MAX_INT_DIGITS
    group = get_command(app)
    for name in ("shapes", "params", "flops", "rf", "summary", "compare"):
        options = {p.name: p for p in group.commands[name].params}
        for opt in ("batch", "max_layers", "max_bytes"):
            result = run(name, "lenet5", f"--{opt.replace('_', '-')}", "٣")
            assert result.exit_code == 2, opt
            assert "ARABIC-INDIC DIGIT THREE" in flat(result.stderr), opt
            assert opt in options


# ------------------------------------------------ --input (issue 11)
@pytest.mark.parametrize(("text", "shown"), [
    ("3 224 224", "' ' (U+0020 SPACE) at position 2"), ("22 4", "' ' (U+0020 SPACE) at position 3"),
    ("٣x٢٢٤", "U+0663"), ("３x２２４", "U+FF13"), ("3x²", "U+00B2"), ("3x-4", "U+002D"),
    ("3x3\x1b[2J", "'\\x1b' (U+001B)"), ("9" * 31, "31 digits, over the limit of 30"),
    ("3x0x32", "every size must be >= 1"),
])
def test_input_refuses_what_is_not_a_shape(text: str, shown: str) -> None:
    for command in (("summary", "lenet5"), ("compare", "lenet5", "--input", "32")):
        result = run(*command, "--input", text)
        assert result.exit_code == 2 and "--input" in result.stderr, result.stderr
        assert shown in result.stderr and "\x1b" not in result.stderr


@pytest.mark.parametrize("text", ["1x32x32", "1X32X32", "1×32×32", "[1, 32, 32]", "(1,32,32)",
                                  "32x32", "32", " 32 "])
def test_input_spellings_that_are_shapes(text: str) -> None:
    data = cli_json("shapes", "lenet5", "--input", text)
    assert data["input_shape"] == [1, 32, 32]  # type: ignore[index]


# ------------------------------------------------ repeated options (issue 11)
@pytest.mark.parametrize("args", [
    ("compare", "lenet5", "--batch", "1", "--batch", "8"),
    ("compare", "lenet5", "-b", "1", "--batch=8"),
    ("compare", "lenet5", "-b8", "--batch", "1"),
    ("summary", "lenet5", "--dtype", "float16", "--dtype", "float32"),
    ("summary", "lenet5", "-f", "json", "--format", "csv"),
    ("summary", "lenet5", "--input", "32", "-i", "64"),
])
def test_a_single_valued_option_given_twice_is_refused(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "is given more than once" in result.stderr
    assert result.stdout == ""


def test_options_that_take_a_list_may_repeat() -> None:
    assert run("compare", "lenet5", "--input", "32", "--input", "64").exit_code == 0


# ------------------------------------------------ compare --input errors (issue 11)
def test_compare_names_the_input_that_failed() -> None:
    """LeNet-5's C5 needs 32x32: at 28 it has a 4x4 input for a 5x5 kernel."""
    result = run("compare", "lenet5", "--input", "32", "--input", "28")
    assert result.exit_code == 2
    assert "note: at --input 28 (the 2nd of 2 --input values)" in result.stderr
    single = run("summary", "lenet5", "--input", "28")
    assert single.exit_code == 2 and "note: at --input 28" in single.stderr


# ------------------------------------------------ SPEC names (issue 11)
@pytest.mark.parametrize("spec", ["", "   "])
def test_an_empty_spec_is_a_usage_error(spec: str) -> None:
    result = run("summary", spec)
    assert result.exit_code == 2 and "SPEC is empty" in result.stderr
    assert "folder" not in result.stderr


def test_a_name_suggests_the_files_beside_it_first(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert "did you mean the built-in 'unet'" in run("summary", "mynet").stderr
    (tmp_path / "mynet.py").write_text("import torch\n")
    result = run("summary", "mynet")
    assert result.exit_code == 2 and "the file mynet.py" in result.stderr
    assert "cnncalc reads YAML specs" in result.stderr and "unet" not in result.stderr
    (tmp_path / "mynet.yml").write_text("cnncalc: 1\n")
    assert "did you mean the file mynet.yml or the file mynet.py" in run("summary",
                                                                         "mynet").stderr


# ------------------------------------------------ I/O is the environment's (issue 11)
def _cli(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    streams = {} if "stdout" in kw else {"capture_output": True}
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], text=True, env=env,
                          timeout=120, check=False, **streams, **kw)  # type: ignore[call-overload]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [("summary", "lenet5"), ("summary", "lenet5", "-f", "json"),
                                  ("shapes", "lenet5", "-f", "csv"), ("zoo",), ("ops",)])
def test_a_full_disk_on_stdout_is_the_environment(args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        done = _cli(*args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 3, done.stderr
    assert "error: cannot write to stdout: No space left on device" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [("shapes", "lenet5", "-f", "csv"), ("summary", "lenet5"),
                                  ("summary", "resnet50", "-f", "json"), ("zoo",)])
def test_a_pipe_closed_before_the_output_exits_141(args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        done = _cli(*args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.returncode == EXIT_BROKEN_PIPE, done.stderr
    assert done.stderr == ""


def test_a_pipe_closed_at_the_final_flush_exits_141(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output still buffered when the command returns, and the reader gone by then."""
    from cnncalc import cli

    class Closing(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            raise io.UnsupportedOperation

    monkeypatch.setattr(sys, "stdout", Closing())
    with pytest.raises(SystemExit) as done:
        cli._final_flush()
    assert done.value.code == EXIT_BROKEN_PIPE


def test_a_closed_stdin_is_a_usage_error() -> None:
    done = subprocess.run(["sh", "-c", f'"{sys.executable}" -m cnncalc shapes - <&-'],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and "stdin is closed" in done.stderr, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_with_no_writer_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    done = _cli("summary", str(fifo))  # the timeout is the hang guard: open() would block
    assert done.returncode == 2 and "is a FIFO that nothing wrote to" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_with_a_writer_is_read_like_process_substitution(tmp_path: Path) -> None:
    """``cnncalc shapes <(cat spec.yaml)``: the shell hands over a FIFO with a writer.  The
    writer here is a thread whose ``open()`` waits for the reader (it counts as a writer
    from the moment it calls, long before the child interpreter has started)."""
    import threading

    spec = (REPO / "specs" / "lenet5.yaml").read_bytes()
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(spec)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    done = _cli("shapes", str(fifo), "-f", "json")
    writer.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "LeNet-5"


def test_dev_stdin_is_read_like_a_dash() -> None:
    spec = (REPO / "specs" / "lenet5.yaml").read_text(encoding="utf-8")
    result = run("shapes", "/dev/stdin", "-f", "json", input=spec)
    assert result.exit_code == 0 and json.loads(result.stdout)["source"] == "<stdin>"


def test_a_huge_max_bytes_allocates_nothing_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    from cnncalc.spec import Limits, read_source

    spec = (REPO / "specs" / "lenet5.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(spec)))
    tracemalloc.start()
    try:
        data, _ = read_source("-", Limits(max_bytes=99_999_999_999_999))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data == spec and peak < 8 * 2**20
    assert run("summary", "lenet5", "--max-bytes", "99999999999999").exit_code == 0
    result = run("summary", "lenet5", "--max-bytes", "1e22")
    assert result.exit_code == 2 and "'--max-bytes'" in result.stderr


def test_output_folders_are_created_and_folders_refused(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "net.mmd"
    assert run("graph", "lenet5", "-o", str(target)).exit_code == 0
    assert target.read_text().startswith("flowchart TD")
    result = run("graph", "lenet5", "-o", str(tmp_path))
    assert result.exit_code == 2 and "is a folder" in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("graph", "lenet5", "-o", str(blocker / "x.mmd"))
    assert result.exit_code == 2 and "cannot create the folder" in result.stderr


def test_plot_outputs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for name in ("x.txt", "x.jpeg"):
        result = run("plot", "lenet5", "-o", str(tmp_path / name))
        assert result.exit_code == 2 and ".png, .svg, .pdf" in result.stderr
    result = run("plot", "lenet5", "-o", str(tmp_path / "noext"))
    assert result.exit_code == 2 and "has no file extension" in result.stderr
    assert not (tmp_path / "noext").exists() and not (tmp_path / "noext.png").exists()
    target = tmp_path / "new" / "p.SVG"
    assert run("plot", "lenet5", "-o", str(target)).exit_code == 0
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_an_oserror_on_a_path_the_user_gave_is_not_a_bug() -> None:
    from cnncalc.cli.base import on_user_path

    assert on_user_path(PermissionError(13, "Permission denied", "out/x.json"),
                        ["lenet5", "-o", "out/x.json"])
    assert on_user_path(OSError(28, "No space left on device", "x.json"), ["--output=x.json"])
    assert not on_user_path(FileNotFoundError(2, "No such file", "/usr/lib/x"), ["lenet5"])
    assert not on_user_path(OSError(5, "I/O error"), ["lenet5"])


# ------------------------------------------------ small output defects (issue 11)
@pytest.mark.parametrize("args", [("zoo",), ("ops",), ("zoo", "-f", "markdown"), ("ops", "conv")])
def test_listings_start_with_their_first_line(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 0 and result.stdout.strip() and result.stdout[0] not in "\n "


def test_counts_are_pluralised() -> None:
    from cnncalc.units import plural

    assert [plural(n, "layer") for n in (0, 1, 2)] == ["0 layers", "1 layer", "2 layers"]
    assert plural(1, "axis") == "1 axis" and plural(1_000, "axis") == "1,000 axes"
    spec = "cnncalc: 1\ninput: [8]\nlayers:\n  - {op: linear, out: 4}\n"
    result = run("summary", "-", "--input", "3x8", input=spec)
    assert "has 2 values but the spec's input 8 has 1 axis" in result.stderr


def test_spec_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    spec = tmp_path / "evil.yaml"
    spec.write_text('cnncalc: 1\nname: "x\\e[2J\\a\\r\\u202eZ"\ninput: [1, 8, 8]\n'
                    "layers:\n  - {id: c, op: conv, out: 2, k: 3}\n", encoding="utf-8")
    for args in (("summary",), ("params", "-f", "markdown"), ("compare", "lenet5"),
                 ("graph",), ("graph", "-f", "dot"), ("flops",)):
        result = run(args[0], str(spec), *args[1:])
        assert result.exit_code == 0, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\r\u202e"), args
        if args[0] != "graph" or "dot" in args:  # Mermaid shows no network name
            assert "\\x1b[2J" in result.stdout, args
    bad = tmp_path / "bad\x1b[31m.yaml"
    bad.write_text("cnncalc: 1\ninput: [1, 8, 8]\nlayers:\n  - {op: conv, out: 2, k: 0}\n")
    result = run("summary", str(bad))
    assert result.exit_code == 2 and "\x1b" not in result.stderr and "\\x1b[31m" in result.stderr


def test_every_integer_option_of_every_command_is_strict() -> None:
    """The group gives common.strict_int to every int option, other modules' too."""
    from typer.main import get_command

    def walk(cmd):  # type: ignore[no-untyped-def]
        yield cmd
        for sub in getattr(cmd, "commands", {}).values():
            yield from walk(sub)

    found = []
    for cmd in walk(get_command(app)):
        for param in getattr(cmd, "params", ()):
            descriptor = getattr(param, "type_descriptor", None)
            if getattr(descriptor, "annotation", None) is int:
                found.append((cmd.name, param.name))
                assert descriptor.parameter_info.parser is not None, (cmd.name, param.name)
    assert ("pad", "input") in found and ("summary", "batch") in found and len(found) > 20
    for args in (("solve", "pad", "--input", "٢٢٤", "--k", "7", "--output", "112"),
                 ("sizes", "lenet5", "--range", "28:40", "--axis", "１")):
        result = run(*args)
        assert result.exit_code == 2 and "is not an ASCII digit 0-9" in flat(result.stderr)


@pytest.mark.parametrize("args", [("--help",), ("summary", "--help"), ("--version",)])
def test_help_and_version_on_a_closed_or_full_stdout(args: tuple[str, ...]) -> None:
    """They print before any command runs, outside the command's handler."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = _cli(*args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.returncode == EXIT_BROKEN_PIPE and done.stderr == ""
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            done = _cli(*args, stdout=full, stderr=subprocess.PIPE)
        assert done.returncode == 3 and "Traceback" not in done.stderr
        assert "cannot write to stdout: No space left on device" in done.stderr


@pytest.mark.parametrize("args", [
    ("sizes", "lenet5", "--range", "٢٨:٤٠"),
    ("check", "specs", "--max-params", "٣M"),
    ("summary", "lenet5", "--input", "٣٢"),
    ("calc", "conv", "--input", "1x٣٢x32", "--out", "6", "--k", "5"),
])
def test_integers_inside_text_options_are_ascii_too(args: tuple[str, ...]) -> None:
    """Options whose text holds integers (ranges, budgets, shapes) refuse other scripts'
    digits as the integer options do (exit 2, the character named)."""
    old = Path.cwd()
    os.chdir(REPO)
    try:
        result = run(*args)
    finally:
        os.chdir(old)
    assert result.exit_code == 2 and "U+066" in flat(result.stderr), result.stdout[-300:]


@pytest.mark.parametrize("spec", ["a" * 5000, "a/" * 3000 + "x.yaml", "lenet5\x1b[31m"])
def test_names_no_file_can_have_are_usage_errors(spec: str) -> None:
    result = run("summary", spec)
    assert result.exit_code == 2 and "internal error" not in result.stderr
    assert "\x1b" not in result.stderr


def test_a_spec_below_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    result = run("summary", str(tmp_path / "f" / "x.yaml"))
    assert result.exit_code == 2 and "Not a directory" in result.stderr


def test_a_bad_integer_is_shown_escaped() -> None:
    result = run("summary", "lenet5", "--batch", "8\x1b[2J")
    assert result.exit_code == 2 and "\x1b" not in result.stderr
    assert "8\\x1b[2J" in flat(result.stderr)


@pytest.mark.parametrize(("redirect", "code", "shown"), [
    (">&-", 3, "cannot write to stdout: stdout is closed"),  # stdout closed at start
    ("2>&-", 2, ""),  # stderr closed: the exit code still tells
    ("2>/dev/full", 2, ""),
])
def test_closed_standard_streams(redirect: str, code: int, shown: str) -> None:
    spec = "nothere.yaml" if code == 2 else "lenet5"
    done = subprocess.run(["sh", "-c", f'"{sys.executable}" -m cnncalc summary {spec} {redirect}'],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == code and shown in done.stderr, done.stderr


@pytest.mark.parametrize("args", [("summary", "lenet5", "--format", "x\x1b[2J"),
                                  ("summ\x1bary", "lenet5"), ("summary", "lenet5", "--bad\x07")])
def test_typers_own_usage_errors_show_control_characters_escaped(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "\x1b" not in result.stderr and "\x07" not in result.stderr


def test_a_missing_file_suggests_its_neighbours(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.yml").write_text("cnncalc: 1\n")
    (tmp_path / "resnet_small.yaml").write_text("cnncalc: 1\n")
    assert "no such file; did you mean net.yml?" in run("summary", "net.yaml").stderr
    assert "did you mean resnet_small.yaml?" in run("summary", "resnet_smal.yaml").stderr
    lone = run("summary", "zzz.yaml")
    assert lone.exit_code == 2 and lone.stderr.strip() == "error: zzz.yaml: no such file"
