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
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc import units
from cnncalc.render import compare, listing, table, text, views
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


# ------------------------------------------------ numbers of any size (issue 11)
BEYOND_FLOAT = [10**309, 3 * 10**400 + 7, 10**5000 - 1, -(10**400)]


@pytest.mark.parametrize("n", BEYOND_FLOAT, ids=["1e309", "3e400", "1e5000-1", "-1e400"])
def test_humanised_figures_beyond_a_float(n: int) -> None:
    """No float is ever made of a figure: the mantissa is the integer's leading digits."""
    digits = units.int_text(abs(n))
    exponent = len(digits) - 1 + (digits.startswith("999"))  # 9.99..e4999 rounds to 1.00e5000
    shown = units.human(n)
    assert shown.endswith(f"e{exponent}") and shown.lstrip("-")[:4] in (
        f"{digits[0]}.{digits[1:3]}", "1.00"), shown
    assert units.human_bytes(n).endswith(" B") and "e" in units.human_bytes(n)
    assert units.human(n, exact=True).replace(",", "").lstrip("-")[:50] == \
        units.int_text(abs(n))[:50]
    assert units.ratio(n, 3).startswith(("x", "x-")) and units.percent(n, 2 * n) == "50.0%"


def test_scientific_notation_is_rounded_exactly() -> None:
    assert units.human(2_352_000_000_000_000_000_000) == "2.35e21"
    assert units.human(9_995 * 10**400) == "1.00e404"  # 9.995 rounds up, the exponent moves
    assert units.human(9_994 * 10**400) == "9.99e403"
    assert units.sci(10**400 // 3) == "3.33e399"
    assert units.human(10**15 - 1) == "1.00e15"  # not "1000.00 T"


def test_unit_is_promoted_when_rounding_reaches_it() -> None:
    assert units.human(999_999) == "1.00 M" and units.human(999_994) == "999.99 K"
    assert units.human_bytes(2**20 - 1) == "1.00 MiB"
    assert units.human_bytes(2**50 - 1) == "1.13e15 B"
    assert units.human(12_345) == "12.35 K"  # halves away from zero, as people round


def test_grouping_past_the_int_to_text_limit() -> None:
    n = 10**5000 + 123_456
    assert units.grouped(n).endswith(",123,456") and units.grouped(n).startswith("100,000,")
    assert len(units.int_text(n)) == 5001


def test_fractions_beyond_a_float() -> None:
    from fractions import Fraction

    assert units.num(Fraction(10**400, 3)) == "3.33e399"
    assert units.num(Fraction(31, 2)) == "15.5" and units.axes([Fraction(1, 3)] * 2) == "0.333333"
    assert units.significant(Fraction(10**400, 7)) == "1.42857e399"


def _huge(report: cnncalc.Report, factor: int) -> cnncalc.Report:
    from dataclasses import replace

    t = report.totals
    return replace(report, totals=replace(
        t, params=t.params * factor, trainable_params=t.trainable_params * factor,
        macs=t.macs * factor, flops=t.flops * factor, param_bytes=t.param_bytes * factor,
        activation_bytes=t.activation_bytes * factor,
        peak_activation_bytes=t.peak_activation_bytes * factor))


def test_compare_ratios_of_figures_beyond_a_float(lenet: cnncalc.Report) -> None:
    """Ratios are exact fractions: 10^400 x the figures is x1.00e400, in every format."""
    big = _huge(lenet, 10**400)
    names = compare.labels([lenet, big], ["a", "b"])
    assert "x1.00e400" in render(compare.compare_table([lenet, big], names))
    assert "x1.00e400" in compare.compare_markdown([lenet, big], names)
    data = json.loads(compare.compare_json([lenet, big], names, ["a", "b"]))
    assert data["columns"][1]["ratios"]["params"] == 10**400  # an int: no float holds it
    assert json.loads(compare.compare_json([big, lenet], names, ["b", "a"]))[
        "columns"][1]["ratios"]["params"] == pytest.approx(1e-400, abs=1e-300)
    assert "1e+400" in compare.compare_csv([lenet, big], names, ["a", "b"]) or \
        "1.00000e400" in compare.compare_csv([lenet, big], names, ["a", "b"])


def test_summary_tables_of_figures_beyond_a_float(lenet: cnncalc.Report) -> None:
    big = _huge(lenet, 10**400)
    out = render(table.report_renderable(big, views.VIEWS["summary"]))
    assert "params           6.08e404" in out and "MACs             3.28e405" in out
    assert "**6.08e404**" in text.report_markdown(big, views.VIEWS["params"], False)


# ------------------------------------------------ one parameter memory (issue 11)
def test_param_memory_is_the_same_figure_everywhere() -> None:
    """param memory = the parameters' bytes; buffers are counted and sized apart."""
    report = cnncalc.analyze(cnncalc.load("resnet18"))
    t = report.totals
    pm, bm = units.human_bytes(t.param_bytes), units.human_bytes(t.buffer_bytes)
    assert t.buffer_bytes > 0
    summary = render(table.report_renderable(report, views.VIEWS["summary"]))
    params = render(table.report_renderable(report, views.VIEWS["params"]))
    grid = render(compare.compare_table([report], compare.labels([report], ["r"])))
    for out in (summary, params, grid):
        assert re.search(rf"param memory\s+{re.escape(pm)}", out), out[-600:]
        assert re.search(rf"buffer memory\s+{re.escape(bm)}", out), out[-600:]
    assert units.human_bytes(t.param_bytes + t.buffer_bytes) not in summary


# ------------------------------------------------ control characters (issue 11)
EVIL = "net\x1b[31mRED\x07\r\u202eabc\x9b\x00"


def test_safe_text_escapes_every_control_character() -> None:
    from cnncalc.safe import safe_text

    shown = safe_text(EVIL)
    assert shown == "net\\x1b[31mRED\\x07\\x0d\\u202eabc\\x9b\\x00"
    assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in shown)
    assert safe_text("3×3 · résumé – ok") == "3×3 · résumé – ok"


