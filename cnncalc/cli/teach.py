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

import difflib
import json
import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..errors import CnncalcError, UsageError
from .base import app
from .common import (InputOpt, MaxBytesOpt, MaxLayersOpt, NoColorOpt, Settings, SpecArg,
                     TracebackOpt, console, input_shape, load_spec, print_warnings, write)
from .common import TableJson, TableMarkdownJson, example_epilog

if TYPE_CHECKING:  # pragma: no cover
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
                                   "cnncalc explain lenet5 --format markdown > notes.md"))
def explain(
    spec: SpecArg,
    layer: Annotated[Optional[str], typer.Option(
        "--layer", "-l", metavar="ID", show_default=False,
        help="Only this layer (an id; a block scope like conv3[0], or C1 with C1.bn/C1.act).")] = None,
    input: InputOpt = None, format: TeachFormatOpt = TeachFormat.table,
    max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    no_color: NoColorOpt = False, traceback: TracebackOpt = False,
) -> None:
    """The worked arithmetic of every layer: output size, parameters, MACs, FLOPs,
    the receptive-field recurrence and any truncation, numbers filled in."""
    from ..analysis import analyze
    from ..explain import explain_network

    settings = Settings(input=input, max_layers=max_layers, max_bytes=max_bytes,
                        no_color=no_color)
    net = load_spec(spec, settings)
    report = analyze(net, input_shape(input, net.input_shape), strict=False)
    print_warnings(report)
    layers = explain_network(net, layer=layer, report=report)
    header = {"name": report.name, "source": report.source,
              "input_shape": list(report.input_shape), "output_shape": list(report.output_shape)}
    _emit(layers, header, format, settings, f"{report.name}: worked arithmetic")


def _emit(layers: list[Any], header: dict[str, Any], format: TeachFormat, settings: Settings,
          title: str, extra: Any = None) -> None:
    from ..render import explain as render

    if format is TeachFormat.json:
        write(render.explain_json(layers, header))
    elif format is TeachFormat.markdown:
        write(render.explain_markdown(layers, title))
    else:
        out = console(settings)
        if extra is not None:
            extra(out)
        render.render_explain(out, layers, title)


# ------------------------------------------------------------------------ calc
def parse_value(text: str) -> Any:
    """A command-line value as the YAML spec would hold it: ``3`` -> 3, ``3,3`` /
    ``3x3`` / ``[3,3]`` -> [3, 3], ``true``/``false``, ``same``, ``0.2``.

    >>> parse_value("3,3"), parse_value("[[1,2],[0,1]]"), parse_value("same"), parse_value("True")
    ([3, 3], [[1, 2], [0, 1]], 'same', True)
    """
    import yaml

    value = text.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if re.fullmatch(r"\d+(x\d+)+", value):
        value = value.replace("x", ",")
    if "," in value and not value.startswith("["):
        value = f"[{value}]"
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        raise UsageError(f"cannot read the value '{text}'") from None


def parse_op_args(args: list[str]) -> dict[str, Any]:
    """``--name value`` / ``--name=value`` / a bare ``--flag`` (true), names with dashes
    or underscores, into a dict of spec values."""
    found: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or len(token) < 3:
            raise UsageError(f"unexpected argument '{token}'",
                             hints=("write the op's arguments as --name value, e.g. --k 3",))
        name, eq, value = token[2:].partition("=")
        if not eq:
            has_value = i + 1 < len(args) and not args[i + 1].startswith("--")
            value = args[i + 1] if has_value else "true"
            i += has_value
        found[name.replace("-", "_")] = parse_value(value)
        i += 1
    return found


def _arg_names(op_cls: Any) -> dict[str, str]:
    """Command-line spelling (underscores) -> the spec's argument name (``global``)."""
    names = {}
    for field_name, field in op_cls.Args.model_fields.items():
        spec_name = field.alias or field_name
        names[spec_name.replace("-", "_")] = spec_name
    return names


def _check_args(op: str, given: dict[str, Any]) -> dict[str, Any]:
    from ..ops import get_op

    cls = get_op(op)
    if cls.arity[0] > 1:
        raise UsageError(f"calc computes one layer on one input; {op} merges several",
                         hints=("write a spec and use `cnncalc explain` for merges",))
    names = _arg_names(cls)
    out = {}
    for name, value in given.items():
        if name not in names:
            near = difflib.get_close_matches(name, list(names), n=1)
            valid = ", ".join(f"--{n.replace('_', '-')}" for n in names) or "none"
            raise UsageError(f"{op} has no argument --{name.replace('_', '-')}",
                             hints=((f"did you mean --{near[0].replace('_', '-')}?",) if near
                                    else ()) + (f"{op} takes: {valid}",))
        out[names[name]] = value
    return out


