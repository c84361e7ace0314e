"""Teaching and seeing: explain, calc, solve, sizes, graph, plot.

None of them imports torch.  ``--format json`` output:

* ``explain``: ``{name, source, input_shape, output_shape, layers: [{id, op, inputs,
  input_shapes, output_shape, params, macs, flops, receptive_field, warnings,
  steps: [{label, formula, result, symbolic, kind, text}]}]}``;
* ``calc``: the same plus the one layer's ``op``, ``totals`` and ``receptive_field``;
* ``solve pad``: :meth:`cnncalc.solve.PadSolution.to_dict`; ``solve stride|kernel``:
  :meth:`cnncalc.solve.Candidates.to_dict` (``{candidates: [{value, dropped}], first,
  last, count, unbounded, complete, reason}``); exit 1 when nothing solves it;
* ``sizes``: ``{name, sizes: [{size, input_shape, output_shape, ok, problems}]}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import CnncalcError, Loc, UsageError
from ..render.plot import PlotWhat  # the choices of plot --what
from ..solve import SolveOpName  # the choices of solve --op
from ..suggest import close_matches
from .base import app
from .common import (
    InputOpt,
    MaxBytesOpt,
    MaxLayersOpt,
    NoColorOpt,
    Settings,
    SpecArg,
    TableJson,
    TableMarkdownJson,
    analyse_network,
    analyse_spec,
    emit,
    example_epilog,
    input_shape,
    load_spec,
    message,
    write,
    write_output,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..solve import Candidates


TeachFormat = TableMarkdownJson  # explain / calc: rich text, markdown notes, or JSON steps
TextFormat = TableJson  # solve / sizes

TeachFormatOpt = Annotated[TeachFormat, typer.Option(
    "--format", "-f", case_sensitive=False, rich_help_panel="Output",
    help="table (rich) for people, markdown for notes, json for programs.")]
TextFormatOpt = Annotated[TextFormat, typer.Option(
    "--format", "-f", case_sensitive=False, rich_help_panel="Output",
    help="table for people, json for programs.")]


# ---------------------------------------------------------------------- explain
@app.command(epilog=example_epilog("cnncalc explain lenet5 --layer C3",
                                   "cnncalc explain resnet50 --layer conv1",
                                   "cnncalc explain lenet5 --layer C1 --format markdown"))
def explain(
    spec: SpecArg,
    layer: Annotated[str | None, typer.Option(
        "--layer", "-l", metavar="ID", show_default=False,
        help="Only this layer (an id; a block scope like conv3[0], or C1 with C1.bn/C1.act).",
    )] = None,
    input: InputOpt = None, format: TeachFormatOpt = TeachFormat.table,
    max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The worked arithmetic of every layer: output size, parameters, MACs, FLOPs,
    the receptive-field recurrence and any truncation, numbers filled in."""
    from ..explain import explain_layers

    settings = Settings(input=input, strict=False, max_layers=max_layers, max_bytes=max_bytes,
                        no_color=no_color)
    net, report = analyse_spec(spec, settings)
    layers = explain_layers(net, layer=layer, report=report)  # explained as they are written
    header = {"name": report.name, "source": report.source,
              "input_shape": list(report.input_shape), "output_shape": list(report.output_shape)}
    _emit(layers, header, format, settings, f"{report.name}: worked arithmetic")


def _emit(layers: Iterable[Any], header: dict[str, Any], format: TeachFormat,
          settings: Settings, title: str, extra: Any = None) -> None:
    """Write ``layers`` (read once, as they are written) in ``format``."""
    from ..render import explain as render

    def table(out: Console) -> None:
        if extra is not None:
            extra(out)
        render.render_explain(out, layers, title)

    emit(format, {TeachFormat.json: lambda: render.explain_json_chunks(layers, header),
                  TeachFormat.markdown: lambda: render.explain_markdown_chunks(layers, title)},
         table, settings.no_color)


# ------------------------------------------------------------------------ calc
@dataclass(frozen=True)
class OptionLoc(Loc):
    """Where a ``calc`` error was typed: an option and its value, not a line of the
    one-layer spec calc builds (which the user never sees)."""

    option: str = ""

    def __str__(self) -> str:
        return f"calc {self.option}"


@dataclass(frozen=True)
class OpArg:
    """One ``--name value`` of calc as typed (``flag``, ``text``) and read (``value``)."""

    flag: str
    name: str
    text: str
    value: Any

    @property
    def typed(self) -> str:
        """``--k 0``, ``--k '[1, 2'``, or the bare ``--ceil-mode`` (as a shell would
        take it back; a long value shortened)."""
        return typed_option(self.flag, self.text)


