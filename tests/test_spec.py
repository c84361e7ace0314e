"""The spec language: expansion of blocks, repeat, defaults, expressions, wiring."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import cnncalc
from cnncalc import suggest as suggest_mod
from cnncalc.errors import SpecError
from cnncalc.spec import is_spec_document, network_from_document, read_document
from cnncalc.spec.expect import parse_quantity
from cnncalc.spec.yamlio import load_yaml_text


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


# --------------------------------------------------------- spec detection (check, folders)


@pytest.mark.parametrize("text", [
    "cnncalc: 1\ninput: [3]\nlayers: [relu]\n",
    '"cnncalc": 1\ninput: [3]\n',
    "'cnncalc' : 1\n",
    "{cnncalc: 1, input: [3], layers: [relu]}\n",
    "# a comment first\n\n   \ncnncalc: 1\n",
    "base: &b {cnncalc: 1}\n<<: *b\ninput: [3]\n",
    "? cnncalc\n: 1\n",
    "cnncalc: 2\n",   # a spec, of a version this cnncalc cannot read (it says so)
])
def test_a_spec_document_is_recognised_however_the_key_is_written(text: str) -> None:
    assert is_spec_document(load_yaml_text(text, "x.yaml"))


@pytest.mark.parametrize("text", [
    "jobs: {build: {cnncalc: 1}}\n",         # nested, not top-level
    "- cnncalc: 1\n",                       # a list
    "cnncalc\n",                            # a scalar
    "cnncalc_version: 1\n",
    "x: 'cnncalc: 1'\n",                    # text that a regex would take for the key
    "x: |\n  cnncalc: 1\n",
    "1: cnncalc\n",
])
def test_other_documents_are_not_specs(text: str) -> None:
    assert not is_spec_document(load_yaml_text(text, "x.yaml"))


def test_read_document_parses_once_and_classifies(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "bom.yaml"
    spec.write_bytes(b"\xef\xbb\xbfcnncalc: 1\ninput: [3, 8, 8]\nlayers: [relu]\n")
    ci = tmp_path / "ci.yaml"
    ci.write_text("cnncalc_jobs: 1\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("cnncalc: [1\n")
    import cnncalc.spec as spec_pkg

    calls = []
    real = spec_pkg.load_yaml_bytes
    monkeypatch.setattr(spec_pkg, "load_yaml_bytes", lambda *a: calls.append(a) or real(*a))
    doc = read_document(spec)
    assert doc.is_spec and doc.error is None and doc.file == str(spec)
    net_ = network_from_document(doc)
    assert [n.id for n in net_.nodes] == ["relu1"] and len(calls) == 1
    assert not read_document(ci).is_spec
    bad = read_document(broken)
    assert not bad.is_spec and isinstance(bad.error, SpecError)
    with pytest.raises(SpecError):
        network_from_document(bad)
    missing = read_document(tmp_path / "nothere.yaml")
    assert missing.error is not None and not missing.is_spec


# ------------------------------------------------------------------ Python given as a spec
@pytest.mark.parametrize("name, text, line", [
    ("model.py", "import torch\nimport torch.nn as nn\n", 1),
    ("model.py", "x = 1\nprint(x)\n", 1),              # a .py that is not a spec
    ("model.py", "#!/usr/bin/env python\n\ndef f(x):\n    return x\n", 3),
    ("net.yaml", "from torchvision.models import resnet50\n", 1),
    ("net.yaml", "# my net\nclass Net(nn.Module):\n    pass\n", 2),
    ("net.yaml", '"""A docstring."""\nimport os\n', 1),
    ("net.yaml", "from . import layers\n", 1),
])
def test_python_source_is_refused_with_its_own_message(tmp_path: Path, name: str, text: str,
                                                        line: int) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        cnncalc.load(path)
    assert "this looks like Python source; cnncalc reads YAML specs" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (line, 1)
    assert info.value.exit_code == 2


def test_yaml_keys_named_like_python_words_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "spec.py"  # even named .py: it reads as a spec
    path.write_text("cnncalc: 1\ninput: [3, 8, 8]\nlayers: [relu]\n")
    assert len(cnncalc.load(path)) == 1
    with pytest.raises(SpecError) as info:
        net("import: 1\nclass: x\n")
    assert "Python" not in info.value.message


# ------------------------------------------------------------------- block argument defaults
def test_block_argument_defaults_are_evaluated_per_call() -> None:
    n = net("""
        cnncalc: 1
        input: [16, 8, 8]
        tables: {w: 4}
        blocks:
          neck:
            args: {width: "${w * 2}", mid: "${width // 4}", k: $w}
            layers:
              - {id: a, op: conv, out: $mid, k: 1}
              - {id: b, op: conv, out: $width, k: $k, pad: same}
        layers:
          - {id: x, op: neck}
          - {id: y, op: neck, width: 32}
    """)
    assert n.node("x.a").op.args.out == 2 and n.node("x.b").op.args.out == 8
    assert n.node("x.b").op.args.k == 4
    assert n.node("y.a").op.args.out == 8 and n.node("y.b").op.args.out == 32


def test_a_default_sees_only_arguments_declared_before_it() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [16, 8, 8]
            blocks:
              neck:
                args: {mid: "${width // 4}", width: 16}
                layers: [{op: conv, out: $mid, k: 1}]
            layers: [neck]
        """)
    assert "unknown name 'width'" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (6, 17)
    assert any("default of argument 'mid'" in n for n in info.value.notes)


