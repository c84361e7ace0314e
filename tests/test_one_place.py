"""Number, shape, axis and formula text is written in one module (units.py, whose
worked-arithmetic pieces are defined below the ops, in cnncalc/working.py) and
spec strings are escaped by one function (render/safe.safe_text): no other module of the
presentation path defines its own copy, and the ops and the analysis write shapes and axis
names with cnncalc/working.py's pieces too (the output-size formula of a shape error is
working.window_formula, the one explain writes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "cnncalc"
#: the presentation path: every renderer, the worked arithmetic, the report, check, diff, CLI
MODULES = sorted([*ROOT.glob("render/*.py"), *ROOT.glob("cli/*.py"),
                  ROOT / "explain.py", ROOT / "report.py", ROOT / "diff.py", ROOT / "check.py",
                  ROOT / "errors.py", ROOT / "solve.py"])
#: names of formatters that live in units.py (and, for escaping, safe.py)
FORMATTERS = {"grouped", "sci", "human", "human_bytes", "num", "fmt", "dims", "shape_str",
              "axis_names", "letters", "window_formula", "operand", "plain", "json_number",
              "percent_text", "signed_percent", "int_text", "fixed", "count", "axes",
              "visible", "safe_text", "_fmt", "_num", "_digits", "_axes",
              "_count", "_decimal", "_real", "_grouped_exact", "_axis_name"}
HOMES = {"units.py": FORMATTERS - {"safe_text", "visible"}, "safe.py": {"safe_text"}}


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_formatter_is_defined_twice(path: Path) -> None:
    allowed = HOMES.get(path.name, set()) if path.parent.name == "render" else set()
    copies = (_defined(path) & FORMATTERS) - allowed
    assert not copies, f"{path.relative_to(ROOT)} defines {sorted(copies)}: use render/units"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_escaping_and_axis_names_have_one_home(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name != "safe.py":
        assert "\\x00-\\x1f" not in text, "escape with render/safe.safe_text"
    if path.name != "units.py":
        assert '("height", "width")' not in text and '["height", "width"]' not in text, \
            "name axes with render/units.axis_names"


def test_render_modules_per_command() -> None:
    """One renderer module per command output (explain no longer renders solve, check no
    longer renders diff)."""
    explain, check = _defined(ROOT / "render/explain.py"), _defined(ROOT / "render/check.py")
    assert not explain & {"solve_pad_text", "candidates_text", "render_sizes"}
    assert not check & {"diff_table", "diff_markdown", "diff_json"}
    assert {"solve_pad_text", "candidates_text"} <= _defined(ROOT / "render/solve.py")
    assert {"diff_table", "diff_markdown", "diff_json"} <= _defined(ROOT / "render/diff.py")
    assert "render_sizes" in _defined(ROOT / "render/sizes.py")


#: below the presentation path: the ops, the graph and the analysis
CORE = sorted([*ROOT.glob("ops/*.py"), ROOT / "analysis.py", ROOT / "graph.py"])


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_writes_shapes_and_axes_with_working(path: Path) -> None:
    """A shape in a message is ``working.bracketed`` (``[3,224,224]``), an axis name
    ``working.axis_names``/``axis_unit``: no op keeps a copy of either."""
    text = path.read_text(encoding="utf-8")
    assert "join(map(str" not in text and '"[" + ' not in text, \
        f"{path.name}: write a shape with working.bracketed"
    assert '("height", "width")' not in text and '{"height": "row"' not in text, \
        f"{path.name}: name axes with working.axis_names / axis_unit"
    assert "_axis_name" not in _defined(path)
