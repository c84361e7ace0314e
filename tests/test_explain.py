"""`cnncalc explain`: the worked arithmetic.

Oracles: LeNet-5's C3 parameters as the paper counts them (LeCun et al. 1998, Table I:
6 maps read 3, 9 read 4, 1 reads 6; 1,516 params); ResNet-50's stem as torchvision
builds it (7x7 stride 2 pad 3: 224 -> 112, 9,408 weights); the course notes' truncation
example (8 rows, k 3, stride 2: row 7 is never read).  Every formula with numbers is
also *evaluated* here and must give the printed result, which must equal the figure
the analysis reports.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.explain import Step, explain_network

from helpers import fresh_cli, torch_modules

ROOT = Path(__file__).parent.parent
runner = CliRunner()

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Mod: operator.mod}


def evaluate(formula: str) -> Fraction:
    """Evaluate a worked formula (``6x(3x25+1) + ...``, ``floor((..) / 2) + 1``,
    ``r = 6 + (5-1)*2``) exactly, with a whitelist: numbers, + - * / %, floor, ceil."""
    text = formula.split(" = ", 1)[-1] if formula.split(" ")[0] in ("r", "j", "start") else formula
    text = re.sub(r"\b[a-z_]{2,} (?=\d)", "", text)  # FLOPs: "conv 235,200 + bias 4,704"
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text).replace("x", "*")

    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "floor", "ceil"):
            return Fraction(getattr(math, node.func.id)(ev(node.args[0])))
        raise ValueError(f"unexpected {ast.dump(node)} in {formula!r}")

    return ev(ast.parse(text, mode="eval"))


def steps_of(name: str, layer: str) -> list[Step]:
    return list(explain_network(cnncalc.load(name), layer=layer)[0].steps)


def step(steps: list[Step], label: str) -> Step:
    return next(s for s in steps if s.label == label)


# ---------------------------------------------------------------- worked numbers
def test_lenet5_c3_connect_table_grouped() -> None:
    steps = steps_of("lenet5", "C3")
    assert step(steps, "params").text() == "6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516"
    assert step(steps, "params").result == 1516
    assert step(steps, "connections").text() == "6x3 + 9x4 + 1x6 = 60"
    assert step(steps, "output height, width").text() == \
        "floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 10"
    assert step(steps, "MACs").text() == "(6x3 + 9x4 + 1x6) x 5 x 5 x 10 x 10 = 150,000"
    table = step(steps, "connect table").result
    assert table == ("output maps 0-5 read 3 of 6; output maps 6-14 read 4 of 6; "
                     "output map 15 reads 6 of 6")


def test_connect_grouping_is_computed_not_copied() -> None:
    """Another table groups differently (and one input map is never read)."""
    net = cnncalc.loads("cnncalc: 1\ninput: [4, 8, 8]\nlayers:\n"
                        "  - {id: c, op: conv, out: 3, k: 3, connect: [[0], [0, 1], [1, 2]]}\n")
    steps = list(explain_network(net)[0].steps)
    assert step(steps, "params").text() == "1x(1x9+1) + 2x(2x9+1) = 48"
    assert cnncalc.analyze(net).layer("c").params == 48
    assert any("input maps 3 are never read" in str(s.result) for s in steps)


def test_resnet50_stem() -> None:
    steps = steps_of("resnet50", "conv1")
    assert step(steps, "output height, width").text() == \
        "floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112"
    assert step(steps, "params").text() == "7x7x3 x 64 = 9,408"
    assert step(steps, "MACs").text() == "3 x 64 x 7 x 7 x 112 x 112 = 118,013,952"
    assert step(steps, "rf size height, width").text() == "r = 1 + (7-1)*1 = 7"
    assert step(steps, "rf jump height, width").text() == "j = 1*2 = 2"
    # one padded position left over, inside the trailing pad: nothing lost
    tiling = step(steps, "tiling height, width")
    assert tiling.kind == "note" and "no input lost" in str(tiling.result)


def test_truncation_names_the_rows_never_read() -> None:
    net = cnncalc.load(str(ROOT / "examples" / "truncation.yaml"))
    by_id = {e.id: e for e in explain_network(net)}
    steps = list(by_id["k3_stride2"].steps)
    trunc = [s for s in steps if s.kind == "truncation"]
    assert [s.label for s in trunc] == ["tiling height", "tiling width"]
    assert trunc[0].formula == "(8 + 0+0 - 3) % 2"
    assert "input row 7 (of 0-7) never read" in str(trunc[0].result)
    # per-axis: only the height of d2l_3x5 drops rows (2 of them)
    d2l = [s for s in by_id["d2l_3x5"].steps if s.kind == "truncation"]
    assert len(d2l) == 1 and "rows 6-7" in str(d2l[0].result)


def test_receptive_field_recurrence_chains_through_layers() -> None:
    s4 = steps_of("lenet5", "S4")
    assert step(s4, "rf size height, width").text() == "r = 14 + (2-1)*2 = 16"
    assert step(s4, "rf jump height, width").text() == "j = 2*2 = 4"


def test_dilated_conv_shows_dilation() -> None:
    net = cnncalc.loads("cnncalc: 1\ninput: [1, 15, 15]\nlayers:\n"
                        "  - {id: c, op: conv, out: 1, k: 3, dilation: 2}\n")
    steps = list(explain_network(net)[0].steps)
    assert step(steps, "output height, width").text() == \
        "floor((15 + 2*0 - 2*(3-1) - 1) / 1) + 1 = 11"
    assert step(steps, "rf size height, width").text() == "r = 1 + 2*(3-1)*1 = 5"


ZOO = ["lenet5", "resnet18", "resnet50", "mobilenet_v2", "googlenet", "unet", "c3d", "charcnn",
       "densenet121", "dilated_context", "nin", "alexnet"]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("source", ZOO + EXAMPLES, ids=lambda s: Path(s).stem)
def test_every_formula_evaluates_to_its_result_and_the_report(source: str) -> None:
    """The written working is real arithmetic: evaluating it gives the result shown,
    and the results agree with the analysis (params, MACs, output sizes, rf)."""
    net = cnncalc.load(source)
    report = cnncalc.analyze(net)
    for layer in explain_network(net, report=report):
        row = report.layer(layer.id)
        for s in layer.steps:
            numeric = isinstance(s.result, (int, Fraction)) and not isinstance(s.result, bool)
            if s.formula and numeric and s.kind != "note":
                assert evaluate(s.formula) == s.result, (layer.id, s)
            if s.label == "params":
                assert s.result == row.params, (layer.id, s)
            if s.label == "MACs":
                assert s.result == row.macs, (layer.id, s)
            if s.label == "FLOPs":
                assert s.result == row.flops, (layer.id, s)
            if s.label.startswith("output ") and s.kind == "shape" and numeric:
                assert s.result in row.output_shape, (layer.id, s)
            if s.label.startswith("rf size"):
                assert s.result in row.receptive_field.size, (layer.id, s)


def test_evaluator_rejects_what_it_does_not_know() -> None:
    with pytest.raises(ValueError):
        evaluate("__import__('os')")
    assert evaluate("floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1") == 10


# ---------------------------------------------------------------------- CLI
def test_cli_explain_layer_table() -> None:
    result = runner.invoke(app, ["explain", "lenet5", "--layer", "C3", "--no-color"])
    assert result.exit_code == 0, result.output
    assert "6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516" in result.stdout
    assert "C3.act" in result.stdout and "S2" not in result.stdout.replace("S2 maps", "")


def test_cli_explain_markdown_and_json() -> None:
    md = runner.invoke(app, ["explain", "resnet50", "--layer", "conv1", "-f", "markdown"])
    assert md.exit_code == 0
    assert "## conv1 (conv): 3x224x224 -> 64x112x112" in md.stdout
    assert "`floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112`" in md.stdout
    js = runner.invoke(app, ["explain", "lenet5", "-f", "json"])
    data = json.loads(js.stdout)
    c3 = next(layer for layer in data["layers"] if layer["id"] == "C3")
    params = next(s for s in c3["steps"] if s["label"] == "params")
    assert params["result"] == 1516 and params["kind"] == "params"
    assert params["formula"] == "6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1)"
    assert [layer["id"] for layer in data["layers"]][:2] == ["C1", "C1.act"]


def test_cli_explain_input_override() -> None:
    js = json.loads(runner.invoke(app, ["explain", "lenet5", "-l", "C1", "-i", "36",
                                        "-f", "json"]).stdout)
    assert js["layers"][0]["output_shape"] == [6, 32, 32]


def test_cli_explain_unknown_layer_suggests() -> None:
    result = runner.invoke(app, ["explain", "lenet5", "--layer", "C4"])
    assert result.exit_code == 2
    assert "did you mean" in result.stderr


def test_explain_does_not_import_torch() -> None:
    done, modules = fresh_cli("explain", "lenet5")
    assert done.returncode == 0, done.stderr
    assert "1,516" in done.stdout
    assert torch_modules(modules) == [] and "matplotlib" not in modules and modules


# ------------------------------------------------------------- docs/teaching.md
def _doc_examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "teaching.md").read_text()
    return re.findall(r"```console\n\$ (cnncalc [^\n]*)\n(.*?)```", text, re.S)


@pytest.mark.parametrize("command, expected", _doc_examples(), ids=lambda v: v[:50])
def test_teaching_doc_examples(command: str, expected: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each console block of docs/teaching.md is the command's real output at 100
    columns: stdout, or stderr when the command fails with exit 2 (a reworded output
    fails here: paste the new text into the doc; `solve` answers "no solution" on
    stdout with exit 1)."""
    import shlex

    monkeypatch.chdir(ROOT)  # the doc's paths are relative to the checkout
    result = runner.invoke(app, shlex.split(command)[1:], env={"COLUMNS": "100"})
    assert result.exit_code in (0, 1, 2), result.output
    shown = result.stderr if result.exit_code == 2 else result.stdout
    assert shown == expected


