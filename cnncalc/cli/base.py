"""The typer application object, its top-level group and the exit codes.

Command modules register on :data:`app` (``from .base import app``);
:mod:`cnncalc.cli` decides which of them to import.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import inspect
import os
import sys
from collections.abc import Iterator
from typing import Any

import typer
from typer._click import Context
from typer.core import TyperGroup

from ..safe import safe_text

EXIT_INTERNAL = 70
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130
#: ``ctx.meta`` key of the command's own arguments (for :func:`on_user_path`)
ARGS_KEY = "cnncalc.args"
#: the environment cannot do it (no torch; stdout or an output file cannot be written)
EXIT_ENVIRONMENT = 3


# ---------------------------------------------------------------- the collector
#: the cyclic collector's thresholds in a console run (``gc.set_threshold``): a young
#: generation of 100,000 objects, not 700.  A short run allocates a few hundred thousand
#: objects, nearly all of which live to its end (modules, classes, pydantic schemas, the
#: spec's tree): passes over them free nothing and cost 5-7% of the run.  Cyclic garbage
#: still goes within 100,000 allocations, so memory stays bounded in long runs.
GC_THRESHOLDS = (100_000, 20, 10)
_console_run = False


def console_collector() -> None:
    """The collector of a console run (:func:`cnncalc.cli.main`), a process that ends with
    its command: :data:`GC_THRESHOLDS`, and :func:`settled` freezes.  An application run
    in-process (``app(...)``, typer's CliRunner) keeps its host's collector."""
    global _console_run
    _console_run = True
    gc.set_threshold(*GC_THRESHOLDS)


def keep(*objects: object) -> None:
    """In a console run, hold ``objects`` (a spec's network and its report, what a
    command made of them) until the process ends, so that returning from the command
    frees nothing: :func:`cnncalc.cli.run` then ends the process without tearing them
    down, object by object (at 10^5 layers that took a tenth of the run).  Elsewhere
    (``app(...)`` in a process that goes on) nothing is held."""
    if _console_run:
        _kept.extend(objects)


#: what a console run holds until its process ends (:func:`keep`)
_kept: list[object] = []


@contextlib.contextmanager
def settling() -> Iterator[None]:
    """In a console run, no collection while the block builds what lives until the
    command ends (a spec's tree, its network and report), and then :func:`settled`.  The
    loader and the analysis pause the collector themselves, but between and after them
    the first young collection would walk every object they made while it was paused
    (at 10^5 layers a tenth of a summary's run).  Elsewhere, just the block."""
    if not _console_run:
        yield
        return
    from ..collector import paused_gc

    with paused_gc():
        try:
            yield
        finally:
            settled()  # before the collector runs again (a freeze empties its young count)


def settled() -> None:
    """In a console run, move every object alive now to the collector's permanent
    generation (``gc.freeze``): they live until the process ends, so passes over them
    free nothing.  Called once the spec is analysed (the spec's tree, the network, the
    report: at 10^5 layers each pass over them while the output is written cost more than
    the writing) and before exit (the interpreter's shutdown runs full collections, which
    then skip the run's modules, classes and pydantic schemas: a sixth of a short run's
    CPU time).  Only cyclic garbage left at exit goes unfinalized (stdout is flushed
    first; output files are closed when written)."""
    if _console_run:
        gc.freeze()


class CnncalcGroup(TyperGroup):
    """The top-level group: runs a command and maps what it raises to an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            if command.short_help is None and command.help:
                command.short_help = listing_help(command.help)
            strict_integers(command)
            shared_options(command)

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # definition order, not alphabetical

    def resolve_command(self, ctx: Context,
                        args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not isinstance(command, TyperGroup):
            refuse_repeated_options(command, rest)
        ctx.meta[ARGS_KEY] = list(rest)
        return name, command, rest

    def invoke(self, ctx: Context) -> Any:
        from ..errors import CnncalcError

        guard = GuardedStdout.install()
        try:
            result = super().invoke(ctx)
            flush_stdout()  # a full disk or a closed pipe is reported here, not at exit
            return result
        except CnncalcError as exc:
            if getattr(exc, "stdout_failed", False):
                silence_stdout()  # what is still buffered would fail again at exit
            else:
                flush_quietly()  # the data printed before the error, ahead of the message
            _report(ctx, exc, exc.format())
            raise typer.Exit(exc.exit_code) from None
        except (BrokenPipeError, StdoutClosed):
            silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except OSError as exc:
            if not on_user_path(exc, ctx.meta.get(ARGS_KEY, [])):
                _internal(ctx, exc)
            _report(ctx, exc, f"error: {safe_text(str(exc.filename))}: {exc.strerror or exc}")
            from ..outputs import USAGE_ERRNOS

            raise typer.Exit(2 if exc.errno in USAGE_ERRNOS else EXIT_ENVIRONMENT) from None
        except Exception as exc:  # the last line of defence
            if _is_click_exception(exc):  # typer's usage errors quote what was typed
                exc.message = safe_text(str(exc.message))  # type: ignore[attr-defined]
                raise
            _internal(ctx, exc)
        finally:
            guard.uninstall()


def _internal(ctx: Context, exc: BaseException) -> None:
    """Report a bug (exit 70)."""
    flush_quietly()
    text = (f"internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in cnncalc; rerun with --traceback and report it")
    _report(ctx, exc, text)
    raise typer.Exit(EXIT_INTERNAL) from None


def on_user_path(exc: OSError, args: list[str]) -> bool:
    """Whether ``exc`` is about a path the user typed (``-o out/x.svg``): the
    environment's doing (a full disk, no permission), not a bug in cnncalc.  Every
    other OSError stays an internal error."""
    if exc.filename is None or isinstance(exc, BrokenPipeError):
        return False
    given = set(args) | {a.split("=", 1)[1] for a in args if "=" in a}
    return any(str(name) in given for name in (exc.filename, exc.filename2) if name)


def strict_integers(command: Any) -> None:
    """Give every integer option and argument of ``command`` (and of its subcommands) the
    one strict parser, :func:`cnncalc.cli.common.strict_int` (ASCII digits, 30 at most,
    its ``min``/``max`` kept), unless it has a parser of its own: typer would otherwise
    accept what Python's ``int()`` does (``٣``, ``２``, ``8_0``, `` 8``)."""  # noqa: RUF002
    from .common import strict_int

    for sub in getattr(command, "commands", {}).values():
        strict_integers(sub)
    for param in getattr(command, "params", ()):
        descriptor = getattr(param, "type_descriptor", None)
        info = getattr(descriptor, "parameter_info", None)
        if getattr(descriptor, "annotation", None) is int and info is not None \
                and getattr(info, "parser", True) is None:
            info.parser = strict_int(getattr(info, "min", None), getattr(info, "max", None))
            if getattr(param, "metavar", "") is None:
                param.metavar = "N"


def shared_options(command: Any) -> None:
    """Give every command (and every subcommand) the options that every command has,
    defined once in :func:`cnncalc.cli.common.shared_options` (``--traceback``), after
    its own."""
    from .common import shared_options as options

    for sub in getattr(command, "commands", {}).values():
        shared_options(sub)
    if getattr(command, "commands", None) is None and hasattr(command, "params"):
        taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
        command.params.extend(o for o in options() if not taken & set(o.opts))


def refuse_repeated_options(command: Any, args: list[str]) -> None:
    """A single-valued option given twice (``--batch 1 --batch 8``) is a usage error:
    click would silently keep the last one."""
    from ..errors import UsageError

    names: dict[str, str] = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option" and not param.multiple:
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = param.opts[0]
    seen: dict[str, int] = {}
    for token in args:
        if token == "--":
            break
        opt = token.split("=", 1)[0] if token.startswith("--") else \
            token[:2] if token.startswith("-") and len(token) > 2 else token  # -b8
        if opt in names:
            seen[names[opt]] = seen.get(names[opt], 0) + 1
            if seen[names[opt]] == 2:
                raise UsageError(f"{names[opt]} is given more than once; give it once "
                                 "(an option with one value keeps no list)")


class StdoutClosed(Exception):
    """The reader of stdout went away (EPIPE).  Not an OSError, so that neither rich nor
    click swallow it (click would exit 1): the handler exits 141."""


class GuardedStdout:
    """``sys.stdout`` while cnncalc runs: a failed write (disk full, I/O error) becomes
    :class:`~cnncalc.errors.EnvironmentUnavailable` ("cannot write to stdout: ..."), so
    the handler reports it as the environment's fault (exit 3), never as a bug; a closed
    pipe becomes :class:`StdoutClosed` (exit 141).  Help and ``--version`` too."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    @classmethod
    def install(cls) -> GuardedStdout:
        """Guard ``sys.stdout`` (also when it is None: started with stdout closed)."""
        guard = cls(sys.stdout)
        if not isinstance(sys.stdout, GuardedStdout):
            sys.stdout = guard
        return guard

    def uninstall(self) -> None:
        if sys.stdout is self:
            sys.stdout = self._stream

    def write(self, text: str) -> int:
        if self._stream is None:
            raise _stdout_failed(OSError(errno.EBADF, "stdout is closed"))
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise StdoutClosed from None
        except OSError as exc:
            raise _stdout_failed(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise StdoutClosed from None
        except OSError as exc:
            raise _stdout_failed(exc) from None

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def _stdout_failed(exc: OSError) -> Exception:
    from ..errors import EnvironmentUnavailable

    failure = EnvironmentUnavailable(f"cannot write to stdout: {exc.strerror or exc}")
    failure.stdout_failed = True  # type: ignore[attr-defined]
    return failure


def flush_quietly() -> None:
    """Flush stdout in an error handler: if that fails too (the pipe closed, the disk
    full), drop what is buffered; the error being reported decides the exit code."""
    try:
        flush_stdout()
    except Exception:  # noqa: BLE001 - any failure of stdout here is secondary
        silence_stdout()


def flush_stdout() -> None:
    """Flush stdout (through the guard when it is installed)."""
    if sys.stdout is not None:
        sys.stdout.flush()


def listing_help(help_text: str) -> str:
    """A command's line in ``cnncalc --help``: the first paragraph of its docstring as one
    line (in rich markup mode typer keeps the docstring's line breaks there).

    >>> listing_help("Hold specs to budgets: exit 0 if all pass,\\n 1 if not.\\n\\n More.")
    'Hold specs to budgets: exit 0 if all pass, 1 if not.'
    """
    first = inspect.cleandoc(help_text).split("\n\n")[0]
    return " ".join(first.split())


def _is_click_exception(exc: Exception) -> bool:
    from typer._click.exceptions import ClickException

    return isinstance(exc, ClickException)


def wants_traceback(ctx: Context) -> bool:
    """``--traceback`` was given (or CNNCALC_TRACEBACK=1 is set)."""
    from .common import TRACEBACK_KEY

    return bool(ctx.meta.get(TRACEBACK_KEY)) or os.environ.get("CNNCALC_TRACEBACK") == "1"


def _report(ctx: Context, exc: BaseException, text: str) -> None:
    """Print ``text`` on stderr, after the traceback when it was asked for."""
    if wants_traceback(ctx):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed or full: the code says it
        pass


def silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


app = typer.Typer(
    name="cnncalc",
    cls=CnncalcGroup,
    help="CNN architecture analyzer and shape calculator: shapes, params, MACs/FLOPs, "
         "receptive fields and memory from a YAML spec, without a forward pass.",
    epilog="Example: [bold]cnncalc summary lenet5[/bold]   (`cnncalc zoo` lists the built-ins)\n\n"
           "Exit codes: 0 ok, 1 a check failed, 2 invalid spec or usage, 3 environment "
           "(e.g. no torch, a full disk), 70 internal error, 141 output pipe closed.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """CNN architecture analyzer and shape calculator."""


