"""What every command module shares: option definitions, loading + analysing a spec,
printing warnings, and writing data to stdout.

A new command module (``torchcmds``, ``checkcmds``, ``teach``) needs only::

    from .base import app
    from .common import BatchOpt, InputOpt, Settings, SpecArg, analyse_spec, write

    @app.command()
    def mycmd(spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1) -> None:
        net, report = analyse_spec(spec, Settings(input=input, batch=batch))
        write(f"{report.totals.macs}\\n")

and appears in :data:`cnncalc.cli.COMMANDS` once that map is regenerated (``python -m
cnncalc.cli.command_map``).  Errors are raised, never printed here:
the app's group (:class:`cnncalc.cli.base.CnncalcGroup`) turns a CnncalcError into
``e.format()`` on stderr and its exit code.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError
from ..outputs import write_output  # noqa: F401 - re-exported
from ..report import DType  # the choices of --dtype (typer reads a Literal's values)
from .base import keep, settling

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..graph import Network
    from ..render.views import View
    from ..report import Report
    from ..spec import Limits


class Format(str, Enum):
    """``--format``: a rich table, or data for programs."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class TableJson(str, Enum):
    """``--format`` of commands whose only data form is JSON (profile, solve, sizes)."""

    table = "table"
    json = "json"


class TableMarkdownJson(str, Enum):
    """``--format`` of commands with a markdown form too (explain, calc, diff)."""

    table = "table"
    markdown = "markdown"
    json = "json"


TRACEBACK_KEY = "cnncalc.traceback"
NO_COLOR_KEY = "cnncalc.no_color"


def _remember(key: str) -> Callable[[typer.Context, bool], bool]:
    """An option callback that records a flag in ``ctx.meta`` for the error handler."""
    def callback(ctx: typer.Context, value: bool) -> bool:
        if value:
            ctx.meta[key] = True
        return value
    return callback


# ---------------------------------------------------------------- strict integers
#: decimal digits an integer on the command line may have: the spec's own integer limit
#: (``Limits.max_int_digits``), so an option cannot make a number a spec could not hold
MAX_INT_DIGITS = 30


def parse_int(text: str, what: str, minimum: int | None = None) -> int:
    """An integer written with ASCII digits only (no ``+``, spaces, ``_``, or digits of
    other scripts such as ``٣`` or ``３``, which Python's ``int()`` accepts), at most
    :data:`MAX_INT_DIGITS` digits and at least ``minimum``; a leading ``-`` only where
    ``minimum`` allows a negative value.  ``what`` names the
    option or value in the error.

    >>> parse_int("224", "--batch")
    224
    >>> parse_int("２", "--batch")
    Traceback (most recent call last):
    cnncalc.errors.UsageError: error: --batch '２': '２' (U+FF12 FULLWIDTH DIGIT TWO) at position 1 is not an ASCII digit 0-9
    """  # noqa: RUF002, E501 - the fullwidth digit is the example; doctest output is one line
    problem = int_problem(text, minimum)
    if problem is not None:
        raise UsageError(f"{what} {problem}")
    return int(text)


def int_problem(text: str, minimum: int | None = None,
                maximum: int | None = None) -> str | None:
    """Why ``text`` is not a strict integer (see :func:`parse_int`), or None."""
    from ..safe import safe_text
    from ..units import describe_char

    signed = text.startswith("-") and (minimum is None or minimum < 0)  # ASCII minus only
    digits = text[1:] if signed else text
    bad = next(((i, ch) for i, ch in enumerate(digits) if not "0" <= ch <= "9"), None)
    if bad is not None:
        return (f"'{safe_text(text)}': {describe_char(bad[1])} at position "
                f"{bad[0] + 1 + signed} is not an ASCII digit 0-9")
    if not digits:
        return f"'{safe_text(text)}' is not a number; give a whole number"
    if len(digits) > MAX_INT_DIGITS:
        return (f"has {len(digits)} digits, over the limit of {MAX_INT_DIGITS} (the largest "
                "integer a spec may hold)")
    if minimum is not None and int(text) < minimum:
        return f"{text}: must be >= {minimum}"
    if maximum is not None and int(text) > maximum:
        return f"{text}: must be <= {maximum}"
    return None


def strict_int(minimum: int | None = None,
               maximum: int | None = None) -> Callable[[str | int], int]:
    """The ``parser=`` of every integer option: :func:`parse_int`, the option named by
    typer in the error (``Invalid value for '--batch': ...``).  The app's group gives it
    to every ``int`` option of every command (``cli.base.strict_integers``)."""
    def parse(value: str | int) -> int:
        if isinstance(value, int):  # the default
            return value
        problem = int_problem(value, minimum, maximum)
        if problem is not None:
            raise typer.BadParameter(problem)
        return int(value)
    return parse


