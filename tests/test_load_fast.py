"""The fast paths of loading give what the general ones give: the reader's inline scalar
placement, the expander's reuse of a literal layer entry's op (``Expander._literal_key``),
and ``Node.made``.  Each test is a case a shortcut could get wrong: values equal in Python
but not to validation, the same text under other defaults or other block arguments, limits
and locations that belong to each layer, checks the reader must still make."""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import fields

import pytest

import cnncalc
from cnncalc.errors import CnncalcError, LimitError, Loc
from cnncalc.graph import Node
from cnncalc.spec import Limits
from cnncalc.spec.yamlio import load_yaml_text


def net(text: str, limits: Limits | None = None) -> cnncalc.Network:
    return cnncalc.loads(textwrap.dedent(text), "t.yaml", limits)


def error(text: str, limits: Limits | None = None) -> str:
    with pytest.raises(CnncalcError) as info:
        net(text, limits)
    return info.value.format()


def test_node_made_is_the_dataclass_node() -> None:
    """Node.made gives every field: a field added to Node must be added to it too."""
    loc = Loc("f.yaml", 3, 5)
    given = ("c", None, ("input",), loc, {"k": loc}, ("in block",), "b[0]", "b", "act")
    made = Node.made(*given)  # type: ignore[arg-type]
    assert made == Node(*given)  # type: ignore[arg-type]
    assert list(inspect.signature(Node.made).parameters) == [f.name for f in fields(Node)]


@pytest.mark.parametrize("other", ["3.0", "true", "'3'"])
def test_an_equal_python_value_is_not_the_same_argument(other: str) -> None:
    """3, 3.0 and true are equal in Python; the second entry is still validated."""
    message = error(f"""
        cnncalc: 1
        input: [3, 16, 16]
        layers:
          - {{op: conv, out: 4, k: 3}}
          - {{op: conv, out: 4, k: {other}}}
    """)
    assert message.startswith("t.yaml:6:27: error: conv2: k must be")


def test_negative_zero_is_not_zero() -> None:
    n = net("""
        cnncalc: 1
        input: [3, 16, 16]
        layers:
          - {op: leaky_relu, slope: 0.0}
          - {op: leaky_relu, slope: -0.0}
    """)
    assert [repr(node.op.args.slope) for node in n.nodes] == ["0.0", "-0.0"]


def test_the_same_entry_under_other_defaults_is_another_op() -> None:
    n = net("""
        cnncalc: 1
        input: [3, 16, 16]
        blocks:
          plain:
            defaults: {conv: {bias: false, act: relu}}
            layers:
              - {op: conv, out: 4, k: 3, pad: 1}
        layers:
          - {op: conv, out: 4, k: 3, pad: 1}
          - {op: plain}
          - {op: conv, out: 4, k: 3, pad: 1}
    """)
    assert [(node.id, node.op.args.bias if node.op.name == "conv" else None)
            for node in n.nodes] == [("conv1", True), ("plain1.conv1", False),
                                     ("plain1.conv1.act", None), ("conv2", True)]


def test_substituted_arguments_are_worked_out_for_each_entry() -> None:
    n = net("""
        cnncalc: 1
        input: [2, 8, 8]
        blocks:
          wide:
            args: {w: int}
            layers: [{op: conv, out: $w, k: 1}]
        layers:
          - {op: wide, w: 4}
          - {op: wide, w: 6}
          - {op: conv, out: "${in_channels * 2}", k: 1}
          - {op: conv, out: "${in_channels * 2}", k: 1}
    """)
    assert [node.op.args.out for node in n.nodes] == [4, 6, 12, 24]
    assert n.input_dependent


def test_each_layer_keeps_its_own_locations() -> None:
    """A shape error in the fourth of four equal entries points at that entry's k."""
    text = """
        cnncalc: 1
        input: [1, 7, 7]
        layers:
          - {op: conv, out: 1, k: 3}
          - {op: conv, out: 1, k: 3}
          - {op: conv, out: 1, k: 3}
          - {op: conv, out: 1, k: 3}
    """
    n = net(text)
    assert [str(node.arg_locs["k"]) for node in n.nodes] == [
        f"t.yaml:{line}:27" for line in (5, 6, 7, 8)]
    assert [str(node.loc) for node in n.nodes] == [f"t.yaml:{line}:5" for line in (5, 6, 7, 8)]
    with pytest.raises(CnncalcError) as info:
        cnncalc.analyze(n)
    assert str(info.value.loc) == "t.yaml:8:27"


def test_argument_values_are_counted_for_every_layer() -> None:
    """Three values a layer: the fourth equal layer passes a limit of ten, and is refused."""
    message = error("""
        cnncalc: 1
        input: [3, 16, 16]
        layers:
          - {op: conv, out: 4, k: 1, pad: 0}
          - {op: conv, out: 4, k: 1, pad: 0}
          - {op: conv, out: 4, k: 1, pad: 0}
          - {op: conv, out: 4, k: 1, pad: 0}
    """, Limits(max_arg_values=10))
    assert message.startswith("t.yaml:8:5: error: conv4: the expanded layers hold more than 10 "
                              "argument values")


