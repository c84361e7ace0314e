"""The network as a diagram: Mermaid or Graphviz DOT text, and SVG/PNG through the
Graphviz ``dot`` program when it is installed.  Plain Python, no rich.

Nodes show the layer id, op, params and MACs; edges carry the tensor shape that flows
along them; blocks (``conv3[0]``, nested ``a[0].b[1]``) become clusters.  Shorthand
rows (``C1.bn``, ``C1.act``) fold into their parent node as a ``+ batchnorm`` line
unless ``fold=False``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import EnvironmentUnavailable
from ..safe import safe_text
from ..units import human, shape_str

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Network
    from ..report import Report


@dataclass
class DiagramNode:
    key: str
    lines: list[str]
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiagramEdge:
    src: str
    dst: str
    label: str


@dataclass
class Diagram:
    """Nodes, edges and cluster titles, ready for either text format."""

    name: str
    nodes: list[DiagramNode] = field(default_factory=list)
    edges: list[DiagramEdge] = field(default_factory=list)
    #: scope path -> cluster title ("conv3[0] · bottleneck")
    titles: dict[str, str] = field(default_factory=dict)


_PART = re.compile(r"(?:[^.\[\]]|\[[^\]]*\])+")


def scopes_of(layer_id: str, shorthand: bool) -> tuple[str, ...]:
    """The block scopes around a layer id, outermost first.

    >>> scopes_of("conv3[0].b", False), scopes_of("a[1].b[0].c.act", True), scopes_of("C1.bn", True)
    (('conv3[0]',), ('a[1]', 'a[1].b[0]'), ())
    """
    parts = _PART.findall(layer_id)
    if shorthand:
        parts = parts[:-1]
    return tuple(".".join(parts[:i]) for i in range(1, len(parts)))


def _figures(params: int, macs: int) -> str:
    bits = [f"{human(params)} params" if params else "", f"{human(macs)} MACs" if macs else ""]
    return " · ".join(b for b in bits if b)


def build_diagram(net: Network, report: Report, fold: bool = True) -> Diagram:
    """Lay the analysed network out as nodes and shape-labelled edges."""
    from ..analysis import for_input
    from ..graph import INPUT

    net = for_input(net, report.input_shape)  # (its layers may depend on the input)
    d = Diagram(net.name)
    d.nodes.append(DiagramNode("n0", ["input", shape_str(report.input_shape)]))
    key_of, shapes = {INPUT: "n0"}, {INPUT: report.input_shape}
    by_key = {"n0": d.nodes[0]}
    for i, node in enumerate(net.nodes, 1):
        row = report.layer(node.id)
        shapes[node.id] = row.output_shape
        if fold and node.shorthand and node.inputs[0] in key_of:
            parent = key_of[node.inputs[0]]
            by_key[parent].lines.append("+ " + node.op.name + (
                f" ({_figures(row.params, row.macs)})" if row.params or row.macs else ""))
            key_of[node.id] = parent
            continue
        scope = scopes_of(node.id, bool(node.shorthand))
        if node.block and node.block in scope and node.block_name:
            d.titles.setdefault(node.block, f"{node.block} · {node.block_name}")
        for s in scope:
            d.titles.setdefault(s, s)
        lines = [node.id, node.op.name]
        fig = _figures(row.params, row.macs)
        if fig:
            lines.append(fig)
        dn = DiagramNode(f"n{i}", lines, scope)
        d.nodes.append(dn)
        by_key[dn.key] = dn
        key_of[node.id] = dn.key
        for src in dict.fromkeys(node.inputs):
            d.edges.append(DiagramEdge(key_of[src], dn.key, shape_str(shapes[src])))
    return d


def _tree(d: Diagram) -> dict[tuple[str, ...], list[DiagramNode]]:
    grouped: dict[tuple[str, ...], list[DiagramNode]] = {}
    for n in d.nodes:
        grouped.setdefault(n.scope, []).append(n)
    return grouped


def _children(scopes: list[tuple[str, ...]], parent: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The scopes directly inside ``parent``, in first-appearance order."""
    seen: dict[tuple[str, ...], None] = {}
    for s in scopes:
        if len(s) > len(parent) and s[:len(parent)] == parent:
            seen.setdefault(s[:len(parent) + 1], None)
    return list(seen)