def calc_network(op: str, shape: tuple[int, ...], args: dict[str, Any]) -> Any:
    """A one-layer spec built through ``cnncalc.loads``: the same validation and
    errors as a spec file (without its line numbers, which would point nowhere)."""
    import yaml

    from .. import loads

    doc = {"cnncalc": 1, "name": f"calc {op}", "input": list(shape),
           "layers": [{"id": op, "op": op, **_check_args(op, args)}]}
    try:
        return loads(yaml.safe_dump(doc, sort_keys=False), name="calc")
    except CnncalcError as exc:
        exc.loc = None
        raise


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
        help="The input shape, no batch axis: 3x224x224.")],
    format: TeachFormatOpt = TeachFormat.table,
    no_color: NoColorOpt = False, traceback: TracebackOpt = False,
) -> None:
    """One layer, no spec file: give the op's arguments as options (--out 64 --k 7
    --stride 2 --pad 3; lists as 3,3; pad same).  Prints the output shape, params,
    MACs, FLOPs, receptive field and the worked arithmetic."""
    from ..analysis import analyze
    from ..explain import explain_network
    from ..render.units import parse_shape

    try:
        shape = parse_shape(input)
    except ValueError as exc:
        raise UsageError(f"--input {exc}") from None
    net = calc_network(op, shape, parse_op_args(list(ctx.args)))
    report = analyze(net, strict=False)
    print_warnings(report)
    layers = explain_network(net, report=report)
    rf = report.layers[-1].receptive_field
    header = {"name": report.name, "op": op, "input_shape": list(shape),
              "output_shape": list(report.output_shape), "totals": report.totals.to_dict(),
              "receptive_field": rf.to_dict() if rf else None}
    _emit(layers, header, format, Settings(no_color=no_color), f"{op}: worked arithmetic",
          extra=lambda out: out.print(_calc_summary(report)))


def _calc_summary(report: Any) -> str:
    from ..render.units import shape_str

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


class SolveOp(str, Enum):
    """``--op`` of solve: whose padding rules apply."""

    conv = "conv"
    maxpool = "maxpool"
    avgpool = "avgpool"


SizeOpt = Annotated[int, typer.Option("--input", "-i", metavar="N", help="Input size (one axis).")]
OutOpt = Annotated[int, typer.Option("--output", "-o", metavar="N", help="Wanted output size.")]
DilationOpt = Annotated[int, typer.Option("--dilation", "-d", help="Kernel dilation.")]
PadOpt = Annotated[str, typer.Option(
    "--pad", "-p", help="Padding: p on each side, or BEFORE,AFTER.")]
SolveOpOpt = Annotated[SolveOp, typer.Option(
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


def _finish(text: str, data: dict[str, Any], solved: bool, format: TextFormat) -> None:
    """Write the answer (text or JSON); exit 1 when nothing solves it."""
    write(json.dumps(data, indent=2) + "\n" if format is TextFormat.json else text)
    if not solved:
        raise typer.Exit(EXIT_NO_SOLUTION)


@solve_app.command("pad", epilog=_solve_epilog(
    "cnncalc solve pad --input 224 --k 7 --stride 2 --output 112",
    "cnncalc solve pad --input 6 --k 4 --output 6",
    "cnncalc solve pad --input 112 --k 3 --stride 2 --output 56 --op maxpool"))
def solve_pad_cmd(
    input: SizeOpt, k: Annotated[int, typer.Option("--k", help="Kernel size.")],
    output: OutOpt, stride: Annotated[int, typer.Option("--stride", "-s")] = 1,
    dilation: DilationOpt = 1, op: SolveOpOpt = SolveOp.conv,
    format: TextFormatOpt = TextFormat.table, traceback: TracebackOpt = False,
) -> None:
    """Which paddings (total, and the before/after split) give this output size;
    what `same` pads; the nearest size when no padding can."""
    from ..render.explain import solve_pad_text
    from ..solve import solve_pad

    sol = solve_pad(input, k, stride, output, dilation, op.value)
    _finish(solve_pad_text(sol), sol.to_dict(), sol.solved, format)


@solve_app.command("stride", epilog=_solve_epilog(
    "cnncalc solve stride --input 224 --k 7 --pad 3 --output 112"))
def solve_stride_cmd(
    input: SizeOpt, k: Annotated[int, typer.Option("--k", help="Kernel size.")],
    output: OutOpt, pad: PadOpt = "0", dilation: DilationOpt = 1,
    op: SolveOpOpt = SolveOp.conv,
    format: TextFormatOpt = TextFormat.table, traceback: TracebackOpt = False,
) -> None:
    """Which strides give this output size."""
    from ..solve import solve_stride

    found = solve_stride(input, k, _pad_pair(pad), output, dilation, op.value)
    _candidates(found, output, f"input {input}, k {k}, pad {pad}", format)


@solve_app.command("kernel", epilog=_solve_epilog(
    "cnncalc solve kernel --input 32 --output 28"))
def solve_kernel_cmd(
    input: SizeOpt, output: OutOpt, stride: Annotated[int, typer.Option("--stride", "-s")] = 1,
    pad: PadOpt = "0", dilation: DilationOpt = 1, op: SolveOpOpt = SolveOp.conv,
    format: TextFormatOpt = TextFormat.table, traceback: TracebackOpt = False,
) -> None:
    """Which kernel sizes give this output size."""
    from ..solve import solve_kernel

    found = solve_kernel(input, stride, _pad_pair(pad), output, dilation, op.value)
    _candidates(found, output, f"input {input}, stride {stride}, pad {pad}", format)


def _candidates(found: "Candidates", output: int, given: str, format: TextFormat) -> None:
    from ..render.explain import candidates_text

    _finish(candidates_text(found, output, given), found.to_dict(), not found.span.empty, format)


# ----------------------------------------------------------------------- sizes
@app.command(epilog=example_epilog("cnncalc sizes vgg16 --range 200:300",
                                   "cnncalc sizes lenet5 --range 28:40 --all",
                                   "cnncalc sizes net.yaml --range 100:200 --axis 1"))
def sizes(
    spec: SpecArg,
    range_: Annotated[str, typer.Option(
        "--range", "-r", metavar="START:STOP[:STEP]",
        help="Input sizes to try, both ends included.")],
    axis: Annotated[Optional[int], typer.Option(
        "--axis", show_default=False,
        help="Vary only this spatial axis (0 = first); default: all (square inputs).")] = None,
    input: InputOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list the sizes that fail, "
                                                          "with the first problem.")] = False,
    format: TextFormatOpt = TextFormat.table, max_layers: MaxLayersOpt = None,
    max_bytes: MaxBytesOpt = None, no_color: NoColorOpt = False, traceback: TracebackOpt = False,
) -> None:
    """Input sizes for which no layer drops input rows or columns (every stride
    tiles exactly), and the output shape at each."""
    from ..render.explain import render_sizes
    from ..solve import input_sizes, parse_range

    settings = Settings(max_layers=max_layers, max_bytes=max_bytes, no_color=no_color)
    net = load_spec(spec, settings)
    results = input_sizes(net, parse_range(range_), axis, input_shape(input, net.input_shape))
    if format is TextFormat.json:
        write(json.dumps({"name": net.name, "sizes": [r.to_dict() for r in results]},
                         indent=2) + "\n")
    else:
        render_sizes(console(settings), results, show_all)