def test_teaching_doc_has_examples() -> None:
    commands = [c.split()[1] for c, _ in _doc_examples()]
    assert {"explain", "calc", "solve", "sizes", "graph"} <= set(commands)


def test_add_projection_shortcut() -> None:
    """torchvision's ResNet-50 layer2[0].downsample: Conv2d(256, 512, 1, stride 2) with
    131,072 weights + BatchNorm2d(512) with 1,024 params and 1,025 buffers."""
    steps = steps_of("resnet50", "layer2[0].add")
    assert step(steps, "params").text() == "256x512 + 2x512 = 132,096"
    assert step(steps, "buffers").text() == "2x512 + 1 = 1,025"
    assert step(steps, "MACs").text() == "256 x 512 x 28 x 28 = 102,760,448"
    assert "1x1 conv, stride 2x2" in str(step(steps, "projection").result)


# ------------------------------------------------------------ rendering cost
def _rich_grid_render(layers: list, title: str, width: int) -> str:
    """The oracle: what rich's own Table.grid made of the same steps (the renderer
    before it was laid out by hand; 1.6 ms a layer)."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, highlight=False, emoji=False)
    console.print(Text(title))
    for layer in layers:
        console.print()
        head = Text(f"{layer.id}  {layer.op}  ")
        ins = ", ".join("x".join(map(str, s)) or "[]" for s in layer.input_shapes)
        head.append(f"{ins} -> {'x'.join(map(str, layer.output_shape)) or '[]'}")
        console.print(head)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for s in layer.steps:
            grid.add_row(Text(s.label), Text(s.text()))
            if s.symbolic:
                grid.add_row("", Text(s.symbolic))
        console.print(grid)
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


@pytest.mark.parametrize("source",
                         ["lenet5", "googlenet", str(ROOT / "examples" / "truncation.yaml")],
                         ids=lambda s: Path(s).stem)
@pytest.mark.parametrize("width", [100, 60, 40, 25, 20, 12, 5])
def test_hand_laid_grid_matches_rich_table(source: str, width: int) -> None:
    """The explain grid wraps as rich's table did, at every width (long words cut with
    an ellipsis in the working, folded in headings)."""
    import io

    from cnncalc.render.console import make_console
    from cnncalc.render.explain import render_explain

    layers = explain_network(cnncalc.load(source))
    buf = io.StringIO()
    render_explain(make_console(no_color=True, file=buf, width=width), layers, "a title")
    ours = "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
    assert ours == _rich_grid_render(layers, "a title", width)
    assert max(len(line) for line in ours.splitlines()) <= width


def test_render_cost_is_one_print_and_no_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Linear with a small constant: one console.print for the whole network and no
    rich Table per layer (each cost ~1.6 ms), with colour on or off."""
    import io

    from rich.console import Console
    from rich.table import Table

    from cnncalc.render.explain import render_explain

    calls = {"print": 0, "table": 0}
    real_print, real_table = Console.print, Table.__init__

    def counting_print(self: Console, *a: object, **k: object) -> None:
        calls["print"] += 1
        real_print(self, *a, **k)

    def counting_table(self: Table, *a: object, **k: object) -> None:
        calls["table"] += 1
        real_table(self, *a, **k)

    monkeypatch.setattr(Console, "print", counting_print)
    monkeypatch.setattr(Table, "__init__", counting_table)
    layers = explain_network(cnncalc.load("resnet50"))
    for color in (None, "standard"):
        buf = io.StringIO()
        console = Console(file=buf, width=100, color_system=color, force_terminal=bool(color))
        render_explain(console, layers, "ResNet-50")
        assert "conv1" in buf.getvalue() and ("\x1b[" in buf.getvalue()) == bool(color)
    assert calls == {"print": 2, "table": 0}


