"""Formats of ``cnncalc check`` (text, json, github, junit) and ``cnncalc diff`` (table,
markdown, json), and the progress bar of a long check.

>>> from cnncalc.check import Outcome
>>> from cnncalc.spec.expect import parse_target
>>> describe(Outcome("params", parse_target(25557032), 11689512, False))
'params: expected 25,557,032, got 11,689,512 (11.69 M, -54.26%)'
>>> describe(Outcome("macs", parse_target({"max": "4.5G"}), 5_000_000_000, False))
'macs: expected at most 4.5G, got 5,000,000,000 (5.00 G)'
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from fractions import Fraction
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..check import CheckRun, Outcome, SpecResult
from ..diff import LayerChange, ReportDiff
from ..report import plain
from ..spec.expect import Target
from . import units
from .text import markdown_table, to_json

_STATUS_STYLE = {"pass": ("PASS ", "green"), "fail": ("FAIL ", "red bold"),
                 "error": ("ERROR", "magenta bold")}


# ----------------------------------------------------------------- messages
def _fig(value: Any, key: str) -> str:
    """``11,689,512 (11.69 M)``: exact, plus the humanised value when it helps."""
    if isinstance(value, tuple):
        return "[" + ", ".join(units.num(v) for v in value) + "]"
    if isinstance(value, float) and not value.is_integer():
        return units.num(value)
    value = int(value)
    if key.endswith("bytes"):
        return f"{value:,}" + (f" ({units.human_bytes(value)})" if value >= 1024 else "")
    return f"{value:,}" + (f" ({units.human(value)})" if value >= 1000 else "")


def _num(x: Fraction | None) -> str:
    return units.num(plain(x)) if x is not None else ""


def expected_text(expected: Target | tuple[int, ...]) -> str:
    """``at most 4.5G``, ``between 1M and 30M``, ``25.6M``, ``[1000]``."""
    if isinstance(expected, tuple):
        return "[" + ", ".join(map(str, expected)) + "]"
    if expected.exact is not None and expected.tol:
        lo, hi = (plain(expected.exact - expected.tol), plain(expected.exact + expected.tol))
        return f"{expected.written} ({lo:,} to {hi:,})"
    if expected.exact is not None:
        return expected.written
    lo, hi = expected.min, expected.max
    lo_s, hi_s = expected.min_text or _num(lo), expected.max_text or _num(hi)
    if lo is not None and hi is not None:
        return f"between {lo_s} and {hi_s}"
    return f"at least {lo_s}" if lo is not None else f"at most {hi_s}"


def _change(expected: Target | tuple[int, ...], actual: Any) -> str:
    if isinstance(expected, Target) and expected.exact and not isinstance(actual, tuple) \
            and actual != expected.exact:
        pct = 100 * (Fraction(actual) - expected.exact) / expected.exact
        return f", {float(pct):+.2f}%"
    return ""


def describe(o: Outcome) -> str:
    """One sentence for a failed (or passed) expectation or budget."""
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


# --------------------------------------------------------------------- text
def _spec_line(r: SpecResult) -> Text:
    word, style = _STATUS_STYLE[r.status]
    line = Text(word, style=style)
    line.append(f" {r.file}")
    if r.name:
        line.append(f" ({r.name})", style="dim")
    n = len(r.outcomes)
    if r.status == "fail":
        line.append(f": {len(r.failures)} of {n} expectations failed")
    elif r.status == "pass":
        line.append(f": {n} expectation{'s' * (n != 1)} met" if n else
                    ": analysed; no expectations or budgets to check", style=None if n else "dim")
    if r.warnings:
        line.append(f" ({len(r.warnings)} warning{'s' * (len(r.warnings) != 1)})", style="yellow")
    return line


def summary_line(run: CheckRun) -> str:
    """``3 specs: 1 passed, 1 failed, 1 invalid in 0.12 s``."""
    n = len(run.results)
    parts = [f"{run.count('pass')} passed", f"{run.count('fail')} failed",
             f"{run.count('error')} invalid"]
    skipped = f", {len(run.skipped)} non-spec YAML skipped" if run.skipped else ""
    return f"{n} spec{'s' * (n != 1)}: {', '.join(parts)}{skipped} in {run.seconds:.2f} s"


def render_text(run: CheckRun, console: Console, verbose: bool = False) -> None:
    """A line per spec (pytest-like), each failure or error under it, then the total."""
    for r in run.results:
        console.print(_spec_line(r), soft_wrap=True)
        for o in r.failures if not verbose else r.outcomes:
            mark = Text("  ")
            mark.append(f"{_where(r, o)}: ", style="bold")
            mark.append(describe(o), style=None if o.ok else "red")
            console.print(mark, soft_wrap=True)
        if r.error is not None:
            for line in r.error.format().splitlines():
                style = "magenta" if "error:" in line else "dim"
                console.print(Text("  " + line, style=style), soft_wrap=True)
        if verbose:
            for w in r.warnings:
                console.print(Text(f"  warning: {w}", style="yellow"), soft_wrap=True)
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
        console.print(Text(f"  {_STATUS_STYLE[r.status][0].strip()} {r.file} - {what}",
                           style=_STATUS_STYLE[r.status][1]), soft_wrap=True)


def notices(run: CheckRun, allow_empty: bool) -> list[str]:
    """Warnings for stderr: empty folders, nothing checked."""
    out = [f"warning: no spec found in folder {f}" for f in run.empty]
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
            out[key] = plain(value)
    if expected.tol:
        out["tolerance"] = plain(expected.tol)
    return out


def _outcome_dict(r: SpecResult, o: Outcome) -> dict[str, Any]:
    return {"key": o.key, "source": o.source, "ok": o.ok, "expected": _target_dict(o.expected),
            "actual": list(o.actual) if isinstance(o.actual, tuple) else o.actual,
            "line": o.loc.line if o.loc else None, "col": o.loc.col if o.loc else None,
            "message": describe(o)}


def _error_dict(r: SpecResult) -> dict[str, Any] | None:
    e = r.error
    if e is None:
        return None
    return {"type": type(e).__name__, "message": e.message, "layer": e.layer,
            "line": e.loc.line if e.loc else None, "col": e.loc.col if e.loc else None,
            "notes": list(e.notes), "hints": list(e.hints), "text": e.format()}


def run_dict(run: CheckRun, allow_empty: bool = False) -> dict[str, Any]:
    """``cnncalc check --format json``."""
    specs = [{"file": r.file, "name": r.name, "status": r.status, "seconds": round(r.seconds, 6),
              "expectations": [_outcome_dict(r, o) for o in r.outcomes],
              "error": _error_dict(r), "warnings": list(r.warnings),
              "totals": r.report.totals.to_dict() if r.report else None} for r in run.results]
    summary = {"specs": len(run.results), "passed": run.count("pass"), "failed": run.count("fail"),
               "invalid": run.count("error"), "skipped": len(run.skipped),
               "seconds": round(run.seconds, 6)}
    return {"summary": summary, "exit_code": run.exit_code(allow_empty), "specs": specs,
            "skipped": list(run.skipped), "empty_folders": list(run.empty)}


def render_json(run: CheckRun, allow_empty: bool = False) -> str:
    return to_json(run_dict(run, allow_empty))


# ------------------------------------------------------------------- github
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, file: str, message: str, line: int | None = None,
               col: int | None = None, title: str = "cnncalc check") -> str:
    """A GitHub workflow command: ``::error file=f,line=3,col=5,title=...::message``."""
    props = [f"file={_gh_prop(file)}"]
    if line is not None:
        props += [f"line={line}"] + ([f"col={col}"] if col is not None else [])
    props.append(f"title={_gh_prop(title)}")
    return f"::{kind} {','.join(props)}::{_gh_data(message)}"


def _bare(error: Any) -> str:
    """An error's text without its location (the annotation carries it)."""
    who = f"{error.layer}: " if error.layer else ""
    return "\n".join([f"{who}{error.message}", *(f"note: {n}" for n in error.notes),
                      *(f"hint: {h}" for h in error.hints)])


