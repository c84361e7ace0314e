"""Analysis commands: shapes, params, flops, rf, summary, compare, ops, zoo.

None of them imports torch.  Their ``--format json`` output:

* ``summary``: exactly ``Report.to_dict()`` (the JSON contract in architecture.md);
* ``shapes`` / ``params`` / ``flops`` / ``rf``: the header fields (name, source,
  input_shape, output_shape, batch, dtype), ``layers`` with that command's fields
  (see ``cnncalc.render.views.VIEWS``), the totals it shows, and ``warnings``
  (``rf`` adds the network's ``receptive_field``);
* ``compare``: ``{"baseline", "columns": [{label, spec, name, input_shape, ...,
  totals, receptive_field, ratios}]}``, ratios against the first column;
* ``ops``: a list of ``cnncalc.ops.op_info`` dicts (``ops NAME``: one dict);
* ``zoo``: a list of ``{name, family, title, input_shape, output_shape, params,
  trainable_params, macs}`` (``family``: the file stem of a family's variant, null for a
  plain spec; a broken spec: ``{name, family, title: null, error}``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .base import app
from .common import (
    BatchOpt,
    DTypeOpt,
    ExactOpt,
    Format,
    FormatOpt,
    InputOpt,
    MaxBytesOpt,
    MaxLayersOpt,
    NoColorOpt,
    Settings,
    SpecArg,
    StrictOpt,
    analyse_network,
    analyse_spec,
    emit,
    emit_report,
    example_epilog,
    load_spec,
    message,
)

# --------------------------------------------------------- per-layer commands
VerifyOpt = Annotated[bool, typer.Option(
    "--verify", rich_help_panel="Checks and limits",
    help="Also build the module with torch, run one forward pass and compare every layer's "
         "shape, parameters, buffers and MACs with the analysis (exit 1 on a disagreement).")]


def _verify(net: Any, report: Any) -> None:
    """Report each disagreement between analysis and the built module on stderr."""
    from ..errors import CheckFailed
    from ..pytorch.verify import verify
    from ..units import plural

    found = verify(net, report)
    for d in found:
        message(f"verify: {d}")
    if found:
        verb = "disagrees" if len(found) == 1 else "disagree"
        raise CheckFailed(f"{plural(len(found), 'figure')} {verb} with the built torch module")
    n = len(report.layers)
    who = "the 1 layer agrees" if n == 1 else f"all {plural(n, 'layer')} agree"
    message(f"verified: {who} with the built torch module (shapes, parameters, buffers, MACs)")


def _layer_command(view: str, help_text: str, examples: tuple[str, ...]) -> None:
    """Define ``cnncalc <view>``: analyse SPEC and print the view's columns."""

    def command(
        spec: SpecArg, input: InputOpt = None, batch: BatchOpt = 1,
        dtype: DTypeOpt = "float32", format: FormatOpt = Format.table,
        strict: StrictOpt = False, exact: ExactOpt = False, max_layers: MaxLayersOpt = None,
        max_bytes: MaxBytesOpt = None, no_color: NoColorOpt = False, verify: VerifyOpt = False,
    ) -> None:
        settings = Settings(input=input, batch=batch, dtype=dtype, format=format,
                            strict=strict or None, exact=exact, max_layers=max_layers,
                            max_bytes=max_bytes, no_color=no_color)
        net, report = analyse_spec(spec, settings)
        emit_report(report, view, settings)
        if verify:
            _verify(net, report)

    command.__doc__ = help_text
    command.__name__ = view
    app.command(view, epilog=example_epilog(*examples))(command)


_layer_command("shapes", "Input and output shape of every layer.",
               ("cnncalc shapes lenet5", "cnncalc shapes resnet50 --input 3x512x512",
                "cat net.yaml | cnncalc shapes -"))
_layer_command("params", "Parameters of every layer: trainable, fixed, buffers and their memory.",
               ("cnncalc params resnet18", "cnncalc params lenet5 --exact --format csv"))
_layer_command("flops", "MACs and FLOPs of every layer, with each layer's share of the MACs.",
               ("cnncalc flops resnet50", "cnncalc flops resnet50 --batch 8 --format json"))
_layer_command("rf", "Receptive field of every layer: size, jump (effective stride) and start.",
               ("cnncalc rf lenet5", "cnncalc rf resnet50 --format markdown"))
_layer_command("summary", "Every figure of every layer, and the network totals "
               "(--format json prints the full JSON report).",
               ("cnncalc summary lenet5", "cnncalc summary resnet50 --dtype float16 --batch 32",
                "cnncalc summary net.yaml --format json > report.json"))


