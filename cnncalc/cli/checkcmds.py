"""CI commands: ``check`` (expectations and budgets), ``diff`` (two specs or two git
revisions of one) and ``schema`` (the JSON Schema of the spec format).  No torch."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import EnvironmentUnavailable, UsageError
from .base import app, wants_traceback
from .common import (
    BatchOpt,
    DTypeOpt,
    ExactOpt,
    InputOpt,
    MaxBytesOpt,
    MaxLayersOpt,
    NoColorOpt,
    Settings,
    TableMarkdownJson,
    analyse_network,
    console,
    emit,
    example_epilog,
    load_spec,
    message,
    write,
    write_output,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..check import CheckRun
    from ..graph import Network
    from ..spec import Limits


class CheckFormat(str, Enum):
    """``cnncalc check --format``."""

    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


DiffFormat = TableMarkdownJson  # cnncalc diff --format


_BUDGET = "Budgets"
_Budget = lambda flag, what: typer.Option(  # noqa: E731
    flag, rich_help_panel=_BUDGET, metavar="N", show_default=False,
    help=f"Fail any spec whose {what} exceed N (25557032, 30M, 4.5G).")
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", rich_help_panel="Output", metavar="FILE", show_default=False, dir_okay=False,
    help="Write the report (json/github/junit) to FILE, creating its folder; the text "
         "summary still goes to stdout.")]
SchemaOutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE", show_default=False, dir_okay=False,
    help="Write the schema to FILE (its folder is created if missing) instead of stdout.")]


def _limits(max_layers: int | None, max_bytes: int | None) -> Limits:
    return Settings(max_layers=max_layers, max_bytes=max_bytes).limits()


def _write_out(text: str, output: Path | None) -> None:
    """``text`` to stdout, or to the file the user named (its folder created if missing)."""
    if output is None:
        write(text)
    else:
        write_output(output, text)


# ----------------------------------------------------------------------- check
@app.command(epilog=example_epilog(
    "cnncalc check specs/", "cnncalc check net.yaml --max-params 30M --max-macs 5G",
    "cnncalc check specs/ --format github", "cnncalc check specs/ --format junit -o check.xml"))
def check(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH", show_default=False,
        help="Spec files (FILE.yaml:VARIANT: one variant), folders (searched recursively) "
        "or built-in names.")],
    glob: Annotated[list[str] | None, typer.Option(
        "--glob", "-g", metavar="PATTERN", show_default=False,
        help="File pattern for folders; repeatable \\[default: *.yaml and *.yml].")] = None,
    max_params: Annotated[str | None, _Budget("--max-params", "parameters")] = None,
    max_macs: Annotated[str | None, _Budget("--max-macs", "MACs")] = None,
    max_flops: Annotated[str | None, _Budget("--max-flops", "FLOPs")] = None,
    max_activation_bytes: Annotated[str | None, _Budget(
        "--max-activation-bytes",
        "activation bytes (all outputs, batch 1, float32; 200Mi)")] = None,
    strict: Annotated[bool | None, typer.Option(
        "--strict/--no-strict", rich_help_panel="Checks and limits", show_default=False,
        help="A stride that drops input rows is an error (the default in check, unless the "
             "spec says `strict: false`); --no-strict makes it a warning for every spec.")] = None,
    format: Annotated[CheckFormat, typer.Option(
        "--format", "-f", rich_help_panel="Output", case_sensitive=False,
        help="text for people; github for workflow annotations; junit XML; json.",
    )] = CheckFormat.text,
    output: OutputOpt = None,
    skip_non_specs: Annotated[bool, typer.Option(
        "--skip-non-specs", help="Skip named files that are not specs (no top-level "
        "`cnncalc:` key), as files found in folders always are; for pre-commit. A spec is "
        "always checked.")] = False,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Exit 0 when no spec was found (default: exit 2).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", rich_help_panel="Output",
        help="List every expectation and warning, not only the failures.")] = False,
    no_progress: Annotated[bool, typer.Option(
        "--no-progress", rich_help_panel="Output", help="No progress bar on stderr.")] = False,
    max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Hold specs to their `expect:` section and to budgets: exit 0 if all pass, 1 if an
    expectation or budget fails, 2 if a spec is invalid (every spec is still checked)."""
    from ..check import DEFAULT_GLOBS, collect, parse_budgets, run_check
    from ..render import check as fmt
    from ..render.console import make_console

    budgets = parse_budgets({"max_params": max_params, "max_macs": max_macs,
                             "max_flops": max_flops, "max_activation_bytes": max_activation_bytes})
    found = collect(paths, tuple(glob) if glob else DEFAULT_GLOBS, skip_non_specs)
    err = make_console(no_color=no_color, stderr=True)
    show_bar = not no_progress and len(found.files) >= 20 and err.is_terminal
    with fmt.progress(len(found.files), err, show_bar) as advance:
        run = run_check(found.files, budgets, strict=strict,
                        limits=_limits(max_layers, max_bytes), on_result=advance,
                        empty=found.empty)
    run = fmt.settle(run)  # a result that cannot be formatted becomes an error verdict
    _tracebacks(run, wants_traceback(ctx))
    for line in fmt.notices(run, allow_empty):
        message(line)
    _emit_check(run, format, output, allow_empty, verbose, no_color)
    raise typer.Exit(run.exit_code(allow_empty))


