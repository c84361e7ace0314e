"""Formats of ``cnncalc check`` (text, json, github, junit), and the progress bar of a
long check.

Everything a spec (or a file name) supplies is shown *visibly escaped*: a control
character, a lone surrogate or a bidirectional override becomes ``\\x1b``, ``\\udc80``,
``\\u202e`` (:func:`.safe.safe_text`), so a spec cannot move the cursor of a terminal, forge a
line of the report, or make the JUnit XML ill-formed.  Figures are exact integers of any
size: nothing here converts a figure to a float (a 400-digit count is shown exactly and as
``1.00e400``).

>>> from cnncalc.check import Outcome
>>> from cnncalc.spec.expect import parse_target
>>> describe(Outcome("params", parse_target(25557032), 11689512, False))
'params: expected 25,557,032, got 11,689,512 (11.69 M, -54.26%)'
>>> describe(Outcome("macs", parse_target({"max": "4.5G"}), 5_000_000_000, False))
'macs: expected at most 4.5G, got 5,000,000,000 (5.00 G)'
>>> safe_text("tiny\\x1b[31m"), human(10**400), signed_percent(Fraction(10**400 - 1), 1)
('tiny\\\\x1b[31m', '1.00e400', '+1.00e402%')
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.text import Text

from ..check import CheckRun, Outcome, Skip, SpecResult, internal_error
from ..errors import CnncalcError, Loc
from ..safe import safe_lines, safe_text
from ..spec.expect import Target
from ..units import (
    bracketed,
    grouped,
    grouped_exact,
    human,
    human_bytes,
    json_number,
    num,
    plural,
    signed_percent,
)
from .text import to_json

_STATUS_STYLE = {"pass": ("PASS ", "green"), "fail": ("FAIL ", "red bold"),
                 "error": ("ERROR", "magenta bold")}


# ----------------------------------------------------------------- messages
def _fig(value: Any, key: str) -> str:
    """``11,689,512 (11.69 M)``: exact, plus the humanised value when it helps."""
    if isinstance(value, tuple):
        return bracketed(value)
    if isinstance(value, (float, Fraction)) and Fraction(value).denominator != 1:
        return num(value)
    value = int(value)
    if key.endswith("bytes"):
        return grouped(value) + (f" ({human_bytes(value)})" if value >= 1024 else "")
    return grouped(value) + (f" ({human(value)})" if value >= 1000 else "")


def expected_text(expected: Target | tuple[int, ...]) -> str:
    """``at most 4.5G``, ``between 1M and 30M``, ``25.6M``, ``[1000]``."""
    if isinstance(expected, tuple):
        return bracketed(expected)
    if expected.exact is not None and expected.tol:
        low, high = expected.exact - expected.tol, expected.exact + expected.tol
        return f"{expected.written} ({grouped_exact(low)} to {grouped_exact(high)})"
    if expected.exact is not None:
        return expected.written
    lo, hi = expected.min, expected.max
    lo_s = expected.min_text or (num(lo) if lo is not None else "")
    hi_s = expected.max_text or (num(hi) if hi is not None else "")
    if lo is not None and hi is not None:
        return f"between {lo_s} and {hi_s}"
    return f"at least {lo_s}" if lo is not None else f"at most {hi_s}"


def _change(expected: Target | tuple[int, ...], actual: Any) -> str:
    if isinstance(expected, Target) and expected.exact and not isinstance(actual, tuple) \
            and actual != expected.exact:
        return f", {signed_percent(Fraction(actual) - expected.exact, expected.exact)}"
    return ""


def describe(o: Outcome) -> str:
    """One sentence for a failed (or passed) expectation or budget (not yet escaped)."""
    if o.actual is None:
        return f"{o.key}: expected {expected_text(o.expected)}, but the network has no " \
               "spatial receptive field here"
    got = _fig(o.actual, o.key)
    if o.source == "budget":
        verdict = "over" if not o.ok else "within"
        return f"{o.key}: {got} is {verdict} the budget {o.expected}"
    change = _change(o.expected, o.actual)
    if change and got.endswith(")"):
        got = got[:-1] + change + ")"
    elif change:
        got += f" ({change[2:]})"
    return f"{o.key}: expected {expected_text(o.expected)}, got {got}"


def _where(result: SpecResult, o: Outcome) -> str:
    return str(o.loc) if o.loc else result.file


def _error_lines(e: CnncalcError) -> list[str]:
    """:meth:`CnncalcError.format` by line: each part is escaped there (a newline in a
    spec's string cannot start a line of its own) and bounded (long messages cut, at most
    ``MAX_NOTES`` notes)."""
    return e.format().split("\n")


def located_warnings(r: SpecResult) -> list[tuple[Loc | None, str]]:
    """Each warning of a spec with the location of its layer: ``(loc, "layer: message")``."""
    if r.report is None:
        return []
    return [(row.loc, f"{row.id}: {w}") for row in r.report.layers for w in row.warnings]


def _warning_line(r: SpecResult, loc: Loc | None, text: str) -> str:
    return f"warning: {safe_text(loc or r.file)}: {safe_text(text)}"


# --------------------------------------------------------------------- text
def _spec_line(r: SpecResult) -> Text:
    word, style = _STATUS_STYLE[r.status]
    line = Text(word, style=style)
    line.append(f" {safe_text(r.file)}")
    if r.name:
        line.append(f" ({safe_text(r.name)})", style="dim")
    n = len(r.outcomes)
    if r.status == "fail":
        line.append(f": {len(r.failures)} of {n} expectations failed")
    elif r.status == "pass":
        line.append(f": {plural(n, 'expectation')} met" if n else
                    ": analysed; no expectations or budgets to check", style=None if n else "dim")
    if r.warnings:
        line.append(f" ({plural(len(r.warnings), 'warning')})", style="yellow")
    return line


def _spec_lines(r: SpecResult, verbose: bool) -> list[Text]:
    """A spec's line, then its failures (every outcome with ``verbose``), its error, and
    with ``verbose`` its warnings, located."""
    lines = [_spec_line(r)]
    for o in r.failures if not verbose else r.outcomes:
        mark = Text("  ")
        mark.append(f"{safe_text(_where(r, o))}: ", style="bold")
        mark.append(safe_text(describe(o)), style=None if o.ok else "red")
        lines.append(mark)
    if r.error is not None:
        for line in _error_lines(r.error):
            lines.append(Text("  " + line, style="magenta" if "error:" in line else "dim"))
    if verbose:
        lines += [Text("  " + _warning_line(r, loc, w), style="yellow")
                  for loc, w in located_warnings(r)]
    return lines


def _skip_line(s: Skip) -> str:
    return f"skipped {safe_text(s.file)}: {safe_text(s.reason)}"


def summary_line(run: CheckRun) -> str:
    """``3 specs: 1 passed, 1 failed, 1 invalid in 0.12 s``."""
    n = len(run.results)
    parts = [f"{run.count('pass')} passed", f"{run.count('fail')} failed",
             f"{run.count('error')} invalid"]
    k = len(run.skipped)
    skipped = f", {plural(k, 'file')} skipped (not specs)" if k else ""
    return f"{plural(n, 'spec')}: {', '.join(parts)}{skipped} in {run.seconds:.2f} s"


def render_text(run: CheckRun, console: Console, verbose: bool = False) -> None:
    """A line per spec (pytest-like), each failure or error under it, every file skipped
    (and why), then the total."""
    for r in run.results:
        for line in _spec_lines(r, verbose):
            console.print(line, soft_wrap=True)
    for s in run.skipped:
        console.print(Text(_skip_line(s), style="dim"), soft_wrap=True)
    _recap(run, console)
    style = "red bold" if run.exit_code(True) else "green bold"
    style = style if run.results else "yellow bold"
    console.print(Text(summary_line(run), style=style), soft_wrap=True)


def _recap(run: CheckRun, console: Console) -> None:
    """After many specs, the ones that did not pass again, as pytest's short summary."""
    bad = [r for r in run.results if r.status != "pass"]
    if not bad or len(run.results) < 10:
        return
    console.print(Text("not passed:", style="bold"), soft_wrap=True)
    for r in bad:
        what = (f"{len(r.failures)} failed" if r.status == "fail"
                else f"invalid: {r.error.message if r.error else ''}")
        console.print(Text(f"  {_STATUS_STYLE[r.status][0].strip()} {safe_text(r.file)} - "
                           f"{safe_text(what)}", style=_STATUS_STYLE[r.status][1]), soft_wrap=True)