# ------------------------------------------- every op prints the formula it uses
#: one layer of every op, after a stem (k 2, stride 2: jump 2, start 1/2) so that the
#: receptive-field working has non-trivial operands; variants of the windowed ops
#: (dilation, asymmetric pad, ceil_mode with a last window in the padding, global)
OP_LAYERS = {
    "relu": "{op: relu}", "leaky_relu": "{op: leaky_relu}", "softmax": "{op: softmax}",
    "prelu": "{op: prelu}",
    "conv": "{op: conv, out: 4, k: 3, stride: 2, pad: 1}",
    "conv_dilated": "{op: conv, out: 4, k: [3, 2], dilation: [2, 1], stride: [1, 2]}",
    "conv_asym": "{op: conv, out: 4, k: 3, pad: [[2, 0], [1, 1]]}",
    "conv_same_even": "{op: conv, out: 2, k: 4, pad: same, groups: 2}",
    "conv_same_upper": "{op: conv, out: 2, k: [4, 3], stride: [1, 2], pad: same_upper}",
    "local_same_lower": "{op: local, out: 2, k: 2, stride: 2, pad: same_lower}",
    "conv_connect": "{op: conv, out: 2, k: 2, connect: [[0], [1, 3]]}",
    "conv_transpose": "{op: conv_transpose, out: 3, k: 3, stride: 2, pad: 1, output_padding: 1}",
    "conv_transpose_dilated": "{op: conv_transpose, out: 3, k: [3, 4], stride: [3, 2], "
                              "dilation: 2, pad: [0, 2]}",
    "local": "{op: local, out: 2, k: 3, stride: 2}",
    "subsample": "{op: subsample, k: 2}",
    "flatten": "{op: flatten}", "identity": "{op: identity}", "dropout": "{op: dropout}",
    "batchnorm": "{op: batchnorm}", "layernorm": "{op: layernorm}",
    "instancenorm": "{op: instancenorm}", "groupnorm": "{op: groupnorm, groups: 2}",
    "lrn": "{op: lrn, size: 3}",
    "maxpool": "{op: maxpool, k: 3, stride: 2, pad: 1, dilation: 2}",
    "maxpool_ceil": "{op: maxpool, k: 2, stride: 2, ceil_mode: true}",
    "avgpool_ceil_pad": "{op: avgpool, k: 3, stride: 3, pad: 1, ceil_mode: true}",
    "avgpool_global": "{op: avgpool, global: true}",
    "adaptive_avgpool": "{op: adaptive_avgpool, size: [3, 4]}",
    "adaptive_maxpool": "{op: adaptive_maxpool, size: 2}",
    "upsample": "{op: upsample, scale: 2}",
    "upsample_bilinear": "{op: upsample, size: [9, 7], mode: bilinear}",
    "zeropad": "{op: zeropad, pad: [[1, 2], [0, 3]]}",
    "channel_shuffle": "{op: channel_shuffle, groups: 2}",
}
VECTOR_LAYERS = {"linear": "{op: linear, out: 5}", "rbf": "{op: rbf, out: 3}"}
MERGES = {"add": "{op: add, in: [stem, side], project: auto}", "mul": "{op: mul, in: [stem, twin]}",
          "concat": "{op: concat, in: [stem, twin]}"}


