"""`cnncalc explain` at scale: the work shared by layers bound alike, the receptive-field
steps written once for every axis, and the renderers that write as they read.

Oracles: each layer explained on its own (:func:`cnncalc.explain.explain_layer`, which
shares nothing), ``json.dumps(indent=2)`` of the same data, the markdown as one join of
every line (the writer before it streamed), and the styled lines of the grid for its
plain text.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import tracemalloc
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc import explain as ex
from cnncalc.explain import LayerExplanation, Step, explain_layer, explain_layers, explain_network
from cnncalc.render import explain as render
from cnncalc.render.console import make_console

ROOT = Path(__file__).parent.parent
NETS = ["lenet5", "resnet18", "googlenet", "mobilenet_v3_small", "unet", "c3d", "charcnn",
        "dilated_context", "shufflenet_v2_x0_5", "efficientnet_b0"]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))


def varied_chain(units: int) -> str:
    """A chain that repeats a few distinct layers in many combinations: conv with out
    8..64 and k 1/3/5 (padded k // 2), batchnorm, relu, a k 1 max-pool, and every fifth
    unit a residual add."""
    lines = ["cnncalc: 1", "name: varied", "input: [8, 12, 10]", "layers:"]
    outs, ks = (8, 16, 24, 32, 48, 64), (1, 3, 5)
    for u in range(units):
        out, k = outs[u % len(outs)], ks[(u // 2) % len(ks)]
        lines += [f"  - {{id: c{u}, op: conv, out: {out}, k: {k}, pad: {k // 2}}}",
                  "  - {op: batchnorm}", "  - {op: relu}", "  - {op: maxpool, k: 1}"]
        if u % 5 == 4:
            lines += [f"  - {{id: r{u}, op: conv, out: {out}, k: 3, pad: 1}}",
                      f"  - {{op: add, in: [r{u}, c{u}]}}"]
    return "\n".join(lines) + "\n"


#: the same conv arguments (one op object) on shrinking inputs, and a non-square stride
SHRINKING = """cnncalc: 1
input: [3, 80, 30]
blocks:
  down:
    layers:
      - {id: c, op: conv, out: 4, k: 3, stride: [2, 1], pad: 1}
      - {id: p, op: maxpool, k: 2, stride: 2}
layers:
  - {id: d, op: down, repeat: 3}
  - {id: up, op: upsample, scale: 2}
"""


def _nets() -> list[Any]:
    return ([cnncalc.load(n) for n in NETS] + [cnncalc.load(p) for p in EXAMPLES]
            + [cnncalc.loads(varied_chain(40)), cnncalc.loads(SHRINKING)])


@pytest.fixture(scope="module")
def nets() -> list[Any]:
    return _nets()


# ------------------------------------------------------- shared work, same figures
def test_a_walk_that_shares_work_writes_what_each_layer_alone_writes(nets: list[Any]) -> None:
    """The walk works an op's steps out once per op object and shapes; explaining each
    layer on its own (nothing shared) gives the same explanation, step for step."""
    shared_somewhere = False
    for net in nets:
        report = cnncalc.analyze(net, strict=False)
        rfs: dict[str, Any] = {r.id: r.receptive_field for r in report.layers}
        rank = len(report.input_shape) - 1
        rfs["input"] = ex._input_rf(rank) if rank >= 1 else None
        walked = explain_network(net, report=report)
        assert [e.id for e in walked] == [n.id for n in net.nodes]
        for node, got in zip(net.nodes, walked):
            alone = explain_layer(node, report.layer(node.id), [rfs[i] for i in node.inputs])
            assert got == alone, node.id
            assert got.to_dict() == alone.to_dict(), node.id
            assert got.steps[:len(got.shared)] == got.shared
        by_op: dict[int, list[LayerExplanation]] = {}
        for node, got in zip(net.nodes, walked):
            by_op.setdefault(id(node.op), []).append(got)
        shared_somewhere |= any(a.shared is b.shared for group in by_op.values()
                                for a, b in itertools.pairwise(group))
    assert shared_somewhere  # (the walk did share: the test compares something)


def test_one_op_object_on_other_shapes_is_worked_out_again() -> None:
    """A repeat gives its convs one op object; on each smaller input the output size,
    MACs and receptive field are that layer's own."""
    net = cnncalc.loads(SHRINKING)
    by_id = {e.id: e for e in explain_network(net)}
    convs = [by_id[f"d[{i}].c"] for i in range(3)]
    assert net.nodes[0].op is net.nodes[2].op  # the premise: one op object
    heights = [next(s for s in e.steps if s.label == "output height").result for e in convs]
    assert heights == [40, 10, 3]
    assert len({e.macs for e in convs}) == 3
    assert [e.receptive_field.size for e in convs] == [
        r.receptive_field.size for r in (cnncalc.analyze(net).layer(e.id) for e in convs)]


def test_kept_workings_and_layouts_are_bounded_and_change_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 2 workings and 2 layouts (cleared when full) the output is the same
    as with room for every one."""
    def written(net: Any) -> tuple[str, ...]:
        return (_table(net, 100), _table(net, 100, color=True),
                render.explain_json(explain_layers(net), {}),
                render.explain_markdown(explain_layers(net), "t"))

    nets = [cnncalc.loads(varied_chain(12)), cnncalc.loads(SHRINKING), cnncalc.load("resnet18")]
    before = [written(net) for net in nets]
    monkeypatch.setattr(ex, "MAX_WORKINGS", 2)
    monkeypatch.setattr(ex, "MAX_FIELD_ROWS", 1)
    for name in ("MAX_REMEMBERED", "MAX_TAILS", "MAX_BLOCK_TEXTS"):
        monkeypatch.setattr(render, name, 1)
    assert [written(net) for net in nets] == before


def test_the_walk_reads_the_layers_the_analysis_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """explain binds no op to its shapes again: it reads the report's bound layers; a
    report without them is bound once more, to the same explanations."""
    from cnncalc.ops.base import Op

    net = cnncalc.loads(varied_chain(10))
    report = cnncalc.analyze(net, strict=False)
    expected = explain_network(net, report=report)
    assert report.bound_layers is not None and len(report.bound_layers) == len(net.nodes)
    binds: list[Any] = []
    real = Op.resolve
    monkeypatch.setattr(Op, "resolve", lambda self, ins: binds.append(self) or real(self, ins))
    assert explain_network(net, report=report) == expected
    assert explain_network(net, report=report, layer="c3") == [
        e for e in expected if e.id == "c3" or e.id.startswith("c3.")]
    assert binds == []
    unbound = dataclasses.replace(report, bound_layers=None)
    assert explain_network(net, report=unbound) == expected
    assert len(binds) == len(net.nodes)


def test_rows_that_depend_on_the_incoming_field_alone_are_shared() -> None:
    """Down a chain, a conv's jump and start rows are one tuple of steps from its second
    conv on (its first writes them as its own); the identity layers after a window
    share its unchanged row."""
    net = cnncalc.loads("cnncalc: 1\ninput: [2, 16, 16]\nlayers:\n" + "".join(
        ["  - {op: conv, out: 2, k: 3, pad: 1}\n  - {op: relu}\n  - {op: batchnorm}\n"] * 4))
    layers = explain_network(net)
    convs, relus, norms = layers[::3], layers[1::3], layers[2::3]
    assert convs[0].shared_tail == () and relus[0].shared_tail == ()
    assert all(c.shared_tail is convs[1].shared_tail for c in convs[1:])
    assert [s.label for s in convs[1].shared_tail] == ["rf jump height, width",
                                                       "rf start height, width"]
    assert [s.label for s in convs[1].own_steps()] == ["rf size height, width"]
    assert all(n.shared_tail and n.shared_tail[0] is r.own_steps()[0]
               for r, n in zip(relus, norms))
    for e in layers:
        assert e.steps == (*e.shared, *e.own_steps(), *e.shared_tail)


def test_step_text_written_once_is_no_field() -> None:
    """Step.text is kept on the step once written; equality, hash, repr and asdict see
    the fields alone."""
    a, b = Step("params", "(5x5x1 + 1) x 6", 156, "", "params"), Step(
        "params", "(5x5x1 + 1) x 6", 156, "", "params")
    assert a.text() == "(5x5x1 + 1) x 6 = 156" and a.text() is a.text()
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert "_text" not in dataclasses.asdict(a)


# ------------------------------------------ receptive fields: once when axes agree
def _rf_steps(layers: str, input_shape: str = "[2, 12, 12]") -> dict[str, Step]:
    net = cnncalc.loads(f"cnncalc: 1\ninput: {input_shape}\nlayers:\n{layers}")
    return {s.label: s for s in explain_network(net)[-1].steps if s.kind == "rf"}


RF_CASES = [
    # a square kernel on a square field: one step for both axes
    "  - {op: conv, out: 2, k: 3, pad: 1}\n",
    # equal spans (2*(3-1) = 1*(5-1)) but other working per axis
    "  - {op: conv, out: 2, k: [3, 5], dilation: [2, 1]}\n",
    # a square kernel on a field that is not square (jumps 2 and 1)
    "  - {op: conv, out: 2, k: 2, stride: [2, 1]}\n  - {op: conv, out: 2, k: 3}\n",
    # a square window on a field whose starts differ (1/2 and 0)
    "  - {op: maxpool, k: [2, 1], stride: 1}\n  - {op: maxpool, k: 3}\n",
    "  - {op: conv, out: 2, k: [3, 1], pad: [1, 0]}\n",
    "  - {op: conv_transpose, out: 2, k: 3, stride: [2, 1]}\n",
    "  - {op: adaptive_avgpool, size: [3, 4]}\n",
]


@pytest.mark.parametrize("layers", RF_CASES)
def test_rf_steps_written_once_for_all_axes_are_those_written_per_axis(
        layers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut for axes that read alike gives what the per-axis working gives
    (each row one step when its axes agree, else a step per axis)."""
    once = _rf_steps(layers)
    monkeypatch.setattr(ex.RFRule, "alike_axes", lambda *args: False)
    assert _rf_steps(layers) == once
    if layers == RF_CASES[0]:
        assert set(once) == {f"rf {w} height, width" for w in ("size", "jump", "start")}
    else:
        assert any(label.endswith(" width") and "," not in label for label in once)


def test_rf_steps_of_other_axes_keep_their_own_working() -> None:
    steps = _rf_steps("  - {op: conv, out: 2, k: [3, 5], dilation: [2, 1]}\n")
    assert steps["rf size height"].text() == "r = 1 + 2*(3-1)*1 = 5"
    assert steps["rf size width"].text() == "r = 1 + 1*(5-1)*1 = 5"
    assert steps["rf start height"].text() == "start = 0 + (2*(3-1)/2 - 0)*1 = 2"
    field = _rf_steps("  - {op: conv, out: 2, k: 2, stride: [2, 1]}\n"
                      "  - {op: conv, out: 2, k: 3}\n")
    assert field["rf size height"].text() == "r = 2 + (3-1)*2 = 6"
    assert field["rf size width"].text() == "r = 2 + (3-1)*1 = 4"


def test_rf_steps_of_a_cube_and_of_a_line() -> None:
    cube = _rf_steps("  - {op: conv, out: 2, k: 3}\n", "[1, 6, 6, 6]")
    assert cube["rf size depth, height, width"].text() == "r = 1 + (3-1)*1 = 3"
    line = _rf_steps("  - {op: conv, out: 2, k: 3}\n", "[1, 9]")
    assert line["rf size length"].text() == "r = 1 + (3-1)*1 = 3"


# ------------------------------------------------------------------ streaming
def test_explain_layers_explains_as_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    net = cnncalc.loads(varied_chain(30))
    made: list[str] = []
    real = ex.OpWorking.explain

    def counting(self: ex.OpWorking, node: Any, *args: Any) -> LayerExplanation:
        made.append(node.id)
        return real(self, node, *args)

    monkeypatch.setattr(ex.OpWorking, "explain", counting)
    layers = explain_layers(net)
    assert made == []
    first = next(layers)
    assert made == [first.id] == [net.nodes[0].id]
    assert len(list(layers)) == len(net.nodes) - 1


def test_explain_layers_refuses_a_bad_layer_before_it_is_read() -> None:
    with pytest.raises(cnncalc.errors.UsageError, match="no such layer"):
        explain_layers(cnncalc.load("lenet5"), layer="C9")


def _pulled_while_writing(net: Any, write: Any) -> list[tuple[int, int]]:
    """(layers read so far, characters written so far) at each layer read."""
    out = io.StringIO()
    seen: list[tuple[int, int]] = []

    def layers() -> Iterator[LayerExplanation]:
        for i, layer in enumerate(explain_layers(net)):
            seen.append((i, len(out.getvalue())))
            yield layer

    write(layers(), out)
    return seen


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_each_format_writes_before_the_last_layer_is_read(fmt: str) -> None:
    """Output is written as layers are read, not once all are held."""
    net = cnncalc.loads(varied_chain(300))  # 1,560 layers: several table chunks

    def write(layers: Iterator[LayerExplanation], out: io.StringIO) -> None:
        if fmt == "table":
            render.render_explain(make_console(no_color=True, file=out, width=100), layers, "t")
            return
        pieces = (render.explain_json_chunks(layers, {"name": "v"}) if fmt == "json"
                  else render.explain_markdown_chunks(layers, "t"))
        for piece in pieces:
            out.write(piece)

    seen = _pulled_while_writing(net, write)
    assert len(seen) == len(net.nodes)
    # layers written before the rest were read: the output grew while they were read
    assert seen[0][1] < seen[render.CHUNK_LAYERS + 1][1] < seen[-1][1]


def _traced_peak(units: int) -> int:
    net = cnncalc.loads(varied_chain(units))
    report = cnncalc.analyze(net)
    tracemalloc.start()
    try:
        render.render_explain(make_console(no_color=True, file=io.StringIO(), width=100),
                              explain_layers(net, report=report), "t")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_table_holds_a_chunk_of_layers_not_all() -> None:
    """Four times the layers, about the same memory at the peak (what is written to the
    StringIO is counted in both: the explanation's own share must not grow 4x)."""
    small, large = _traced_peak(400), _traced_peak(1600)
    assert large < 2.5 * small


# ------------------------------------------------------------- same text as before
def _table(net: Any, width: int, color: bool = False) -> str:
    from rich.console import Console

    out = io.StringIO()
    console = (Console(file=out, width=width, color_system="standard", force_terminal=True)
               if color else make_console(no_color=True, file=out, width=width))
    render.render_explain(console, explain_layers(net), "a title")
    return out.getvalue()


def test_plain_text_is_the_styled_lines_without_styles(nets: list[Any]) -> None:
    """The plain writer's shortcuts (a step or heading that fits, as it is) write what
    the styled lines hold, at every width, one layout serving them all."""
    for net in nets[::2]:
        layers, layout = explain_network(net), render.Layout()
        for width in (160, 60, 40, 25, 12, 60):
            grid = render.ExplainGrid(layers, "a title ✓", layout=layout)
            fresh = render.ExplainGrid(layers, "a title ✓")
            assert "".join(grid.texts(width)) == render.plain_text(fresh.lines(width))
            assert list(grid.lines(width)) == list(fresh.lines(width))
            segments = render.segments_of(fresh.lines(width))
            assert "".join(seg.text for seg in segments) == "".join(grid.texts(width))


@pytest.mark.parametrize(("system", "no_color"), [("standard", False), ("truecolor", False),
                                                  ("256", True)])
def test_colour_is_what_rich_writes_for_the_styled_segments(
        nets: list[Any], system: str, no_color: bool) -> None:
    """In colour the grid writes its text with the styles' ANSI codes: what rich writes
    for the styled lines as segments (which a recording console is given, for its
    export), at every width; with no_color, the styles' attributes without colours."""
    from rich.console import Console

    for net in nets[::3]:
        layers = explain_network(net)
        for width in (160, 40, 12):
            written = []
            for record in (False, True):
                out = io.StringIO()
                console = Console(file=out, width=width, color_system=system, no_color=no_color,
                                  force_terminal=True, record=record)
                render.render_explain(console, iter(layers), "a title ✓")
                written.append(out.getvalue())
            assert written[0] == written[1]
            assert "\x1b[1m" in written[0]  # (bold: the title and the layer ids)
            assert ("\x1b[36m" in written[0]) is not no_color  # (cyan: shape steps)


def test_steps_not_marked_shared_render_alike(nets: list[Any]) -> None:
    """A layer built by hand (nothing shared) renders as the walk's (shared steps)."""
    for net in [*nets[:3], nets[-1]]:
        walked = explain_network(net)
        alone = [dataclasses.replace(e, shared=(), shared_tail=()) for e in walked]
        for width in (100, 30):
            assert "".join(render.ExplainGrid(alone, "t").texts(width)) == \
                "".join(render.ExplainGrid(walked, "t").texts(width))
            assert list(render.ExplainGrid(alone, "t").lines(width)) == \
                list(render.ExplainGrid(walked, "t").lines(width))
        assert render.explain_json(alone, {}) == render.explain_json(walked, {})
        assert render.explain_markdown(alone, "t") == render.explain_markdown(walked, "t")


def test_json_is_json_dumps_of_the_same_data(nets: list[Any]) -> None:
    for net in nets:
        layers = explain_network(net)
        header = {"name": net.name, "note": "é \u2028 \x1b", "input_shape": [1, 2]}
        expected = json.dumps({**header, "layers": [e.to_dict() for e in layers]}, indent=2)
        assert render.explain_json(iter(layers), header) == expected + "\n"
    odd = LayerExplanation("é\x1b", "relu", (), (), (3,), ())
    # steps equal as values (1 == 1.0 == True == Fraction(1)) whose JSON is not
    alike = [LayerExplanation("x", "relu", (), (), (3,), (Step("a", "", r), Step("b", "", r)))
             for r in (1, 1.0, True, Fraction(1), Fraction(3, 2), 1.5, 1)]
    for layers, header in (([], {}), ([], {"a": 1}), ([odd], {}), ([odd, odd], {"b": None}),
                           (alike, {})):
        expected = json.dumps({**header, "layers": [e.to_dict() for e in layers]}, indent=2)
        assert render.explain_json(layers, header) == expected + "\n"


def test_json_of_layers_off_the_common_path_is_json_dumps_of_them() -> None:
    """Layers the frames do not fit (ids and figures of other types, fields of
    fractions, huge ints, misaligned or empty, steps of other results or labels) are
    written as json.dumps writes them (integers at any size)."""
    from cnncalc.render.text import to_json
    from cnncalc.report import ReceptiveField

    step = Step("r", "f", 3, "s", "rf")
    fields = [ReceptiveField((3, 3), (1, 2), (0, -1)),
              ReceptiveField((3,), (Fraction(1, 2),), (Fraction(1, 4),)),
              ReceptiveField((10**400,), (1,), (10**301,)), ReceptiveField((2,), (1,), (0,), False),
              ReceptiveField((), (), ())]
    layers = [LayerExplanation("a", "conv", ("x", "y"), ((1, 2),), (3,), (step,), ("w",), 1, 2,
                               3, rf) for rf in fields]
    layers += [LayerExplanation(7, "relu", (), (), (3,), ()),  # type: ignore[arg-type]
               LayerExplanation("b", "relu", (1,), ((True, 2),), (3,), (), (),  # type: ignore[arg-type]
                                True, 1.5, 10**5000),  # type: ignore[arg-type]
               LayerExplanation("c", "relu", (), (), (3,), (
                   Step("a", "", Fraction(3, 2)), Step("b", "", 2.5), Step("c", "", 10**5000),
                   Step(1, "", 1), Step("d", "", "text")))]  # type: ignore[arg-type]
    for count in (1, 2):  # (the second time from what the writer kept)
        got = render.explain_json(layers * count, {"n": 10**5000})
        assert got == to_json({"n": 10**5000, "layers": [e.to_dict() for e in layers * count]})


def test_one_object_frame_streams_report_and_explain_json() -> None:
    """object_chunks writes to_json of its head, a streamed key's value from its writer."""
    from cnncalc.render.text import encode_indented, object_chunks, to_json

    for head in ({}, {"a": 1}, {"a": [1, {"b": None}], "layers": None, "z": "é"}):
        streamed = {"layers": lambda: iter(["[", "\n    1\n  ]"])}
        expected = to_json({**head, "layers": [1]} if "layers" in head else head)
        assert "".join(object_chunks(head, streamed)) == expected
        assert "".join(object_chunks(head, {})) == to_json(head) == \
            encode_indented(head, 0) + "\n"


def _markdown_in_one_join(layers: list[LayerExplanation], title: str | None) -> str:
    """The markdown writer before it streamed: every line, joined once."""
    lines = [f"# {render.safe_text(title)}", ""] if title else []
    for layer in layers:
        lines += [f"## {render.safe_text(layer.id)} ({layer.op}): {render._shapes(layer)}", ""]
        for s in layer.steps:
            sym = f" — {s.symbolic}" if s.symbolic else ""
            lines.append(f"- **{s.label}**: `{s.text()}`{sym}")
        lines.append("")
    return "\n".join(lines)


def test_markdown_is_the_one_join_of_its_lines(nets: list[Any]) -> None:
    odd = LayerExplanation("x", "relu", (), (), (3,), ())
    cases = [(explain_network(net), title) for net in nets for title in ("T", None)]
    for layers, title in [*cases, ([], "T"), ([], None), ([odd], None), ([odd, odd], "T")]:
        assert render.explain_markdown(iter(layers), title) == \
            _markdown_in_one_join(layers, title)