def int_option(*names: str, minimum: int | None = None, **kw: object) -> typer.models.OptionInfo:
    """``typer.Option(*names, ...)`` for an integer: ASCII digits only (:func:`strict_int`)."""
    kw.setdefault("metavar", "N")
    return typer.Option(*names, parser=strict_int(minimum), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- shared options
SpecArg = Annotated[str, typer.Argument(
    metavar="SPEC", help="A spec file, `-` for stdin, a built-in name (`cnncalc zoo`) or "
    "FILE.yaml:VARIANT (a variant of a family).",
    show_default=False)]
InputOpt = Annotated[str | None, typer.Option(
    "--input", "-i", rich_help_panel="Input", metavar="SHAPE", show_default=False,
    help="Override the input shape, no batch axis: `3x224x224` (full), `224x224` (spatial "
         "sizes, keep the spec's channels) or `224` (every spatial axis, keep channels).")]
BatchOpt = Annotated[int, int_option(
    "--batch", "-b", rich_help_panel="Input", minimum=1,
    help="Batch size: MACs, FLOPs and activation memory scale with it (at most 30 digits).")]
DTypeOpt = Annotated[DType, typer.Option(
    "--dtype", rich_help_panel="Input", case_sensitive=False,
    help="Element type for the memory figures.")]
FormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", rich_help_panel="Output", case_sensitive=False,
    help="table for people; json (summary: the full report; other commands: their fields), "
         "csv (one row per layer) or markdown for programs and docs.")]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", rich_help_panel="Checks and limits",
    help="Make warnings (e.g. a stride that drops input rows) errors.")]
ExactOpt = Annotated[bool, typer.Option(
    "--exact", rich_help_panel="Output",
    help="Show exact figures (25,557,032) instead of humanised ones (25.56 M).")]
MaxLayersOpt = Annotated[int | None, int_option(
    "--max-layers", rich_help_panel="Checks and limits", minimum=1, show_default=False,
    help="Reject specs that expand to more than N layers \\[default: 100000].")]
MaxBytesOpt = Annotated[int | None, int_option(
    "--max-bytes", rich_help_panel="Checks and limits", minimum=1, show_default=False,
    help="Reject spec files larger than N bytes \\[default: 16 MiB].")]
NoColorOpt = Annotated[bool, typer.Option(
    "--no-color", rich_help_panel="Output", callback=_remember(NO_COLOR_KEY),
    help="No colours (also: the NO_COLOR environment variable).")]


TracebackOpt = Annotated[bool, typer.Option(
    "--traceback", rich_help_panel="Checks and limits", callback=_remember(TRACEBACK_KEY),
    help="On an error, show the Python traceback too (or set CNNCALC_TRACEBACK=1).")]


def shared_options() -> list[Any]:
    """The options of every command, added to each by the app's group
    (:func:`cnncalc.cli.base.shared_options`), so that no signature repeats them.  typer
    makes them from the definitions above exactly as it makes a command's own (from the
    signature of a probe command); they record a flag for the error handler and pass
    no value to the command."""
    probe = typer.Typer(add_completion=False)

    @probe.command()
    def shared(traceback: TracebackOpt = False) -> None:  # pragma: no cover - never run
        """The shared options."""

    names = set(inspect.signature(shared).parameters)
    params = [p for p in typer.main.get_command(probe).params if p.name in names]
    for param in params:
        param.expose_value = False
    return params


@dataclass(frozen=True)
class Settings:
    """The parsed common options of an analysis command."""

    input: str | None = None
    batch: int = 1
    dtype: DType = "float32"
    format: Format = Format.table
    #: warnings refuse the spec: True (``--strict``), never (False: the teach commands show
    #: the working of what is refused), or as the spec's own ``strict:`` says (None)
    strict: bool | None = None
    exact: bool = False
    max_layers: int | None = None
    max_bytes: int | None = None
    no_color: bool = False

    def limits(self) -> Limits:
        from ..spec import Limits

        base = Limits()
        return Limits(max_bytes=self.max_bytes or base.max_bytes, max_depth=base.max_depth,
                      max_nodes=base.max_nodes, max_layers=self.max_layers or base.max_layers)


# ---------------------------------------------------------------- input shapes
def example_epilog(*lines: str) -> str:
    """A command's epilog of example command lines (typer shows it under the options)."""
    return "Examples:\n\n" + "\n\n".join(f"  [bold]{line}[/bold]" for line in lines)


def input_shape(text: str | None, spec_input: tuple[int, ...]) -> tuple[int, ...] | None:
    """Resolve ``--input`` against the spec's own input shape.

    As many values as the spec's input has axes: the full shape.  One fewer: the
    spatial sizes, channels kept.  One value: every spatial axis, channels kept.

    >>> input_shape("3x64x64", (1, 32, 32)), input_shape("28", (1, 32, 32))
    ((3, 64, 64), (1, 28, 28))
    >>> input_shape("20x30", (3, 32, 32))
    (3, 20, 30)
    """
    if text is None:
        return None
    values = parse_input(text)
    rank = len(spec_input)
    if len(values) == rank:
        return values
    if len(values) == rank - 1 and rank > 1:
        return (spec_input[0], *values)
    if len(values) == 1 and rank > 1:
        return (spec_input[0],) + values * (rank - 1)
    from ..units import plural, shape_str

    raise UsageError(
        f"--input {text} has {plural(len(values), 'value')} but the spec's input "
        f"{shape_str(spec_input)} has {plural(rank, 'axis')}",
        hints=((f"give {plural(rank, 'value')} (channels first), "
                f"{plural(rank - 1, 'spatial size')}, or one size"),) if rank > 1 else ())


