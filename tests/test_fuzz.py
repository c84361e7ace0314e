"""Fuzzing: whatever the input, loading and analysing a spec returns a Report or raises
cnncalc's own error (exit 2 on the command line) — never a KeyError, TypeError,
RecursionError or any other exception, and never a hang.

Three generators: random YAML documents (random nested structures dumped with
``yaml.safe_dump``), spec-shaped documents with random ops and arguments, and random
line/token mutations of the zoo's and the examples' specs (globbed at run time, so new
specs are fuzzed the moment they are added).

CI runs a short session (``CNNCALC_FUZZ_EXAMPLES``, default 120 per test).  A long one::

    HYPOTHESIS_PROFILE=long CNNCALC_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.ops import REGISTRY
from cnncalc.report import Report

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "examples").glob("**/*.yaml"))
EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "120"))
#: keep a run bounded: fuzzed specs are refused above these sizes
LIMITS = cnncalc.Limits(max_layers=5_000)
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])

OPS = sorted(REGISTRY)
ARGS = sorted({name for cls in REGISTRY.values() for name, f in cls.Args.model_fields.items()}
              | {"global", "id", "in", "repeat", "args", "first", "last", "n"})
TOP = ["cnncalc", "name", "input", "tables", "defaults", "blocks", "layers", "output", "strict",
       "expect", "description"]
ODD_STRINGS = ["$x", "$w", "${w * 2}", "${1 // 0}", "${a.b}", "${2**10}", "${min()}", "same",
               "valid", "auto", "input", "none", "relu", "", "-", "<<", "*", "&a"]


def outcome(text: str | bytes) -> Report | CnncalcError:
    """Load + analyse; the only acceptable results are a Report or a CnncalcError."""
    data = text.encode() if isinstance(text, str) else text
    try:
        net = cnncalc.spec.parse_network(data, "fuzz.yaml", LIMITS)
        report = cnncalc.analyze(net)
    except CnncalcError as exc:
        assert exc.loc is None or exc.loc.line >= 1 and exc.loc.col >= 1, exc.format()
        assert exc.format()  # formatting never fails either
        return exc
    json.dumps(report.to_dict())  # the JSON renderer can write every figure
    return report


# ------------------------------------------------------------------ random YAML documents
scalars = st.one_of(
    st.integers(-3, 300),
    st.sampled_from([0, -1, 1, 2, 3, 10**9, 10**40, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=10),
    st.sampled_from(OPS + ARGS + TOP + ODD_STRINGS),
)
keys = st.one_of(st.sampled_from(ARGS + TOP), st.text(max_size=6), st.integers(-2, 3))
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40)


@FUZZ
@given(documents)
def test_random_yaml_documents(doc: Any) -> None:
    outcome(yaml.safe_dump(doc))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    outcome(data)


# ------------------------------------------------------------ spec-shaped documents
small = st.one_of(st.integers(-1, 9), st.sampled_from([0, 1, 2, 3, 64, 10**9]),
                  st.lists(st.integers(-1, 6), max_size=4),
                  st.lists(st.lists(st.integers(0, 3), max_size=3), max_size=3),
                  st.sampled_from(ODD_STRINGS), st.booleans(), st.floats(-2, 2), st.none())
layer_ids = st.sampled_from(["a", "b", "c", "input", "x1", "blk"])
layer = st.one_of(
    st.sampled_from(OPS),
    st.fixed_dictionaries(
        {"op": st.sampled_from(OPS + ["blk", "blk2"])},
        optional={"id": layer_ids, "in": layer_ids | st.lists(layer_ids, max_size=3) | small,
                  "repeat": small | st.fixed_dictionaries({"n": small}, optional={
                      "first": st.dictionaries(st.sampled_from(ARGS), small, max_size=2)}),
                  **{a: small for a in ["out", "k", "stride", "pad", "dilation", "groups",
                                        "size", "p", "act", "bn", "global", "project",
                                        "connect", "scale", "w"]}}),
)
specs = st.fixed_dictionaries(
    {"cnncalc": st.just(1) | small, "input": st.lists(st.integers(-1, 40), max_size=5) | small,
     "layers": st.lists(layer, max_size=8)},
    optional={
        "blocks": st.fixed_dictionaries({"blk": st.fixed_dictionaries(
            {"layers": st.lists(layer, max_size=5)},
            optional={"args": st.dictionaries(st.sampled_from(["w", "n", "s"]),
                                              st.sampled_from(["int", 1, 2, "any"]), max_size=3),
                      "output": layer_ids})}),
        "tables": st.dictionaries(st.sampled_from(["w", "x", "t"]), small, max_size=3),
        "defaults": st.dictionaries(st.sampled_from(OPS[:6] + ["blk"]),
                                    st.dictionaries(st.sampled_from(ARGS), small, max_size=2),
                                    max_size=2),
        "output": layer_ids, "strict": st.booleans() | small,
    })


@FUZZ
@given(specs)
def test_random_spec_shaped_documents(doc: dict[str, Any]) -> None:
    outcome(yaml.safe_dump(doc, sort_keys=False))


# ------------------------------------------------------------ mutations of real specs
_NUMBER = re.compile(r"(?<![\w.$])-?\d+(?![\w.])")
_WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
REPLACEMENTS = ["0", "-1", "1", "99999999999", "10" * 20, "1.5", "true", "null", '"x"', "[]",
                "{}", "$nope", "${1//0}", "[1, 2, 3, 4]", "same", "*a", "&a", "<<: 5"]


def _mutate(lines: list[str], data: st.DataObject) -> list[str]:
    kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "number", "word",
                                      "retarget", "indent", "truncate", "char"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    if kind == "delete":
        return lines[:i] + lines[i + 1:]
    if kind == "duplicate":
        return lines[:i + 1] + [line] + lines[i + 1:]
    if kind == "swap":
        j = data.draw(st.integers(0, len(lines) - 1))
        out = list(lines)
        out[i], out[j] = out[j], out[i]
        return out
    if kind == "truncate":
        return lines[:i] + [line[:data.draw(st.integers(0, len(line)))]]
    if kind == "indent":
        return lines[:i] + [data.draw(st.sampled_from(["", " ", "    ", "\t"])) + line.lstrip()] \
            + lines[i + 1:]
    if kind == "char":
        pos = data.draw(st.integers(0, len(line)))
        ch = data.draw(st.sampled_from(list("[]{},:-&*!|>'\"#% \t") + ["\x00", "\u00e9"]))
        return lines[:i] + [line[:pos] + ch + line[pos:]] + lines[i + 1:]
    pattern = _NUMBER if kind == "number" else _WORD
    found = list(pattern.finditer(line))
    assume(found)
    m = data.draw(st.sampled_from(found))
    if kind == "number":
        new = data.draw(st.sampled_from(REPLACEMENTS))
    elif kind == "word":  # swap a key or value for another known name
        new = data.draw(st.sampled_from(ARGS + TOP + OPS[:12]))
    else:  # retarget: another word of the same file (ids, block names, arguments)
        words = sorted({w for ln in lines for w in _WORD.findall(ln.split("#")[0])})
        new = data.draw(st.sampled_from(words)) if words else "input"
    return lines[:i] + [line[:m.start()] + new + line[m.end():]] + lines[i + 1:]


@pytest.mark.skipif(not SPECS, reason="no specs to mutate")
@FUZZ
@given(st.data())
def test_mutated_zoo_specs(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(SPECS), label="spec")
    lines = path.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not lines:
            break
        lines = _mutate(lines, data)
    outcome("\n".join(lines) + "\n")


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_unmutated_specs_load(path: Path) -> None:
    """The mutation baseline: every zoo spec and example loads as it is."""
    result = outcome(path.read_bytes())
    assert isinstance(result, Report) or "--strict" in result.format(), result