def _one_op_spec(layer: str) -> str:
    return ("cnncalc: 1\ninput: [4, 17, 15]\nlayers:\n"
            "  - {id: stem, op: conv, out: 4, k: 2, stride: 2}\n"
            "  - {id: side, op: conv, out: 8, k: 1, stride: 2, in: stem}\n"
            "  - {id: twin, op: relu, in: stem}\n"
            + (f"  - {{id: x, {layer[1:]}\n" if " in: " in layer
               else f"  - {{id: x, in: stem, {layer[1:]}\n"))


def _vector_spec(layer: str) -> str:
    return "cnncalc: 1\ninput: [6]\nlayers:\n" f"  - {{id: x, {layer[1:]}\n"


def skeleton(formula: str) -> str:
    """A formula with every value replaced by ``#``: letters (``r_in``, ``k``), numbers,
    and parenthesised operands (``(5/2)``, ``(-1)``); ``2p`` reads as ``2*p``, ``x`` as
    ``*``.  A formula with numbers filled in and the formula in letters it follows have
    the same skeleton."""
    text = re.sub(r"\s+x\s+|(?<=\d)x(?=\d)", "*", formula)
    text = re.sub(r"\s*\(a last window in the padding\)", "", text)
    text = re.sub(r"\s*\(reach: [^)]*\)", "", text)
    text = text.replace(" ", "")
    # operands: (5/2), (-1), but not a call's arguments, ceil(8/1)
    text = re.sub(r"(?<![a-z])\(-?\d+(?:/\d+)?\)", "#", text)
    text = re.sub(r"(\d)([a-z])", r"\1*\2", text)  # 2p -> 2*p
    text = re.sub(r"\b(?!floor\b|ceil\b)[A-Za-z_][A-Za-z_0-9]*|\d+", "#", text)
    return re.sub(r"\(#\)", "#", text)


