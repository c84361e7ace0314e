"""The command-line interface (typer).  Each command group lives in its own module
and registers on ``app``; this module owns error handling and exit codes."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="cnncalc",
    help="CNN architecture analyzer and shape calculator.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def main() -> None:
    """Console-script entry point."""
    app()
