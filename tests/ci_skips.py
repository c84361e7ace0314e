"""In CI, a test that skips because torch, the peers, matplotlib or another dependency is
missing is a failure, not a green run.

The oracles of this suite (torch's parameter counts and shapes, the peer tools' counts,
the plots) skip on a machine without the extras, so a CI run whose install step lost
torch would pass while checking nothing of that.  With ``CI`` set (``CI=true``, as CI
runs ``.ci/run``), :func:`pytest_runtest_makereport` and
:func:`pytest_make_collect_report` turn such a skip into a failure that says what is
missing.  A skip is refused when

* it is ``pytest.importorskip`` of a module that CI installs (:data:`CI_MODULES`: the
  core's, torch, the peer tools, torchvision, matplotlib, onnx, the dev tools): an install
  step is wrong, or
* its reason names one of them (:data:`CI_WORDS`: ``torch``, ``PyTorch``, ``torchvision``,
  ``fvcore``, ``matplotlib``, ``the peers extra``, ``cnncalc[plot]``, ...),

unless its reason is one of :data:`GENUINELY_UNAVAILABLE`: what no CI machine here has
(a GPU, Graphviz's ``dot``) stays a skip.  Any other skip (a parametrised case that does
not apply, say) is left alone.  The hooks are imported by tests/conftest.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from typing import Any

import pytest

#: values of ``CI`` that mean "this is a CI run" (GitHub and most services set ``true``)
CI_VALUES = frozenset({"1", "true", "yes"})

#: the modules CI installs (``.ci/run``: the core, and the torch, dev, plot, onnx and
#: peers extras): an ``importorskip`` of one of them is refused
CI_MODULES = frozenset({"typer", "rich", "pydantic", "yaml", "torch", "onnx", "onnxscript",
                        "pytest", "hypothesis", "jsonschema", "matplotlib", "torchinfo",
                        "thop", "ptflops", "fvcore", "torchvision"})

#: words in a skip's reason that name something CI installs (case-insensitive, whole
#: words: ``cnncalc.pytorch``, ``PyTorch`` and ``torchvision``, the zoo's oracle, count)
CI_WORDS = ("torch", "pytorch", "torchvision", "torchinfo", "thop", "ptflops", "fvcore",
            "matplotlib", "onnx", "onnxscript", "jsonschema", "hypothesis", "peers extra",
            "plot extra", "cnncalc[torch]", "cnncalc[peers]", "cnncalc[plot]", "cnncalc[onnx]")

#: skips for what CI genuinely cannot have: these stay skips (what, a pattern of reasons)
GENUINELY_UNAVAILABLE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a GPU (CUDA, ROCm, MPS)", re.compile(r"\b(gpus?|cuda|rocm|mps|accelerators?)\b", re.I)),
    ("Graphviz's dot", re.compile(
        r"graphviz|`dot`|\bdot\b.{0,20}\b(not|missing|unavailable)\b|\bno dot\b", re.I)),
)

_IMPORT_SKIP = re.compile(r"could not import '([^']+)'")
_NEEDS = re.compile("|".join(rf"(?<![a-z]){re.escape(word)}(?![a-z])" for word in CI_WORDS),
                    re.I)


def in_ci() -> bool:
    """Whether the ``CI`` environment variable says this is a CI run."""
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def refused_in_ci(reason: str) -> str | None:
    """Why a skip with ``reason`` may not pass in CI, or None when it may."""
    if any(pattern.search(reason) for _, pattern in GENUINELY_UNAVAILABLE):
        return None
    imported = _IMPORT_SKIP.search(reason)
    if imported and imported.group(1).partition(".")[0] in CI_MODULES:
        return f"the module {imported.group(1)!r} does not import"
    needed = _NEEDS.search(reason)
    if needed:
        return f"it needs {needed.group(0)}, which CI installs"
    return None


def skip_reason(longrepr: Any) -> str:
    """The reason of a skip report (pytest keeps it as ``(path, line, "Skipped: ...")``)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failed(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a refused skip into a failure that says why."""
    reason = skip_reason(report.longrepr)
    why = refused_in_ci(reason)
    if why is None:
        return
    where = report.longrepr[:2] if isinstance(report.longrepr, tuple) else ("?", "?")
    report.outcome = "failed"
    report.longrepr = (f"skipped in CI, which is a failure here: {why}\n"
                       f"  the skip: {reason} ({where[0]}:{where[1]})\n"
                       "  CI=true must run the torch, peers and plot oracles; install "
                       "what .ci/run installs (a skip for a GPU or Graphviz's dot stays a "
                       "skip: tests/ci_skips.py)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        _failed(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and in_ci():  # a module-level importorskip
        _failed(report)
