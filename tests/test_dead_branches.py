"""Dead branches: a layer from which the network's output is not reachable is warned about,
once per branch (a connected group of such layers), named, with what it adds; its figures
stay counted.  Oracle for "not reachable": torch itself, the built model's gradient from
its output (a dead layer's parameters get none) and its parameter count (torch counts a
module it never calls, as the totals do)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.analysis import dead_branches
from cnncalc.cli import app
from cnncalc.errors import ShapeError

from helpers import BASIC_BLOCK

ROOT = Path(__file__).resolve().parent.parent

#: the issue's case: a locally connected layer computed and never read (2.3 M params)
DEAD_LOCAL = """\
cnncalc: 1
input: [3, 32, 32]
layers:
  - {id: conv1, op: conv, out: 10, k: 5, act: relu}
  - {id: local1, op: local, out: 16, k: 5}
  - {id: pool1, op: maxpool, k: 2, in: conv1}
  - flatten
  - {id: fc, op: linear, out: 10}
"""


def spec(layers: str, shape: str = "[3, 16, 16]", extra: str = "") -> cnncalc.Network:
    return cnncalc.loads(f"cnncalc: 1\ninput: {shape}\n{extra}layers:\n{layers}")


def dead_ids(net: cnncalc.Network) -> set[str]:
    return {net.nodes[i].id for branch in dead_branches(net) for i in branch}


# ------------------------------------------------------------------ the case
def test_dead_local_layer_is_named_with_its_figures_and_still_counted() -> None:
    net = cnncalc.loads(DEAD_LOCAL)
    report = cnncalc.analyze(net)
    local = report.layer("local1")
    assert local.params == 16 * 24 * 24 * (10 * 5 * 5 + 1) == 2_313_216
    assert report.warnings == (
        f"local1: layer 'local1' never reaches the output 'fc'; its {local.params:,} params "
        f"and {local.macs:,} MACs are still counted in the totals, as torch counts a module "
        "it never calls",)
    assert list(local.warnings) == report.warnings[0].split(": ", 1)[1:]
    assert report.totals.params == sum(r.params for r in report.layers)  # still counted
    assert report.totals.params > local.params


def test_torch_counts_the_dead_module_and_no_gradient_reaches_it() -> None:
    torch = pytest.importorskip("torch")
    net = cnncalc.loads(DEAD_LOCAL)
    report = cnncalc.analyze(net)
    model = cnncalc.build_torch(net)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    no_grad = {name.rsplit(".", 1)[0] for name, p in model.named_parameters() if p.grad is None}
    assert no_grad == {"local1"}


# ------------------------------------------------------------------ torch as the oracle
GRAPHS = {
    "output_in_the_middle": ("[3, 16, 16]", "", "output: c2\n", """
  - {id: c1, op: conv, out: 4, k: 3}
  - {id: c2, op: conv, out: 4, k: 3, bn: true, act: relu}
  - {id: c3, op: conv, out: 4, k: 3}
  - {id: c4, op: conv, out: 4, k: 3, bn: true}
"""),
    "two_branches_off_the_trunk": ("[3, 16, 16]", "", "", """
  - {id: c1, op: conv, out: 4, k: 3, pad: 1}
  - {id: side_a, op: conv, out: 2, k: 1}
  - {id: side_a2, op: conv, out: 2, k: 1}
  - {id: c2, op: conv, out: 4, k: 3, pad: 1, in: c1}
  - {id: side_b, op: linear, out: 3, axis: 0, in: c2}
  - {id: sum, op: add, in: [c1, c2]}
"""),
    "dead_layer_reading_the_input": ("[3, 16, 16]", "", "", """
  - {id: stray, op: conv, out: 8, k: 3}
  - {id: c1, op: conv, out: 4, k: 3, in: input}
  - {id: c2, op: conv, out: 4, k: 3}
"""),
    "dead_block_call": ("[4, 16, 16]", BASIC_BLOCK, "", """
  - {id: stem, op: conv, out: 4, k: 3, pad: 1}
  - {id: unused, op: basic, out: 4}
  - {id: used, op: basic, out: 4, in: stem}
"""),
    "branches_joined_by_a_dead_merge": ("[3, 16, 16]", "", "", """
  - {id: c1, op: conv, out: 4, k: 3, pad: 1}
  - {id: a, op: conv, out: 4, k: 1}
  - {id: b, op: conv, out: 4, k: 1, in: c1}
  - {id: ab, op: add, in: [a, b]}
  - {id: head, op: conv, out: 2, k: 1, in: c1}
