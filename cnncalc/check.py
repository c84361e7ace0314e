"""Hold specs to their ``expect:`` section and to command-line budgets (``cnncalc check``).

Pure python, no rich and no torch: the functions here return plain result objects
(:class:`Outcome`, :class:`SpecResult`, :class:`CheckRun`); ``cnncalc.render.check``
formats them as text, JSON, GitHub annotations or JUnit XML.

Every expectation of a spec is evaluated, so one run reports all that fail.  A spec
that cannot be read, validated or analysed is an *error* (exit 2), one whose figures
miss is a *failure* (exit 1); the other specs are still checked.

>>> import cnncalc
>>> net = cnncalc.loads("cnncalc: 1\\ninput: [1, 8, 8]\\nlayers: [{op: conv, out: 4, k: 3}]\\n"
...                     "expect: {output_shape: [4, 6, 6], params: {max: 30}}")
>>> [(o.key, o.ok, o.actual) for o in evaluate(cnncalc.analyze(net), net.expect)]
[('output_shape', True, (4, 6, 6)), ('params', False, 40)]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence, Union

from .errors import CnncalcError, Loc, SpecError, UsageError
from .report import LayerReport, ReceptiveField, Report
from .spec.expect import Expect, LayerExpect, Target, parse_quantity
from .spec.yamlio import DEFAULT_LIMITS, Limits, MDict
from .suggest import close_matches

Expected = Union[Target, tuple[int, ...]]
Actual = Union[int, float, tuple[int, ...], None]
Status = Literal["pass", "fail", "error"]

#: command-line budget flag -> the total it caps
BUDGETS: dict[str, str] = {
    "max_params": "params",
    "max_macs": "macs",
    "max_flops": "flops",
    "max_activation_bytes": "activation_bytes",
}
DEFAULT_GLOBS = ("*.yaml", "*.yml")
_SPEC_MARK = re.compile(rb"^cnncalc\s*:", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    """One expectation or budget, held against the analysed figure."""

    key: str
    expected: Expected
    actual: Actual
    ok: bool
    loc: Loc | None = None
    source: Literal["expect", "budget"] = "expect"


@dataclass(frozen=True)
class SpecResult:
    """The check of one spec file."""

    file: str
    name: str | None = None
    outcomes: tuple[Outcome, ...] = ()
    error: CnncalcError | None = None
    report: Report | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        if self.error is not None:
            return "error"
        return "fail" if self.failures else "pass"

    @property
    def failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.report.warnings if self.report else ()


@dataclass(frozen=True)
class CheckRun:
    """A whole ``cnncalc check``: one result per spec, plus what was not checked."""

    results: tuple[SpecResult, ...]
    #: YAML files passed over because they have no top-level ``cnncalc:`` key
    skipped: tuple[str, ...] = ()
    #: folders given on the command line that held no spec
    empty: tuple[str, ...] = ()
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    def exit_code(self, allow_empty: bool = False) -> int:
        """2 if any spec is invalid (or nothing was checked), 1 if any fails, else 0."""
        if self.count("error") or (not self.results and not allow_empty):
            return 2
        return 1 if self.count("fail") else 0


# ------------------------------------------------------------------ budgets
def parse_budgets(values: Mapping[str, str | int | None]) -> dict[str, Target]:
    """``{"max_params": "30M"}`` -> ``{"params": Target(max=30e6)}`` (a UsageError if bad)."""
    out: dict[str, Target] = {}
    for flag, value in values.items():
        if value is None:
            continue
        if flag not in BUDGETS:
            raise UsageError(f"unknown budget {flag}")
        try:
            limit, _ = parse_quantity(value, binary=flag.endswith("bytes"))
        except ValueError as exc:
            raise UsageError(f"--{flag.replace('_', '-')}: {exc}") from None
        out[BUDGETS[flag]] = Target(max=limit, written=f"--{flag.replace('_', '-')} {value}",
                                    max_text=str(value))
    return out


# ------------------------------------------------------------- expectations
def _rf_actual(rf: ReceptiveField | None, expected: Expected) -> Actual:
    if rf is None:
        return None
    sizes = tuple(int(s) if Fraction(s).denominator == 1 else float(s) for s in rf.size)
    return sizes if isinstance(expected, tuple) else max(sizes)  # type: ignore[return-value]


def _holds(expected: Expected, actual: Actual) -> bool:
    if actual is None:
        return False
    if isinstance(expected, tuple):
        return isinstance(actual, tuple) and tuple(actual) == expected
    return not isinstance(actual, tuple) and expected.holds(actual)


def _figures(model: Expect | LayerExpect, raw: Any, prefix: str,
             value_of: Callable[[str, Expected], Actual]) -> list[Outcome]:
    out = []
    keys = list(raw) if isinstance(raw, dict) else list(type(model).model_fields)
    for key in keys:  # in the order written, so reports follow the file
        expected = getattr(model, key)
        if key == "layers" or expected is None:
            continue
        actual = value_of(key, expected)
        loc = raw.val_loc.get(key) if isinstance(raw, MDict) else None
        out.append(Outcome(prefix + key, expected, actual, _holds(expected, actual), loc))
    return out


def _value_of(output_shape: tuple[int, ...], rf: ReceptiveField | None,
              figures: Any) -> Callable[[str, Expected], Actual]:
    """The actual figure for an expectation key: the shape, the receptive field (per axis
    or its largest size, as the expectation is written), else ``figures.<key>``."""
    def value(key: str, expected: Expected) -> Actual:
        if key == "output_shape":
            return tuple(output_shape)
        if key == "receptive_field":
            return _rf_actual(rf, expected)
        return getattr(figures, key)
    return value


def _network_value(report: Report) -> Callable[[str, Expected], Actual]:
    return _value_of(report.output_shape, report.receptive_field, report.totals)


def _layer_value(row: LayerReport) -> Callable[[str, Expected], Actual]:
    return _value_of(row.output_shape, row.receptive_field, row)


def _layer_row(report: Report, layer_id: str, raw_layers: Any) -> LayerReport:
    try:
        return report.layer(layer_id)
    except KeyError:
        ids = [r.id for r in report.layers]
        near = close_matches(layer_id, ids, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        loc = raw_layers.key_loc.get(layer_id) if isinstance(raw_layers, MDict) else None
        raise SpecError(f"expect.layers: no layer '{layer_id}' in the network{hint}", loc=loc,
                        hints=("`cnncalc shapes SPEC` lists the layer ids",)) from None


def evaluate(report: Report, expect_raw: Any,
             budgets: Mapping[str, Target] | None = None) -> list[Outcome]:
    """Every expectation of ``expect_raw`` (the spec's marked ``expect:`` mapping) and
    every budget, held against ``report``.  A SpecError if a layer id is unknown."""
    model = Expect.model_validate(expect_raw) if expect_raw else Expect()
    outcomes = _figures(model, expect_raw, "", _network_value(report))
    raw_layers = expect_raw.get("layers") if isinstance(expect_raw, dict) else None
    for layer_id, layer_model in model.layers.items():
        row = _layer_row(report, layer_id, raw_layers)
        raw = raw_layers.get(layer_id) if isinstance(raw_layers, dict) else None
        outcomes += _figures(layer_model, raw, f"layers.{layer_id}.", _layer_value(row))
    for total, target in (budgets or {}).items():
        actual = getattr(report.totals, total)
        outcomes.append(Outcome(total, target, actual, target.holds(actual), None, "budget"))
    return outcomes


# ------------------------------------------------------------------ running
def check_source(source: str | Path, budgets: Mapping[str, Target] | None = None, *,
                 strict: bool | None = None, limits: Limits = DEFAULT_LIMITS) -> SpecResult:
    """Load, analyse and evaluate one spec; errors become an ``error`` result.

    Truncation is an error unless ``strict`` is False, or it is None and the spec says
    ``strict: false`` (a spec that truncates on purpose, like a lesson about it)."""
    from .analysis import analyze
    from .spec import read_source, parse_network

    start = time.perf_counter()
    file, name = str(source), None
    try:
        data, file = read_source(source, limits)
        net = parse_network(data, file, limits)
        name = net.name
        report = analyze(net, strict=strict if strict is not None else net.strict is not False)
        outcomes = evaluate(report, net.expect, budgets)
    except CnncalcError as exc:
        return SpecResult(file, name, error=exc, seconds=time.perf_counter() - start)
    return SpecResult(file, name, tuple(outcomes), None, report, time.perf_counter() - start)


@dataclass
class Collected:
    """The spec files a check will read, and what it passed over."""

    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def looks_like_spec(path: Path) -> bool:
    """Whether a YAML file has a top-level ``cnncalc:`` key (a cheap text test)."""
    try:
        with path.open("rb") as f:
            return bool(_SPEC_MARK.search(f.read(DEFAULT_LIMITS.max_bytes)))
    except OSError:
        return True  # let the check report why it cannot be read


def _walk(folder: Path, globs: Sequence[str]) -> list[Path]:
    found: set[Path] = set()
    for pattern in globs:
        for p in folder.rglob(pattern):
            rel = p.relative_to(folder).parts
            if p.is_file() and not any(part.startswith(".") for part in rel[:-1]):
                found.add(p)
    return sorted(found)


def collect(paths: Iterable[str], globs: Sequence[str] = DEFAULT_GLOBS,
            skip_non_specs: bool = False) -> Collected:
    """Expand folders (recursively, skipping hidden folders) into spec files.

    Files found in folders that have no top-level ``cnncalc:`` key are skipped (a CI
    config is not a spec); files named explicitly are checked unless
    ``skip_non_specs``.  Paths that do not exist are kept: the check reports them
    (a built-in zoo name is also a valid path).
    """
    out = Collected()
    seen: set[str] = set()
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files = _walk(path, globs)
            specs = [p for p in files if looks_like_spec(p)]
            out.skipped += [str(p) for p in files if p not in specs]
            if not specs:
                out.empty.append(text)
            candidates = [str(p) for p in specs]
        elif path.is_file() and skip_non_specs and not looks_like_spec(path):
            out.skipped.append(text)
            continue
        else:
            candidates = [text]
        for c in candidates:
            if c not in seen:
                seen.add(c)
                out.files.append(c)
    return out


def run_check(files: Sequence[str], budgets: Mapping[str, Target] | None = None, *,
              strict: bool | None = None, limits: Limits = DEFAULT_LIMITS,
              on_result: Callable[[SpecResult], None] | None = None,
              skipped: Sequence[str] = (), empty: Sequence[str] = ()) -> CheckRun:
    """Check every file in order; ``on_result`` is called after each (progress bars)."""
    start = time.perf_counter()
    results = []
    for f in files:
        result = check_source(f, budgets, strict=strict, limits=limits)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return CheckRun(tuple(results), tuple(skipped), tuple(empty), time.perf_counter() - start)