@pytest.mark.parametrize("args, message", [
    ("{in: 1}", "argument 'in' is reserved"),
    ("{args: 1}", "argument 'args' is reserved"),
    ("{id: 1}", "argument 'id' is reserved"),
    ("{op: relu}", "argument 'op' is reserved"),
    ("{repeat: 2}", "argument 'repeat' is reserved"),
    ("[a, in]", "argument 'in' is reserved"),
    ("{2x: 1}", "argument '2x' is not a name"),
    ("{'a b': 1}", "argument 'a b' is not a name"),
    ("{__class__: 1}", "starts with __"),
    ("[a, {a: 1}]", "'a' is declared twice"),
])
def test_block_argument_names_are_checked_at_the_definition(args: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        net(f"""
            cnncalc: 1
            input: [3, 8, 8]
            blocks:
              unit: {{args: {args}, layers: [relu]}}
            layers: [relu]
        """)
    assert message in info.value.message
    assert info.value.loc.line == 5


@pytest.mark.parametrize("text", [
    "blocks: {b: {layers: [relu], output: input}}\nlayers: [b]\n",
    "layers: [relu]\noutput: input\n",
])
def test_output_cannot_be_the_input(text: str) -> None:
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\n" + text)
    assert "output: input" in info.value.message and info.value.loc.line in (3, 4)


def test_defaults_keys_are_checked_even_for_unused_ops() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            defaults: {maxpool: {kernel: 2}}
            layers: [relu]
        """)
    assert "defaults.maxpool: unknown argument 'kernel'; did you mean 'k'?" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (4, 22)


# ----------------------------------------------------------------------- names and keys
@pytest.mark.parametrize("value", ['"a\\n"', '"a\\r\\n"', '"conv1\\n"', '"_\\n"'])
def test_ids_with_a_trailing_newline_are_refused(value: str) -> None:
    with pytest.raises(SpecError, match="must be a name"):
        net(f"cnncalc: 1\ninput: [3, 8, 8]\nlayers: [{{id: {value}, op: relu}}]\n")


@pytest.mark.parametrize("value", ['"$w\\n"', '"${w}\\n"', '"${w}\\n\\n"'])
def test_references_with_a_trailing_newline_are_not_references(value: str) -> None:
    with pytest.raises(SpecError, match="out must be an integer, got string"):
        net(f"cnncalc: 1\ninput: [3, 8, 8]\ntables: {{w: 4}}\n"
            f"layers: [{{op: conv, out: {value}, k: 1}}]\n")


@pytest.mark.parametrize("version", ["1.0", "true", "yes", "'1'", "0x1 + 0", "[1]", "~", "1e0"])
def test_the_version_is_the_integer_1(version: str) -> None:
    with pytest.raises(SpecError, match="is not a spec version"):
        net(f"cnncalc: {version}\ninput: [3, 8, 8]\nlayers: [relu]\n")


def test_version_1_written_as_hex_is_still_the_integer_1() -> None:
    assert len(net("cnncalc: 0x1\ninput: [3, 8, 8]\nlayers: [relu]\n")) == 1


@pytest.mark.parametrize("mapping, message", [
    ("{1: 3, yes: 4}", "the key yes reads as the boolean true"),
    ("{1: 3, true: 4}", "the key true reads as the boolean true"),
    ("{0: 3, off: 4}", "the key off reads as the boolean false"),
    ("{1: 3, 1.0: 4}", "the key 1.0 reads as the number 1.0"),
    ("{16: a, 0x10: b}", "duplicate key 0x10 (first given at line 3, column 10; the same as 16)"),
    ("{~: a, null: b}", "duplicate key null"),
    ("{yes: a, on: b}", "duplicate key on"),
    ("{a: 1, a: 2}", "duplicate key 'a'"),
])
def test_keys_are_compared_by_type_and_value_and_shown_as_written(mapping: str,
                                                                   message: str) -> None:
    with pytest.raises(SpecError) as info:
        net(f"cnncalc: 1\ninput: [3, 8, 8]\ntables: {mapping}\nlayers: [relu]\n")
    assert message in info.value.message
    assert "True" not in info.value.message and "None" not in info.value.message
    assert info.value.loc.line == 3 and info.value.loc.col > 10


@pytest.mark.parametrize("text, where", [
    ("x: 1\n<<: {a: 1}\n<<: {b: 2}\n", (3, 1)),
    ("{<<: {a: 1}, x: 1, <<: [{b: 2}]}\n", (1, 20)),
])
def test_two_merge_keys_in_one_mapping_are_a_duplicate(text: str, where: tuple[int, int]) -> None:
    with pytest.raises(SpecError, match="duplicate key <<") as info:
        load_yaml_text(text, "x.yaml")
    assert (info.value.loc.line, info.value.loc.col) == where


@pytest.mark.parametrize("text", ["~: 1\n", "null: x\n", "Null: x\n", "yes: 1\n", "3: 1\n"])
def test_a_top_level_key_that_is_no_name_is_located_at_the_key(text: str) -> None:
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\nlayers: [relu]\n" + text)
    written = text.split(":")[0]
    assert f"the top-level key {written} is not a name" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (4, 1)


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x {b: *x}\n", "a: &x {<<: *x}\n",
                                  "a: &x [[[*x]]]\n", "&x [*x]\n"])
def test_a_recursive_alias_says_what_it_is(text: str) -> None:
    with pytest.raises(SpecError, match="recursive alias") as info:
        load_yaml_text(text, "x.yaml")
    assert "nested deeper" not in info.value.message
    assert info.value.loc.line == 1


def test_errors_about_an_aliased_value_point_at_the_alias() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            tables: {zero: &z 0}
            layers:
              - &c {id: c, op: conv, out: 4, k: 1}
              - {op: conv, out: 4, k: *z}
        """)
    assert (info.value.loc.line, info.value.loc.col) == (7, 27)
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            layers:
              - &c {id: c, op: conv, out: 4, k: 1}
              - relu
              -   *c
        """)
    assert "duplicate id 'c'" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (7, 5 + 2)


@pytest.mark.parametrize("breaker", ["\u2028", "\u2029", "\x85", "\u2028\u2029\x85\u2028"])
def test_locations_count_lines_as_editors_do(breaker: str) -> None:
    text = (f'cnncalc: 1\ninput: [3, 8, 8]\nname: "a{breaker}b"\ndescription: "x{breaker}"\n'
            "layers: [{op: conv, out: 4, k: 0}]\n")
    with pytest.raises(SpecError) as info:
        net(text)
    assert (info.value.loc.line, info.value.loc.col) == (5, 32)
    # a YAML syntax error after one, and the bytes path (BOM, CRLF) too
    bad = f'cnncalc: 1\r\nname: "{breaker}"\r\ninput: [3, 8, 8\r\n'.encode("utf-8-sig")
    with pytest.raises(SpecError) as info:
        cnncalc.spec.parse_network(bad, "x.yaml")
    assert (info.value.loc.line, info.value.loc.col) == (4, 1)
    assert "which starts at line 3, column 8" in info.value.notes[0]


# ------------------------------------------------------------------------ expect figures


@pytest.mark.parametrize("text, value", [
    ("40", 40), ("40_000", 40_000), ("1_0_0", 100), ("1,000", 1000), ("25,557,032", 25557032),
    ("1,000,000.5", 1000000.5), (" 12 k ", 12_000), ("25.56M", 25_560_000), ("4.5G", 4.5e9),
    ("0", 0), ("007", 7), ("1,234k", 1_234_000),
])
def test_figures_written_as_strings(text: str, value: float) -> None:
    assert parse_quantity(text)[0] == value


@pytest.mark.parametrize("text", ["4,0", "0,5", "22,40", "1,0000", ",100", "100,", "1,,000",
                                  "1,000_000", "4__0", "_40", "40_", "4.", ".5", "1e6", "1 000",
                                  "4,0M", "", "M", "+5", "-5", "9" * 31, "1.5.2"])
def test_malformed_figures_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400", "-1e999", ".NaN", ".Inf"])
@pytest.mark.parametrize("where", ["{params: %s}", "{macs: {max: %s}}", "{flops: {min: %s}}",
                                   "{layers: {c: {params: %s}}}",
                                   "{peak_activation_bytes: %s}"])
def test_non_finite_figures_are_located_errors(value: str, where: str) -> None:
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\nlayers: [{id: c, op: conv, out: 4, k: 1}]\n"
            f"expect: {where % value}\n")
    assert "finite number" in info.value.message
    assert info.value.loc.line == 4 and info.value.exit_code == 2


# ----------------------------------------------------------------------- float arguments
def _float_args() -> list[tuple[str, str]]:
    """(op, argument) for every float argument of every registered op."""
    from cnncalc.ops import REGISTRY

    found = []
    for name, cls in sorted(REGISTRY.items()):
        for field_name, field in cls.Args.model_fields.items():
            if "float" in repr(field.annotation):
                found.append((name, field.alias or field_name))
    return found


FLOAT_ARGS = _float_args()


def test_float_arguments_exist() -> None:
    assert {("batchnorm", "eps"), ("batchnorm", "momentum"), ("leaky_relu", "slope"),
            ("lrn", "beta"), ("prelu", "init")} <= set(FLOAT_ARGS)


@pytest.mark.parametrize("op, arg", FLOAT_ARGS)
@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e400"])
def test_every_float_argument_must_be_finite(op: str, arg: str, value: str) -> None:
    from cnncalc.ops import REGISTRY

    required = {n: 1 for n, f in REGISTRY[op].Args.model_fields.items()
                if f.is_required() and n != arg}
    extra = "".join(f", {k}: {v}" for k, v in required.items())
    with pytest.raises(SpecError) as info:
        net(f"cnncalc: 1\ninput: [4, 8, 8]\nlayers: [{{op: {op}, {arg}: {value}{extra}}}]\n")
    assert f"{arg} must be a finite number" in info.value.message
    assert info.value.loc.line == 3


# ------------------------------------------------------------------------ expressions
@pytest.mark.parametrize("expr, char", [
    ("\uff57", "U+FF57"),               # fullwidth w
    ("2 * \uff57", "U+FF57"),
    ("\u1d42", "U+1D42"),               # modifier letter capital W
    ("w\u00b2", "U+00B2"),              # superscript two
    ("\u2167", "U+2167"),               # roman numeral eight
    ("\u0455", "U+0455"),               # cyrillic dze, looks like s
    ("１ + w", "U+FF11"),               # fullwidth digit
])
def test_expressions_are_ascii_so_look_alike_names_are_refused(expr: str, char: str) -> None:
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\ntables: {w: 4, s: 2, W: 3}\n"
            f"layers: [{{op: conv, out: \"${{{expr}}}\", k: 1}}]\n")
    assert "expressions are written in ASCII" in info.value.message and char in info.value.message


# ------------------------------------------------------------------------- suggestions


def test_suggestions_match_difflib_on_small_inputs() -> None:
    import difflib
    import random

    rng = random.Random(7)
    words = ["".join(rng.choice("abcde_") for _ in range(rng.randint(1, 9))) for _ in range(300)]
    for word in words[:100]:
        assert suggest_mod.close_matches(word, words[100:], n=1) == \
            difflib.get_close_matches(word, words[100:], n=1)


def test_suggestions_compare_a_bounded_number_of_bounded_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    real = suggest_mod.difflib.get_close_matches

    def counting(word: str, possibilities: list[str], **kw: object) -> list[str]:
        seen.append(list(possibilities))
        return real(word, possibilities, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(suggest_mod.difflib, "get_close_matches", counting)
    names = [f"name_{i:05d}_" + "x" * 30 for i in range(20_000)] + ["q" * 100_000]
    suggest_mod.close_matches("nmae_00123_" + "x" * 30, names)
    suggest_mod.close_matches("q" * 99_999, names)       # too long: never compared
    assert len(seen) == 1
    assert len(seen[0]) <= suggest_mod.MAX_COMPARED_NAMES
    assert all(len(n) <= suggest_mod.MAX_COMPARED_CHARS for n in seen[0])


def test_messages_listing_many_long_names_are_bounded() -> None:
    tables = "\n".join(f"  name_{i:05d}_{'x' * 180}: {i}" for i in range(20_000))
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\ntables:\n{tables}\n"
                      f"layers: [{{op: conv, out: '${{nmae_00123_{'x' * 180}}}', k: 1}}]\n",
                      "t.yaml")
    text = info.value.format()
    assert len(text) < 2000 and "(19,990 more)" in text
    blocks = "\n".join(f"  b{i}_{'y' * 300}: {{layers: [relu]}}" for i in range(5_000))
    with pytest.raises(SpecError) as info:
        cnncalc.loads(f"cnncalc: 1\ninput: [3, 8, 8]\nblocks:\n{blocks}\n"
                      f"layers: [{{op: b1_{'y' * 299}z}}]\n", "t.yaml")
    assert len(info.value.format()) < 2000


def test_shown_and_name_list() -> None:
    assert suggest_mod.shown("abc") == "'abc'"
    assert suggest_mod.shown("a\nb") == "'a\\nb'"
    long = suggest_mod.shown("x" * 10_000)
    assert len(long) < 100 and "(10,000 characters)" in long
    assert suggest_mod.name_list(["a", "b"]) == "a, b"
    assert suggest_mod.name_list(map(str, range(12))).endswith("... (2 more)")
    assert suggest_mod.did_you_mean("kernel", ["k", "stride"], synonyms={"kernel": "k"}) == \
        "; did you mean 'k'?"


def test_a_duplicate_id_merged_in_points_at_the_merge() -> None:
    with pytest.raises(SpecError) as info:
        net("""
            cnncalc: 1
            input: [3, 8, 8]
            layers:
              - &c {id: c, op: relu}
              - {op: relu, <<: *c}
        """)
    assert "duplicate id 'c'" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (6, 16)


@pytest.mark.parametrize("name", ["conv", "relu", "add", "batchnorm"])
def test_a_block_cannot_take_the_name_of_an_op(name: str) -> None:
    with pytest.raises(SpecError) as info:
        net(f"cnncalc: 1\ninput: [3, 8, 8]\nblocks:\n  {name}: {{layers: [identity]}}\n"
            "layers: [identity]\n")
    assert f"block '{name}' has the name of an op" in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (4, 3)


@pytest.mark.parametrize("text", ["\u0664\u0660", "\uff14\uff10", "4\u00a0000",
                                  "\u0664,\u0660\u0660\u0660"])
def test_figures_are_ascii_digits(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize("first", ["@dataclass", "@torch.no_grad()", "if __name__ == '__main__':",
                                   "async def main():", "import torch, torchvision"])
def test_more_python_starts_are_recognised(tmp_path: Path, first: str) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(first + "\n    pass\n")
    with pytest.raises(SpecError, match="this looks like Python source"):
        cnncalc.load(path)


@pytest.mark.parametrize("before", ["", "é", "\U0001f600\U0001f600", "\u2028x\u2029", "日本語"])
def test_a_control_character_is_located_after_any_text(before: str) -> None:
    text = f'cnncalc: 1\ninput: [3, 8, 8]\nname: "{before}" \x01\n'
    with pytest.raises(SpecError, match="control character #x0001") as info:
        net(text)
    assert (info.value.loc.line, info.value.loc.col) == (3, 10 + len(before))
    with pytest.raises(SpecError) as info:
        cnncalc.spec.parse_network(text.encode(), "x.yaml")
    assert (info.value.loc.line, info.value.loc.col) == (3, 10 + len(before))


@pytest.mark.parametrize("prefix, col", [(b"", 7), ("é日".encode(), 9), (b"\xef\xbb\xbf", 7)])
def test_invalid_utf8_is_located_in_characters(prefix: bytes, col: int) -> None:
    data = b"cnncalc: 1\nname: " + (prefix if prefix != b"\xef\xbb\xbf" else b"") + b"\xe9x\n"
    if prefix == b"\xef\xbb\xbf":
        data = prefix + data
    with pytest.raises(SpecError, match="not valid UTF-8") as info:
        cnncalc.spec.parse_network(data, "x.yaml")
    assert (info.value.loc.line, info.value.loc.col) == (2, col)


def test_an_error_in_aliased_or_merged_text_says_where_the_layer_is() -> None:
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\ntables:\n  c: &c {op: conv, out: 4, k: 0}\n"
            "layers:\n  - relu\n  - *c\n")
    assert (info.value.loc.line, info.value.loc.col) == (4, 31)
    assert "this layer is the alias at line 7, column 5" in info.value.notes
    with pytest.raises(SpecError) as info:
        net("cnncalc: 1\ninput: [3, 8, 8]\ntables:\n  c: &c {k: 0}\n"
            "layers:\n  - {op: conv, out: 4, <<: *c}\n")
    assert (info.value.loc.line, info.value.loc.col) == (4, 13)
    assert "'k' is merged into this layer by the << at line 6, column 24" in info.value.notes


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("examples/**/*.yaml")])


def test_there_are_shipped_documents_to_compare() -> None:
    assert len(DOCUMENTS) >= 10


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.stem for p in DOCUMENTS])
def test_the_event_composer_reads_what_pyyaml_reads(path: Path) -> None:
    """The spec reader composes nodes from events itself (no recursion, aliases located):
    on every shipped spec it must give what PyYAML's own composer gives."""
    import yaml

    from cnncalc.spec.yamlio import _Loader

    text = path.read_text(encoding="utf-8-sig")
    assert _plain(load_yaml_text(text, path.name)) == yaml.load(text, Loader=_Loader)


