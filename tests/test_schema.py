"""``cnncalc schema``: the JSON Schema is valid draft 2020-12, accepts every spec that
cnncalc accepts in the zoo and examples, rejects what cnncalc rejects for the same
reason, lists every registered op, and the committed docs/cnncalc.schema.json is current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.check import evaluate
from cnncalc.cli import app
from cnncalc.ops import REGISTRY
from cnncalc.schema_export import schema_json, spec_schema

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "cnncalc.schema.json"
SPECS = sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("examples/*.yaml"),
                *ROOT.glob("tests/golden/*.yaml")])


@pytest.fixture(scope="module")
def validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator: Any, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text() == schema_json(), \
        "docs/cnncalc.schema.json is stale: run `cnncalc schema -o docs/cnncalc.schema.json`"


def test_cli_prints_and_writes_the_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0 and json.loads(printed.stdout) == spec_schema()
    out = tmp_path / "s.json"
    assert runner.invoke(app, ["schema", "--output", str(out)]).exit_code == 0
    assert out.read_text() == schema_json()


def test_every_registered_op_has_an_alternative() -> None:
    alts = spec_schema()["$defs"]["Layer"]["anyOf"][1]["oneOf"]
    consts = {a["properties"]["op"].get("const") for a in alts}
    assert set(REGISTRY) <= consts
    conv = next(a for a in alts if a["properties"]["op"].get("const") == "conv")
    assert {"out", "k", "stride", "pad", "dilation", "groups", "bias", "act", "bn"} <= set(
        conv["properties"])


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_spec_validates(validator: Any, path: Path) -> None:
    cnncalc.load(path)  # cnncalc accepts it ...
    assert errors(validator, path.read_text()) == []  # ... and so does the schema


BASE = "cnncalc: 1\ninput: [3, 32, 32]\n"


@pytest.mark.parametrize("text", [
    BASE + "layers: [{op: conv, out: 8, kk: 3}]",          # unknown argument
    BASE + "layers: [{op: conv, out: eight, k: 3}]",       # not an int, not an expression
    BASE + "layers: [{op: conv, out: 8, k: 3, act: relux}]",
    BASE + "layers: [{op: maxpool, k: 2, ceil: true}]",
    BASE + "layers: [relu]\nexpect: {parms: 3}",
    BASE + "layers: [relu]\nexpect: {macs: 4.5Gi}",        # binary suffix on a count
    BASE + "layers: [relu]\nexpect: {macs: {maximum: 3}}",
    BASE + "layers: [relu]\nexpect: {layers: {relu1: {params: x}}}",
    BASE + "layers: [relu]\nlayer: []",
    "cnncalc: 1\nlayers: [relu]",                          # no input
])
def test_schema_rejects_what_cnncalc_rejects(validator: Any, text: str) -> None:
    assert errors(validator, text)
    with pytest.raises(cnncalc.CnncalcError):
        cnncalc.analyze(cnncalc.loads(text))


def test_schema_accepts_expressions_blocks_defaults_and_expect(validator: Any) -> None:
    text = BASE + """\
defaults:
  conv: {bias: false, bn: true, act: relu}
blocks:
  pair:
    args: {width: int, stride: 1}
    layers:
      - {id: a, op: conv, out: $width, k: 3, stride: $stride, pad: 1}
      - {id: b, op: conv, out: "${2 * width}", k: 1}
layers:
  - {id: p1, op: pair, width: 8, repeat: {n: 2, first: {stride: 2}}}
  - {op: avgpool, global: true}
  - flatten
  - {id: fc, op: linear, out: 10}
expect:
  output_shape: [10]
  params: {min: 1k, max: 1M}
  activation_bytes: {max: 1MiB}
  receptive_field: {min: 3}
  layers:
    fc: {params: 170}            # 16 * 10 + 10
"""
    assert errors(validator, text) == []
    net = cnncalc.loads(text)  # cnncalc agrees, and the figures hold
    assert all(o.ok for o in evaluate(cnncalc.analyze(net), net.expect))


def test_draft_07_tools_read_it_too() -> None:
    """Editors' YAML language server implements draft-07: the schema uses no keyword
    newer than that ($defs is reached by JSON pointer), so it works there as well."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = {k: v for k, v in spec_schema().items() if k != "$schema"}
    jsonschema.Draft7Validator.check_schema(schema)
    draft7 = jsonschema.Draft7Validator(schema)
    for path in SPECS:
        assert not list(draft7.iter_errors(yaml.safe_load(path.read_text()))), path.name
    assert list(draft7.iter_errors(yaml.safe_load(BASE + "layers: [{op: conv, out: 8, kk: 3}]")))
    newer = {"prefixItems", "unevaluatedProperties", "dependentSchemas", "$dynamicRef"}
    assert not newer & set(_keys(schema))


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_zoo_and_examples_carry_the_editor_modeline() -> None:
    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "specs").glob("*.yaml")) + sorted((root / "examples").glob("*.yaml"))
    assert len(files) > 30
    for f in files:
        first = f.read_text().split("\n", 1)[0]
        assert first == "# yaml-language-server: $schema=../docs/cnncalc.schema.json", f.name


def test_output_has_its_own_help_and_creates_its_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    schema_help = runner.invoke(app, ["schema", "--help"], env={"COLUMNS": "200"}).stdout
    check_help = runner.invoke(app, ["check", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Write the schema to FILE" in schema_help
    assert "json/github/junit" not in schema_help and "json/github/junit" in check_help
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["schema", "--output", ".vscode/cnncalc.schema.json"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / ".vscode" / "cnncalc.schema.json").read_text() == schema_json()
    assert "wrote .vscode/cnncalc.schema.json" in done.stderr
    (tmp_path / "file").write_text("")
    blocked = runner.invoke(app, ["schema", "--output", "file/s.json"])  # a file in the way
    assert blocked.exit_code == 2 and "cannot create the folder: File exists" in blocked.stderr


@pytest.mark.parametrize("layer", [
    "{op: conv, out: 8, k: [$k, 3]}",
    "{op: conv, out: 8, k: 3, stride: [1, '${s}']}",
    "{op: conv, out: 8, k: 3, pad: [[0, $k], [$k, 0]]}",
    "{op: maxpool, k: [$k, 2]}",
])
def test_list_items_may_be_expressions(validator: Any, layer: str) -> None:
    """A per-axis list may hold `$name` / `${...}` items, as cnncalc accepts them."""
    text = BASE + "tables: {k: 1, s: 2}\nlayers: [" + layer + "]"
    cnncalc.analyze(cnncalc.loads(text))
    assert errors(validator, text) == []