# --------------------------------------------------------------------- compare
InputsOpt = Annotated[list[str] | None, typer.Option(
    "--input", "-i", metavar="SHAPE", rich_help_panel="Input", show_default=False,
    help="Input shape; repeat it to compare one spec at several sizes "
         "(`3x224x224`, `224x224` or `224`, as in `cnncalc summary`).")]


@app.command(epilog=example_epilog("cnncalc compare resnet18 resnet34 resnet50",
                                   "cnncalc compare resnet50 --input 3x224x224 --input 3x512x512",
                                   "cnncalc compare lenet5 --input 32 --input 64 --format csv"))
def compare(
    specs: Annotated[list[str], typer.Argument(
        metavar="SPEC", help="Specs to compare (files, `-` or built-in names).",
        show_default=False)],
    input: InputsOpt = None, batch: BatchOpt = 1, dtype: DTypeOpt = "float32",
    format: FormatOpt = Format.table, strict: StrictOpt = False, exact: ExactOpt = False,
    max_layers: MaxLayersOpt = None, max_bytes: MaxBytesOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Network totals side by side, with ratios against the first column.

    Every SPEC is analysed at every --input (or at its own input when none is given).
    """
    settings = Settings(batch=batch, dtype=dtype, format=format, strict=strict or None,
                        exact=exact, max_layers=max_layers, max_bytes=max_bytes,
                        no_color=no_color)
    reports, sources = [], []
    for spec in specs:
        net = load_spec(spec, settings)
        for i, shape in enumerate(input or [None]):
            reports.append(_analyse_at(net, settings, shape, i, len(input or ())))
            sources.append(spec)
    _emit_compare(reports, sources, settings)


def _analyse_at(net: Any, settings: Settings, shape: str | None, index: int, count: int) -> Any:
    """One compared column; an error says which ``--input`` it came from."""
    label = (f"--input {shape} (the {ordinal(index + 1)} of {count} --input values)"
             if count > 1 else None)
    return analyse_network(net, settings, shape, input_label=label)


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _emit_compare(reports: list[Any], sources: list[str], settings: Settings) -> None:
    from ..render import compare as render

    names = render.labels(reports, sources)
    emit(settings.format, {
        Format.json: lambda: render.compare_json(reports, names, sources),
        Format.csv: lambda: render.compare_csv(reports, names, sources),
        Format.markdown: lambda: render.compare_markdown(reports, names, settings.exact),
    }, lambda out: out.print(render.compare_table(reports, names, settings.exact)),
        settings.no_color)


# ------------------------------------------------------------------------- ops
def _op_info(name: str) -> dict[str, Any]:
    from ..ops import op_info

    return op_info(name)


def _op_names() -> list[str]:
    from ..ops import REGISTRY

    return list(REGISTRY)


@app.command(epilog=example_epilog("cnncalc ops", "cnncalc ops conv", "cnncalc ops --format json"))
def ops(
    name: Annotated[str | None, typer.Argument(
        metavar="[OP]", help="Show one op's arguments, defaults and formulas.",
        show_default=False)] = None,
    format: FormatOpt = Format.table, no_color: NoColorOpt = False,
) -> None:
    """Every op a spec can use, with its family, summary and arguments."""
    from ..render import listing
    from ..render.text import to_json

    if name is not None:
        info = _op_info(name)
        emit(format, {Format.json: lambda: to_json(info), Format.csv: lambda: listing.op_csv(info),
                      Format.markdown: lambda: listing.op_markdown(info)},
             lambda out: out.print(listing.op_detail(info)), no_color)
        return
    infos = [_op_info(n) for n in _op_names()]
    emit(format, {Format.json: lambda: to_json(infos), Format.csv: lambda: listing.ops_csv(infos),
                  Format.markdown: lambda: listing.ops_markdown(infos)},
         lambda out: out.print(listing.ops_table(infos)), no_color)


# ------------------------------------------------------------------------- zoo
def zoo_entries() -> list[dict[str, Any]]:
    """Every built-in spec and family variant, with its figures at its own input (from
    the zoo index: nothing is parsed; a broken spec reports its error)."""
    from ..spec.zoo import listing

    return listing()


@app.command(epilog=example_epilog("cnncalc zoo", "cnncalc zoo --exact --format markdown"))
def zoo(
    format: FormatOpt = Format.table, exact: ExactOpt = False, no_color: NoColorOpt = False,
) -> None:
    """The built-in specs and the variants of the families (usable by name anywhere a
    SPEC is expected)."""
    from ..render import listing
    from ..render.text import to_json

    entries = zoo_entries()
    emit(format, {Format.json: lambda: to_json(entries),
                  Format.csv: lambda: listing.zoo_csv(entries),
                  Format.markdown: lambda: listing.zoo_markdown(entries, exact)},
         lambda out: out.print(listing.zoo_table(entries, exact)), no_color)
