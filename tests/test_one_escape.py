"""One escaping function (render/safe.safe_text) for every output for people: the
tables' copy and check's ``visible`` escaped different sets (check left the bidi marks
U+200E/U+200F and U+061C raw; the tables left lone surrogates and U+FFFE/U+FFFF raw)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.safe import safe_lines, safe_text

runner = CliRunner()

#: one member of each class that must never reach a terminal, a CI log or XML raw
UNSAFE = ["\x00", "\x07", "\x1b", "\r", "\n", "\t", "\x7f", "\x85", "\x9b", "\u061c",
          "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069",
          "\ud800", "\udc80", "\udfff", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", UNSAFE)
def test_every_unsafe_character_is_escaped(char: str) -> None:
    shown = safe_text(f"a{char}b")
    assert char not in shown and shown == f"a\\{'x' if ord(char) < 256 else 'u'}" \
        f"{ord(char):0{2 if ord(char) < 256 else 4}x}b"


@pytest.mark.parametrize("text", ["résumé · 3×3", "层 conv", "x²", "\u00a0nbsp", "emoji 🙂"])
def test_printable_text_is_kept(text: str) -> None:
    assert safe_text(text) == text


def test_safe_text_takes_any_object_and_safe_lines_keeps_breaks() -> None:
    assert safe_text(3) == "3" and safe_text(None) == "None"
    assert safe_lines("a\u202e\nb\x1b") == "a\\u202e\nb\\x1b"


def test_check_has_no_escaping_of_its_own() -> None:
    import cnncalc.render.check as check

    assert not hasattr(check, "visible") and not hasattr(check, "_UNSAFE")


SPEC = ('cnncalc: 1\nname: "net\\u200f\\u061c\\u200e\\e[2J"\ninput: [1, 8, 8]\n'
        "layers:\n  - {id: c, op: conv, out: 2, k: 3}\n")
RAW = ("\u200f", "\u061c", "\u200e", "\x1b")


@pytest.mark.parametrize("args", [
    ("summary",), ("params", "-f", "markdown"), ("check",), ("check", "-f", "github"),
    ("check", "-f", "junit"), ("check", "-v"), ("explain",), ("diff", "lenet5"),
    ("diff", "lenet5", "-f", "markdown"), ("graph", "-f", "dot"), ("graph",),
    ("explain", "-f", "markdown"), ("compare", "lenet5"), ("compare", "lenet5", "-f", "markdown"),
    ("shapes",), ("flops",), ("rf",), ("sizes", "--range", "8:10"),
])
def test_no_command_prints_a_bidi_mark_or_control_raw(args: tuple[str, ...],
                                                      tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = runner.invoke(app, [args[0], str(spec), *args[1:]])
    assert result.exit_code in (0, 1), result.output
    assert not any(c in result.stdout for c in RAW), (args, result.stdout)


def test_check_prints_an_error_as_the_cli_does_bounded() -> None:
    """check's text and JUnit formats write an invalid spec's error with
    CnncalcError.format (once a copy that neither cut a long message nor capped notes)."""
    from cnncalc.errors import MAX_MESSAGE_CHARS, MAX_NOTES, Loc, SpecError
    from cnncalc.render.check import _error_lines

    e = SpecError("m" * (3 * MAX_MESSAGE_CHARS) + "\x1b", notes=tuple(f"n{i}\n" for i in
                                                                   range(3 * MAX_NOTES)),
                  hints=("h\u202e",)).located(Loc("a\x1b.yaml", 2, 3), layer="c\r")
    lines = _error_lines(e)
    assert lines == e.format().split("\n")
    assert lines[0].startswith("a\\x1b.yaml:2:3: error: c\\x0d: ") and "characters cut" in lines[0]
    assert len(lines) <= 2 + 2 * MAX_NOTES and lines[-1] == "  hint: h\\u202e"
    assert not any(c in "".join(lines) for c in "\x1b\r\u202e")
