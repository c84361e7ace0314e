"""The corpus of bad specs: each file in tests/bad_specs/ says, on its first line, the
error it must produce, and this test holds the loader, the analysis and the CLI to it.

    # expect: exit=2 error=SpecError line=6 col=35 message="k must be > 0, got 0" also="..."

``message`` must appear in the formatted error, ``also`` (optional) too, e.g. a note
naming a block's call site or a "did you mean" hint.  The location is the file, line
and column of the first line of the error.  Nothing else may escape: no KeyError,
no TypeError, no RecursionError, no traceback on the command line.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc import errors

CORPUS = Path(__file__).parent / "bad_specs"
FILES = sorted(CORPUS.glob("*.yaml"))
CLI = Path(sys.executable).parent / "cnncalc"
_HEADER = re.compile(rb"^# expect: (.*)$", re.M)


def expectation(path: Path) -> dict[str, str]:
    """The ``key=value`` pairs of a corpus file's first line."""
    first = path.read_bytes().split(b"\n", 1)[0]
    m = _HEADER.match(first)
    assert m, f"{path.name}: the first line must be '# expect: ...'"
    return dict(pair.split("=", 1) for pair in shlex.split(m.group(1).decode()))


def _cli_available() -> bool:
    try:
        from typer.testing import CliRunner

        from cnncalc.cli import app
    except ImportError:
        return False
    return CliRunner().invoke(app, ["shapes", "lenet5"]).exit_code == 0


def test_corpus_is_large_and_every_header_parses() -> None:
    assert len(FILES) >= 50
    for path in FILES:
        want = expectation(path)
        assert {"exit", "error", "line", "col", "message"} <= set(want), path.name
        assert hasattr(errors, want["error"]), f"{path.name}: no error class {want['error']}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_spec_gives_its_located_error(path: Path) -> None:
    want = expectation(path)
    with pytest.raises(errors.CnncalcError) as info:
        cnncalc.analyze(cnncalc.load(path))
    err = info.value
    assert type(err).__name__ == want["error"], err.format()
    assert err.exit_code == int(want["exit"])
    assert err.loc is not None, err.format()
    assert (err.loc.file, err.loc.line, err.loc.col) == (str(path), int(want["line"]),
                                                         int(want["col"])), err.format()
    text = err.format()
    assert text.startswith(f"{path}:{want['line']}:{want['col']}: error: ")
    assert want["message"] in text
    if "also" in want:
        assert want["also"] in text.replace(str(path), path.name)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_spec_from_text_is_the_same_error(path: Path) -> None:
    """``cnncalc.loads`` (no file) reports the same message and line:col."""
    want = expectation(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: only bytes can carry it")
    with pytest.raises(errors.CnncalcError) as info:
        cnncalc.analyze(cnncalc.loads(text, name="spec.yaml"))
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == ("spec.yaml", int(want["line"]),
                                                         int(want["col"]))
    assert want["message"] in err.format()


@pytest.mark.skipif(not _cli_available(), reason="the CLI (cnncalc shapes) is not available yet")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_cli_prints_one_located_error_and_exits_2(path: Path) -> None:
    from typer.testing import CliRunner

    from cnncalc.cli import app

    want = expectation(path)
    result = CliRunner().invoke(app, ["shapes", str(path)])
    assert result.exit_code == int(want["exit"]), result.output
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{want['line']}:{want['col']}: error: ")
    assert want["message"] in result.stderr
    assert "Traceback" not in result.stderr


SAMPLE = ["k_zero", "invalid_utf8", "alias_bomb", "python_tag_apply", "block_error_inside"]


@pytest.mark.skipif(not CLI.exists() or not _cli_available(), reason="no cnncalc executable")
@pytest.mark.parametrize("stem", SAMPLE)
def test_cli_process_exit_code(stem: str) -> None:
    """A real process: the exit status and stderr a CI job sees."""
    path = CORPUS / f"{stem}.yaml"
    want = expectation(path)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([str(CLI), "shapes", str(path)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == int(want["exit"])
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{path}:{want['line']}:{want['col']}: error: ")
    assert want["message"] in proc.stderr
    assert "Traceback" not in proc.stderr


def _documented_examples() -> list[tuple[str, str]]:
    """(file stem, output) of each ``$ cnncalc shapes X.yaml`` example in docs/errors.md."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    found = re.findall(r"^\$ cnncalc shapes (\w+)\.yaml\n((?:(?!\$ |```).*\n)+)", doc, re.M)
    return [(stem, out.strip("\n")) for stem, out in found if (CORPUS / f"{stem}.yaml").exists()]


DOCUMENTED = _documented_examples()


def test_docs_show_examples() -> None:
    assert len(DOCUMENTED) >= 15


@pytest.mark.skipif(not _cli_available(), reason="the CLI (cnncalc shapes) is not available yet")
@pytest.mark.parametrize("stem, shown", DOCUMENTED, ids=[s for s, _ in DOCUMENTED])
def test_docs_errors_md_shows_real_output(stem: str, shown: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/errors.md copies real output: it must stay what the CLI prints."""
    from typer.testing import CliRunner

    from cnncalc.cli import app

    monkeypatch.chdir(CORPUS)
    result = CliRunner().invoke(app, ["shapes", f"{stem}.yaml"])
    assert result.stderr.strip("\n") == shown