def render_github(run: CheckRun, allow_empty: bool = False) -> str:
    """One ``::error`` per failed expectation (at its line) or invalid spec, and a total."""
    lines = []
    for r in run.results:
        for o in r.failures:
            file = o.loc.file if o.loc else r.file
            lines.append(annotation("error", file, describe(o), o.loc.line if o.loc else None,
                                    o.loc.col if o.loc else None,
                                    f"cnncalc check: {r.name or r.file}"))
        if r.error is not None:
            loc = r.error.loc
            lines.append(annotation("error", loc.file if loc else r.file, _bare(r.error),
                                    loc.line if loc else None, loc.col if loc else None,
                                    "cnncalc check: invalid spec"))
    lines += [annotation("warning", f, "no spec found in this folder") for f in run.empty]
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- junit
def _testcase(suite: ET.Element, r: SpecResult) -> None:
    case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=r.file,
                         file=r.file, time=f"{r.seconds:.6f}")
    if r.status == "fail":
        body = "\n".join(f"{_where(r, o)}: {describe(o)}" for o in r.failures)
        ET.SubElement(case, "failure", message=f"{len(r.failures)} of {len(r.outcomes)} "
                      "expectations failed", type="ExpectationFailed").text = body
    elif r.error is not None:
        ET.SubElement(case, "error", message=r.error.message,
                      type=type(r.error).__name__).text = r.error.format()
    if r.warnings:
        ET.SubElement(case, "system-out").text = "\n".join(f"warning: {w}" for w in r.warnings)


