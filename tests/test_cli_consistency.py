"""One meaning per option name across the CLI: ``-o`` is an output file in every command
(solve's wanted size is ``--output-size``/``-s``), every command that takes a batch
accepts ``--batch``/``-b``, and calc refuses the ambiguous two-number input on an op that
works on spatial axes."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, full + " ")
        else:
            yield full, command


COMMANDS = dict(_commands(typer.main.get_command(app)))


def _options(command: Any) -> Iterator[Any]:
    for param in command.params:
        if getattr(param, "opts", None) and param.param_type_name == "option":
            yield param


def test_the_command_list_is_complete() -> None:
    assert {"summary", "compare", "check", "build", "profile", "calc", "solve pad",
            "solve stride", "solve kernel", "plot", "graph"} <= COMMANDS.keys()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_o_is_an_output_file_wherever_it_is_offered(name: str) -> None:
    for option in _options(COMMANDS[name]):
        if "-o" in option.opts and not option.hidden:
            assert "--output" in option.opts, (name, option.opts)
            assert option.metavar == "FILE" or "PATH" in str(option.type).upper(), \
                (name, option.opts, option.metavar, option.type)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_batch_option_is_batch_or_b(name: str) -> None:
    for option in _options(COMMANDS[name]):
        if "batch" in (option.name or ""):
            assert {"--batch", "-b"} <= set(option.opts), (name, option.opts)


def test_the_batch_taking_commands() -> None:
    taking = {name for name, command in COMMANDS.items()
              if any("--batch" in option.opts for option in _options(command))}
    assert {"shapes", "params", "flops", "rf", "summary", "compare", "diff", "build",
            "profile"} <= taking


@pytest.mark.parametrize("name", ["solve pad", "solve stride", "solve kernel"])
def test_solve_wants_output_size_and_has_no_visible_o(name: str) -> None:
    options = {opt: o for o in _options(COMMANDS[name]) for opt in o.opts}
    assert options["--output-size"] is options["-s"]
    assert options["-o"].hidden and options["--output"].hidden
    if "--stride" in options:
        assert options["--stride"].opts == ["--stride"]


SOLVE = [("pad", "--k", "7", "--stride", "2"), ("stride", "--k", "7", "--pad", "3"),
         ("kernel", "--stride", "2")]


@pytest.mark.parametrize("args", SOLVE, ids=[a[0] for a in SOLVE])
def test_solve_output_size_long_short_and_deprecated_agree(args: tuple[str, ...]) -> None:
    base = ["solve", args[0], "--input", "224", *args[1:], "-f", "json"]
    long = runner.invoke(app, [*base, "--output-size", "112"])
    short = runner.invoke(app, [*base, "-s", "112"])
    old = runner.invoke(app, [*base, "--output", "112"])
    assert long.exit_code == short.exit_code == old.exit_code == 0, long.output
    assert long.stdout == short.stdout == old.stdout
    assert "--output is deprecated" in old.stderr and long.stderr == ""


@pytest.mark.parametrize("extra, says", [
    (["-o", "112"], "the wanted size is --output-size (-s)"),
    (["-o", "out.txt"], "-o is an output file in cnncalc's other commands"),
    (["-s", "112", "--output", "112"], "--output is the old name of --output-size"),
    ([], "missing option --output-size (-s)"),
])
def test_solve_refuses_o_and_a_missing_or_doubled_size(extra: list[str], says: str) -> None:
    result = runner.invoke(app, ["solve", "pad", "--input", "224", "--k", "7", *extra])
    assert result.exit_code == 2 and says in result.stderr, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("op, args", [
    ("conv", ["--out", "6", "--k", "5"]), ("maxpool", ["--k", "2"]),
    ("avgpool", ["--k", "2"]), ("batchnorm", []), ("upsample", ["--scale", "2"]),
    ("conv_transpose", ["--out", "4", "--k", "2"]), ("zeropad", ["--pad", "1"]),
    ("adaptive_avgpool", ["--size", "1"]), ("subsample", []),
])
def test_calc_refuses_two_numbers_on_a_spatial_op(op: str, args: list[str]) -> None:
    result = runner.invoke(app, ["calc", op, "--input", "32x32", *args])
    assert result.exit_code == 2, result.output
    assert "--input 32x32 is 32 channels of length 32" in result.stderr
    assert "--input 3x32x32" in result.stderr and "--input 1x32x32" in result.stderr
    confirmed = runner.invoke(app, ["calc", op, "--input", "32x32", "--1d", *args])
    assert confirmed.exit_code == 0, confirmed.output
    image = runner.invoke(app, ["calc", op, "--input", "1x32x32", *args])
    assert image.exit_code == 0, image.output


@pytest.mark.parametrize("op, args", [("relu", []), ("linear", ["--out", "3"]),
                                      ("flatten", []), ("dropout", [])])
def test_calc_takes_two_numbers_where_the_reading_changes_nothing(op: str,
                                                                  args: list[str]) -> None:
    result = runner.invoke(app, ["calc", op, "--input", "32x32", *args])
    assert result.exit_code == 0, result.output


def test_calc_1d_with_another_rank_is_refused() -> None:
    result = runner.invoke(app, ["calc", "conv", "--input", "3x32x32", "--1d", "--out", "6",
                                 "--k", "5"])
    assert result.exit_code == 2 and "--1d confirms a 1-D input of two" in result.stderr


def test_calc_help_states_the_input_rule() -> None:
    text = " ".join(runner.invoke(app, ["calc", "--help"]).stdout.split())
    assert "channels first" in text and "--1d" in text and "32x32 is refused" in text


def test_teaching_doc_shows_the_rule() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "teaching.md").read_text()
    assert "$ cnncalc calc conv --input 32x32 --out 6 --k 5" in doc
    assert "--output-size" in doc


# ------------------------------------------------------------ one load -> analyse route
TRUNCATING = """cnncalc: 1
input: [3, 31, 31]
layers:
  - {id: c1, op: conv, out: 4, k: 2, stride: 2}