@pytest.mark.parametrize("text", [
    "a: &x {p: 1, q: [1, 2]}\nb: *x\nc: {<<: *x, p: 2}\nd: {<<: [*x, {r: 3}], q: 0}\n",
    "? [complex]\n: 1\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float 1\nd: ! 5\n",
    "- &s str\n- *s\n- {*s : 1}\n",
    "%YAML 1.1\n---\na: 1\n...\n",
    "a: |\n  x\n  y\nb: >-\n  folded\n  text\n",
    "{a: [1, {b: [2, [3, {c: 4}]]}]}\n",
    "a: 1e3\nb: .5\nc: 0x1f\nd: 0o17\ne: ~\nf: yes\ng: 1_000\n",
])
def test_the_event_composer_matches_pyyaml_on_yaml_features(text: str) -> None:
    import yaml

    from cnncalc.spec.yamlio import _Loader

    try:
        expected = yaml.load(text, Loader=_Loader)
    except yaml.constructor.ConstructorError:  # an unhashable key: ours refuses it too
        with pytest.raises(SpecError):
            load_yaml_text(text, "x.yaml")
        return
    assert _plain(load_yaml_text(text, "x.yaml")) == expected


@pytest.mark.parametrize("value", ["$\uff57", "$w\u00b2", "$\u0455"])
def test_look_alike_names_after_a_dollar_are_refused(value: str) -> None:
    with pytest.raises(SpecError, match="names are written in ASCII") as info:
        net(f"cnncalc: 1\ninput: [3, 8, 8]\ntables: {{w: 4, s: 2}}\n"
            f"layers: [{{op: conv, out: '{value}', k: 1}}]\n")
    assert (info.value.loc.line, info.value.loc.col) == (4, 26)