# ----------------------------------------------------------------------- graph
class GraphFormat(str, Enum):
    """``--format`` of graph."""

    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"


@app.command(epilog=example_epilog("cnncalc graph lenet5", "cnncalc graph resnet18 --format dot",
                                   "cnncalc graph resnet50 --format svg -o resnet50.svg"))
def graph(
    spec: SpecArg,
    format: Annotated[GraphFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="mermaid or dot text; svg or png through Graphviz `dot`.")] = GraphFormat.mermaid,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", show_default=False,
        help="Write here instead of stdout (png needs it).")] = None,
    expand_shorthand: Annotated[bool, typer.Option(
        "--expand-shorthand", help="Draw bn/act rows (C1.bn, C1.act) as nodes of their own.")] = False,
    input: InputOpt = None, max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """The network as a diagram: nodes with op, params and MACs, edges labelled with
    tensor shapes, blocks as clusters."""
    from ..analysis import analyze
    from ..render import graph as render

    settings = Settings(max_layers=max_layers, max_bytes=max_bytes)
    net = load_spec(spec, settings)
    report = analyze(net, input_shape(input, net.input_shape), strict=False)
    diagram = render.build_diagram(net, report, fold=not expand_shorthand)
    if format in (GraphFormat.mermaid, GraphFormat.dot):
        text = render.to_mermaid(diagram) if format is GraphFormat.mermaid else render.to_dot(diagram)
        if output is None:
            write(text)
        else:
            output.write_text(text)
        return
    if format is GraphFormat.png and output is None:
        raise UsageError("--format png writes binary: give -o FILE.png")
    data = render.run_dot(render.to_dot(diagram), format.value)
    if output is None:
        write(data.decode())
    else:
        output.write_bytes(data)


# ------------------------------------------------------------------------ plot
class PlotWhat(str, Enum):
    """``--what`` of plot."""

    params = "params"
    macs = "macs"
    rf = "rf"
    memory = "memory"


@app.command(epilog=example_epilog("cnncalc plot resnet18 --what macs -o macs.png",
                                   "cnncalc plot vgg16 --what rf -o rf.png"))
def plot(
    spec: SpecArg,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                         help="The image to write (.png, .svg, .pdf).")],
    what: Annotated[PlotWhat, typer.Option(
        "--what", "-w", case_sensitive=False,
        help="params / macs / memory: a bar per layer; rf: receptive field size by depth.")
    ] = PlotWhat.params,
    input: InputOpt = None, max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Per-layer bars of params, MACs or activation memory, or the receptive field's
    growth with depth (needs matplotlib: pip install 'cnncalc\\[plot]')."""
    from ..analysis import analyze
    from ..render import plot as render

    render.require_matplotlib()
    settings = Settings(max_layers=max_layers, max_bytes=max_bytes)
    net = load_spec(spec, settings)
    report = analyze(net, input_shape(input, net.input_shape), strict=False)
    render.plot_report(report, what.value, output)
