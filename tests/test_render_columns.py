"""The renderers' column-at-a-time paths write what the row-at-a-time definitions write.

The grid, CSV and ``--format json`` convert a chunk of rows a column at a time, each
distinct value once (issue 16: 10^5 layers); their output is pinned here against the
plain definitions (a layer's dict through ``json.dumps``, :func:`views.raw` of every
cell, rich's own cropping) on every zoo net and on made-up layers with the values the
fast paths must step aside for (ints past the digit limit, unhashable and mixed values,
wide characters, quotes and ``%`` in ids).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console

import cnncalc
from cnncalc.render import json_rows, table, text, views
from cnncalc.render.console import RStripWriter, make_console
from cnncalc.report import LayerReport, ReceptiveField, Report
from cnncalc.spec.zoo import listing

ZOO = [entry["name"] for entry in listing() if not entry.get("error")]


@pytest.fixture(scope="module")
def zoo_reports() -> list[Report]:
    return [cnncalc.analyze(cnncalc.load(name)) for name in ZOO]


@functools.cache
def _lenet5() -> Report:
    return cnncalc.analyze(cnncalc.load("lenet5"))


def _with_layers(rows: list[LayerReport]) -> Report:
    """LeNet-5's report holding ``rows`` (its memory peaks not worked out)."""
    return dataclasses.replace(_lenet5(), layers=tuple(rows), memory_of=None, _memory=[])


def _dict_rows(report: Report, view: views.View) -> list[str]:
    with text.any_int_size():
        return [json.dumps(views.layer_dict(layer, view), indent=2).replace("\n", "\n    ")
                for layer in report.layers]


def _raw_csv(report: Report, view: views.View) -> str:
    cols = view.csv_columns()
    return text.csv_text([c.key for c in cols],
                         [[views.raw(c.kind, c.value(layer)) for c in cols]
                          for layer in report.layers])


# ------------------------------------------------------------------- JSON
def test_json_rows_of_every_zoo_net_are_their_dicts(zoo_reports: list[Report]) -> None:
    for report in zoo_reports:
        for view in views.VIEWS.values():
            rows = json_rows.LayerRows.of(report, view, 2)
            assert rows.texts(report.layers) == _dict_rows(report, view), report.name