def notices(run: CheckRun, allow_empty: bool) -> list[str]:
    """Warnings for stderr: empty folders, nothing checked."""
    out = [f"warning: no spec found in folder {safe_text(f)}" for f in run.empty]
    if not run.results:
        out.append("warning: no spec was checked" + (
            "" if allow_empty else " (exit 2: a gate that checks nothing is likely misconfigured; "
                                   "pass --allow-empty if that is expected)"))
    return out


# --------------------------------------------------------------------- json
def _target_dict(expected: Target | tuple[int, ...]) -> Any:
    if isinstance(expected, tuple):
        return list(expected)
    out: dict[str, Any] = {"written": expected.written}
    for key in ("exact", "min", "max"):
        value = getattr(expected, key)
        if value is not None:
            out[key] = json_number(value)
    if expected.tol:
        out["tolerance"] = json_number(expected.tol)
    return out


def _actual(actual: Any) -> Any:
    if isinstance(actual, tuple):
        return [json_number(v) for v in actual]
    return None if actual is None else json_number(actual)


def _outcome_dict(r: SpecResult, o: Outcome) -> dict[str, Any]:
    return {"key": o.key, "source": o.source, "ok": o.ok, "expected": _target_dict(o.expected),
            "actual": _actual(o.actual),
            "line": o.loc.line if o.loc else None, "col": o.loc.col if o.loc else None,
            "message": describe(o)}


