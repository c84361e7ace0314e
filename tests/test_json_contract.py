"""The JSON report is a contract, tested as one.

``cnncalc summary X --format json`` of LeNet-5 and ResNet-50 must equal the committed
files under tests/golden/ field by field: every key at every level, every value, and its
JSON type (``2`` is not ``2.0``, ``true`` is not ``1``).  Every report (those two, every
zoo spec, every example) must validate against docs/report.schema.json, and the schema is
tight: it refuses a report with a field removed, renamed or of another type.

After an intended change, regenerate with
``CNNCALC_UPDATE_GOLDEN=1 python -m pytest tests/test_json_contract.py`` and review the
diff: the report's fields are added, never renamed or removed (docs/api.md).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.cli.common import DType
from cnncalc.spec.zoo import variant_names, zoo_names

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SCHEMA = ROOT / "docs" / "report.schema.json"
EXAMPLES = sorted(ROOT.glob("examples/*.yaml"))
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"


def cli_json(*args: str) -> Any:
    """What ``cnncalc ARGS`` prints on stdout, parsed (the command must succeed)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def summary(spec: str, *options: str) -> Any:
    return cli_json("summary", spec, "--format", "json", *options)


def differences(expected: Any, actual: Any, path: str = "$") -> Iterator[str]:
    """Every place where ``actual`` differs from ``expected``, as ``path: what``: a key
    missing or extra, a list of another length, a value of another JSON type or value."""
    if type(expected) is not type(actual):
        yield (f"{path}: {type(actual).__name__} {actual!r:.60}, expected "
               f"{type(expected).__name__} {expected!r:.60}")
    elif isinstance(expected, dict):
        for key in expected.keys() - actual.keys():
            yield f"{path}.{key}: missing"
        for key in actual.keys() - expected.keys():
            yield f"{path}.{key}: not in the golden file"
        for key in expected.keys() & actual.keys():
            yield from differences(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            yield f"{path}: {len(actual)} items, expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from differences(e, a, f"{path}[{i}]")
    elif expected != actual:
        yield f"{path}: {actual!r}, expected {expected!r}"


@pytest.fixture(scope="module")
def validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator: Any, report: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(report)]


# ----------------------------------------------------------------- golden reports
@pytest.mark.parametrize("spec", ["lenet5", "resnet50"])
def test_summary_json_matches_the_golden_report(spec: str) -> None:
    path = GOLDEN / f"{spec}_summary.json"
    result = CliRunner().invoke(app, ["summary", spec, "--format", "json"])
    assert result.exit_code == 0, result.output
    if UPDATE:
        path.write_text(result.stdout)
    expected = json.loads(path.read_text())
    found = list(differences(expected, json.loads(result.stdout)))
    assert not found, (f"{spec}'s JSON report differs from {path.name} in {len(found)} "
                       "places (CNNCALC_UPDATE_GOLDEN=1 regenerates it):\n  "
                       + "\n  ".join(sorted(found)[:30]))


def test_the_golden_reports_hold_the_figures_they_are_known_for() -> None:
    """The golden files are not just whatever was printed once: their headline figures
    are the published ones (LeNet-5: LeCun et al. 1998; ResNet-50: torchvision)."""
    lenet = json.loads((GOLDEN / "lenet5_summary.json").read_text())
    assert (lenet["totals"]["trainable_params"], lenet["totals"]["fixed_params"]) == (60000, 840)
    assert [row["params"] for row in lenet["layers"] if row["op"] == "conv"] == [156, 1516, 48120]
    resnet = json.loads((GOLDEN / "resnet50_summary.json").read_text())
    assert resnet["totals"]["params"] == 25_557_032
    assert resnet["output_shape"] == [1000] and resnet["input_shape"] == [3, 224, 224]


@pytest.mark.parametrize("change, where", [
    (lambda r: r["totals"].pop("macs"), "$.totals.macs: missing"),
    (lambda r: r["layers"][0].__setitem__("param", r["layers"][0].pop("params")),
     "$.layers[0].param: not in the golden file"),
    (lambda r: r["layers"][3].__setitem__("macs", r["layers"][3]["macs"] + 1),
     "$.layers[3].macs: "),
    (lambda r: r["receptive_field"]["start"].__setitem__(0, 15), "$.receptive_field.start[0]: int"),
    (lambda r: r["receptive_field"].__setitem__("aligned", 1), "$.receptive_field.aligned: int"),
    (lambda r: r["layers"].pop(), "$.layers: "),
    (lambda r: r.__setitem__("dtype", "float16"), "$.dtype: 'float16'"),
])
def test_the_comparison_fails_on_any_change(change: Any, where: str) -> None:
    golden = json.loads((GOLDEN / "lenet5_summary.json").read_text())
    changed = copy.deepcopy(golden)
    change(changed)
    found = list(differences(golden, changed))
    assert any(f.startswith(where) for f in found), found
    assert not list(differences(golden, copy.deepcopy(golden)))


# ----------------------------------------------------------------- the schema
@pytest.mark.parametrize("spec", ["lenet5", "resnet50"])
def test_the_golden_reports_validate(validator: Any, spec: str) -> None:
    report = json.loads((GOLDEN / f"{spec}_summary.json").read_text())
    assert schema_errors(validator, report) == []


@pytest.mark.parametrize("spec", [*zoo_names(), *variant_names(), *(str(p) for p in EXAMPLES),
                                  str(GOLDEN / "tiny_resnet.yaml")],
                         ids=lambda s: Path(s).stem)