def _raw_controls(out: str) -> list[str]:
    return [c for c in out if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f
            or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]


def test_renderers_show_a_specs_control_characters_escaped(lenet: cnncalc.Report) -> None:
    from dataclasses import replace

    evil = replace(lenet, name=EVIL)
    outs = [render(table.report_renderable(evil, views.VIEWS[v])) for v in views.VIEWS]
    outs += [text.report_markdown(evil, views.VIEWS["params"], False),
             render(compare.compare_table([evil, lenet], compare.labels([evil, lenet],
                                                                         ["a", "b"]))),
             compare.compare_markdown([evil], compare.labels([evil], ["a"])),
             render(listing.zoo_table([{"name": EVIL, "title": EVIL, "input_shape": [1],
                                        "output_shape": [1], "params": 1, "macs": 1}]))]
    for out in outs:
        assert _raw_controls(out) == [] and "\\x1b[31m" in out


def test_error_messages_show_control_characters_escaped() -> None:
    from cnncalc.errors import Loc, SpecError

    err = SpecError(f"bad {EVIL}", loc=Loc(f"f{EVIL}.yaml", 1, 2), layer=EVIL,
                    notes=(EVIL,), hints=(EVIL,))
    text_ = err.format()
    assert _raw_controls(text_) == [] and text_.count("\n") == 2


# ------------------------------------------- one place for number text (render/units)
def test_exact_numbers_of_any_size() -> None:
    """check, diff, tables and explain share these (they were copies in render/check)."""
    from fractions import Fraction

    n = 10**5000 + 1  # past Python's 4,300-digit int-to-str limit
    assert units.grouped(n).startswith("100,000,") and units.grouped(n).endswith(",001")
    assert units.human(n) == "1.00e5000" and units.human_bytes(n) == "1.00e5000 B"
    assert units.human(2_352_000_000_000_000_000_000) == "2.35e21"
    assert units.human(25_557_032) == "25.56 M"
    assert units.sci(Fraction(-10**400, 3)) == "-3.33e399"
    assert units.signed_percent(Fraction(10_108_160), 11_689_512, 1) == "+86.5%"
    assert units.signed_percent(Fraction(-1), 8, 2) == "-12.50%"
    assert units.signed_percent(Fraction(-1), 10**7) == "-0.00%"  # the sign survives rounding
    huge = Fraction(10**400 + 1, 2)
    assert units.num(huge) == "5.00e399" and units.num(Fraction(5, 2)) == "2.5"
    assert units.num(Fraction(1, 3)) == "0.333333"