#: characters of a value shown in a location (a 60,000-character value is not repeated)
SHOWN_VALUE = 40


def typed_option(flag: str, text: str) -> str:
    """An option and its value as typed, quoted for a shell, long values shortened.

    >>> typed_option("--k", "0"), typed_option("--pad", "a: b"), typed_option("--bn", "")
    ('--k 0', "--pad 'a: b'", '--bn')
    """
    import shlex

    if not text:
        return flag
    if len(text) > SHOWN_VALUE:
        text = f"{text[:24]}...{text[-8:]} ({len(text):,} characters)"
    return f"{flag} {shlex.quote(text)}"


def _yaml_text(text: str) -> str:
    """A command-line value in spec syntax: ``3x3``/``3,3`` -> ``[3,3]``, ``True`` ->
    ``true``; one line only."""
    value = text.strip()
    if "\n" in value or "\r" in value:
        raise UsageError(f"the value {text!r} spans several lines; give it on one")
    if value.lower() in ("true", "false"):
        return value.lower()
    if re.fullmatch(r"\d+(x\d+)+", value):
        value = value.replace("x", ",")
    if "," in value and not value.startswith("["):
        value = f"[{value}]"
    return value


def _plain(value: Any) -> Any:
    """Located YAML containers as plain lists and dicts (to write them out again)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_value(text: str, where: str | None = None) -> Any:
    """A command-line value read as the spec reader reads a value: the same YAML rules
    and limits (nesting depth, alias expansion, integer digits).  Errors point at
    ``where`` (an option as typed) when given.

    >>> read_value("3,3"), read_value("[[1,2],[0,1]]"), read_value("same"), read_value("True")
    ([3, 3], [[1, 2], [0, 1]], 'same', True)
    """
    from ..spec.yamlio import load_yaml_text

    value = _yaml_text(text)
    if not value:
        return None
    try:
        return _plain(load_yaml_text(value, "value"))
    except CnncalcError as exc:
        raise _at_option(exc, where) if where else UsageError(
            f"cannot read the value '{text}': {exc.message}", hints=exc.hints) from None


def _at_option(exc: CnncalcError, option: str | None) -> CnncalcError:
    """``exc`` pointing at ``option`` (or at nothing), its notes free of line numbers
    of a text the user never saw (a value is one line: ``line 1, column 8`` is
    ``column 8`` of it)."""
    exc.loc = OptionLoc("calc", 0, 0, option) if option else None
    exc.notes = tuple(re.sub(r"line \d+, column (\d+)", r"column \1 of the value", n)
                      for n in exc.notes)
    return exc


def parse_value(text: str) -> Any:
    """A command-line value as the YAML spec would hold it: ``3`` -> 3, ``3,3`` /
    ``3x3`` / ``[3,3]`` -> [3, 3], ``true``/``false``, ``same``, ``0.2``.

    >>> parse_value("3,3"), parse_value("[[1,2],[0,1]]"), parse_value("same"), parse_value("True")
    ([3, 3], [[1, 2], [0, 1]], 'same', True)
    """
    return read_value(text)


def split_op_args(args: list[str]) -> list[OpArg]:
    """``--name value`` / ``--name=value`` / a bare ``--flag`` (true), names with dashes
    or underscores, each read with :func:`read_value` (errors point at the option)."""
    found: list[OpArg] = []
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or len(token) < 3:
            raise UsageError(f"unexpected argument '{token}'",
                             hints=("write the op's arguments as --name value, e.g. --k 3",))
        name, eq, text = token[2:].partition("=")
        flag = f"--{name}"
        if not eq:
            has_value = i + 1 < len(args) and not args[i + 1].startswith("--")
            text = args[i + 1] if has_value else ""
            i += has_value
        value = read_value(text, typed_option(flag, text)) if text or eq else True
        found.append(OpArg(flag, name.replace("-", "_"), text, value))
        i += 1
    return found


def parse_op_args(args: list[str]) -> dict[str, Any]:
    """:func:`split_op_args` as a dict of spec values (a repeated option: the last)."""
    return {arg.name: arg.value for arg in split_op_args(args)}


def _arg_names(op_cls: Any) -> dict[str, str]:
    """Command-line spelling (underscores) -> the spec's argument name (``global``)."""
    names = {}
    for field_name, field in op_cls.Args.model_fields.items():
        spec_name = field.alias or field_name
        names[spec_name.replace("-", "_")] = spec_name
    return names


