"""Scaling to 10^5 layers (issue 16), without timing anything: the YAML is parsed once,
equal layers share their validation and figures, and the renderers stream.  Each test
pins the *structure* that keeps the work linear and the memory bounded, next to the
output that must not change (json.dumps's text, the figures of unshared layers)."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import units
from cnncalc.errors import LimitError, SpecError
from cnncalc.render import table, text, views
from cnncalc.render.console import make_console
from cnncalc.spec import yamlio
from cnncalc.spec.yamlio import load_yaml_text


def chain(n: int, extra: str = "") -> str:
    rows = "".join("  - {op: conv, out: 4, k: 3, pad: 1}\n" if i % 2 == 0 else "  - relu\n"
                   for i in range(n))
    return f"cnncalc: 1\ninput: [4, 8, 8]\n{extra}layers:\n{rows}"


# ------------------------------------------------------------------ one parse
def _count_parsers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    base = yamlio._Loader

    class Counting(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: Any) -> None:
            made.append(1)
            super().__init__(stream)

    monkeypatch.setattr(yamlio, "_Loader", Counting)
    for name in ("compose", "load", "safe_load", "compose_all", "load_all"):
        monkeypatch.setattr(yamlio.yaml, name, _refuse)
    return made


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the spec reader reads the event stream once, itself")


@pytest.mark.parametrize("spec", [
    chain(40),
    chain(6, "defaults: {conv: &d {bias: false}}\ntables: {t: {<<: *d}}\n"),
    "cnncalc: 1\ninput: [3, 8, 8]\nlayers: [&c {op: conv, out: 4, k: 3}, *c, {<<: *c, k: 1}]\n",
])
def test_a_spec_is_parsed_once(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    made = _count_parsers(monkeypatch)
    net = cnncalc.loads(spec)
    assert len(made) == 1 and len(net) >= 2


def test_a_refused_document_is_parsed_once_too(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _count_parsers(monkeypatch)
    with pytest.raises(SpecError, match="duplicate key"):
        load_yaml_text("a: 1\nb: [1, 2]\na: 2\n", "x.yaml")
    assert len(made) == 1


# ------------------------------------------------------- what one pass keeps
def test_merged_keys_keep_where_they_are_written() -> None:
    doc = load_yaml_text("base: &b {k: 3, pad: 1}\nother: &o {stride: 2}\n"
                         "layer: {<<: [*b, *o], k: 5}\n", "x.yaml")
    layer = doc["layer"]
    assert dict(layer) == {"k": 5, "pad": 1, "stride": 2}
    assert list(layer) == ["k", "pad", "stride"]  # own keys first, then the merged ones
    assert (layer.val_loc["k"].line, layer.val_loc["k"].col) == (3, 26)  # its own
    assert (layer.val_loc["pad"].line, layer.val_loc["pad"].col) == (1, 22)  # the anchor's
    assert (layer.val_loc["stride"].line, layer.val_loc["stride"].col) == (2, 20)
    assert set(layer.merged) == {"pad", "stride"}
    assert (layer.merged["pad"].line, layer.merged["pad"].col) == (3, 9)  # the <<


def test_an_alias_is_a_fresh_copy_located_at_the_alias() -> None:
    doc = load_yaml_text("a: &x {p: [1, 2]}\nb: *x\nc: [*x, *x]\n", "x.yaml")
    copies = [doc["b"], *doc["c"]]
    assert all(c == doc["a"] and c is not doc["a"] for c in copies)
    assert copies[1] is not copies[2] and copies[1]["p"] is not copies[2]["p"]
    assert [(c.via.line, c.via.col) for c in copies] == [(2, 4), (3, 5), (3, 9)]
    assert doc["a"].via is None and doc["b"].val_loc["p"].line == 1  # its values: the anchor's


@pytest.mark.parametrize(("text", "kind", "where"), [
    # a refusal of a value waits for the stream: a later syntax error is what is reported
    ("a: !!python/object:os.system 1\nb: [1, 2\n", SpecError, "YAML syntax"),
    ("a: 1\na: 2\nb: {c: 1\n", SpecError, "YAML syntax"),
    # ... and so does a later limit
    ("a: 1\na: 2\nb: " + "[" * 70 + "]" * 70 + "\n", LimitError, "nested deeper"),
])
def test_the_stream_is_read_to_its_end_before_a_value_is_refused(
        text: str, kind: type, where: str) -> None:
    with pytest.raises(kind, match=where):
        load_yaml_text(text, "x.yaml")


def test_a_merge_key_is_only_a_key() -> None:
    for doc in ("a: [<<]\n", "<<\n", "a: <<\n"):
        with pytest.raises(SpecError, match="!!merge is not allowed"):
            load_yaml_text(doc, "x.yaml")
    assert load_yaml_text("a: '<<'\n", "x.yaml") == {"a": "<<"}  # quoted: a string


def test_plain_scalars_resolved_once_per_text_keep_their_types() -> None:
    doc = load_yaml_text("[1, '1', 1.0, true, yes, ~, 1e-3, 0x10, 1, true]\n", "x.yaml")
    assert doc == [1, "1", 1.0, True, True, None, 0.001, 16, 1, True]
    assert [type(v) for v in doc] == [int, str, float, bool, bool, type(None), float, int,
                                      int, bool]


# ------------------------------------------------------- equal layers, once
def test_equal_arguments_give_one_op_and_different_ones_do_not() -> None:
    net = cnncalc.loads("cnncalc: 1\ninput: [4, 8, 8]\nlayers:\n"
                        "  - {op: conv, out: 4, k: 3, pad: 1}\n"
                        "  - {op: conv, out: 4, k: 3, pad: 1}\n"
                        "  - {op: conv, out: 4, k: 3, pad: [1, 1]}\n"
                        "  - {op: dropout, p: 0.5}\n  - {op: dropout, p: 0.50}\n"
                        "  - {op: dropout, p: 0.25}\n")
    ops = [n.op for n in net.nodes]
    assert ops[0] is ops[1] and ops[2] is not ops[0]
    assert ops[3] is ops[4] and ops[5] is not ops[3]


def test_shared_ops_on_other_shapes_get_their_own_figures() -> None:
    """One op object (equal arguments) at three input sizes: every row its own figures,
    as a spec with each layer written differently gives."""
    body = "".join("  - {op: conv, out: 8, k: 3, stride: 2}\n" for _ in range(3))
    net = cnncalc.loads(f"cnncalc: 1\ninput: [8, 32, 32]\nlayers:\n{body}")
    assert len({id(n.op) for n in net.nodes}) == 1
    rows = cnncalc.analyze(net).layers
    assert [r.output_shape for r in rows] == [(8, 15, 15), (8, 7, 7), (8, 3, 3)]
    assert [r.macs for r in rows] == [8 * 8 * 9 * n * n for n in (15, 7, 3)]
    assert [r.receptive_field.size for r in rows] == [(3, 3), (7, 7), (15, 15)]
    assert [r.id for r in rows] == ["conv1", "conv2", "conv3"]


# ---------------------------------------------------------------- streaming
def test_the_table_is_written_before_its_last_row_is_formatted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    report = cnncalc.analyze(cnncalc.loads(chain(50)))
    monkeypatch.setattr(table, "CHUNK_ROWS", 10)
    formatted: list[str] = []
    original = table.LayerGrid.columns

    def counting(self: table.LayerGrid, start: int, stop: int) -> list[list[str]]:
        formatted.extend(row.id for row in self.report.layers[start:stop])
        return original(self, start, stop)

    monkeypatch.setattr(table.LayerGrid, "columns", counting)

    class Recording(io.StringIO):
        first: int | None = None

        def write(self, s: str) -> int:
            if self.first is None and "relu" in s:
                self.first = len(formatted)
            return super().write(s)

    out = Recording()
    table.render_report(make_console(file=out, width=120), report, views.VIEWS["summary"])
    assert out.first is not None
    # the widths pass reads every row once; rows are written ten at a time after it
    assert out.first <= len(report.layers) + 10 < len(formatted)
    whole = io.StringIO()
    make_console(file=whole, width=120).print(
        table.report_renderable(report, views.VIEWS["summary"]))
    assert out.getvalue() == whole.getvalue()  # the same text as one print of it all


def test_json_and_csv_come_a_chunk_of_layers_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    report = cnncalc.analyze(cnncalc.loads(chain(30)))
    monkeypatch.setattr(text, "JSON_CHUNK_ROWS", 7)
    monkeypatch.setattr(text, "CSV_CHUNK_ROWS", 7)
    for view in views.VIEWS.values():
        pieces = list(text.report_json_chunks(report, view))
        assert max(piece.count('"id": ') for piece in pieces) == 7  # no piece holds more
        assert "".join(pieces) == json.dumps(views.json_subset(report, view), indent=2) + "\n"
    pieces = list(text.report_csv_chunks(report, views.VIEWS["summary"]))
    assert max(piece.count("\n") for piece in pieces) == 7
    assert "".join(pieces) == text.report_csv(report, views.VIEWS["summary"])


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-10**400, 10**400)
    | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(0, 5))
def test_the_indented_encoder_writes_what_json_dumps_writes(value: Any, level: int) -> None:
    with text.any_int_size():
        expected = json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)
    assert text.encode_indented(value, level) == expected


@settings(max_examples=500, deadline=None)
@given(st.integers(-10**17, 10**17))
def test_scaled_integers_match_the_exact_fraction_path(n: int) -> None:
    for scales, step in ((units._SI, 1000), (units._BIN, 1024)):
        if abs(n) >= scales[-1][0]:
            assert units._scaled(n, scales, step, "") == units._scaled(
                Fraction(n), scales, step, "")
    assert units.fixed(n) == units.fixed(Fraction(n)) and units.num(n) == units.num(Fraction(n))
