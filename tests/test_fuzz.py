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

from helpers import hang_guard

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


SECONDS = 20


def watchdog(seconds: int = SECONDS):  # type: ignore[no-untyped-def]
    """One example may take at most ``seconds``: a hang is a failure too."""
    return hang_guard(seconds, "one example took too long")



def outcome(text: str | bytes) -> Report | CnncalcError:
    """Load + analyse; the only acceptable results are a Report or a CnncalcError."""
    data = text.encode() if isinstance(text, str) else text
    try:
        with watchdog():
            net = cnncalc.spec.parse_network(data, "fuzz.yaml", LIMITS)
            report = cnncalc.analyze(net)
    except CnncalcError as exc:
        assert exc.loc is None or (exc.loc.line >= 1 and exc.loc.col >= 1), exc.format()
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
# Mostly plausible values, so most documents get past the schema into expansion and
# analysis; now and then junk, to probe each argument's validation.
junk = st.one_of(st.integers(-1, 9), st.sampled_from([0, 10**9, 10**29, 2**63]),
                 st.lists(st.integers(-1, 6), max_size=4),
                 st.lists(st.lists(st.integers(0, 3), max_size=3), max_size=3),
                 st.sampled_from(ODD_STRINGS), st.booleans(), st.floats(-2, 2), st.none())
plausible = {
    "k": st.integers(1, 4) | st.lists(st.integers(1, 3), min_size=1, max_size=3),
    "stride": st.integers(1, 3), "dilation": st.integers(1, 2), "groups": st.integers(1, 4),
    "pad": st.integers(0, 2) | st.sampled_from(["same", "valid", [[0, 1], [1, 0]], [1, 0]]),
    "out": st.integers(1, 8), "size": st.integers(1, 4) | st.lists(st.integers(1, 3), max_size=3),
    "p": st.floats(0, 1), "global": st.booleans(), "bias": st.booleans(), "bn": st.booleans(),
    "act": st.sampled_from(["relu", "none", "tanh", "sigmoid"]), "ceil_mode": st.booleans(),
    "project": st.sampled_from(["auto", "none"]), "scale": st.integers(1, 3),
    "output_padding": st.integers(0, 1), "connect": st.lists(
        st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True), min_size=1, max_size=4),
}
IDS = ["a", "b", "c", "x1", "input", "blk1"]


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws (hypothesis favours a range's ends: use its middle)."""
    return draw(st.integers(0, one_in - 1)) == one_in // 2


@st.composite
def layer(draw: st.DrawFn, ops: list[str]) -> Any:
    op = draw(st.sampled_from(ops))
    if rarely(draw, 6):
        return op  # the bare-string form
    entry: dict[str, Any] = {"op": op}
    model = REGISTRY[op].Args.model_fields if op in REGISTRY else {}
    fields = [f.alias or n for n, f in model.items()] if op in REGISTRY else ["w", "n"]
    required = [f.alias or n for n, f in model.items() if f.is_required()]
    chosen = [] if rarely(draw, 10) else required
    chosen += draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)) if fields else []
    for name in dict.fromkeys(chosen):
        good = plausible.get(name, st.integers(1, 4))
        entry[name] = draw(junk if rarely(draw, 8) else good)
    if rarely(draw, 4):
        entry["id"] = draw(junk if rarely(draw, 8) else st.sampled_from(IDS[:4]))
    if rarely(draw, 4):
        ids = st.sampled_from(IDS)
        entry["in"] = draw(junk if rarely(draw, 8) else
                           ids | st.lists(ids, min_size=1, max_size=3))
    if rarely(draw, 5):
        first = st.dictionaries(st.sampled_from(fields or ["x"]), st.integers(1, 3), max_size=2)
        repeat = st.integers(1, 4) | st.fixed_dictionaries({"n": st.integers(1, 3)},
                                                           optional={"first": first})
        entry["repeat"] = draw(junk if rarely(draw, 6) else repeat)
    if rarely(draw, 10):
        entry[draw(st.sampled_from([*ARGS, "kernel_size"]))] = draw(junk)
    return entry


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    ops = [*OPS, "blk"]
    doc: dict[str, Any] = {
        "cnncalc": draw(st.sampled_from([2, "1", True, None]) if rarely(draw, 20) else st.just(1)),
        "input": draw(junk if rarely(draw, 10) else
                      st.lists(st.integers(1, 12), min_size=1, max_size=4)),
        "layers": draw(st.lists(layer(ops), min_size=1, max_size=8)),
    }
    if draw(st.booleans()):
        args = draw(st.dictionaries(st.sampled_from(["w", "n"]), st.sampled_from(["int", 1, 2]),
                                    max_size=2))
        block: dict[str, Any] = {"layers": draw(st.lists(layer([*OPS, "blk"]), min_size=1,
                                                         max_size=4))}
        if args:
            block["args"] = args
        doc["blocks"] = {"blk": block}
    if rarely(draw, 4):
        doc["tables"] = draw(st.dictionaries(st.sampled_from(["w", "n", "t"]), junk, max_size=2))
    if rarely(draw, 5):
        op, arg = draw(st.sampled_from(OPS[:8])), draw(st.sampled_from(ARGS))
        doc["defaults"] = {op: {arg: draw(junk)}}
    if rarely(draw, 7):
        doc["output"] = draw(junk if rarely(draw, 4) else st.sampled_from(IDS))
    return doc


@FUZZ
@given(specs())
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
        return [*lines[:i + 1], line, *lines[i + 1:]]
    if kind == "swap":
        j = data.draw(st.integers(0, len(lines) - 1))
        out = list(lines)
        out[i], out[j] = out[j], out[i]
        return out
    if kind == "truncate":
        return [*lines[:i], line[:data.draw(st.integers(0, len(line)))]]
    if kind == "indent":
        indent = data.draw(st.sampled_from(["", " ", "    ", "\t"]))
        return [*lines[:i], indent + line.lstrip(), *lines[i + 1:]]
    if kind == "char":
        pos = data.draw(st.integers(0, len(line)))
        ch = data.draw(st.sampled_from([*list("[]{},:-&*!|>'\"#% \t"), "\x00", "é"]))
        return [*lines[:i], line[:pos] + ch + line[pos:], *lines[i + 1:]]
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
    return [*lines[:i], line[:m.start()] + new + line[m.end():], *lines[i + 1:]]


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