def _walk(d: Diagram, emit_node: Callable[[DiagramNode, int], None],
          open_scope: Callable[[tuple[str, ...], int], None],
          close_scope: Callable[[int], None]) -> None:
    grouped = _tree(d)
    scopes = list(grouped)

    def visit(scope: tuple[str, ...], depth: int) -> None:
        for n in grouped.get(scope, []):
            emit_node(n, depth)
        for child in _children(scopes, scope):
            open_scope(child, depth)
            visit(child, depth + 1)
            close_scope(depth)

    visit((), 1)


def to_mermaid(d: Diagram) -> str:
    """A Mermaid ``flowchart TD``: nested subgraphs for blocks, edge labels for shapes."""
    out = ["flowchart TD"]
    ids: dict[tuple[str, ...], str] = {}

    def node(n: DiagramNode, depth: int) -> None:
        label = '"' + "<br/>".join(mermaid_text(line) for line in n.lines) + '"'
        out.append("  " * depth + f"{n.key}[{label}]")

    def open_scope(scope: tuple[str, ...], depth: int) -> None:
        ids[scope] = f"s{len(ids)}"
        title = quote(d.titles.get(scope[-1], scope[-1]))
        out.append("  " * depth + f"subgraph {ids[scope]}[{title}]")

    def close(depth: int) -> None:
        out.append("  " * depth + "end")

    _walk(d, node, open_scope, close)
    out += [f"  {e.src} -->|{quote(e.label)}| {e.dst}" for e in d.edges]
    return "\n".join(out) + "\n"


#: characters a Mermaid label would read as markup, and their entity codes ("#" first)
_MERMAID_ENTITIES = (("#", "#35;"), ('"', "#quot;"), ("<", "#60;"), (">", "#62;"),
                     ("&", "#38;"), ("`", "#96;"))


def mermaid_text(text: str) -> str:
    """One line of a Mermaid label: control characters escaped (:func:`safe_text`), then
    every character Mermaid or its HTML labels would interpret as an entity code.

    >>> mermaid_text('a"<b>#1')
    'a#quot;#60;b#62;#35;1'
    """
    out = safe_text(text)
    for char, code in _MERMAID_ENTITIES:
        out = out.replace(char, code)
    return out


def quote(text: str) -> str:
    """A quoted Mermaid label of one line."""
    return '"' + mermaid_text(text) + '"'


def _dot_escape(text: str) -> str:
    """Text inside a DOT string: control characters escaped (:func:`safe_text`), then
    backslashes (so no ``\\n``/``\\l`` escape of DOT's is formed) and quotes."""
    return safe_text(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_str(text: str) -> str:
    return '"' + _dot_escape(text) + '"'


def to_dot(d: Diagram) -> str:
    """A Graphviz digraph: one ``cluster_N`` subgraph per block instance."""
    out = [f"digraph {_dot_str(d.name)} {{",
           "  rankdir=TB;",
           '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=9];']
    count = [0]

    def node(n: DiagramNode, depth: int) -> None:
        label = '"' + "\\n".join(_dot_escape(line) for line in n.lines) + '"'
        out.append("  " * depth + f"{n.key} [label={label}];")

    def open_scope(scope: tuple[str, ...], depth: int) -> None:
        pad = "  " * depth
        out.append(f"{pad}subgraph cluster_{count[0]} {{")
        out.append(f"{pad}  label={_dot_str(d.titles.get(scope[-1], scope[-1]))}; "
                   'style="rounded"; color="gray50"; fontname="Helvetica"; fontsize=10;')
        count[0] += 1

    def close(depth: int) -> None:
        out.append("  " * depth + "}")

    _walk(d, node, open_scope, close)
    out += [f"  {e.src} -> {e.dst} [label={_dot_str(e.label)}];" for e in d.edges]
    out.append("}")
    return "\n".join(out) + "\n"


def run_dot(text: str, fmt: str, timeout: float = 300) -> bytes:
    """Render DOT text with Graphviz (``dot -Tsvg`` / ``-Tpng``), no shell involved."""
    exe = shutil.which("dot")
    if exe is None:
        raise EnvironmentUnavailable(
            f"--format {fmt} needs Graphviz's `dot` program, which is not installed",
            hints=("install Graphviz (apt-get install graphviz, brew install graphviz), or "
                   "use --format dot / --format mermaid and render the text elsewhere",))
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=text.encode(), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise EnvironmentUnavailable(f"Graphviz `dot` took more than {timeout:g} s") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise EnvironmentUnavailable(f"Graphviz `dot` failed (exit {done.returncode})"
                                     + (f": {err[0]}" if err else ""))
    return done.stdout
