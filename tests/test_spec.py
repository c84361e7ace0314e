"""The spec language: expansion of blocks, repeat, defaults, expressions, wiring."""

from __future__ import annotations

import textwrap

import pytest

import cnncalc
from cnncalc.errors import SpecError


def net(text: str) -> cnncalc.Network:
    return cnncalc.loads(textwrap.dedent(text), "t.yaml")


def ids(text: str) -> list[str]:
    return [n.id for n in net(text).nodes]


def test_bare_string_entries_and_auto_ids() -> None:
    assert ids("""
        cnncalc: 1
        input: [3, 8, 8]
        layers: [relu, {op: conv, out: 4, k: 3}, relu, flatten]
    """) == ["relu1", "conv1", "relu2", "flatten1"]


def test_auto_ids_skip_explicit_ones() -> None:
    assert ids("""
        cnncalc: 1
        input: [3, 8, 8]
        layers: [relu, {id: relu2, op: relu}, relu]
    """) == ["relu1", "relu2", "relu3"]


def test_shorthand_rows_and_wiring_to_the_last_row() -> None:
    n = net("""
        cnncalc: 1
        input: [3, 8, 8]
        layers:
          - {id: c, op: conv, out: 4, k: 3, bn: true, act: relu}
          - {id: d, op: conv, out: 4, k: 1, in: c}
    """)
    assert [x.id for x in n.nodes] == ["c", "c.bn", "c.act", "d"]
    assert n.node("d").inputs == ("c.act",)
    assert n.node("c.bn").shorthand == "bn"


def test_defaults_apply_and_explicit_values_win() -> None:
    n = net("""
        cnncalc: 1
        input: [3, 8, 8]
        defaults:
          conv: {bias: false, act: relu}
        layers:
          - {id: a, op: conv, out: 4, k: 3}
          - {id: b, op: conv, out: 4, k: 3, act: none, bias: true}
    """)
    assert [x.id for x in n.nodes] == ["a", "a.act", "b"]
    assert n.node("a").op.args.bias is False and n.node("b").op.args.bias is True


BLOCKS = """
    cnncalc: 1
    input: [8, 16, 16]
    blocks:
      unit:
        args: {width: int, stride: 1}
        layers:
          - {id: a, op: conv, out: "${2 * width}", k: 3, stride: $stride, pad: 1}
          - {id: sum, op: add, in: [input, a], project: auto}
    layers:
      - {id: s, op: unit, width: 4, repeat: {n: 3, first: {stride: 2}, last: {width: 8}}}
      - {id: tail, op: relu, in: s}
"""


def test_repeat_first_last_and_scoped_ids() -> None:
    n = net(BLOCKS)
    assert [x.id for x in n.nodes][:2] == ["s[0].a", "s[0].sum"]
    assert n.node("s[0].a").op.args.stride == 2
    assert n.node("s[1].a").op.args.stride == 1
    assert n.node("s[2].a").op.args.out == 16
    assert n.node("s[1].a").inputs == ("s[0].sum",)
    assert n.node("tail").inputs == ("s[2].sum",)
    assert n.node("s[0].a").block == "s[0]" and n.node("s[0].a").block_name == "unit"


def test_project_auto_gives_resnet_shortcut_params() -> None:
    r = cnncalc.analyze(net(BLOCKS))
    first = r.layer("s[0].sum")
    # 1x1 conv 8->8 stride 2 without bias + batchnorm(8): 64 + 16 params, 17 buffers
    assert first.params == 8 * 8 + 2 * 8 and first.buffers == 2 * 8 + 1
    assert first.output_shape == (8, 8, 8)
    assert r.layer("s[1].sum").params == 0


def test_positional_block_args() -> None:
    n = net("""
        cnncalc: 1
        input: [3, 8, 8]
        blocks:
          two:
            args: [a: int, b: int]
            layers:
              - {id: x, op: conv, out: $a, k: 1, in: input}
              - {id: y, op: conv, out: $b, k: 1, in: input}
              - {op: concat, in: [x, y]}
        layers:
          - {id: t, op: two, args: [2, 5]}
    """)
    assert cnncalc.analyze(n).output_shape == (7, 8, 8)


def test_tables_and_dotted_references() -> None:
    n = net("""
        cnncalc: 1
        input: [4, 8, 8]
        tables:
          width: 6
        blocks:
          b:
            layers:
              - {id: inner, op: conv, out: $width, k: 1}
              - relu
        layers:
          - {id: blk, op: b}
          - {op: concat, in: [blk.inner, blk]}
    """)
    assert cnncalc.analyze(n).output_shape == (12, 8, 8)


@pytest.mark.parametrize(
    "layers, fragment",
    [
        ("[{op: conv, out: 4, k: 3, in: 0}]", "wired by name"),
        ("[{id: a, op: relu, in: b}, {id: b, op: relu}]", "defined later"),
        ("[{id: a, op: relu, in: a}]", "the layer itself"),
        ("[{id: a, op: relu}, {id: a, op: relu}]", "duplicate id 'a'"),
        ("[{op: conv, out: 4, kernel: 3}]", "did you mean 'k'"),
        ("[{op: cnov, out: 4, k: 3}]", "did you mean 'conv'"),
        ("[{op: conv, out: 4, k: '3'}]", "k must be"),
        ("[{op: conv, out: 4, k: 3, stride: '${1 // 0}'}]", "division by zero"),
        ("[{op: relu, in: nothere}]", "not a layer id"),
    ],
)
def test_bad_wiring_and_arguments_are_located(layers: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        net(f"cnncalc: 1\ninput: [3, 8, 8]\nlayers: {layers}\n")
    assert fragment in info.value.format()
    assert info.value.loc is not None and info.value.loc.file == "t.yaml"


def test_recursive_block_is_refused() -> None:
    with pytest.raises(SpecError, match="uses itself"):
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            blocks:
              a: {layers: [{op: b}]}
              b: {layers: [{op: a}]}
            layers: [{op: a}]
        """)


def test_error_inside_block_names_the_call_site() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            blocks:
              u:
                args: {w: int}
                layers: [{op: conv, out: $w, k: 0}]
            layers:
              - {id: first, op: u, w: 3}
        """)
    text = info.value.format()
    assert "k must be > 0, got 0" in text
    assert "in block 'u' instantiated at t.yaml:9:5" in text
    assert info.value.loc.line == 7


def test_expansion_limit() -> None:
    with pytest.raises(cnncalc.errors.LimitError):
        net("cnncalc: 1\ninput: [3, 8, 8]\nlayers: [{op: relu, repeat: 1000000000}]\n")


def test_unknown_key_in_a_nested_section_names_the_section() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            blocks:
              b: {layerz: [relu]}
            layers: [relu]
        """)
    assert "unknown key 'layerz' in blocks.b; did you mean 'layers'?" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (5, 7)


def test_exponent_floats_are_numbers() -> None:
    # YAML 1.1 (PyYAML's default) would read 1e-3 as a string
    n = net("""
        cnncalc: 1
        input: [3, 8, 8]
        layers: [{id: bn, op: batchnorm, eps: 1e-3}]
    """)
    assert n.node("bn").op.args.eps == 0.001