def test_shorthand_rows_of_equal_entries_count_as_layers() -> None:
    with pytest.raises(LimitError) as info:
        net("""
            cnncalc: 1
            input: [3, 16, 16]
            layers:
              - {op: conv, out: 4, k: 1, act: relu}
              - {op: conv, out: 4, k: 1, act: relu}
              - {op: conv, out: 4, k: 1, act: relu}
        """, Limits(max_layers=5))
    assert info.value.format().startswith(
        "t.yaml:7:5: error: conv3: the spec expands to more than 5 layers")


def test_the_arity_is_checked_for_every_entry() -> None:
    message = error("""
        cnncalc: 1
        input: [3, 16, 16]
        layers:
          - {id: a, op: relu}
          - {id: b, op: relu}
          - {op: relu, in: [a, b]}
    """)
    assert message.startswith("t.yaml:7:20: error: relu1: relu takes 1 input, got 2")


@pytest.mark.parametrize(("text", "start"), [
    ("a: 1\nb: 2\na: 3\n", "x.yaml:3:1: error: duplicate key 'a' (first given at line 1, "
                             "column 1)"),
    ("{a: 1, b: [1, 2], b: 3}", "x.yaml:1:19: error: duplicate key 'b'"),
    ("1: a\n2: b\n1: c\n", "x.yaml:3:1: error: duplicate key 1 (first given at line 1"),
    ("1: a\ntrue: b\n", "x.yaml:2:1: error: the key true reads as the boolean true"),
    ("a: 1\n<<: {a: 2, c: 3}\n", None),
])
def test_the_reader_still_checks_every_key(text: str, start: str | None) -> None:
    """Plain scalars placed inline still meet the duplicate-key and merge-key rules."""
    if start is None:
        doc = load_yaml_text(text, "x.yaml")
        assert dict(doc) == {"a": 1, "c": 3}
        assert str(doc.val_loc["c"]) == "x.yaml:2:15"
        return
    with pytest.raises(CnncalcError) as info:
        load_yaml_text(text, "x.yaml")
    assert info.value.format().startswith(start)


def test_the_node_limit_counts_inline_scalars() -> None:
    with pytest.raises(LimitError) as info:
        load_yaml_text("[" + ", ".join(["1"] * 20) + "]", "x.yaml", Limits(max_nodes=10))
    assert info.value.format().startswith("x.yaml:1:29: error: the document expands to more "
                                          "than 10 YAML values")


def test_odd_line_breaks_still_locate_inline_scalars() -> None:
    """With U+2028 in the text every position is recomputed (editors' lines)."""
    doc = load_yaml_text("a: '\u2028'\nb: [1, 2]\n", "x.yaml")
    assert str(doc["b"].item_loc[1]) == "x.yaml:2:8"


def test_scope_with_vars_keeps_every_other_field() -> None:
    """Scope.with_vars is dataclasses.replace(scope, vars=...): a field added to Scope must
    be passed on by it too."""
    from dataclasses import replace

    from cnncalc.spec.expand import Scope

    values = {f.name: f"value of {f.name}" for f in fields(Scope)}
    scope = Scope(**values)  # type: ignore[arg-type]
    assert scope.with_vars({"w": 4}) == replace(scope, vars={"w": 4})


def test_a_block_called_twice_checks_its_ids_each_time() -> None:
    """The ids of a block's layers are checked once and remembered: an error in them is
    still the error of the first call, and a good block's calls each get their ids."""
    message = error("""
        cnncalc: 1
        input: [3, 8, 8]
        blocks:
          b:
            layers: [{id: x, op: relu}, {id: x, op: relu}]
        layers: [{op: b}, {op: b}]
    """)
    assert message.startswith("t.yaml:6:38: error: b1: duplicate id 'x' (first used at line 6)")
    n = net("""
        cnncalc: 1
        input: [3, 8, 8]
        blocks:
          b:
            layers: [{id: x, op: relu}, {op: relu, in: x}]
        layers: [{op: b}, {op: b}]
    """)
    assert [node.id for node in n.nodes] == ["b1.x", "b1.relu1", "b2.x", "b2.relu1"]


def _rows_of(network: cnncalc.Network) -> list[tuple[object, ...]]:
    return [(n.id, n.op.name, n.op.args, n.inputs, n.loc, n.arg_locs, n.trace, n.block,
             n.block_name, n.shorthand) for n in network.nodes]


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121", "convnext_tiny",
                                  "efficientnet_b0", "googlenet", "lenet5"])
def test_literal_entries_give_what_the_general_path_gives(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every node of a zoo network is the same with the literal-entry lookup on and off."""
    from cnncalc.spec.expand import Expander

    fast = _rows_of(cnncalc.load(name))
    monkeypatch.setattr(Expander, "_literals_pay", lambda self: False)
    assert _rows_of(cnncalc.load(name)) == fast


def test_many_different_entries_then_equal_ones() -> None:
    """Past the entries the lookup remembers, and once it stops looking, layers are made
    as before: each op from its own arguments."""
    rows = [f"  - {{op: dropout, p: {i / 10000}}}" for i in range(1, 1500)]
    rows += ["  - {op: dropout, p: 0.5}"] * 10 + ["  - {op: dropout, p: 0.0001}"]
    n = cnncalc.loads("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n" + "\n".join(rows) + "\n",
                      "t.yaml")
    assert [node.op.args.p for node in n.nodes] == [i / 10000 for i in range(1, 1500)] + \
        [0.5] * 10 + [0.0001]
    assert str(n.nodes[-1].arg_locs["p"]) == "t.yaml:1513:22"