def _tracebacks(run: CheckRun, wanted: bool) -> None:
    """With --traceback (or CNNCALC_TRACEBACK=1): the traceback of each file's internal
    error on stderr (the run itself goes on past them)."""
    import traceback

    from ..check import InternalCheckError
    from ..safe import safe_text as visible

    if not wanted:
        return
    for r in run.results:
        cause = r.error.__cause__ if isinstance(r.error, InternalCheckError) else None
        if cause is not None:
            message(f"traceback of the internal error in {visible(r.file)}:")
            traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)


def _emit_check(run: CheckRun, format: CheckFormat, output: Path | None,
                allow_empty: bool, verbose: bool, no_color: bool) -> None:
    from ..render import check as fmt

    if format is CheckFormat.text:
        if output is not None:
            import io

            from ..render.console import make_console

            buf = io.StringIO()
            fmt.render_text(run, make_console(no_color=True, file=buf, width=100_000), verbose)
            _write_out(buf.getvalue(), output)
        fmt.render_text(run, console(no_color=no_color), verbose)
        return
    text = {CheckFormat.json: lambda: fmt.render_json(run, allow_empty),
            CheckFormat.github: lambda: fmt.render_github(run, allow_empty),
            CheckFormat.junit: lambda: fmt.render_junit(run)}[format]()
    _write_out(text, output)
    if output is not None:
        fmt.render_text(run, console(no_color=no_color), verbose)


# ------------------------------------------------------------------------ diff
def git_show(path: str, rev: str) -> bytes:
    """The bytes of ``path`` at git revision ``rev`` (``git show REV:./path``, no shell)."""
    file = Path(path)
    if rev.startswith("-"):
        raise UsageError(f"--rev {rev!r} is not a revision")
    try:
        done = subprocess.run(["git", "show", f"{rev}:./{file.name}"], cwd=file.parent or Path("."),
                              capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise EnvironmentUnavailable("git is not installed; --rev needs it") from None
    except NotADirectoryError:
        raise UsageError(f"{file.parent}: no such folder") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git show {rev}:{path} failed: {why[-1] if why else 'no output'}")
    return done.stdout


def _load_side(spec: str, rev: str | None, settings: Settings) -> tuple[Network, str]:
    if rev is None:
        return load_spec(spec, settings), spec
    from ..spec import parse_network, split_target

    path, variant = split_target(spec)  # FILE.yaml:VARIANT: that variant at the revision
    if not Path(path).is_file():
        raise UsageError(f"--rev needs a spec file in a git checkout; {spec} is not a file")
    label = f"{path}@{rev}"
    net = parse_network(git_show(path, rev), label, settings.limits(), variant)
    return net, label if variant is None else f"{label}:{variant}"


@app.command(epilog=example_epilog(
    "cnncalc diff resnet18 resnet34", "cnncalc diff specs/net.yaml --rev HEAD~1",
    "cnncalc diff old.yaml new.yaml --format markdown > comment.md"))
def diff(
    old: Annotated[str, typer.Argument(metavar="A", show_default=False,
                                       help="The old spec (file, `-` or built-in name).")],
    new: Annotated[str | None, typer.Argument(
        metavar="[B]", show_default=False,
        help="The new spec; omit it with --rev to compare A with its git revision.")] = None,
    rev: Annotated[str | None, typer.Option(
        "--rev", "-r", metavar="REV", show_default=False,
        help="Compare the spec file A at git revision REV (old) with A as it is now (new).",
    )] = None,
    format: Annotated[DiffFormat, typer.Option(
        "--format", "-f", rich_help_panel="Output", case_sensitive=False,
        help="table for people; markdown for a PR comment; json.")] = DiffFormat.table,
    input: InputOpt = None, batch: BatchOpt = 1, dtype: DTypeOpt = "float32",
    exact: ExactOpt = False, max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Layer-by-layer differences of two specs: added, removed and changed layers,
    shapes and figures, and the totals' deltas.  Exit 0 whatever differs."""
    from ..diff import diff_reports
    from ..render import diff as fmt

    if (new is None) == (rev is None):
        raise UsageError("give two specs (cnncalc diff A B) or one spec and --rev REV")
    settings = Settings(input=input, batch=batch, dtype=dtype, exact=exact,
                        max_layers=max_layers, max_bytes=max_bytes, no_color=no_color)
    net_a, label_a = _load_side(old, rev, settings)
    net_b, label_b = _load_side(old if new is None else new, None, settings)
    result = diff_reports(analyse_network(net_a, settings), analyse_network(net_b, settings),
                          label_a, label_b)
    emit(format, {DiffFormat.markdown: lambda: fmt.diff_markdown(result, exact),
                  DiffFormat.json: lambda: fmt.diff_json(result)},
         lambda out: fmt.diff_table(result, out, exact), no_color)


# ---------------------------------------------------------------------- schema
@app.command(epilog=example_epilog("cnncalc schema > cnncalc.schema.json",
                                   "cnncalc schema --output .vscode/cnncalc.schema.json"))
def schema(output: SchemaOutputOpt = None) -> None:
    """The JSON Schema (draft 2020-12) of the spec format, for editors: put
    `# yaml-language-server: $schema=<file>` at the top of a spec (see docs/check.md)."""
    from ..schema_export import schema_json

    _write_out(schema_json(), output)
    if output is not None:
        message(f"wrote {output}")