@pytest.mark.parametrize(("value", "text"), [
    (Fraction(1, 1024), "0.0009765625"),    # exact, not %g's 0.000976562
    (Fraction(1234567, 2), "617283.5"),     # exact, not %g's 617284
    (Fraction(1, 30000), "0.0000333333"),   # six significant digits, no e-05
    (Fraction(-7, 3), "-2.33333"), (Fraction(2, 3) * 10**14, "66666700000000"),
    (Fraction(10**16, 3), "3.33e15"), (Fraction(-3, 2), "-1.5"), (12, "12"), (2.5, "2.5"),
])
def test_num_is_exact_without_floats(value: Fraction | int | float, text: str) -> None:
    assert units.num(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (2_345 * 10**18, "2.35e21"), (2_355 * 10**18, "2.36e21"), (-2_345 * 10**18, "-2.35e21"),
])
def test_sci_rounds_halves_away_from_zero(value: int, text: str) -> None:
    """One rounding rule for every figure (render/check's copy rounded halves to even)."""
    assert units.sci(value) == text and units.human(value) == text


@pytest.mark.parametrize(("x", "text"), [
    (Fraction(123445, 100), "1,234.45"), (Fraction(-49500), "-49,500"),
    (Fraction(1, 3), "0.333333"),
])
def test_grouped_exact(x: Fraction, text: str) -> None:
    assert units.grouped_exact(x) == text


def test_formula_text() -> None:
    assert units.formula_number(Fraction(3, 2)) == "3/2" and units.formula_number(10**5000) \
        .startswith("1000")
    assert units.result_text(1516) == "1,516" and units.result_text(Fraction(3, 2)) == "3/2"
    assert units.result_text("a note") == "a note" and units.result_text(0.5) == "0.5"
    assert units.operand(Fraction(-1, 2)) == "(-1/2)"
    assert units.window_formula(14, 5, 1, 1, 0, 0) == "floor((14 + 2*0 - 1*(5-1) - 1) / 1) + 1"
    assert units.window_formula(7, 3, 1, 2, 1, 1, ceil_mode=True, pair=True) == \
        "ceil((7 + (1+1) - 1*(3-1) - 1) / 2) + 1"
    assert units.letters("k", 2) == "k_h x k_w" and units.letters("k", 1) == "k"
    assert units.axis_names(2) == ("height", "width") and units.axis_unit("width") == "column"
    assert units.axis_unit("depth") == "position"


def test_shape_texts() -> None:
    assert units.dims((5, 5)) == "5x5" and units.dims(["2.5", "3"], " x ") == "2.5 x 3"
    assert units.bracketed((3, 224, 224)) == "[3, 224, 224]"
    assert units.bracketed((1, 6, 28, 28), ",") == "[1,6,28,28]"
    assert units.shape_str(()) == "[]" and units.shape_str((10**5000,)).startswith("1000")


@pytest.mark.parametrize(("x", "value"), [
    (Fraction(3), 3), (Fraction(5, 2), 2.5), (Fraction(10**400, 3), round(Fraction(10**400, 3))),
    (7, 7), (0.25, 0.25),
])
def test_json_number(x: Fraction | int | float, value: int | float) -> None:
    got = units.json_number(x)
    assert got == value and type(got) is type(value)


def test_json_real_is_a_float_while_one_holds_it() -> None:
    assert units.json_real(Fraction(3)) == 3.0 and isinstance(units.json_real(Fraction(3)), float)
    assert units.json_real(10**400) == 10**400
    assert units.ratio_number(None) is None and units.ratio_number(Fraction(1, 2)) == 0.5