def test_every_zoo_and_example_report_validates(validator: Any, spec: str) -> None:
    assert schema_errors(validator, summary(spec)) == []


@pytest.mark.parametrize("options", [("--batch", "8", "--dtype", "bfloat16"),
                                     ("--input", "1x64x64", "--dtype", "int8")])
def test_reports_at_other_settings_validate(validator: Any, options: tuple[str, ...]) -> None:
    report = summary("lenet5", *options)
    assert schema_errors(validator, report) == []
    assert report["batch"] == (8 if "--batch" in options else 1)


def test_reports_with_warnings_fractions_and_no_receptive_field_validate(
        validator: Any) -> None:
    """The shapes of value the zoo rarely has: warnings, a receptive field that is not
    whole, none at all, buffers."""
    by_example = {p.stem: summary(str(p)) for p in EXAMPLES}
    assert by_example["truncation"]["warnings"]
    assert by_example["global_average_pooling"]["receptive_field"] is None
    assert by_example["normalization"]["totals"]["buffers"] > 0
    assert any(isinstance(v, float) for row in by_example["transposed_conv"]["layers"]
               if row["receptive_field"] for v in row["receptive_field"]["jump"])
    for name, report in by_example.items():
        assert schema_errors(validator, report) == [], name


def _contract_paths(report: Any) -> Iterator[tuple[str, Any, str]]:
    """(where, the object, key) for every field of the report, of its first layer, of
    its totals and of its receptive fields."""
    for where, obj in (("report", report), ("layer", report["layers"][0]),
                       ("totals", report["totals"]),
                       ("layer receptive field", report["layers"][0]["receptive_field"]),
                       ("network receptive field", report["receptive_field"])):
        for key in obj:
            yield where, obj, key


def _mutations(report: Any) -> Iterator[tuple[str, Any]]:
    for where, obj, key in _contract_paths(report):
        removed = copy.deepcopy(report)
        target = _same_object(removed, report, obj)
        value = target.pop(key)
        yield f"{where}.{key} removed", removed
        renamed = copy.deepcopy(removed)
        _same_object(renamed, report, obj)[key + "_renamed"] = value
        yield f"{where}.{key} renamed", renamed
        retyped = copy.deepcopy(report)
        wrong: Any = 7 if value is None or isinstance(value, str) else "text"
        _same_object(retyped, report, obj)[key] = wrong
        yield f"{where}.{key} of another type", retyped


def _same_object(copied: Any, original: Any, obj: Any) -> Any:
    """The object in ``copied`` at the place ``obj`` has in ``original``."""
    if obj is original:
        return copied
    if obj is original["totals"]:
        return copied["totals"]
    if obj is original["receptive_field"]:
        return copied["receptive_field"]
    if obj is original["layers"][0]:
        return copied["layers"][0]
    return copied["layers"][0]["receptive_field"]


def test_the_schema_refuses_a_removed_renamed_or_retyped_field(validator: Any) -> None:
    report = json.loads((GOLDEN / "lenet5_summary.json").read_text())
    accepted = [what for what, mutated in _mutations(report)
                if not schema_errors(validator, mutated)]
    assert accepted == [], f"the schema accepts a report with: {accepted}"
    assert len(list(_mutations(report))) > 3 * 40  # every level's every field was tried


def test_the_schema_refuses_bad_values(validator: Any) -> None:
    report = json.loads((GOLDEN / "lenet5_summary.json").read_text())
    bad = [("negative params", ("layers", 0, "params"), -1),
           ("a zero dimension", ("output_shape", 0), 0),
           ("an unknown dtype", ("dtype",), "float8"),
           ("an unknown FLOP category", ("totals", "flops_breakdown", "matmul"), 5),
           ("a float count", ("totals", "macs"), 1.5),
           ("a zero batch", ("batch",), 0)]
    for what, path, value in bad:
        mutated = copy.deepcopy(report)
        obj = mutated
        for part in path[:-1]:
            obj = obj[part]
        obj[path[-1]] = value
        assert schema_errors(validator, mutated), f"the schema accepts {what}"


def test_the_schema_names_every_dtype_the_cli_offers() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert set(schema["properties"]["dtype"]["enum"]) == set(get_args(DType))


def test_the_schema_names_every_flop_category() -> None:
    from cnncalc.ops.base import FLOP_CATEGORIES

    schema = json.loads(SCHEMA.read_text())
    names = schema["$defs"]["FlopsBreakdown"]["propertyNames"]["enum"]
    assert names == list(FLOP_CATEGORIES)


# ------------------------------------------------------ the other analysis commands
@pytest.mark.parametrize("command", ["shapes", "params", "flops", "rf"])
def test_other_views_print_a_subset_of_the_summary(command: str) -> None:
    """``shapes``/``params``/``flops``/``rf --format json`` print fields of the summary
    report under the same names, with the same values."""
    full = summary("lenet5")
    part = cli_json(command, "lenet5", "--format", "json")
    assert {"name", "input_shape", "output_shape", "layers", "warnings"} <= part.keys()

    def subset(small: Any, big: Any, path: str) -> None:
        if isinstance(small, dict):
            assert isinstance(big, dict) and small.keys() <= big.keys(), path
            for key, value in small.items():
                subset(value, big[key], f"{path}.{key}")
        elif isinstance(small, list) and small and isinstance(small[0], dict):
            assert isinstance(big, list) and len(small) == len(big), path
            for i, (s, b) in enumerate(zip(small, big)):
                subset(s, b, f"{path}[{i}]")
        else:
            assert not list(differences(big, small, path)), path

    subset(part, full, "$")