def test_json_rows_come_from_the_fields_not_the_dicts(
        zoo_reports: list[Report], monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the checked first row of a chunk is made from its dict."""
    from_dicts: list[int] = []
    original = json_rows.LayerRows._from_dicts

    def counting(self: json_rows.LayerRows, layers: Any) -> list[str]:
        from_dicts.append(len(layers))
        return original(self, layers)

    monkeypatch.setattr(json_rows.LayerRows, "_from_dicts", counting)
    report = zoo_reports[ZOO.index("resnet50")]
    assert "".join(text.report_json_chunks(report, views.VIEWS["summary"])) == \
        text.to_json(views.json_subset(report, views.VIEWS["summary"]))
    assert from_dicts == [1]


_NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
_NUMBERS = st.one_of(st.integers(0, 10**6), st.just(10**5000 + 1),
                     st.fractions(min_value=-100, max_value=100, max_denominator=8))


@st.composite
def layers(draw: st.DrawFn) -> LayerReport:
    rank = draw(st.integers(0, 3))
    shape = st.tuples(*[st.integers(1, 9)] * rank)
    rf = draw(st.none() | st.builds(
        ReceptiveField, st.tuples(*[_NUMBERS] * 2), st.tuples(*[_NUMBERS] * 2),
        st.tuples(*[_NUMBERS] * 2), st.booleans()))
    count = st.integers(0, 50) | st.just(10**5000)
    return LayerReport(
        id=draw(_NAMES), op=draw(st.sampled_from(["conv", "relu", 'a"%s\\'])),
        inputs=draw(st.lists(_NAMES, max_size=3).map(tuple)),
        input_shapes=draw(st.lists(shape, max_size=2).map(tuple)),
        output_shape=draw(shape), params=draw(count), trainable_params=draw(count),
        buffers=draw(count), macs=draw(count), flops=draw(count),
        flops_breakdown=draw(st.dictionaries(st.sampled_from(["conv", "bias", "%s"]), count,
                                             max_size=2)),
        receptive_field=rf, activation_bytes=draw(count), param_bytes=draw(count),
        warnings=draw(st.lists(_NAMES, max_size=2).map(tuple)),
        block=draw(st.none() | st.sampled_from(["b[0]", "b[1]"])))


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=12), st.integers(1, 5))
def test_json_rows_of_any_layers_are_their_dicts(rows: list[LayerReport], chunk: int) -> None:
    report = _with_layers(rows)
    for view in views.VIEWS.values():
        made = json_rows.LayerRows.of(report, view, 2)
        texts = [t for start in range(0, len(rows), chunk)
                 for t in made.texts(rows[start:start + chunk])]
        assert texts == _dict_rows(report, view)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.booleans(), st.integers(),
                                   st.floats(), st.text()), min_size=1, max_size=4),
                min_size=1, max_size=5), st.integers(0, 4))
def test_flat_lists_are_written_as_json_dumps_writes_them(values: list[list[Any]],
                                                          level: int) -> None:
    expected = [json.dumps(v, indent=2).replace("\n", "\n" + "  " * level) for v in values]
    assert text.flat_list_texts(values, level) == expected


def test_a_field_remembers_values_by_their_kind_not_only_their_equality() -> None:
    field = json_rows.FieldTexts(0)
    assert field.texts([1, True, 1.0, 2]) == \
        ["1", "true", "1.0", "2"]
    assert field.texts([[1], [1.0], [True], [1], [1.0]]) == [
        json.dumps(v, indent=2) for v in ([1], [1.0], [True], [1], [1.0])]
    assert field.texts([[1, 2], (1, 2), [], None]) == [
        json.dumps(v, indent=2) for v in ([1, 2], (1, 2), [], None)]


# -------------------------------------------------------------------- CSV
def test_csv_of_every_zoo_net_is_the_raw_cells(zoo_reports: list[Report]) -> None:
    for report in zoo_reports:
        for view in views.VIEWS.values():
            assert text.report_csv(report, view) == _raw_csv(report, view), report.name


@settings(max_examples=100, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=12))
def test_csv_of_any_layers_is_the_raw_cells(rows: list[LayerReport]) -> None:
    report = _with_layers(rows)
    with text.any_int_size():
        for view in views.VIEWS.values():
            assert text.report_csv(report, view) == _raw_csv(report, view)


# ------------------------------------------------------------------- grid
def _wide(report: Report) -> Report:
    """``report`` with a long id and one of wide characters (an API caller's ids)."""
    rows = list(report.layers)
    rows[1] = dataclasses.replace(rows[1], id="a_very_long_identifier_" * 3)
    rows[2] = dataclasses.replace(rows[2], id="界" * 12)
    return dataclasses.replace(report, layers=tuple(rows))


@pytest.mark.parametrize("width", [12, 30, 45, 60, 100, 160])
@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("view", ["summary", "shapes", "rf"])
def test_the_printed_grid_crops_as_rich_crops(width: int, colour: bool, view: str) -> None:
    """``LayerGrid.print`` crops its own lines (rich's pass skipped): the same text as
    rich cropping the grid printed as one renderable."""
    report = _wide(cnncalc.analyze(cnncalc.load("lenet5")))

    def console() -> Console:
        return Console(file=io.StringIO(), width=width, force_terminal=colour,
                       color_system="truecolor" if colour else None, legacy_windows=False)

    printed, whole = console(), console()
    table.layer_table(report, views.VIEWS[view]).print(printed)
    whole.print(table.layer_table(report, views.VIEWS[view]))
    assert printed.file.getvalue() == whole.file.getvalue()  # type: ignore[attr-defined]
    if colour:
        assert "\x1b[" in printed.file.getvalue()  # type: ignore[attr-defined]


def test_grid_cells_are_each_value_shown(zoo_reports: list[Report]) -> None:
    """The column-at-a-time cells are :func:`views.show` of each row's value."""
    for report in zoo_reports[::7]:
        for view in views.VIEWS.values():
            for exact in (False, True):
                grid = table.layer_table(report, view, exact)
                columns = grid.columns(0, len(report.layers))
                for j, col in enumerate(grid.cols[1:], 1):
                    assert columns[j] == [col.cell(row, report, exact) for row in report.layers]


# ---------------------------------------------------------------- console
@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from(" a\n\t"), max_size=8), max_size=5))
# explain's text has no spaces at its line ends, and is written as it is (a fast path)
@example(["no spaces\nat any\nline end\n"])
@example(["a  \nb\n", "c\n"])
@example(["a\nb \n"])
@example(["a\nb ", " \nc\n"])
@example(["a\n  ", "b\n"])
@example(["   \n\n x \n"])
@example(["lead\n", "  \n"])
@example(["a\nb", "c  "])
def test_rstrip_writer_drops_the_spaces_ending_every_line(pieces: list[str]) -> None:
    out = io.StringIO()
    writer = RStripWriter(out)
    for piece in pieces:
        writer.write(piece)
    writer.flush()
    whole = "".join(pieces)
    lines = whole.split("\n")
    last = lines.pop()
    expected = "".join(line.rstrip(" ") + "\n" for line in lines)
    expected += last if last.strip(" ") else ""
    assert out.getvalue() == expected


def test_a_piped_table_has_no_line_ending_in_a_space() -> None:
    out = io.StringIO()
    table.render_report(make_console(file=out), cnncalc.analyze(cnncalc.load("resnet18")),
                        views.VIEWS["summary"])
    assert not re.search(" $", out.getvalue(), re.MULTILINE)


# --------------------------------------------------------------- markdown
def _cell_table(report: Report, view: views.View, exact: bool) -> str:
    """The markdown table of ``view`` made a cell at a time, with ``markdown_table``."""
    cols = view.table_columns(report)
    rows = [[c.cell(layer, report, exact) for c in cols] for layer in report.layers]
    footer = [c.footer(report, exact) for c in cols]
    if any(footer):
        rows.append([f"**{view.footer_label if i == 0 else f}**" if f or i == 0 else ""
                     for i, f in enumerate(footer)])
    right = [c.kind in ("count", "bytes", "percent") for c in cols]
    return "\n\n" + text.markdown_table([c.header for c in cols], rows, right) + "\n"


def test_markdown_of_every_zoo_net_is_its_cells(zoo_reports: list[Report]) -> None:
    for report in zoo_reports:
        for view in views.VIEWS.values():
            for exact in (False, True):
                assert _cell_table(report, view, exact) in text.report_markdown(
                    report, view, exact), report.name


@settings(max_examples=60, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=8))
def test_markdown_of_any_layers_is_its_cells(rows: list[LayerReport]) -> None:
    report = _with_layers(rows)
    with text.any_int_size():
        for view in views.VIEWS.values():
            assert _cell_table(report, view, False) in text.report_markdown(report, view, False)
