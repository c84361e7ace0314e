"""Start-up stays lean: what a command does not need, it does not import or build.

Speed itself is measured in benchmarks/bench_startup.py (never asserted here); these tests
hold the structure that makes it: each checks, in a fresh interpreter running the console
entry point, which modules a command imported (``sys.modules``), or what typer was given.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.models import CommandInfo

from cnncalc.cli import COMMANDS, _command_in, _modules_for, _only, app, command_map

from helpers import cli_process, fresh_cli, torch_modules

#: the op registry and the spec schema (pydantic models built at import)
SPEC_MACHINERY = ("cnncalc.ops", "cnncalc.spec.schema", "cnncalc.spec.expect",
                  "cnncalc.spec.expand", "cnncalc.graph", "cnncalc.analysis")
RICH = ("rich",)
#: modules of rich that only a table or help draws
RICH_TABLE = ("rich.table", "rich.console")


def imported(args: Iterable[str]) -> set[str]:
    proc, modules = fresh_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "cnncalc.cli.base" in modules  # the list is real, so an absence means something
    return modules


def under(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules
                  if any(m == p or m.startswith(p + ".") for p in prefixes))


# ------------------------------------------------------------ what a command imports
@pytest.mark.parametrize("args", [
    ("summary", "lenet5", "--format", "json"),
    ("summary", "resnet50", "--format", "csv"),
    ("shapes", "lenet5", "--format", "markdown"),
    ("flops", "resnet18", "--format", "json"),
])
def test_data_formats_import_no_rich(args: tuple[str, ...]) -> None:
    """JSON, CSV and markdown are text: no console, no table (the floor program pays for
    rich.console; these do not)."""
    modules = imported(args)
    assert "cnncalc.render.text" in modules
    assert under(modules, RICH) == []
    assert torch_modules(modules) == []


@pytest.mark.parametrize("args", [("zoo",), ("zoo", "--format", "json"),
                                  ("zoo", "--exact", "--format", "markdown")])
def test_zoo_reads_the_index_only(args: tuple[str, ...]) -> None:
    """`cnncalc zoo` lists the committed index: no spec schema, expansion or op registry."""
    modules = imported(args)
    assert "cnncalc.spec.zoo" in modules
    assert under(modules, SPEC_MACHINERY) == []
    assert torch_modules(modules) == []


def test_zoo_data_formats_import_no_rich() -> None:
    assert under(imported(("zoo", "--format", "csv")), RICH) == []


def test_the_zoo_table_does_import_rich() -> None:
    """The tables do import rich (so the tests above can tell the difference)."""
    modules = imported(("zoo",))
    assert under(modules, RICH_TABLE) != []


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("summary", "--help"),
                                  ("solve", "--help"), ("solve", "pad", "--help")])
def test_help_imports_no_spec_machinery(args: tuple[str, ...]) -> None:
    """Help of the group, a command or a subcommand: neither the registry nor YAML."""
    modules = imported(args)
    assert under(modules, (*SPEC_MACHINERY, "yaml", "cnncalc.spec")) == []


def test_a_run_imports_only_its_command_module() -> None:
    modules = imported(("zoo", "--format", "json"))
    ran = [m for m in COMMANDS if f"cnncalc.cli.{m}" in modules]
    assert ran == ["analysis"]


# ------------------------------------------------------------ what typer builds
def test_one_command_is_built_for_a_run() -> None:
    """typer makes a click command (options, converters) for every command it holds: a
    run gives it only its own."""
    alone = _only(app, "summary")
    assert [c.name for c in alone.registered_commands] == ["summary"]
    assert alone.registered_groups == []
    solve = _only(app, "solve")
    assert solve.registered_commands == [] and [g.name for g in solve.registered_groups] == \
        ["solve"]
    assert len(app.registered_commands) > 1  # the application itself keeps every command
    assert _only(app, None) is app


@pytest.mark.parametrize("args, built", [
    (("summary", "lenet5", "--format", "json"), ["summary"]),
    (("solve", "pad", "--input", "32", "-k", "3", "--output", "32"), ["solve"]),
    (("--version",), []),
])
def test_main_hands_typer_the_command_it_runs(args: tuple[str, ...], built: list[str]) -> None:
    """In a fresh interpreter, the group typer builds for a run holds that command alone
    (a bare --version: none)."""
    proc = cli_process(*args, before=(
        "from cnncalc.cli import base\ninit = base.CnncalcGroup.__init__\n"
        "def spy(self, *a, **k):\n    init(self, *a, **k)\n"
        "    sys.stderr.write('BUILT ' + json.dumps(list(self.commands)) + '\\n')\n"
        "base.CnncalcGroup.__init__ = spy"))
    lines = [line for line in proc.stderr.splitlines() if line.startswith("BUILT ")]
    assert [json.loads(line[6:]) for line in lines] == [built], proc.stderr


@pytest.mark.parametrize("argv, command", [
    (["summary", "lenet5"], "summary"),
    (["--version"], None),
    (["--help", "summary"], None),  # the group's help: every command is listed
    (["-h", "zoo"], None),
    (["summary", "--help"], "summary"),
    (["solve", "pad", "--help"], "solve"),
    (["sumary", "lenet5"], None),  # unknown: every command, so that suggestions see them
    ([], None),
])
def test_the_command_in_argv(argv: list[str], command: str | None) -> None:
    assert _command_in(argv) == command


def test_group_help_before_a_command_lists_every_command() -> None:
    proc, _ = fresh_cli("--help", "summary")
    assert proc.returncode == 0
    for name in ("summary", "explain", "check", "memory", "solve", "import"):
        assert f" {name} " in proc.stdout, name
    assert _modules_for(["--help", "summary"]) == tuple(COMMANDS)


def test_a_typo_still_gets_a_suggestion() -> None:
    proc, _ = fresh_cli("sumary", "lenet5")
    assert proc.returncode == 2 and "Did you mean 'summary'?" in proc.stderr


def test_a_command_run_alone_behaves_as_before() -> None:
    """Usage errors of a command built alone name the program and the command."""
    proc, _ = fresh_cli("summary")
    assert proc.returncode == 2
    assert "Usage: cnncalc summary [OPTIONS] {SPEC}" in proc.stderr
    assert "Missing argument 'SPEC'" in proc.stderr


# ------------------------------------------------------------ the generated command map
def test_the_command_map_is_current() -> None:
    """cnncalc/cli/commands.py is what `python -m cnncalc.cli.command_map` writes."""
    assert command_map.main(["--check"]) == 0, \
        "cnncalc/cli/commands.py is stale: run python -m cnncalc.cli.command_map"
    assert command_map.current() == COMMANDS


def test_the_command_map_is_derived_from_the_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command defined in a module is found in that module; a new module comes last."""
    def newcmd() -> None:  # pragma: no cover - never run
        """A command of a module the map does not know yet."""

    newcmd.__module__ = "cnncalc.cli.newcmds"
    monkeypatch.setattr(app, "registered_commands",
                        [*app.registered_commands, CommandInfo(callback=newcmd)])
    derived = command_map.derive(tuple(COMMANDS))
    assert list(derived) == [*COMMANDS, "newcmds"]
    assert derived["newcmds"] == ("newcmd",)
    assert command_map.text(derived) != command_map.text(COMMANDS)  # so the check can fail
    assert 'newcmds": ("newcmd",),' in command_map.text(derived)