def _error_dict(r: SpecResult) -> dict[str, Any] | None:
    e = r.error
    if e is None:
        return None
    return {"type": type(e).__name__, "message": e.message, "layer": e.layer,
            "line": e.loc.line if e.loc else None, "col": e.loc.col if e.loc else None,
            "notes": list(e.notes), "hints": list(e.hints), "text": e.format()}


def _spec_dict(r: SpecResult) -> dict[str, Any]:
    return {"file": r.file, "name": r.name, "status": r.status, "seconds": round(r.seconds, 6),
            "expectations": [_outcome_dict(r, o) for o in r.outcomes],
            "error": _error_dict(r), "warnings": list(r.warnings),
            "located_warnings": [{"line": loc.line if loc else None,
                                  "col": loc.col if loc else None, "message": w}
                                 for loc, w in located_warnings(r)],
            "totals": r.report.totals.to_dict() if r.report else None}


def run_dict(run: CheckRun, allow_empty: bool = False) -> dict[str, Any]:
    """``cnncalc check --format json``."""
    summary = {"specs": len(run.results), "passed": run.count("pass"), "failed": run.count("fail"),
               "invalid": run.count("error"), "skipped": len(run.skipped),
               "seconds": round(run.seconds, 6)}
    return {"summary": summary, "exit_code": run.exit_code(allow_empty),
            "specs": [_spec_dict(r) for r in run.results],
            "skipped": [s.file for s in run.skipped],
            "skipped_reasons": [{"file": s.file, "reason": s.reason} for s in run.skipped],
            "empty_folders": list(run.empty)}


def render_json(run: CheckRun, allow_empty: bool = False) -> str:
    return to_json(run_dict(run, allow_empty))


# ------------------------------------------------------------------- github
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, file: str, message: str, line: int | None = None,
               col: int | None = None, title: str = "cnncalc check") -> str:
    """A GitHub workflow command: ``::error file=f,line=3,col=5,title=...::message``.

    ``message`` may span lines (``%0A``); every part is escaped: ``%``, CR and LF
    everywhere, ``:`` and ``,`` in properties, control characters shown visibly."""
    props = [f"file={_gh_prop(safe_text(file))}"]
    if line is not None:
        props += [f"line={line}"] + ([f"col={col}"] if col is not None else [])
    props.append(f"title={_gh_prop(safe_text(title))}")
    body = "\n".join(safe_text(part) for part in message.split("\n"))
    return f"::{kind} {','.join(props)}::{_gh_data(body)}"


def _bare(error: CnncalcError) -> str:
    """An error's text without its location (the annotation carries it): its message, then
    a line per note and hint (each line's own newlines are escaped, not kept)."""
    who = f"{error.layer}: " if error.layer else ""
    parts = [f"{who}{error.message}", *(f"note: {n}" for n in error.notes),
             *(f"hint: {h}" for h in error.hints)]
    return "\n".join(safe_text(p) for p in parts)


