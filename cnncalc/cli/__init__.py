"""The command-line interface (typer).  Each command group lives in its own module
and registers on the application in :mod:`cnncalc.cli.base`, which owns error handling
and exit codes.

Exit codes: 0 success; 1 a check failed; 2 an invalid spec or usage (typer's own
usage errors too); 3 the environment cannot do it (e.g. no torch, stdout or an output
file cannot be written: a full disk); 70 an internal
error (a bug: the message asks for a rerun with ``--traceback``, EX_SOFTWARE in
sysexits.h); 141 stdout closed early (``cnncalc summary x | head``: nothing printed,
the status a tool killed by SIGPIPE reports); 130 interrupted (Ctrl-C).

Start-up matters (the tool runs many times a minute), so ``main`` imports only the
module of the command it runs, and has typer build that command alone; ``from cnncalc.cli
import app`` gets every command.  Which module defines which command is :data:`COMMANDS`,
generated from the modules (:mod:`cnncalc.cli.command_map`).  Adding a command: define it
with ``@app.command()`` in a module ``cnncalc/cli/<name>.py`` (``from .base import app``)
using the options of :mod:`cnncalc.cli.common`, then regenerate the map with ``python -m
cnncalc.cli.command_map``.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

# The CLI process loads no pydantic plugins: discovering them scans every installed
# distribution's entry points, ~25 ms of a ~300 ms start-up (the library API is untouched).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _no_plugin_loader() -> None:
    """With every pydantic plugin disabled, pydantic's plugin loader still imports
    ``importlib.metadata`` (12 ms, 5% of a summary's start-up, which no other part of the
    run needs) only to return no plugins.  So its module is stood in for by one that
    returns none, as the loader does when the variable disables them all; any other name
    of the module loads the real one.  Nothing is done when plugins are not all disabled,
    or the loader is loaded already."""
    name = "pydantic.plugin._loader"
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ("__all__", "1", "true") or \
            name in sys.modules:
        return
    import types

    stand_in = types.ModuleType(name, "pydantic's plugin loader, all plugins disabled")

    def get_plugins(*args: Any, **kwargs: Any) -> tuple[()]:  # (whatever it may be given)
        return ()

    def real(attr: str) -> Any:
        if attr.startswith("__"):  # (the import system asks for __path__ and kin)
            raise AttributeError(attr)
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = real  # type: ignore[method-assign]
    sys.modules[name] = stand_in


_no_plugin_loader()

from .base import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, GC_THRESHOLDS  # noqa: E402
from .commands import COMMANDS  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    import typer
    from typer.models import CommandInfo

__all__ = ["COMMANDS", "EXIT_BROKEN_PIPE", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "GC_THRESHOLDS",
           "app", "main", "run"]

def _register(modules: tuple[str, ...] = tuple(COMMANDS)) -> None:
    for name in modules:
        importlib.import_module(f"{__name__}.{name}")


#: the options of the top-level group that print its help
_HELP = ("-h", "--help")


def _command_in(argv: list[str]) -> str | None:
    """The known command that ``argv`` runs; None for the group's own help (``--help``
    before any command), no command, or an unknown one."""
    for arg in argv:
        if arg in _HELP:
            return None
        if not arg.startswith("-"):
            return arg if any(arg in names for names in COMMANDS.values()) else None
    return None


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """Only the module defining the command in ``argv``; none for a bare ``--version``;
    every module for help, no command or an unknown one (so suggestions see them all)."""
    if argv == ["--version"]:
        return ()
    command = _command_in(argv)
    return next(((module,) for module, names in COMMANDS.items() if command in names),
                tuple(COMMANDS))


def _only(application: typer.Typer, command: str | None) -> typer.Typer:
    """``application`` with ``command`` alone (typer builds a click command, its options
    and their converters for every command it holds), or as it is for None."""
    if command is None:
        return application
    alone = copy.copy(application)
    alone.registered_commands = [c for c in application.registered_commands
                                 if _name(c) == command]
    alone.registered_groups = [g for g in application.registered_groups if g.name == command]
    return alone


def _name(command: CommandInfo) -> str | None:
    """A registered command's name, as typer gives it (``my_cmd`` -> ``my-cmd``)."""
    if command.name:
        return command.name
    callback = command.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def __getattr__(name: str) -> Any:
    """``cnncalc.cli.app``: the application with every command registered."""
    if name == "app":
        from .base import app

        _register()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point.  stdout is guarded for the whole run (help and
    ``--version`` are printed before any command runs) and flushed here, before the
    interpreter's own final flush: a pipe closed or a disk filled at any moment exits
    141 or 3 with a message, never a traceback or Python's "Exception ignored".

    The process ends after it: its collector is :func:`cnncalc.cli.base.console_collector`."""
    from .base import GuardedStdout, app, console_collector, settled

    console_collector()
    argv = sys.argv[1:]
    _register(_modules_for(argv))
    GuardedStdout.install()
    try:
        _only(app, _command_in(argv))(prog_name="cnncalc")
    except SystemExit:
        _final_flush()
        settled()
        raise
    except Exception as exc:  # only stdout failures are handled here
        _stdout_failure(exc)
        raise
    _final_flush()  # pragma: no cover - typer always exits


def run() -> None:
    """The console script (``cnncalc``, ``python -m cnncalc``): :func:`main`, then the
    process ends at once with its status.  What the run built is freed with the process
    instead of object by object (:func:`cnncalc.cli.base.keep`), and the interpreter's
    shutdown (module teardown, its full collections) is skipped: stdout is flushed by
    :func:`main`, stderr here; nothing else is pending.  When something is (an atexit
    callback, another thread, an exit message, a profiler or tracer that writes its
    figures at exit), the ordinary shutdown runs instead."""
    try:
        main()
        status: object = 0
    except SystemExit as exc:
        status = exc.code
    _exit_now(status)


def _exit_now(status: object) -> None:
    import atexit
    import contextlib

    threading = sys.modules.get("threading")
    pending = getattr(atexit, "_ncallbacks", lambda: 1)() or (
        threading is not None and threading.active_count() > 1) or (
        sys.getprofile() is not None or sys.gettrace() is not None)  # cProfile, coverage
    if pending or not (status is None or isinstance(status, int)):
        raise SystemExit(status)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # stderr closed or full:
        sys.stderr.flush()  # the status stands
    os._exit(status or 0)


def _final_flush() -> None:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except Exception as exc:  # only stdout failures are handled here
        _stdout_failure(exc)
        raise


def _stdout_failure(exc: BaseException) -> None:
    """Exit 141 for a closed pipe, 3 for another failed write to stdout; else return."""
    from .base import EXIT_BROKEN_PIPE, EXIT_ENVIRONMENT, StdoutClosed, silence_stdout

    if isinstance(exc, (StdoutClosed, BrokenPipeError)):
        silence_stdout()
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    if getattr(exc, "stdout_failed", False):  # raised by GuardedStdout
        silence_stdout()
        sys.stderr.write(f"error: {getattr(exc, 'message', exc)}\n")
        raise SystemExit(EXIT_ENVIRONMENT) from None