"""),
    "all_alive": ("[3, 16, 16]", "", "", """
  - {id: c1, op: conv, out: 4, k: 3, pad: 1}
  - {id: c2, op: conv, out: 4, k: 3, pad: 1}
  - {id: sum, op: add, in: [c1, c2]}
"""),
}


def graph(name: str) -> cnncalc.Network:
    shape, blocks, extra, layers = GRAPHS[name]
    return cnncalc.loads(f"cnncalc: 1\ninput: {shape}\n{blocks}{extra}layers:{layers}")


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_dead_layers_are_those_torchs_gradient_never_reaches(name: str) -> None:
    """Backpropagate from the built model's output: the layers whose parameters get no
    gradient are exactly the dead ones (every layer here has parameters)."""
    torch = pytest.importorskip("torch")
    net = graph(name)
    model = cnncalc.build_torch(net).train()
    x = torch.randn(2, *net.input_shape)
    model(x).sum().backward()
    by_layer: dict[str, bool] = {}
    for node in net.nodes:
        try:
            module = model.get_submodule(node.id)
        except AttributeError:
            continue
        params = list(module.parameters(recurse=False)) or list(module.parameters())
        if params:
            by_layer[node.id] = all(p.grad is None for p in params)
    dead = dead_ids(net)
    assert {i for i, no_grad in by_layer.items() if no_grad} == dead & set(by_layer)
    assert by_layer, "the oracle must see layers"
    if name != "all_alive":
        assert dead


# ------------------------------------------------------------------ grouping and naming
def test_one_warning_per_branch() -> None:
    report = cnncalc.analyze(graph("two_branches_off_the_trunk"))
    assert [w.split(":")[0] for w in report.warnings] == ["side_a", "side_b"]
    assert "layers 'side_a' and 'side_a2' never reach the output 'sum'; their" in \
        report.warnings[0]
    assert "layer 'side_b' never reaches the output 'sum'; its" in report.warnings[1]


def test_a_dead_merge_joins_its_inputs_into_one_branch() -> None:
    (warning,) = cnncalc.analyze(graph("branches_joined_by_a_dead_merge")).warnings
    assert warning.startswith("a: layers 'a', 'b' and 'ab' never reach the output 'head'")


def test_output_in_the_middle_makes_the_layers_after_it_one_dead_branch() -> None:
    report = cnncalc.analyze(graph("output_in_the_middle"))
    (warning,) = report.warnings
    c3, c4, bn = report.layer("c3"), report.layer("c4"), report.layer("c4.bn")
    params, macs = c3.params + c4.params + bn.params, c3.macs + c4.macs
    assert warning == (
        f"c3: layers 'c3' and 'c4' never reach the output 'c2.act'; their {params:,} params "
        f"and {macs:,} MACs are still counted in the totals, as torch counts a module it "
        "never calls")
    assert report.output_shape == report.layer("c2.act").output_shape
    assert report.totals.params == sum(r.params for r in report.layers)


def test_a_long_branch_is_named_by_its_first_ids_and_a_count() -> None:
    layers = "  - {id: keep, op: conv, out: 2, k: 1}\n" + "".join(
        f"  - {{id: d{i}, op: relu}}\n" for i in range(7)) + \
        "  - {id: out, op: conv, out: 2, k: 1, in: keep}\n"
    (warning,) = cnncalc.analyze(spec(layers)).warnings
    assert warning == ("d0: layers 'd0', 'd1' and 5 more (7 layers) never reach the output "
                       "'out'; they hold no params and no MACs")


def test_a_dead_block_is_one_branch_of_its_rows() -> None:
    report = cnncalc.analyze(graph("dead_block_call"))
    (warning,) = report.warnings
    rows = [r for r in report.layers if r.id.startswith("unused")]
    own = [r.id for r in rows if r.shorthand is None]
    assert warning.startswith(f"{rows[0].id}: layers '{own[0]}', '{own[1]}' and "
                              f"{len(own) - 2} more ({len(own)} layers) never reach")
    assert f"their {sum(r.params for r in rows):,} params" in warning


def test_shorthand_rows_are_named_by_their_layer() -> None:
    layers = ("  - {id: c, op: conv, out: 4, k: 3, bn: true, act: relu}\n"
              "  - {id: out, op: conv, out: 2, k: 1, in: input}\n")
    report = cnncalc.analyze(spec(layers))
    (warning,) = report.warnings
    assert warning.startswith("c: layer 'c' never reaches the output 'out'; its ")
    total = sum(report.layer(i).params for i in ("c", "c.bn", "c.act"))
    assert f"its {total:,} params" in warning


def test_a_dead_layer_reading_the_input_warns() -> None:
    (warning,) = cnncalc.analyze(graph("dead_layer_reading_the_input")).warnings
    assert warning.startswith("stray: layer 'stray' never reaches the output 'c2'")


def test_no_warning_when_every_layer_reaches_the_output() -> None:
    assert cnncalc.analyze(graph("all_alive")).warnings == ()
    assert dead_branches(graph("all_alive")) == []


# ------------------------------------------------------------------ side_by_side, strict
def test_side_by_side_layers_draw_no_warning_and_keep_their_figures() -> None:
    layers = ("  - {id: a, op: maxpool, k: 2, in: input}\n"
              "  - {id: b, op: conv, out: 4, k: 3, in: input}\n")
    plain = cnncalc.analyze(spec(layers))
    side = cnncalc.analyze(spec(layers, extra="side_by_side: true\n"))
    assert len(plain.warnings) == 1 and side.warnings == ()
    assert side.totals == plain.totals and side.layers[0].params == plain.layers[0].params


def test_strict_makes_a_dead_branch_a_located_error() -> None:
    text = DEAD_LOCAL.replace("layers:\n", "strict: true\nlayers:\n")
    with pytest.raises(ShapeError) as info:
        cnncalc.analyze(cnncalc.loads(text, name="dead.yaml"))
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == ("dead.yaml", 6, 5)
    assert "layer 'local1' never reaches the output 'fc'" in err.format()
    assert "(an error when strict)" in err.format()


def test_check_refuses_a_dead_branch_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "dead.yaml"
    path.write_text(DEAD_LOCAL)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:5:5: error: local1: layer 'local1' never reaches" in result.output
    relaxed = CliRunner().invoke(app, ["check", str(path), "--no-strict"])
    assert relaxed.exit_code == 0 and "1 warning" in relaxed.output


def test_summary_prints_the_warning_located(tmp_path: Path) -> None:
    path = tmp_path / "dead.yaml"
    path.write_text(DEAD_LOCAL)
    result = CliRunner().invoke(app, ["params", str(path)])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: {path}:5:5: local1: layer 'local1' never")


def test_the_docs_example_prints_what_the_docs_say(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "spec-format.md").read_text()
    section = doc[doc.index("### Dead branches"):]
    yaml_block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    said = re.search(r"```text\n(warning: .*?)\n```", section, re.S).group(1)  # type: ignore[union-attr]
    (tmp_path / "dead.yaml").write_text(yaml_block)
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["params", "dead.yaml"])
    finally:
        os.chdir(cwd)
    assert result.stderr.strip() == said


def test_every_example_and_spec_reaches_its_output_or_says_side_by_side() -> None:
    for path in sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("examples/*.yaml")]):
        net = cnncalc.load(path)
        if not net.side_by_side:
            assert dead_branches(net) == [], path.name


def test_a_blocks_output_in_the_middle_leaves_its_later_layers_dead() -> None:
    """A block's `output:` before its last layer: the layers after it, in every instance,
    never reach the network's output; one branch per instance."""
    torch = pytest.importorskip("torch")
    blocks = """blocks:
  unit:
    output: main
    layers:
      - {id: main, op: conv, out: 4, k: 3, pad: 1}
      - {id: probe, op: conv, out: 2, k: 1}
"""
    net = cnncalc.loads("cnncalc: 1\ninput: [4, 8, 8]\n" + blocks
                        + "layers:\n  - {id: u, op: unit, repeat: 2}\n")
    report = cnncalc.analyze(net)
    assert [w.split(":")[0] for w in report.warnings] == ["u[0].probe", "u[1].probe"]
    assert report.warnings[0].startswith("u[0].probe: layer 'u[0].probe' never reaches the "
                                         "output 'u[1].main'")
    model = cnncalc.build_torch(net)
    model(torch.randn(1, 4, 8, 8)).sum().backward()
    no_grad = {n.rsplit(".", 1)[0] for n, p in model.named_parameters() if p.grad is None}
    assert no_grad == {"u.0.probe", "u.1.probe"}
    assert dead_ids(net) == {"u[0].probe", "u[1].probe"}
