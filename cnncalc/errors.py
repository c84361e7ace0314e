"""One error root for the whole project, with an optional source location.

Inner code raises the bare fact (``k must be > 0, got 0``); outer code adds the
location, the layer path and notes with :meth:`CnncalcError.located`.  Only the CLI
catches these, prints :meth:`CnncalcError.format` and exits with ``exit_code``.

>>> e = SpecError("k must be > 0, got 0").located(Loc("net.yaml", 6, 24), layer="S2")
>>> e.format()
'net.yaml:6:24: error: S2: k must be > 0, got 0'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the longest message :meth:`CnncalcError.format` prints (cut in the middle beyond)
MAX_MESSAGE_CHARS = 2000
#: the most notes :meth:`CnncalcError.format` prints (the first and last halves)
MAX_NOTES = 12


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ... ({len(text) - 2 * half:,} characters cut) ... {text[-half:]}"


@dataclass(frozen=True)
class Loc:
    """A position in a source file, 1-based like editors and compilers show it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class CnncalcError(Exception):
    """Root of every error cnncalc raises on purpose."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        loc: Loc | None = None,
        layer: str | None = None,
        notes: tuple[str, ...] = (),
        hints: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.layer = layer
        self.notes = tuple(notes)
        self.hints = tuple(hints)

    def located(
        self,
        loc: Loc | None = None,
        *,
        layer: str | None = None,
        notes: tuple[str, ...] = (),
        hints: tuple[str, ...] = (),
    ) -> CnncalcError:
        """Fill in what is not known yet (inner facts win) and return self."""
        if self.loc is None:
            self.loc = loc
        if self.layer is None:
            self.layer = layer
        self.notes = self.notes + tuple(n for n in notes if n not in self.notes)
        self.hints = self.hints + tuple(h for h in hints if h not in self.hints)
        return self

    def format(self) -> str:
        """The user-facing text: ``file:line:col: error: layer: message`` + notes.

        Bounded whatever the input: a message is cut to :data:`MAX_MESSAGE_CHARS`, and at
        most :data:`MAX_NOTES` notes (the innermost and the outermost) are shown; a spec's
        control characters are shown escaped."""
        from .safe import safe_text as safe

        head = f"{safe(str(self.loc))}: " if self.loc else ""
        who = f"{safe(_cut(self.layer, 1200))}: " if self.layer else ""
        lines = [f"{head}error: {who}{safe(_cut(self.message, MAX_MESSAGE_CHARS))}"]
        notes = [_cut(n, 1000) for n in self.notes]
        if len(notes) > MAX_NOTES:
            keep = MAX_NOTES // 2
            notes = [*notes[:keep], f"... ({len(notes) - 2 * keep:,} more)", *notes[-keep:]]
        lines += [f"  note: {safe(n)}" for n in notes]
        lines += [f"  hint: {safe(_cut(h, 1000))}" for h in self.hints[:MAX_NOTES]]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class SpecError(CnncalcError):
    """The spec is not valid: YAML, schema, wiring, expressions, arguments."""


class ShapeError(CnncalcError):
    """Shapes do not work out: empty outputs, mismatched merges, bad groups.

    ``arg`` names the op argument the shapes disagree with (``k`` for a kernel larger than
    the padded input): the analysis then locates the error at that argument's value in the
    spec (``Node.arg_locs``) instead of at the layer."""

    def __init__(self, message: str, *, arg: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.arg = arg


class LimitError(SpecError):
    """The input exceeds a documented resource limit (size, depth, expansion)."""


class UsageError(CnncalcError):
    """The command line is wrong (bad --input, unknown zoo name, ...)."""


class CheckFailed(CnncalcError):
    """An expectation or budget did not hold (exit 1)."""

    exit_code = 1


class EnvironmentUnavailable(CnncalcError):
    """The machine cannot do it: torch missing, no such device (exit 3)."""

    exit_code = 3
