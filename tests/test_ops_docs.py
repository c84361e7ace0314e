"""docs/ops.md is generated from the registry (``python -m cnncalc.ops.docs``): the
committed file must be what the ops say today."""

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


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "ops.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(docs, "DOC", stale)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == docs.render()


def test_the_command_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "cnncalc.ops.docs", "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