"""
#: what each command that reads a spec needs besides it to run (FILE: a path to write)
SPEC_EXTRAS: dict[str, list[str]] = {
    "shapes": [], "params": [], "flops": [], "rf": [], "summary": [], "compare": [],
    "explain": [], "graph": [], "plot": ["-o", "FILE"], "diff": ["SPEC"],
    "build": [], "export": ["--torchscript", "FILE"],
    "profile": ["--iters", "1", "--warmup", "0"], "memory": [],
}
#: commands that read a spec but report on it in their own terms (check reads PATHs)
OWN_REPORT = {"sizes": "a result per input size, with the first problem of each"}
NEEDS = {"plot": "matplotlib", "build": "torch", "export": "torch", "profile": "torch"}


def _spec_commands() -> set[str]:
    return {name for name, command in COMMANDS.items()
            if any(p.param_type_name == "argument" and p.name in ("spec", "specs", "old")
                   for p in command.params)}


def test_every_spec_command_is_listed_here() -> None:
    assert _spec_commands() == set(SPEC_EXTRAS) | set(OWN_REPORT)


@pytest.mark.parametrize("name", sorted(SPEC_EXTRAS))
def test_every_command_prints_the_specs_warnings(name: str, tmp_path: Path) -> None:
    """Every command loads and analyses a spec by one route, so every one of them shows
    the spec's warnings (graph, plot and build once printed none)."""
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    spec = tmp_path / "net.yaml"
    spec.write_text(TRUNCATING)
    files = {"FILE": str(tmp_path / "out.png" if name == "plot" else tmp_path / "out.pt"),
             "SPEC": str(spec)}
    extra = [files.get(a, a) for a in SPEC_EXTRAS[name]]
    result = runner.invoke(app, [name, str(spec), *extra])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(f"{spec}:4:5: c1: stride 2 does not tile the padded height 31" in line
               for line in lines), result.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_shared_options_are_defined_once_and_offered_everywhere(name: str) -> None:
    """--traceback comes from cli.common.shared_options on every command; no command's
    signature declares it again."""
    command = COMMANDS[name]
    flags = [opt for param in _options(command) for opt in param.opts]
    assert flags.count("--traceback") == 1
    assert "traceback" not in inspect.signature(command.callback).parameters


def test_traceback_flag_still_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["summary", str(tmp_path / "missing.yaml"), "--traceback"])
    assert result.exit_code == 2 and "Traceback (most recent call last)" in result.stderr