@pytest.mark.parametrize("name", sorted(OP_LAYERS) + sorted(VECTOR_LAYERS) + sorted(MERGES))
def test_every_op_prints_the_formula_its_numbers_come_from(name: str) -> None:
    """For each op: every formula with numbers evaluates to the result printed next to
    it, and has the shape of the formula in letters under it (so a transposed conv
    cannot print a plain conv's recurrence over its own numbers); the results are the
    analysis's figures."""
    layer = OP_LAYERS.get(name) or MERGES.get(name)
    spec = _one_op_spec(layer) if layer else _vector_spec(VECTOR_LAYERS[name])
    net = cnncalc.loads(spec)
    report = cnncalc.analyze(net, strict=False)
    checked = 0
    for lay in explain_network(net, layer="x", report=report):
        row = report.layer(lay.id)
        for s in lay.steps:
            numeric = isinstance(s.result, (int, Fraction)) and not isinstance(s.result, bool)
            if s.formula and numeric and s.kind != "note":
                assert evaluate(s.formula) == s.result, (name, s)
                checked += 1
            if s.kind in ("rf", "shape") and s.formula and s.symbolic and numeric:
                assert skeleton(s.formula) == skeleton(s.symbolic), (name, s)
            if s.label.startswith("rf size"):
                assert s.result in row.receptive_field.size, (name, s)
            if s.label.startswith("rf jump"):
                assert s.result in row.receptive_field.jump, (name, s)
            if s.label.startswith("rf start"):
                assert s.result in row.receptive_field.start, (name, s)
            if s.label.startswith("output ") and s.kind == "shape" and numeric:
                assert s.result in row.output_shape, (name, s)
    if name.startswith(("conv", "local", "subsample", "maxpool", "avgpool", "adaptive",
                        "upsample", "zeropad")):
        assert checked >= 3, name  # the windowed / resizing ops do show their working