def render_junit(run: CheckRun) -> str:
    """A JUnit XML report: one testcase per spec, failures listing every missed figure."""
    counts = {"tests": str(len(run.results)), "failures": str(run.count("fail")),
              "errors": str(run.count("error")), "time": f"{run.seconds:.6f}"}
    root = ET.Element("testsuites", name="cnncalc check", **counts)
    suite = ET.SubElement(root, "testsuite", name="cnncalc check", skipped="0", **counts)
    for r in run.results:
        _testcase(suite, r)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ----------------------------------------------------------------- progress
@contextlib.contextmanager
def progress(total: int, console: Console, enabled: bool) -> Iterator[Callable[[SpecResult], None]]:
    """A transient progress bar on ``console`` (stderr); yields the per-result callback."""
    if not enabled:
        yield lambda result: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.description}", style="dim"), console=console,
                   transient=True)
    with bar:
        task = bar.add_task("", total=total)
        yield lambda result: bar.update(task, advance=1, description=result.file)


# --------------------------------------------------------------------- diff
def _delta_pct(pct: float | None) -> str:
    return "" if pct is None else f"{pct:+.1f}%"


def _total_rows(d: ReportDiff, exact: bool) -> list[list[str]]:
    rows = []
    for t in d.totals:
        show = units.human_bytes if t.name.endswith("bytes") else units.human
        delta = show(abs(t.delta), exact)
        sign = "+" if t.delta > 0 else "-"
        rows.append([t.name, show(t.old, exact), show(t.new, exact),
                     sign + delta if t.delta else "0", _delta_pct(t.percent) if t.delta else ""])
    return rows


def _arrow(old: Any, new: Any) -> str:
    return str(new) if old == new else f"{old} -> {new}"


