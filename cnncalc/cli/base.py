"""The typer application object, its top-level group and the exit codes.

Command modules register on :data:`app` (``from .base import app``);
:mod:`cnncalc.cli` decides which of them to import.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

EXIT_INTERNAL = 70
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130

class CnncalcGroup(TyperGroup):
    """The top-level group: runs a command and maps what it raises to an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            if command.short_help is None and command.help:
                command.short_help = listing_help(command.help)

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(self.commands)  # definition order, not alphabetical

    def invoke(self, ctx: typer.Context) -> Any:
        from ..errors import CnncalcError

        try:
            return super().invoke(ctx)
        except CnncalcError as exc:
            _report(ctx, exc, exc.format())
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if _is_click_exception(exc):
                raise
            text = (f"internal error: {type(exc).__name__}: {exc}\n"
                    "  this is a bug in cnncalc; rerun with --traceback and report it")
            _report(ctx, exc, text)
            raise typer.Exit(EXIT_INTERNAL) from None


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


def _wants_traceback(ctx: typer.Context) -> bool:
    from .common import TRACEBACK_KEY

    return bool(ctx.meta.get(TRACEBACK_KEY)) or os.environ.get("CNNCALC_TRACEBACK") == "1"


def _report(ctx: typer.Context, exc: BaseException, text: str) -> None:
    """Print ``text`` on stderr, after the traceback when it was asked for."""
    if _wants_traceback(ctx):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
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
           "(e.g. no torch), 70 internal error, 141 output pipe closed.",
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


