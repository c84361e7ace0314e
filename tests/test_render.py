"""Golden renders at a fixed console width of 100, and the number formatting.

Regenerate the files under tests/golden/ after an intended change with
``CNNCALC_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render.py`` and review the diff.
The figures inside them have oracles elsewhere (LeNet-5's per-layer parameters are the
paper's, checked by the analysis tests); here the layout is under test.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.render import compare, listing, table, text, units, views
from cnncalc.render.console import RStripWriter, make_console, rstrip_lines

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"


def render(renderable: Any) -> str:
    """What a 100-column, colourless terminal shows."""
    from rich.console import Console

    console = Console(width=100, color_system=None, record=True, file=io.StringIO(),
                      legacy_windows=False)
    console.print(renderable)
    return rstrip_lines(console.export_text())


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} is missing; run with CNNCALC_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual)
        return
    expected = path.read_text()
    assert actual == expected, f"{name} differs from the golden file (CNNCALC_UPDATE_GOLDEN=1 " \
                               "regenerates it)"


@pytest.fixture(scope="module")
def lenet() -> cnncalc.Report:
    return cnncalc.analyze(cnncalc.load("lenet5"))


@pytest.fixture(scope="module")
def tiny() -> cnncalc.Report:
    return cnncalc.analyze(cnncalc.load(GOLDEN / "tiny_resnet.yaml"))


# ----------------------------------------------------------------- golden tables
@pytest.mark.parametrize("view", ["shapes", "params", "flops", "rf", "summary"])
def test_lenet5_tables(lenet: cnncalc.Report, view: str) -> None:
    out = render(table.report_renderable(lenet, views.VIEWS[view]))
    check_golden(f"lenet5_{view}.txt", out)
    assert all(len(line) <= 100 for line in out.splitlines())


def test_block_rows_are_indented_and_separated(tiny: cnncalc.Report) -> None:
    out = render(table.layer_table(tiny, views.VIEWS["summary"]))
    check_golden("tiny_resnet_summary.txt", out)
    lines = out.splitlines()
    member = next(line for line in lines if "stage1[0].a " in line)
    shorthand = next(line for line in lines if "stage1[0].a.bn" in line)
    top = next(line for line in lines if line.lstrip().startswith("stem "))
    indent = [len(s) - len(s.lstrip()) for s in (top, member, shorthand)]
    assert indent[0] < indent[1] < indent[2]
    # a blank separator line between block instances
    first = lines.index(next(line for line in lines if "stage1[1].a " in line))
    assert lines[first - 1].strip() == ""


@pytest.mark.parametrize("width", [40, 70, 100, 160])
def test_styled_grid_shows_the_same_text_as_the_plain_one(tiny: cnncalc.Report, width: int) -> None:
    """A colour terminal gets the grid as styled segments, a pipe as one plain segment:
    with the escape codes stripped, both must show the same text."""
    import re

    from rich.console import Console

    grid = table.layer_table(tiny, views.VIEWS["summary"])
    colour = Console(width=width, color_system="truecolor", force_terminal=True,
                     file=io.StringIO(), legacy_windows=False)
    colour.print(grid)
    styled = colour.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[36m" in styled and "\x1b[2m" in styled  # op column cyan, shorthand dim
    plain = Console(width=width, color_system=None, file=io.StringIO(), legacy_windows=False)
    plain.print(grid)
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", styled)
    assert rstrip_lines(stripped) == rstrip_lines(plain.file.getvalue())  # type: ignore[attr-defined]


def test_lenet5_exact(lenet: cnncalc.Report) -> None:
    out = render(table.layer_table(lenet, views.VIEWS["params"], exact=True))
    assert "48,120" in out and "60,840" in out
    human = render(table.layer_table(lenet, views.VIEWS["params"]))
    assert "48.12 K" in human and "60.84 K" in human


def test_compare_sweep_golden() -> None:
    net = cnncalc.load("lenet5")
    reports = [cnncalc.analyze(net, (1, 32, 32)), cnncalc.analyze(net, (1, 64, 64))]
    names = compare.labels(reports, ["lenet5", "lenet5"])
    assert names == ["LeNet-5 @1x32x32", "LeNet-5 @1x64x64"]
    check_golden("compare_lenet5_sweep.txt", render(compare.compare_table(reports, names)))
    check_golden("compare_lenet5_sweep.md", compare.compare_markdown(reports, names))


def test_op_detail_golden() -> None:
    info = {"name": "demo", "family": "conv", "summary": "a demo op", "arity": [1, 1],
            "formulas": {"shape": "floor((n - k)/s) + 1"},
            "args": [{"name": "k", "type": "int > 0 | list[int > 0]", "default": None,
                      "required": True},
                     {"name": "stride", "type": "int > 0", "default": 1, "required": False}]}
    out = render(listing.op_detail(info))
    check_golden("op_detail_demo.txt", out)
    assert "list[int > 0]" in out  # brackets are text, not console markup


# ----------------------------------------------------------------- text writers
def test_markdown_golden(lenet: cnncalc.Report) -> None:
    check_golden("lenet5_params.md", text.report_markdown(lenet, views.VIEWS["params"], False))


def test_csv_golden(tiny: cnncalc.Report) -> None:
    check_golden("tiny_resnet_summary.csv", text.report_csv(tiny, views.VIEWS["summary"]))


def test_csv_is_one_row_per_layer_with_exact_numbers(lenet: cnncalc.Report) -> None:
    import csv

    rows = list(csv.DictReader(io.StringIO(text.report_csv(lenet, views.VIEWS["summary"]))))
    assert [r["id"] for r in rows] == [layer.id for layer in lenet.layers]
    c3 = next(r for r in rows if r["id"] == "C3")
    assert (c3["params"], c3["output_shape"], c3["rf_size"]) == ("1516", "16x10x10", "14;14")


def test_summary_json_is_the_report_dict(lenet: cnncalc.Report) -> None:
    assert json.loads(text.report_json(lenet, views.VIEWS["summary"])) == lenet.to_dict()


@pytest.mark.parametrize("view", ["shapes", "params", "flops", "rf"])
def test_json_subsets_keep_their_fields(lenet: cnncalc.Report, view: str) -> None:
    data = json.loads(text.report_json(lenet, views.VIEWS[view]))
    full = lenet.to_dict()
    assert {k: data[k] for k in views.HEADER_FIELDS} == {k: full[k] for k in views.HEADER_FIELDS}
    assert len(data["layers"]) == len(full["layers"])
    for got, ref in zip(data["layers"], full["layers"]):
        assert got == {k: ref[k] for k in views.VIEWS[view].layer_fields}


def test_markdown_escapes_pipes() -> None:
    md = text.markdown_table(["a"], [["x|y"]])
    assert md.splitlines()[-1] == "| x\\|y |"


# ----------------------------------------------------------------- units
@pytest.mark.parametrize(("n", "exact", "expected"), [
    (0, False, "0"), (999, False, "999"), (1000, False, "1.00 K"), (25_557_032, False, "25.56 M"),
    (4_089_184_256, False, "4.09 G"), (25_557_032, True, "25,557,032"),
    (2 * 10**12, False, "2.00 T"),
])
def test_human(n: int, exact: bool, expected: str) -> None:
    assert units.human(n, exact) == expected


def test_human_bytes() -> None:
    assert units.human_bytes(1023) == "1,023 B"
    assert units.human_bytes(1024) == "1.00 KiB"
    assert units.human_bytes(102_228_128) == "97.49 MiB"
    assert units.human_bytes(3 * 2**30, exact=True) == "3,221,225,472 B"


@pytest.mark.parametrize(("textual", "shape"), [
    ("3x224x224", (3, 224, 224)), ("3X224X224", (3, 224, 224)), ("[3, 32, 32]", (3, 32, 32)),
    ("3,32,32", (3, 32, 32)), ("224", (224,)), ("3×8×8", (3, 8, 8)),
])
def test_parse_shape(textual: str, shape: tuple[int, ...]) -> None:
    assert units.parse_shape(textual) == shape


@pytest.mark.parametrize("bad", ["", "3x", "axb", "3x-1", "1.5x2"])
def test_parse_shape_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        units.parse_shape(bad)


def test_axes_and_ratio() -> None:
    from fractions import Fraction

    assert units.axes([Fraction(5, 2), Fraction(5, 2)]) == "2.5"
    assert units.axes([5, 3]) == "5x3"
    assert units.ratio(9, 4) == "x2.25"
    assert units.ratio(1, 0) == "-"


# ----------------------------------------------------------------- console
def test_rstrip_writer_drops_trailing_spaces() -> None:
    buf = io.StringIO()
    w = RStripWriter(buf)
    w.write("a   \nb")
    w.write("  \nc ")
    w.flush()
    assert buf.getvalue() == "a\nb\nc "


def test_console_no_color_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert make_console(no_color=True, file=io.StringIO()).no_color
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_console(file=io.StringIO()).no_color
