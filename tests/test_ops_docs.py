"""docs/ops.md and the per-op table of docs/counting.md are generated from the registry
(``python -m cnncalc.ops.docs``): the committed files must be what the ops say today."""

from __future__ import annotations

import subprocess
import sys

from cnncalc.ops import REGISTRY, docs


def test_committed_ops_md_is_current() -> None:
    assert docs.DOC.read_text(encoding="utf-8") == docs.render(), (
        "docs/ops.md is stale: run `python -m cnncalc.ops.docs`")


def test_every_op_has_a_generated_section() -> None:
    text = docs.render()
    for name, cls in REGISTRY.items():
        section = docs.op_section(name)
        assert section in text
        assert all(f"**{fig}**: `{cls.formulas[fig]}`" in section for fig in docs.FIGURES)
        if cls.notes:
            assert cls.notes.strip() in section


def test_committed_counting_table_is_current() -> None:
    text = docs.COUNTING.read_text(encoding="utf-8")
    assert text == docs.with_counting_table(text), (
        "docs/counting.md's per-op table is stale: run `python -m cnncalc.ops.docs`")


def _rows() -> dict[str, list[str]]:
    """The generated table: first cell (the ops) -> the other cells."""
    rows = {}
    for line in docs.counting_table().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_counting_table_gives_every_op_its_own_formulas_once() -> None:
    seen = []
    for ops, cells in _rows().items():
        for name in ops.split(", "):
            cls = REGISTRY[name.strip("`")]
            assert cells == [f"`{cls.formulas[f]}`" for f in ("params", "macs", "flops")], name
            seen.append(name.strip("`"))
    assert sorted(seen) == sorted(REGISTRY)


def test_ops_with_the_same_formulas_share_a_row() -> None:
    rows = _rows()
    shared = next(ops for ops in rows if "`relu`" in ops)
    assert "`leaky_relu`" in shared and "`softmax`" not in shared
    assert len(rows) == len({tuple(cells) for cells in rows.values()})  # no two rows alike


def test_a_pipe_in_a_formula_keeps_its_cell(monkeypatch) -> None:
    cls = REGISTRY["zeropad"]
    monkeypatch.setattr(cls, "formulas", {**cls.formulas, "flops": "a | b"})
    row = next(line for line in docs.counting_table().splitlines() if "`zeropad`" in line)
    assert row.endswith("| `a \\| b` |")


def test_the_table_replaces_only_what_is_between_its_markers() -> None:
    doc = f"# head\n{docs.TABLE_START}\nold rows\n{docs.TABLE_END}\n## tail\n"
    new = docs.with_counting_table(doc)
    assert new.startswith(f"# head\n{docs.TABLE_START}\n\n| op |") and "old rows" not in new
    assert new.endswith(f"\n{docs.TABLE_END}\n## tail\n")
    assert docs.with_counting_table(new) == new


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch) -> None:
    stale, counting = tmp_path / "ops.md", tmp_path / "counting.md"
    stale.write_text("# old\n", encoding="utf-8")
    counting.write_text(f"# c\n{docs.TABLE_START}\n| old |\n{docs.TABLE_END}\n",
                        encoding="utf-8")
    monkeypatch.setattr(docs, "DOC", stale)
    monkeypatch.setattr(docs, "COUNTING", counting)
    assert docs.main(["--check"]) == 1
    stale.write_text(docs.render(), encoding="utf-8")
    assert docs.main(["--check"]) == 1  # the counting table is still stale
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == docs.render()
    assert "| old |" not in counting.read_text(encoding="utf-8")


def test_the_command_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "cnncalc.ops.docs", "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
