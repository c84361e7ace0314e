"""Making rich consoles: data to stdout, messages to stderr, colour rules in one place.

Colour is off with ``--no-color``, with the ``NO_COLOR`` environment variable (rich
honours it) and when the stream is not a terminal.  When stdout is a pipe or a file,
tables are laid out for ``COLUMNS`` (when set) or 160 columns, not rich's default 80,
so that a wide summary written to a file is not squeezed.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, cast

from rich.console import Console

PIPE_WIDTH = 160


class CliConsole(Console):
    """A console that lets a broken pipe propagate (rich would exit 1 on its own);
    the CLI's error handler turns it into a quiet exit."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def make_console(no_color: bool = False, stderr: bool = False,
                 file: IO[str] | None = None, width: int | None = None) -> Console:
    """A console on stdout (or stderr) for the current ``sys.stdout``/``sys.stderr``."""
    stream: IO[str] = file or (sys.stderr if stderr else sys.stdout)
    if not _isatty(stream):
        if width is None and "COLUMNS" not in os.environ:
            width = PIPE_WIDTH
        # rich writes through write/flush and asks isatty; the rest is passed through
        stream = cast("IO[str]", RStripWriter(stream))
    return CliConsole(file=stream, no_color=no_color or None, width=width,
                   highlight=False, soft_wrap=False, emoji=False,
                   color_system=None if no_color else "auto")


class RStripWriter:
    """A text stream wrapper that drops trailing spaces of each line (rich pads every
    line of a table to the table's width, which clutters files and diffs)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        head, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:  # the spaces before each line end go, in one pass over the text
            if " \n" in head or head.endswith(" "):  # (a text without any is as it is: the
                head = _LINE_END_SPACES.sub("", head)  # regex tries every space, 2 s a 50 MB)
            self._stream.write(head + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending.strip(" "):
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


#: the spaces that end a line (before a line break or the end of the text)
_LINE_END_SPACES = re.compile(" +$", re.MULTILINE)


def rstrip_lines(text: str) -> str:
    """``text`` without trailing spaces on any line (for recorded renders)."""
    return _LINE_END_SPACES.sub("", text)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