def _gh_lines(r: SpecResult) -> list[str]:
    """A spec's annotations: an ``::error`` per failed expectation (at its line) or for an
    invalid spec (at the error), and a ``::warning`` per warning (at its layer)."""
    title = f"cnncalc check: {r.name or r.file}"
    lines = []
    for o in r.failures:
        file = o.loc.file if o.loc else r.path
        lines.append(annotation("error", file, safe_text(describe(o)),
                                o.loc.line if o.loc else None, o.loc.col if o.loc else None,
                                title))
    if r.error is not None:
        loc = r.error.loc
        lines.append(annotation("error", loc.file if loc else r.path, _bare(r.error),
                                loc.line if loc else None, loc.col if loc else None,
                                "cnncalc check: invalid spec"))
    for loc, w in located_warnings(r):
        lines.append(annotation("warning", loc.file if loc else r.path, safe_text(w),
                                loc.line if loc else None, loc.col if loc else None,
                                f"{title} (warning)"))
    return lines


def render_github(run: CheckRun, allow_empty: bool = False) -> str:
    """The annotations of every spec, a warning per folder without specs, a line per file
    skipped, and the total."""
    lines = [line for r in run.results for line in _gh_lines(r)]
    lines += [annotation("warning", f, "no spec found in this folder") for f in run.empty]
    lines += [_skip_line(s) for s in run.skipped]
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- junit
def _testcase(suite: ET.Element, r: SpecResult) -> None:
    case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=safe_text(r.file),
                         file=safe_text(r.path), time=f"{r.seconds:.6f}")
    if r.status == "fail":
        body = "\n".join(f"{safe_text(_where(r, o))}: {safe_text(describe(o))}" for o in r.failures)
        ET.SubElement(case, "failure", message=f"{len(r.failures)} of {len(r.outcomes)} "
                      "expectations failed", type="ExpectationFailed").text = body
    elif r.error is not None:
        ET.SubElement(case, "error", message=safe_text(r.error.message),
                      type=type(r.error).__name__).text = "\n".join(_error_lines(r.error))
    warnings = located_warnings(r)
    if warnings:
        ET.SubElement(case, "system-out").text = "\n".join(
            _warning_line(r, loc, w) for loc, w in warnings)


def _skipped_case(suite: ET.Element, s: Skip) -> None:
    case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=safe_text(s.file),
                         file=safe_text(s.file), time="0.000000")
    ET.SubElement(case, "skipped", message=safe_text(s.reason))


def _sanitise(root: ET.Element) -> None:
    """The last guard of well-formed XML: any text or attribute that still holds a
    character XML 1.0 forbids (a C0 control, a lone surrogate) is escaped visibly."""
    for el in root.iter():
        if el.text:
            el.text = safe_lines(el.text)
        for key, value in el.attrib.items():
            el.attrib[key] = safe_text(value)


def render_junit(run: CheckRun) -> str:
    """A JUnit XML report: one testcase per spec, failures listing every missed figure,
    and a skipped testcase per file passed over."""
    counts = {"tests": str(len(run.results) + len(run.skipped)),
              "failures": str(run.count("fail")), "errors": str(run.count("error")),
              "time": f"{run.seconds:.6f}"}
    root = ET.Element("testsuites", {"name": "cnncalc check", **counts})
    suite = ET.SubElement(root, "testsuite",
                          {"name": "cnncalc check", "skipped": str(len(run.skipped)), **counts})
    for r in run.results:
        _testcase(suite, r)
    for s in run.skipped:
        _skipped_case(suite, s)
    _sanitise(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------- every result reportable
def _probe(r: SpecResult) -> None:
    """Format ``r`` in every format (and throw the text away)."""
    _spec_lines(r, True)
    _spec_dict(r)
    _gh_lines(r)
    _testcase(ET.Element("testsuite"), r)


def settle(run: CheckRun) -> CheckRun:
    """The run, each result that cannot be formatted (a bug) replaced by an error verdict
    that says why: one file never stops the reports of the others, and the exit code
    counts it as invalid."""
    def reportable(r: SpecResult) -> SpecResult:
        try:
            _probe(r)
            return r
        except Exception as exc:  # noqa: BLE001 - one file never takes the run down
            return SpecResult(safe_text(r.file), error=internal_error(exc), seconds=r.seconds)
    return replace(run, results=tuple(reportable(r) for r in run.results))


# ----------------------------------------------------------------- progress
@contextlib.contextmanager
def progress(total: int, console: Console,
             enabled: bool) -> Iterator[Callable[[SpecResult | Skip], None]]:
    """A transient progress bar on ``console`` (stderr); yields the per-result callback."""
    if not enabled:
        yield lambda result: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.description}", style="dim", markup=False),
                   console=console, transient=True)
    with bar:
        task = bar.add_task("", total=total)
        yield lambda result: bar.update(task, advance=1 / getattr(result, "of", 1),
                                        description=safe_text(result.file))