def parse_input(text: str, what: str = "--input") -> tuple[int, ...]:
    """``--input`` as sizes: ASCII digits separated by ``x`` (or ``X``, ``×``, ``,``),
    each from 1 to :data:`MAX_INT_DIGITS` digits.

    >>> parse_input("3x224x224"), parse_input("224")
    ((3, 224, 224), (224,))
    """
    from .shapes import parse_shape

    try:
        values = parse_shape(text)
    except ValueError as exc:
        raise UsageError(f"{what} {exc}") from None
    for value in values:
        if value < 1:
            raise UsageError(f"{what} {text}: every size must be >= 1")
        if value >= 10**MAX_INT_DIGITS:
            raise UsageError(f"{what} {text}: a size has {len(str(value))} digits, over the "
                             f"limit of {MAX_INT_DIGITS} (the largest integer a spec may hold)")
    return values


# ---------------------------------------------------------------- load + analyse
def load_spec(spec: str, settings: Settings) -> Network:
    """Load a spec (path, ``-`` or built-in name) under the settings' limits."""
    from ..spec import load_network

    return load_network(spec, settings.limits())


def analyse_network(net: Network, settings: Settings, input_text: str | None = None,
                    input_label: str | None = None) -> Report:
    """Analyse a loaded network with the settings; print its warnings to stderr.  An
    error of the analysis at a given ``--input`` says so in a note (``input_label``,
    default ``--input TEXT``)."""
    from ..analysis import analyze
    from ..errors import CnncalcError

    text = input_text if input_text is not None else settings.input
    shape = input_shape(text, net.input_shape)
    try:
        report = analyze(net, shape, batch=settings.batch, dtype=settings.dtype,
                         strict=settings.strict)
    except CnncalcError as exc:
        if text is not None:
            raise exc.located(notes=(f"at {input_label or f'--input {text}'}",)) from None
        raise
    print_warnings(report)
    return report


def analyse_spec(spec: str, settings: Settings) -> tuple[Network, Report]:
    """Load and analyse one spec, its warnings printed: the first step of every command
    that reads a spec (the torch commands build what this has analysed)."""
    with settling():  # they live until the command ends
        net = load_spec(spec, settings)
        report = analyse_network(net, settings)
    keep(net, report)
    return net, report


def print_warnings(report: Report) -> None:
    """``warning: <file>:<line>:<col>: <layer>: <msg>`` on stderr, one per finding."""
    for row in report.layers:
        for msg in row.warnings:
            where = f"{row.loc}: " if row.loc else ""
            message(f"warning: {where}{row.id}: {msg}")


# ---------------------------------------------------------------- output
def message(text: str) -> None:
    """A line for people on stderr (never mixed into the data on stdout); control
    characters (from a spec's ids, say) are shown escaped."""
    from ..safe import safe_lines

    try:
        sys.stderr.write(safe_lines(text) + "\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed or full: the data matters
        pass


def write(text: str | Iterable[str]) -> None:
    """Data on stdout, as is (JSON, CSV, markdown); pieces are written as they come."""
    for piece in (text,) if isinstance(text, str) else text:
        sys.stdout.write(piece)
    sys.stdout.flush()


def console(settings: Settings | None = None, no_color: bool = False) -> Console:
    """A rich console on stdout that honours ``--no-color`` and NO_COLOR."""
    from ..render.console import make_console

    return make_console(no_color=no_color or bool(settings and settings.no_color))


def emit(format: Enum, data: Mapping[Any, Callable[[], str | Iterable[str]]],
         table: Callable[[Console], object], no_color: bool = False) -> None:
    """A command's output in the chosen ``--format``: the text ``data`` makes for it on
    stdout as is (JSON, CSV, markdown, ...), or else ``table`` drawn on a console."""
    text = data.get(format)
    if text is not None:
        write(text())
    else:
        table(console(no_color=no_color))


def emit_report(report: Report, view: str, settings: Settings) -> None:
    """Write one report as ``view`` (``shapes``, ``params``, ``flops``, ``rf``,
    ``summary``) in the settings' format."""
    from ..render import text
    from ..render.views import VIEWS

    chosen = VIEWS[view]
    emit(settings.format, {
        Format.json: lambda: text.report_json_chunks(report, chosen),
        Format.csv: lambda: text.report_csv_chunks(report, chosen),
        Format.markdown: lambda: text.report_markdown(report, chosen, settings.exact),
    }, lambda out: _render_table(out, report, chosen, settings.exact), settings.no_color)


def _render_table(out: Console, report: Report, view: View, exact: bool) -> None:
    """The table of a report (rich's table machinery is imported only to draw one)."""
    from ..render.table import render_report

    render_report(out, report, view, exact)