def _check_args(op: str, given: list[OpArg]) -> list[tuple[str, OpArg]]:
    """The spec's argument name of each option; unknown and repeated ones refused."""
    from ..ops import get_op

    cls = get_op(op)
    if cls.arity[0] > 1:
        raise UsageError(f"calc computes one layer on one input; {op} merges several",
                         hints=("write a spec and use `cnncalc explain` for merges",))
    names = _arg_names(cls)
    out: dict[str, tuple[str, OpArg]] = {}
    for arg in given:
        if arg.name not in names:
            near = close_matches(arg.name, list(names), n=1)
            valid = ", ".join(f"--{n.replace('_', '-')}" for n in names) or "none"
            raise UsageError(f"{op} has no argument --{arg.name.replace('_', '-')}",
                             hints=((f"did you mean --{near[0].replace('_', '-')}?",) if near
                                    else ()) + (f"{op} takes: {valid}",))
        if arg.name in out:
            raise UsageError(f"{arg.flag} is given twice ({out[arg.name][1].typed}, then "
                             f"{arg.typed}); give it once")
        out[arg.name] = (names[arg.name], arg)
    return list(out.values())


def _flow(value: Any) -> str:
    """One value as YAML on one line (flow style)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=2**31 - 1,
                          allow_unicode=True).strip()
    return text.removesuffix("\n...")  # a scalar ends its document with "..."


def calc_network(op: str, shape: tuple[int, ...], args: list[OpArg],
                 input_text: str | None = None) -> Any:
    """A one-layer spec built through ``cnncalc.loads``: the same validation and errors
    as a spec file, each pointing at the option it comes from (``calc --k 0``), not at
    a line of the spec (the one place locations are mapped back)."""
    from .. import loads

    lines = ["cnncalc: 1", f"name: {_flow(f'calc {op}')}", f"input: {_flow(list(shape))}",
             "layers:", f"  - id: {_flow(op)}", f"    op: {_flow(op)}"]
    where = {3: typed_option("--input", input_text or "")}
    for spec_name, arg in _check_args(op, args):
        lines.append(f"    {spec_name}: {_flow(arg.value)}")
        where[len(lines)] = arg.typed
    try:
        return loads("\n".join(lines) + "\n", name="calc")
    except CnncalcError as exc:
        raise _at_option(exc, where.get(exc.loc.line) if exc.loc else None) from None


#: op families whose figures read ``--input`` as channels then spatial axes: for them a
#: two-number input (32x32) is refused unless --1d says it is a 1-D signal
SPATIAL_FAMILIES = frozenset({"conv", "pool", "norm", "lenet"})
#: ops of other families that also work on the spatial axes
SPATIAL_OPS = frozenset({"upsample", "zeropad", "channel_shuffle", "prelu"})


def _refuse_ambiguous_input(op: str, shape: tuple[int, ...], text: str) -> None:
    """``calc conv --input 32x32`` reads as 32 channels of length 32 (1-D): most often a
    32x32 image with its channels left out, so an op that works on spatial axes refuses
    two numbers unless ``--1d`` confirms them."""
    from ..ops import REGISTRY

    cls = REGISTRY.get(op)
    if len(shape) != 2 or cls is None:
        return
    if cls.family not in SPATIAL_FAMILIES and op not in SPATIAL_OPS:
        return
    c, n = shape
    raise UsageError(
        f"--input {text} is {c} channels of length {n} (a 1-D input): calc reads shapes "
        f"channels first",
        hints=(f"for a {c}x{n} image give its channels: --input 3x{c}x{n} (RGB) or "
               f"--input 1x{c}x{n} (grey)",
               f"for a 1-D signal of {c} channels and length {n}, add --1d"))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=example_epilog("cnncalc calc conv --input 3x224x224 --out 64 --k 7 --stride 2 --pad 3",
                          "cnncalc calc maxpool --input 64x112x112 --k 3 --stride 2 --pad 1",
                          "cnncalc calc conv --input 1x32x32 --out 6 --k 5 --format json"))
def calc(
    ctx: typer.Context,
    op: Annotated[str, typer.Argument(metavar="OP", show_default=False,
                                      help="An op name (`cnncalc ops` lists them).")],
    input: Annotated[str, typer.Option(
        "--input", "-i", metavar="SHAPE", show_default=False,
        help="The input shape, channels first, no batch axis: 3x224x224 (an image), "
             "64x100 (1-D: 64 channels, length 100; needs --1d on a spatial op).")],
    one_d: Annotated[bool, typer.Option(
        "--1d", help="Confirm that a two-number --input is 1-D (channels x length).")] = False,
    format: TeachFormatOpt = TeachFormat.table,
    no_color: NoColorOpt = False,
) -> None:
    """One layer, no spec file: give the op's arguments as options (--out 64 --k 7
    --stride 2 --pad 3; lists as 3,3; pad same).  Prints the output shape, params,
    MACs, FLOPs, receptive field and the worked arithmetic.

    --input is channels first: 3x32x32 is a 32x32 RGB image, 1x32x32 a grey one.
    Two numbers are a 1-D input (channels x length): on an op that works on
    spatial axes (conv, pooling, normalisation, upsample, ...) --input 32x32 is
    refused unless --1d confirms it."""
    from ..explain import explain_network
    from .shapes import parse_shape

    try:
        shape = parse_shape(input)
    except ValueError as exc:
        raise UsageError(f"--input {exc}") from None
    if one_d and len(shape) != 2:
        raise UsageError(f"--1d: --input {input} has {len(shape)} numbers; --1d confirms a "
                         "1-D input of two, channels x length")
    if not one_d:
        _refuse_ambiguous_input(op, shape, input)
    net = calc_network(op, shape, split_op_args(list(ctx.args)), input)
    settings = Settings(strict=False, no_color=no_color)
    try:
        report = analyse_network(net, settings)
    except CnncalcError as exc:  # a shape problem of the layer: no one option to blame
        raise _at_option(exc, None) from None
    layers = explain_network(net, report=report)
    rf = report.layers[-1].receptive_field
    header = {"name": report.name, "op": op, "input_shape": list(shape),
              "output_shape": list(report.output_shape), "totals": report.totals.to_dict(),
              "receptive_field": rf.to_dict() if rf else None}
    _emit(layers, header, format, settings, f"{op}: worked arithmetic",
          extra=lambda out: out.print(_calc_summary(report)))


def _calc_summary(report: Any) -> str:
    from ..units import shape_str

    t, rf = report.totals, report.layers[-1].receptive_field
    lines = [f"{shape_str(report.input_shape)} -> {shape_str(report.output_shape)}",
             f"params {t.params:,}   MACs {t.macs:,}   FLOPs {t.flops:,}"]
    if rf is not None:
        size = "x".join(str(v) for v in rf.to_dict()["size"])
        jump = "x".join(str(v) for v in rf.to_dict()["jump"])
        lines.append(f"receptive field {size}, jump {jump}")
    return "\n".join(lines)


# ----------------------------------------------------------------------- solve
solve_app = typer.Typer(help="Solve the window formula: which padding, stride or kernel "
                             "gives an output size (exit 1 when none does).",
                        no_args_is_help=True)
app.add_typer(solve_app, name="solve")

#: ``solve``'s exit status when no value gives the size: a well-formed question with
#: no answer, like a failed check (docs/teaching.md)
EXIT_NO_SOLUTION = 1


SizeOpt = Annotated[int, typer.Option("--input", "-i", metavar="N", help="Input size (one axis).")]
#: the wanted size: ``--output-size``/``-s`` (``-o`` is an output FILE in every other command)
OutputSizeOpt = Annotated[int | None, typer.Option(
    "--output-size", "-s", metavar="N", show_default=False,
    help="Wanted output size (one axis); required.")]
#: ``--output N``, the old name of ``--output-size``: still read, with a note on stderr
OldOutputOpt = Annotated[int | None, typer.Option("--output", hidden=True, show_default=False)]
#: ``-o`` is refused with the new name (it meant the wanted size before --output-size)
OldShortOpt = Annotated[str | None, typer.Option("-o", hidden=True, show_default=False)]
StrideOpt = Annotated[int, typer.Option("--stride", help="Stride.")]
DilationOpt = Annotated[int, typer.Option("--dilation", "-d", help="Kernel dilation.")]
PadOpt = Annotated[str, typer.Option(
    "--pad", "-p", help="Padding: p on each side, or BEFORE,AFTER.")]
SolveOpOpt = Annotated[SolveOpName, typer.Option(
    "--op", case_sensitive=False,
    help="Whose rules: conv (any padding), maxpool/avgpool (p each side, p <= k // 2).")]
SOLVE_EPILOG_NOTE = ("Exit 0 when some value gives the size, 1 when none does "
                     "(the output says why and what is nearest).")


def _solve_epilog(*lines: str) -> str:
    return example_epilog(*lines) + "\n\n" + SOLVE_EPILOG_NOTE


def _pad_pair(text: str) -> tuple[int, int]:
    value = parse_value(text)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
        return value[0], value[1]
    raise UsageError(f"--pad {text}: give p (each side) or BEFORE,AFTER, integers >= 0")


def _wanted_size(output_size: int | None, old_output: int | None, old_short: str | None) -> int:
    """The wanted output size from ``--output-size``/``-s`` (or the deprecated
    ``--output``); ``-o`` is refused: everywhere else in cnncalc it names an output file."""
    if old_short is not None:
        raise UsageError(f"solve -o {old_short}: the wanted size is --output-size (-s); -o is "
                         "an output file in cnncalc's other commands",
                         hints=(f"write --output-size {old_short}",))
    if old_output is not None and output_size is not None:
        raise UsageError("solve: --output is the old name of --output-size; give one of them")
    if old_output is not None:
        message("note: solve --output is deprecated: write --output-size (-s)")
        return old_output
    if output_size is None:
        raise UsageError("solve: missing option --output-size (-s): the wanted output size")
    return output_size


def _finish(text: str, data: dict[str, Any], solved: bool, format: TextFormat) -> None:
    """Write the answer (text or JSON); exit 1 when nothing solves it."""
    write(json.dumps(data, indent=2) + "\n" if format is TextFormat.json else text)
    if not solved:
        raise typer.Exit(EXIT_NO_SOLUTION)


@solve_app.command("pad", epilog=_solve_epilog(
    "cnncalc solve pad --input 224 --k 7 --stride 2 --output-size 112",
    "cnncalc solve pad --input 6 --k 4 --output-size 6",
    "cnncalc solve pad --input 112 --k 3 --stride 2 -s 56 --op maxpool"))
def solve_pad_cmd(
    input: SizeOpt, k: Annotated[int, typer.Option("--k", help="Kernel size.")],
    output_size: OutputSizeOpt = None, stride: StrideOpt = 1,
    dilation: DilationOpt = 1, op: SolveOpOpt = "conv",
    format: TextFormatOpt = TextFormat.table,
    old_output: OldOutputOpt = None, old_short: OldShortOpt = None,
) -> None:
    """Which paddings (total, and the before/after split) give this output size;
    what `same` pads; the nearest size when no padding can."""
    from ..render.solve import solve_pad_text
    from ..solve import solve_pad

    output = _wanted_size(output_size, old_output, old_short)
    sol = solve_pad(input, k, stride, output, dilation, op)
    _finish(solve_pad_text(sol), sol.to_dict(), sol.solved, format)


@solve_app.command("stride", epilog=_solve_epilog(
    "cnncalc solve stride --input 224 --k 7 --pad 3 --output-size 112"))
def solve_stride_cmd(
    input: SizeOpt, k: Annotated[int, typer.Option("--k", help="Kernel size.")],
    output_size: OutputSizeOpt = None, pad: PadOpt = "0", dilation: DilationOpt = 1,
    op: SolveOpOpt = "conv",
    format: TextFormatOpt = TextFormat.table,
    old_output: OldOutputOpt = None, old_short: OldShortOpt = None,
) -> None:
    """Which strides give this output size."""
    from ..solve import solve_stride

    output = _wanted_size(output_size, old_output, old_short)
    found = solve_stride(input, k, _pad_pair(pad), output, dilation, op)
    _candidates(found, output, f"input {input}, k {k}, pad {pad}", format)


@solve_app.command("kernel", epilog=_solve_epilog(
    "cnncalc solve kernel --input 32 --output-size 28"))
def solve_kernel_cmd(
    input: SizeOpt, output_size: OutputSizeOpt = None, stride: StrideOpt = 1,
    pad: PadOpt = "0", dilation: DilationOpt = 1, op: SolveOpOpt = "conv",
    format: TextFormatOpt = TextFormat.table,
    old_output: OldOutputOpt = None, old_short: OldShortOpt = None,
) -> None:
    """Which kernel sizes give this output size."""
    from ..solve import solve_kernel

    output = _wanted_size(output_size, old_output, old_short)
    found = solve_kernel(input, stride, _pad_pair(pad), output, dilation, op)
    _candidates(found, output, f"input {input}, stride {stride}, pad {pad}", format)


def _candidates(found: Candidates, output: int, given: str, format: TextFormat) -> None:
    from ..render.solve import candidates_text

    _finish(candidates_text(found, output, given), found.to_dict(), not found.span.empty, format)


# ----------------------------------------------------------------------- sizes
@app.command(epilog=example_epilog("cnncalc sizes vgg16 --range 200:300",
                                   "cnncalc sizes lenet5 --range 28:40 --all",
                                   "cnncalc sizes vgg16 --range 220:260 --axis 1"))
def sizes(
    spec: SpecArg,
    range_: Annotated[str, typer.Option(
        "--range", "-r", metavar="START:STOP[:STEP]",
        help="Input sizes to try, both ends included.")],
    axis: Annotated[int | None, typer.Option(
        "--axis", show_default=False,
        help="Vary only this spatial axis (0 = first); default: all (square inputs).")] = None,
    input: InputOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list the sizes that fail, "
                                                          "with the first problem.")] = False,
    format: TextFormatOpt = TextFormat.table, max_layers: MaxLayersOpt = None,
    max_bytes: MaxBytesOpt = None, no_color: NoColorOpt = False,
) -> None:
    """Input sizes for which no layer drops input rows or columns (every stride
    tiles exactly), and the output shape at each."""
    from ..render.sizes import render_sizes
    from ..solve import input_sizes, parse_range

    settings = Settings(max_layers=max_layers, max_bytes=max_bytes, no_color=no_color)
    net = load_spec(spec, settings)
    results = input_sizes(net, parse_range(range_), axis, input_shape(input, net.input_shape),
                          what=f"--range {range_}")
    data = {"name": net.name, "sizes": [r.to_dict() for r in results]}
    emit(format, {TextFormat.json: lambda: json.dumps(data, indent=2) + "\n"},
         lambda out: render_sizes(out, results, show_all), no_color)


# ----------------------------------------------------------------------- graph
class GraphFormat(str, Enum):
    """``--format`` of graph."""

    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"


@app.command(epilog=example_epilog("cnncalc graph lenet5", "cnncalc graph resnet18 --format dot",
                                   "cnncalc graph resnet50 --format dot -o resnet50.dot"))
def graph(
    spec: SpecArg,
    format: Annotated[GraphFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="mermaid or dot text; svg or png through Graphviz `dot`.")] = GraphFormat.mermaid,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", show_default=False,
        help="Write here instead of stdout (png needs it).")] = None,
    expand_shorthand: Annotated[bool, typer.Option(
        "--expand-shorthand",
        help="Draw bn/act rows (C1.bn, C1.act) as nodes of their own.")] = False,
    input: InputOpt = None, max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
) -> None:
    """The network as a diagram: nodes with op, params and MACs, edges labelled with
    tensor shapes, blocks as clusters."""
    from ..render import graph as render

    settings = Settings(input=input, strict=False, max_layers=max_layers, max_bytes=max_bytes)
    net, report = analyse_spec(spec, settings)
    diagram = render.build_diagram(net, report, fold=not expand_shorthand)
    if format in (GraphFormat.mermaid, GraphFormat.dot):
        to_text = render.to_mermaid if format is GraphFormat.mermaid else render.to_dot
        text = to_text(diagram)
        if output is None:
            write(text)
        else:
            write_output(output, text)
        return
    if format is GraphFormat.png and output is None:
        raise UsageError("--format png writes binary: give -o FILE.png")
    data = render.run_dot(render.to_dot(diagram), format.value)
    if output is None:
        write(data.decode())
    else:
        write_output(output, data)


# ------------------------------------------------------------------------ plot
@app.command(epilog=example_epilog("cnncalc plot resnet18 --what macs -o macs.png",
                                   "cnncalc plot vgg16 --what rf -o rf.png"))
def plot(
    spec: SpecArg,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                         help="The image to write (.png, .svg, .pdf).")],
    what: Annotated[PlotWhat, typer.Option(
        "--what", "-w", case_sensitive=False,
        help="params / macs / memory: a bar per layer; rf: receptive field size by depth.")
    ] = "params",
    input: InputOpt = None, max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
) -> None:
    """Per-layer bars of params, MACs or activation memory, or the receptive field's
    growth with depth (needs matplotlib: pip install 'cnncalc\\[plot]')."""
    from ..render import plot as render

    render.require_matplotlib()
    settings = Settings(input=input, strict=False, max_layers=max_layers, max_bytes=max_bytes)
    _net, report = analyse_spec(spec, settings)
    render.plot_report(report, what, output)
