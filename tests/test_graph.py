"""`cnncalc graph`: Mermaid / DOT text (always tested), SVG / PNG through Graphviz
(skipped when `dot` is absent; its absence is tested by hiding it).

Oracle: the report itself: every edge must carry exactly its source layer's output
shape, every layer (or its folded parent) must be a node, and block instances must be
clusters holding exactly their layers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.render import graph as g
from cnncalc.units import shape_str

TINY = str(Path(__file__).parent / "golden" / "tiny_resnet.yaml")
runner = CliRunner()
HAS_DOT = shutil.which("dot") is not None


def diagram(source: str, fold: bool = True) -> tuple[g.Diagram, cnncalc.Report, cnncalc.Network]:
    net = cnncalc.load(source)
    report = cnncalc.analyze(net)
    return g.build_diagram(net, report, fold), report, net


def test_mermaid_lenet5() -> None:
    text = g.to_mermaid(diagram("lenet5")[0])
    assert text.startswith("flowchart TD\n")
    assert 'n0["input<br/>1x32x32"]' in text
    assert 'n5["C3<br/>conv<br/>1.52 K params · 150.00 K MACs<br/>+ tanh"]' in text
    assert 'n0 -->|"1x32x32"| n1' in text
    assert 'n5 -->|"16x10x10"| n7' in text
    # shorthand folded: no node of its own
    assert "C1.act" not in text


def test_edges_carry_source_shapes() -> None:
    for source in ("lenet5", TINY, "googlenet"):
        d, report, net = diagram(source, fold=False)
        label = {n.key: n.lines[0] for n in d.nodes}
        shapes = {"input": report.input_shape} | {r.id: r.output_shape for r in report.layers}
        edges = {(label[e.src], label[e.dst]): e.label for e in d.edges}
        expected = {(i, node.id): shape_str(shapes[i]) for node in net.nodes for i in node.inputs}
        assert edges == expected


def test_expand_shorthand_shows_rows() -> None:
    text = g.to_mermaid(diagram("lenet5", fold=False)[0])
    assert "C1.act<br/>tanh" in text
    assert len(re.findall(r"-->", text)) == len(cnncalc.load("lenet5").nodes)


def test_dot_clusters_for_blocks() -> None:
    d, _report, net = diagram(TINY)
    text = g.to_dot(d)
    assert text.count("{") == text.count("}")
    assert 'label="stage1[0] · basic"' in text
    # every layer of stage2[0] (not folded) sits inside its cluster
    body = text.split('label="stage2[0] · basic"')[1].split("}")[0]
    inside = set(re.findall(r'label="(stage2\[0\]\.[a-z0-9]+)\\n', body))
    expected = {n.id for n in net.nodes if n.block == "stage2[0]" and not n.shorthand}
    assert inside == expected and expected
    assert 'n0 -> n1 [label="3x34x34"];' in text


def test_nested_scopes() -> None:
    assert g.scopes_of("a[1].b[0].c", False) == ("a[1]", "a[1].b[0]")
    assert g.scopes_of("a[1].b[0].c.act", True) == ("a[1]", "a[1].b[0]")
    spec = """cnncalc: 1
input: [3, 16, 16]
blocks:
  inner:
    layers:
      - {id: c, op: conv, out: 3, k: 3, pad: 1}
  outer:
    layers:
      - {id: b, op: inner, repeat: 2}
layers:
  - {id: a, op: outer, repeat: 2}
"""
    net = cnncalc.loads(spec)
    d = g.build_diagram(net, cnncalc.analyze(net))
    text = g.to_mermaid(d)
    opens, ends = text.count("subgraph "), len(re.findall(r"^\s*end$", text, re.M))
    assert opens == ends == 2 + 4  # a[0], a[1], and two b[i] inside each
    assert text.index('subgraph s0["a[0]') < text.index('subgraph s1["a[0].b[0]')


def test_cli_text_formats(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", "lenet5"])
    assert result.exit_code == 0 and result.stdout.startswith("flowchart TD")
    out = tmp_path / "lenet.dot"
    result = runner.invoke(app, ["graph", "lenet5", "--format", "dot", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text().startswith('digraph "LeNet-5" {')
    result = runner.invoke(app, ["graph", "lenet5", "--expand-shorthand"])
    assert "C1.act" in result.stdout


def test_png_needs_output() -> None:
    result = runner.invoke(app, ["graph", "lenet5", "--format", "png"])
    assert result.exit_code == 2 and "-o" in result.stderr


def test_no_graphviz_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(g.shutil, "which", lambda name: None)
    result = runner.invoke(app, ["graph", "lenet5", "--format", "svg"])
    assert result.exit_code == 3
    assert "Graphviz" in result.stderr and "apt-get install graphviz" in result.stderr


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_svg_and_png(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", TINY, "--format", "svg"])
    assert result.exit_code == 0
    assert "<svg" in result.stdout and "stage1[0] · basic" in result.stdout
    png = tmp_path / "g.png"
    result = runner.invoke(app, ["graph", "lenet5", "--format", "png", "-o", str(png)])
    assert result.exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------ labels escaped for each syntax (issue 11)
HOSTILE = 'a"b<i>c</i>&d#quot;e`f\x1b[31m\u202eg\\n'


def _hostile_diagram() -> g.Diagram:
    d = g.Diagram(HOSTILE)
    d.nodes = [g.DiagramNode("n0", ["input", HOSTILE]),
               g.DiagramNode("n1", [HOSTILE, "conv"], ("blk[0]",))]
    d.edges = [g.DiagramEdge("n0", "n1", HOSTILE)]
    d.titles = {"blk[0]": HOSTILE}
    return d


def test_mermaid_labels_cannot_break_out_or_carry_markup() -> None:
    text = g.to_mermaid(_hostile_diagram())
    for line in text.splitlines()[1:]:
        labels = re.findall(r'"([^"]*)"', line.replace("<br/>", "\n"))  # our line breaks
        assert all(not set(lab) & set('<>&`\x1b\u202e') for lab in labels), line
        assert line.count('"') % 2 == 0  # no label closes early
    assert "#quot;" in text and "#60;i#62;" in text and "#35;quot;" in text  # '#' first
    assert "\\x1b[31m" in text and "\\u202e" in text


def test_dot_labels_cannot_break_out_or_form_escapes() -> None:
    text = g.to_dot(_hostile_diagram())
    assert "\x1b" not in text and "\u202e" not in text
    for line in text.splitlines():
        unescaped = re.sub(r"\\.", "", line)  # drop every backslash escape
        assert unescaped.count('"') % 2 == 0, line
    # the spec's own backslash-n stays two characters, never DOT's line break
    assert "g\\\\n" in text and "\\\\x1b[31m" in text
