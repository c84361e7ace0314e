"""Small helpers shared by several test modules (imported as ``helpers``: pytest puts
tests/ on the path, as for ``reference_nets``)."""

from __future__ import annotations

from typing import Any

from cnncalc.check import evaluate
from cnncalc.report import Report


def expect_misses(report: Report, expect: Any) -> list[str]:
    """Each entry of an ``expect:`` mapping that ``report`` misses, as a sentence (empty:
    all hold), held by the library's own checker (:func:`cnncalc.check.evaluate`)."""
    return [f"{o.key}: expected {o.expected}, got {o.actual}"
            for o in evaluate(report, expect) if not o.ok]