def test_transposed_conv_prints_transposed_formulas() -> None:
    net = cnncalc.loads(_one_op_spec(OP_LAYERS["conv_transpose"]))
    steps = {s.label: s for s in explain_network(net, layer="x")[0].steps}
    out = steps["output height"]
    assert out.symbolic == "(n-1)*s - 2p + d*(k-1) + output_padding + 1"
    assert out.text() == "(8-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 16"
    size, jump, start = (steps[f"rf {w} height, width"] for w in ("size", "jump", "start"))
    assert size.symbolic == "r = r_in + (d*(k-1)/s)*j_in"
    assert size.text() == "r = 2 + (1*(3-1)/2)*2 = 4"
    assert jump.symbolic == "j = j_in/s" and jump.text() == "j = 2/2 = 1"
    assert start.text() == "start = (1/2) + ((1 - 1*(3-1)/2)/2)*2 = 1/2"
    assert "(k-1)*j_in" not in size.symbolic.replace("d*(k-1)/s", "")


def test_skeleton_tells_formulas_apart() -> None:
    assert skeleton("r = 6 + (5-1)*2") == skeleton("r = r_in + (k-1)*j_in")
    assert skeleton("r = 2 + (1*(3-1)/2)*2") != skeleton("r = r_in + (k-1)*j_in")
    assert skeleton("start = (5/2) + ((5-1)/2 - 0)*2") == skeleton(
        "start = start_in + ((k-1)/2 - p)*j_in")
    assert skeleton("floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1") == skeleton(
        "floor((n + 2p - d*(k-1) - 1) / s) + 1")


# ------------------------------------------------- the examples of --help all run
TEACH_COMMANDS = ["explain", "calc", "sizes", "graph", "plot", "solve pad", "solve stride",
                  "solve kernel"]


def _help_examples() -> list[tuple[str, str]]:
    """``(command, example)`` from the epilog of each teaching command's --help."""
    import typer

    root = typer.main.get_command(app)
    found = []
    for name in TEACH_COMMANDS:
        command = root
        for part in name.split():
            command = command.commands[part]  # type: ignore[attr-defined]
        examples = re.findall(r"\[bold\](cnncalc [^\[]*)\[/bold\]", command.epilog or "")
        assert examples, name
        found += [(name, e) for e in examples]
    return found


@pytest.mark.parametrize("command, example", _help_examples(), ids=lambda v: v[:60])
def test_help_examples_run(command: str, example: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example under a teaching command's --help runs as written and exits 0
    (files it writes land in a scratch directory); none needs a shell or a file the
    reader does not have."""
    import shlex

    if example.startswith("cnncalc plot"):
        pytest.importorskip("matplotlib")
    argv = shlex.split(example)
    assert not {">", "|", "<"} & set(argv), example
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, argv[1:])
    assert result.exit_code == 0, (example, result.output)
    if "-o" in argv:
        assert (tmp_path / argv[argv.index("-o") + 1]).stat().st_size > 0


def test_a_step_of_a_huge_fraction_is_json_without_a_float_overflow() -> None:
    from fractions import Fraction

    from cnncalc.working import Step

    huge = Step("rf start", "x", Fraction(10**400 + 1, 2)).to_dict()
    assert huge["result"] == round(Fraction(10**400 + 1, 2))
    assert Step("rf start", "x", Fraction(3, 2)).to_dict()["result"] == 1.5