def test_the_map_keeps_the_help_order() -> None:
    """Modules keep the committed order (the help's), not their name order."""
    assert list(command_map.derive(tuple(COMMANDS))) == list(COMMANDS)
    assert list(command_map.derive()) == sorted(COMMANDS)


def test_a_long_entry_is_wrapped() -> None:
    names = tuple(f"command{i}" for i in range(12))
    source = command_map.text({"many": names})
    assert max(len(line) for line in source.splitlines()) <= command_map.WIDTH
    scope: dict[str, object] = {}
    exec(source, scope)
    assert scope["COMMANDS"] == {"many": names}


# ------------------------------------------------------------ the op registry, on use
def op_modules(modules: set[str]) -> set[str]:
    """The op modules (:data:`cnncalc.ops.OP_MODULES`) among ``modules``."""
    from cnncalc.ops import OP_MODULES

    return {m for m in OP_MODULES if f"cnncalc.ops.{m}" in modules}


def closure(modules: Iterable[str]) -> set[str]:
    """The op modules a fresh interpreter has after importing ``modules`` (an op module may
    import another: dropout's class extends identity's)."""
    code = ("import importlib, json, sys\nfrom cnncalc.ops import OP_MODULES\n"
            "for m in json.loads(sys.argv[1]):\n    importlib.import_module('cnncalc.ops.' + m)\n"
            "print(json.dumps([m for m in OP_MODULES if 'cnncalc.ops.' + m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(sorted(modules))],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("spec", ["resnet50", "lenet5", "mobilenet_v2"])
def test_a_run_imports_the_ops_its_spec_uses(spec: str) -> None:
    """Each op registers when its module is imported, on first use: a run imports the
    modules of the ops the spec has (with what they import, and the table of simple
    activations), no other."""
    import cnncalc
    from cnncalc.ops import OP_TABLES

    used = {type(node.op).__module__.removeprefix("cnncalc.ops.")
            for node in cnncalc.load(spec).nodes}
    modules = op_modules(imported(("summary", spec, "--format", "json")))
    assert used <= modules
    assert modules - set(OP_TABLES) == closure(used) - set(OP_TABLES)
    assert len(modules) < 12  # of 31: the saving is real


def test_looking_an_op_up_imports_its_module_alone() -> None:
    code = ("import sys\nfrom cnncalc.ops import REGISTRY, OP_MODULES\n"
            "assert 'conv' in REGISTRY and 'conv_transpose' in REGISTRY\n"  # names: no import
            "before = {m for m in OP_MODULES if 'cnncalc.ops.' + m in sys.modules}\n"
            "cls = REGISTRY['conv']\n"
            "after = {m for m in OP_MODULES if 'cnncalc.ops.' + m in sys.modules}\n"
            "print(sorted(before), sorted(after), cls.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "['conv.conv']", "Conv"]


def test_the_registry_lists_every_op_in_registration_order() -> None:
    """Iteration imports as it goes; names, order and classes are those of registering
    every module in OP_MODULES order."""
    from cnncalc.ops import OP_MODULES, REGISTRY

    names = list(REGISTRY)
    assert len(names) == len(set(names)) == len(REGISTRY)
    modules = [REGISTRY[n].__module__.removeprefix("cnncalc.ops.") for n in names]
    assert list(dict.fromkeys(modules)) == list(OP_MODULES)
    assert all(REGISTRY[n].name == n for n in names)


@pytest.mark.parametrize("name", ["conv2d", "Conv", "", "table", "activation.table", "base"])
def test_an_unknown_op_is_not_in_the_registry(name: str) -> None:
    from cnncalc.errors import SpecError
    from cnncalc.ops import REGISTRY, get_op

    assert name not in REGISTRY
    with pytest.raises(KeyError):
        REGISTRY[name]
    with pytest.raises(SpecError, match="is unknown"):
        get_op(name)


# ------------------------------------------------------------ the end of a run
def _run_cli(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_process(*args, before=prelude, entry="run",
                       after="sys.stderr.write('NOT REACHED')")


def test_the_console_script_ends_the_process_with_the_status() -> None:
    """``run`` (the console script) ends the process itself, output flushed: a success's
    whole JSON, an error's status 2 and its message."""
    ok = _run_cli("", "summary", "lenet5", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["name"] == "LeNet-5"
    assert "NOT REACHED" not in ok.stderr
    bad = _run_cli("", "summary", "nosuch")
    assert bad.returncode == 2 and "error: 'nosuch'" in bad.stderr
    assert "NOT REACHED" not in bad.stderr


def test_the_console_script_shuts_down_normally_when_something_is_pending() -> None:
    """An atexit callback (a library's, a plugin's) still runs: the run then ends by the
    interpreter's ordinary shutdown, with the same status."""
    proc = _run_cli("import atexit\natexit.register(lambda: sys.stderr.write('BYE'))",
                    "summary", "nosuch")
    assert proc.returncode == 2 and proc.stderr.endswith("BYE")


def test_the_console_script_under_cprofile_still_writes_the_profile(tmp_path: Path) -> None:
    """``python -m cProfile -m cnncalc ...`` (how the benchmarks' notes profile a run)
    gets its figures written: a profiler present, the ordinary shutdown runs."""
    out = tmp_path / "run.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "cnncalc",
                           "summary", "lenet5", "--format", "json"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["name"] == "LeNet-5"
    assert out.stat().st_size > 0


def test_a_console_run_keeps_what_it_analysed_and_an_app_run_does_not() -> None:
    """The network and report a console run analysed are held to its end (freed with the
    process); ``app(...)`` in a process that goes on holds nothing."""
    from typer.testing import CliRunner

    from cnncalc.cli import base

    result = CliRunner().invoke(app, ["summary", "lenet5", "--format", "json"])
    assert result.exit_code == 0 and base._kept == []
    proc = cli_process("summary", "lenet5", "--format", "json", after=(
        "from cnncalc.cli import base\n"
        "sys.stderr.write(' '.join(type(o).__name__ for o in base._kept))"))
    assert proc.returncode == 0 and proc.stderr.endswith("Network Report")


# ------------------------------------------------------------ the collector
def test_the_console_entry_tunes_the_collector() -> None:
    """A run collects young objects in generations of 100,000 (not 700), and freezes what
    is alive before the interpreter's shutdown, whose full collections then skip it."""
    from cnncalc.cli import GC_THRESHOLDS

    proc = cli_process("summary", "lenet5", "--format", "json",
                       before="import gc\nbefore = gc.get_threshold()", after=(
                           "sys.stderr.write(f'{before} {gc.get_threshold()} "
                           "{gc.get_freeze_count() > 1000}')"))
    assert proc.returncode == 0
    assert proc.stderr.endswith(f"(700, 10, 10) {GC_THRESHOLDS} True")
    assert GC_THRESHOLDS[0] <= 100_000  # garbage stays bounded


def test_an_in_process_run_keeps_the_hosts_collector() -> None:
    """``app(...)`` in a process that goes on (typer's CliRunner here) neither retunes nor
    freezes its host's collector: only the console entry's process ends with the run."""
    import gc

    from typer.testing import CliRunner

    from cnncalc.cli import app

    before = (gc.get_threshold(), gc.get_freeze_count())
    result = CliRunner().invoke(app, ["summary", "lenet5", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_a_summary_loads_no_plugin_metadata() -> None:
    """Every pydantic plugin is disabled in the CLI, so its loader, which imports
    importlib.metadata to find them, is stood in for; the run still validates its spec."""
    modules = imported(("summary", "resnet50", "--format", "json"))
    assert "cnncalc.spec.schema" in modules  # (a pydantic model was built and used)
    assert under(modules, ("importlib.metadata",)) == []


def _loader_in_fresh_process(env: str | None, code: str) -> str:
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if env is not None:
        environ["PYDANTIC_DISABLE_PLUGINS"] = env
    proc = subprocess.run([sys.executable, "-c", f"import cnncalc.cli, sys\n{code}"],
                          capture_output=True, text=True, timeout=120, env=environ)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_stand_in_loader_answers_as_the_loader_does() -> None:
    """No plugins from the stand-in, pydantic's own models work, any other name of the
    loader is the real module's; with plugins not all disabled, the real loader runs."""
    out = _loader_in_fresh_process(None, (
        "import importlib\n"
        "loader = importlib.import_module('pydantic.plugin._loader')\n"
        "from pydantic import BaseModel\n"
        "class M(BaseModel):\n    x: int\n"
        "print(list(loader.get_plugins()), M(x='3').x, 'importlib.metadata' in sys.modules)\n"
        "print(loader.PYDANTIC_ENTRY_POINT_GROUP, 'importlib.metadata' in sys.modules)"))
    assert out.splitlines() == ["[] 3 False", "pydantic True"]
    real = _loader_in_fresh_process("some_plugin", (
        "from pydantic import BaseModel\n"
        "class M(BaseModel):\n    x: int\n"
        "print(M(x='3').x, 'importlib.metadata' in sys.modules)"))
    assert real == "3 True"