def _layer_cells(c: LayerChange, exact: bool) -> list[str]:
    old, new = c.old, c.new
    mark = {"added": "+", "removed": "-", "changed": "~", "same": " "}[c.kind]
    def pick(f: Callable[[Any], str]) -> str:
        if old is None or new is None:
            return f(old or new)
        return _arrow(f(old), f(new))
    return [mark, c.id, pick(lambda r: r.op), pick(lambda r: units.shape_str(r.output_shape)),
            pick(lambda r: units.count(r.params, exact)),
            pick(lambda r: units.count(r.macs, exact)),
            _what(c) if c.kind == "changed" else c.kind]


_SHOWN = ("op", "output_shape", "params", "macs")
_FOLLOWS = {"trainable_params": "params", "flops": "macs", "activation_bytes": "output_shape"}


def _what(c: LayerChange) -> str:
    """What changed besides the columns shown (wiring spelled out: ``in: a -> b``)."""
    parts = []
    for f in c.fields:
        if f in _SHOWN or _FOLLOWS.get(f) in c.fields:
            continue
        if f == "inputs":
            old, new = c.old.inputs, c.new.inputs  # type: ignore[union-attr]
            parts.append(f"in: {', '.join(old)} -> {', '.join(new)}")
        else:
            parts.append(f)
    return "; ".join(parts)


def _headline(d: ReportDiff) -> str:
    counts = ", ".join(f"{d.count(k)} {k}" for k in ("added", "removed", "changed"))
    return (f"{d.old_label} -> {d.new_label}: {counts} layer(s), {d.count('same')} unchanged; "
            f"output {units.shape_str(d.old.output_shape)} -> "
            f"{units.shape_str(d.new.output_shape)}")


def _rf_row(d: ReportDiff) -> list[str] | None:
    old, new = d.rf_sizes
    if old == new:
        return None
    show = (lambda s: units.axes(s) if s else "-")
    return ["receptive field", show(old), show(new), "", ""]


_TOTAL_HEAD = ["total", "old", "new", "delta", "delta %"]
_LAYER_HEAD = ["", "layer", "op", "output shape", "params", "MACs", "other changes"]


def diff_table(d: ReportDiff, console: Console, exact: bool = False) -> None:
    """``cnncalc diff --format table``."""
    console.print(Text(_headline(d), style="bold"))
    if d.identical:
        console.print("no differences")
        return
    totals = Table(*_TOTAL_HEAD, title="totals", title_justify="left", header_style="bold")
    for col in totals.columns[1:]:
        col.justify = "right"
    for row in _total_rows(d, exact) + [r for r in [_rf_row(d)] if r]:
        totals.add_row(*row)
    console.print(totals)
    changes = [c for c in d.layers if c.kind != "same"]
    if changes:
        table = Table(*_LAYER_HEAD, title="layers", title_justify="left", header_style="bold")
        styles = {"added": "green", "removed": "red", "changed": "yellow"}
        for c in changes:
            table.add_row(*_layer_cells(c, exact), style=styles[c.kind])
        console.print(table)


def diff_markdown(d: ReportDiff, exact: bool = False) -> str:
    """``cnncalc diff --format markdown``: a PR comment."""
    parts = [f"### cnncalc diff: `{d.old_label}` -> `{d.new_label}`", "", _headline(d), ""]
    if d.identical:
        return "\n".join(parts + ["No differences.", ""])
    rows = _total_rows(d, exact) + [r for r in [_rf_row(d)] if r]
    parts += [markdown_table(_TOTAL_HEAD, rows, right=[False, True, True, True, True]), ""]
    changes = [_layer_cells(c, exact) for c in d.layers if c.kind != "same"]
    if changes:
        head = _LAYER_HEAD
        parts += ["<details><summary>layers</summary>", "",
                  markdown_table(head, [[f"`{c[0]}`" if c[0].strip() else "", f"`{c[1]}`", *c[2:]]
                                        for c in changes], right=[False] * 4 + [True, True]),
                  "", "</details>", ""]
    return "\n".join(parts)


def diff_json(d: ReportDiff) -> str:
    """``cnncalc diff --format json``."""
    return to_json(d.to_dict())
