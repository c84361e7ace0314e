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

import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from fractions import Fraction
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal

from .errors import CnncalcError, LimitError, Loc, SpecError, UsageError
from .report import LayerReport, ReceptiveField, Report
from .spec import file_kind
from .spec.expect import Expect, LayerExpect, Target, parse_quantity
from .spec.yamlio import DEFAULT_LIMITS, Limits, MDict, load_yaml_bytes
from .suggest import close_matches

Expected = Target | tuple[int, ...]
#: an analysed figure: an int, a receptive-field size that is a fraction (exact, never a
#: float: figures may be too large for one), a shape or per-axis sizes; None: no such figure
Actual = int | Fraction | tuple[int | Fraction, ...] | None
Status = Literal["pass", "fail", "error"]

#: command-line budget flag -> the total it caps
BUDGETS: dict[str, str] = {
    "max_params": "params",
    "max_macs": "macs",
    "max_flops": "flops",
    "max_activation_bytes": "activation_bytes",
}
DEFAULT_GLOBS = ("*.yaml", "*.yml")


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
    #: how many verdicts its file gave (a family file: one per variant checked)
    of: int = 1
    #: the variant of a family file this is the verdict on (``file`` is ``FILE:VARIANT``)
    variant: str | None = None

    @property
    def path(self) -> str:
        """The file itself (``file`` without its ``:VARIANT``), for tools that open it."""
        return self.file if self.variant is None else self.file.removesuffix(f":{self.variant}")

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
    #: files passed over, each with the reason: YAML that is not a spec, a FIFO in a folder
    skipped: tuple[Skip, ...] = ()
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
    """``{"max_params": "30M"}`` -> ``{"params": Target(max=Fraction(30_000_000))}``: exact,
    compared as such at any size (a UsageError if bad)."""
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
    sizes = tuple(int(s) if Fraction(s).denominator == 1 else Fraction(s) for s in rf.size)
    return sizes if isinstance(expected, tuple) else max(sizes)


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
class InternalCheckError(CnncalcError):
    """An exception cnncalc did not expect, met while checking one file: it becomes that
    file's error verdict (a bug to report) and the other files are still checked."""


def internal_error(exc: BaseException) -> InternalCheckError:
    """The error verdict for an unexpected exception, with its type and message (the
    exception is kept as ``__cause__``, for ``--traceback``)."""
    error = InternalCheckError(
        f"internal error: {type(exc).__name__}: {exc}",
        hints=("this is a bug in cnncalc; rerun with --traceback and report it",))
    error.__cause__ = exc
    return error


@dataclass(frozen=True)
class Candidate:
    """A file a check will look at."""

    path: str
    #: the folder (as given) it was found in; None for a file named on the command line
    folder: str | None = None
    #: whether a file that is not a spec is passed over rather than checked as one (files
    #: found in folders, and named files with ``--skip-non-specs``)
    may_skip: bool = False
    #: why the folder could not be listed (the candidate is then that folder's error)
    unreadable: str | None = None


@dataclass(frozen=True)
class Skip:
    """A file passed over, and why."""

    file: str
    reason: str


def check_source(source: str | Path, budgets: Mapping[str, Target] | None = None, *,
                 strict: bool | None = None, limits: Limits = DEFAULT_LIMITS) -> SpecResult:
    """Load, analyse and evaluate one spec; every error (even a bug) is an ``error`` result.
    A family file is checked variant by variant: the worst verdict (see :func:`check_file`).

    Truncation is an error unless ``strict`` is False, or it is None and the spec says
    ``strict: false`` (a spec that truncates on purpose, like a lesson about it)."""
    verdict = check_file(Candidate(str(source)), budgets, strict=strict, limits=limits)
    assert isinstance(verdict, SpecResult)  # only may_skip candidates are passed over
    return verdict


_RANK = {"error": 2, "fail": 1, "pass": 0}


def check_file(c: Candidate, budgets: Mapping[str, Target] | None = None, *,
               strict: bool | None = None, limits: Limits = DEFAULT_LIMITS) -> SpecResult | Skip:
    """The verdict on one candidate as a whole: a result, or a skip for a file that is no
    spec; a family file's is that of its worst variant (:func:`check_candidate` gives
    them all)."""
    verdicts = check_candidate(c, budgets, strict=strict, limits=limits)
    if isinstance(verdicts, Skip):
        return verdicts
    return max(verdicts, key=lambda r: _RANK[r.status])  # (the first of the worst)


def check_candidate(c: Candidate, budgets: Mapping[str, Target] | None = None, *,
                    strict: bool | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> tuple[SpecResult, ...] | Skip:
    """Every verdict on one candidate: one per spec (a family file: one per variant, and
    one for its defaults when it has its own ``expect:``), or a skip for a file that is no
    spec.  No exception escapes: one the code did not expect becomes the file's error
    verdict."""
    from .collector import paused_gc

    start = time.perf_counter()
    try:
        # no collection while the file's spec is loaded and analysed (they pause it each,
        # but the young collection between them would walk all the loader made); what
        # it leaves goes when the collector runs again, at the next file
        with paused_gc():
            verdicts = _verdicts(c, budgets, strict, limits)
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        verdicts = (SpecResult(c.path, error=internal_error(exc)),)
    if isinstance(verdicts, Skip):
        return verdicts
    if len(verdicts) == 1:
        return (replace(verdicts[0], seconds=time.perf_counter() - start),)
    return tuple(replace(v, of=len(verdicts)) for v in verdicts)


def _verdicts(c: Candidate, budgets: Mapping[str, Target] | None, strict: bool | None,
              limits: Limits) -> tuple[SpecResult, ...] | Skip:
    from .spec import Document, parse_network, read_target

    if c.unreadable is not None:
        return (SpecResult(c.path, error=UsageError(f"{c.path}: cannot list the folder: "
                                                    f"{c.unreadable}")),)
    gate = _gate(Path(c.path), c.folder is not None)
    if gate is not None:
        return gate if isinstance(gate, Skip) else (gate,)
    # the loader's two steps (read_target, then parse_network: what load_network does),
    # not load_network itself: a file that fails to load is judged by its bytes (a
    # non-spec in a folder is skipped, not reported), and the parsed document is kept for
    # the verdicts of its other variants, so the YAML is read and parsed once per file
    try:
        data, file, variant = read_target(c.path, limits)
    except LimitError as exc:
        too_big = c.may_skip and not _mentions_spec(_head(Path(c.path), limits.max_bytes))
        return Skip(c.path, f"over the size limit of {limits.max_bytes:,} bytes, and it does "
                    "not mention cnncalc") if too_big else (SpecResult(c.path, error=exc),)
    except CnncalcError as exc:
        return (SpecResult(c.path, error=exc),)
    try:  # the spec as named (a family file: its defaults), parsed once
        net = parse_network(data, file, limits, variant)
    except Exception as exc:  # noqa: BLE001 - even a bug: a non-spec is still skipped
        why = _not_a_spec(data, file, limits) if c.may_skip else None
        if why:
            return Skip(c.path, why)
        where = file if variant is None else f"{file}:{variant}"
        return (SpecResult(where, error=exc if isinstance(exc, CnncalcError)
                           else internal_error(exc), variant=variant),)
    document = Document(file, net.raw, variant=variant)
    return tuple(replace(_verdict_of(net, budgets, strict) if v == variant else
                         _variant_verdict(document, v, budgets, strict, limits), variant=v)
                 for v in _to_check(document))


def _to_check(document: Any) -> list[str | None]:
    """The variants a check of a document holds to their ``expect:``: the one its SPEC
    named; else every variant, and the defaults (None) when the spec has no variants or an
    ``expect:`` of its own."""
    from .spec import variant_names

    if document.variant is not None:
        return [document.variant]
    names: list[str | None] = list(variant_names(document))
    own = isinstance(document.doc, dict) and document.doc.get("expect") is not None
    return [None, *names] if own or not names else names


def _variant_verdict(document: Any, variant: str | None, budgets: Mapping[str, Target] | None,
                     strict: bool | None, limits: Limits) -> SpecResult:
    from .spec import network_from_document

    start = time.perf_counter()
    where = document.file if variant is None else f"{document.file}:{variant}"
    try:
        net = network_from_document(document, limits, variant)
    except CnncalcError as exc:
        return SpecResult(where, error=exc, seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - the file's verdict, not the run's end
        return SpecResult(where, error=internal_error(exc), seconds=time.perf_counter() - start)
    return replace(_verdict_of(net, budgets, strict), seconds=time.perf_counter() - start)


def _verdict_of(net: Any, budgets: Mapping[str, Target] | None,
                strict: bool | None) -> SpecResult:
    """The verdict on one loaded network: analysed, and held to its ``expect:``."""
    from .analysis import analyze

    where = net.source
    start = time.perf_counter()
    try:
        report = analyze(net, strict=strict if strict is not None else net.strict is not False)
        outcomes = evaluate(report, net.expect, budgets)
    except CnncalcError as exc:
        return SpecResult(where, net.name, error=exc, seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - the file's verdict, with the spec's name
        return SpecResult(where, net.name, error=internal_error(exc),
                          seconds=time.perf_counter() - start)
    return SpecResult(where, net.name, tuple(outcomes), None, report,
                      time.perf_counter() - start)


# ------------------------------------------------------- spec or not a spec
#: how "cnncalc" is spelled in a file that mentions it, in the encodings an editor may save
_MENTIONS = tuple("cnncalc".encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be",
                                                 "utf-32-le", "utf-32-be"))


def _is_spec(doc: object) -> bool:
    """Whether a parsed YAML document is a spec: a top-level mapping with a ``cnncalc``
    key (however the YAML spells it: quoted, flow style, after a BOM, merged by ``<<``)."""
    return isinstance(doc, dict) and "cnncalc" in doc


def _mentions_spec(data: bytes) -> bool:
    return any(m in data for m in _MENTIONS)


def _not_a_spec(data: bytes, file: str, limits: Limits) -> str | None:
    """Why a file that failed to load as a spec is not one (None: it is a failing spec).

    It is a spec if its YAML document is one (:func:`_is_spec`); a file that is not even
    YAML cnncalc can read is a spec if it mentions ``cnncalc`` (a broken spec), and is
    passed over otherwise (someone else's broken YAML)."""
    try:
        doc = load_yaml_bytes(data, file, limits)
    except Exception:  # noqa: BLE001 - not readable YAML, for whatever reason
        return None if _mentions_spec(data) else \
            "not YAML that cnncalc can read, and it does not mention cnncalc"
    return None if _is_spec(doc) else "no top-level `cnncalc:` key"


# ------------------------------------------------------------------- files
def _gate(path: Path, in_folder: bool) -> SpecResult | Skip | None:
    """Before a file is opened: a broken link or an unreadable entry is an error, and a
    FIFO, socket or device found in a folder is skipped unopened (reading it could block).
    None: go on and read it (a file named on the command line may be a FIFO, ``<(...)``)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return SpecResult(str(path), error=UsageError(
                f"{path}: a broken symbolic link (to {os.readlink(path)}, which does not exist)"))
        if in_folder:
            return SpecResult(str(path), error=UsageError(f"{path}: no such file (removed "
                                                          "while the check ran?)"))
        return None  # a missing path or a built-in name: read_source says which
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        return SpecResult(str(path), error=UsageError(f"{path}: cannot read: {why}"))
    if in_folder and not stat.S_ISREG(mode):
        kind = file_kind(mode, "not a regular file")
        return Skip(str(path), f"{kind}, not a regular file: never opened")
    return None


def _head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a regular file (empty if it is not one)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return b""
        with path.open("rb") as f:
            return f.read(size)
    except OSError:
        return b""


@dataclass
class Collected:
    """The candidates a check will look at, and the folders that held none."""

    files: list[Candidate] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.files]


def check_globs(globs: Sequence[str]) -> tuple[str, ...]:
    """The ``--glob`` patterns, or a UsageError: a pattern is matched inside each folder
    given, so it is relative and never leaves it (no ``/``-rooted path, no ``..``)."""
    for pattern in globs:
        where = f"--glob {pattern!r}"
        if not pattern or "\0" in pattern:
            raise UsageError(f"{where}: give a file pattern such as '*.yaml'")
        if pattern.startswith(("/", "\\")) or PureWindowsPath(pattern).drive:
            raise UsageError(f"{where}: patterns are matched inside each folder given, so they "
                             "are relative ('*.yaml', 'nets/*.yml'); to check files elsewhere, "
                             "give their folder (or the files) as PATH")
        if ".." in PurePosixPath(pattern.replace("\\", "/")).parts:
            raise UsageError(f"{where}: a pattern may not contain '..': it is matched inside "
                             "each folder given and never leaves it")
    return tuple(globs)


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether a relative path matches a pattern as ``Path.rglob`` does: anywhere below
    the folder, ``**`` standing for any number of folders."""
    @cache
    def match(i: int, j: int) -> bool:
        if j == len(pattern):
            return i == len(parts)
        if pattern[j] == "**":
            return match(i, j + 1) or (i < len(parts) and match(i + 1, j))
        return i < len(parts) and fnmatchcase(parts[i], pattern[j]) and match(i + 1, j + 1)
    return match(0, 0)


def _walk(folder: Path, globs: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The entries below ``folder`` (not in hidden folders, symbolic links to folders not
    followed) that match a pattern, whatever they are (files, broken links, FIFOs), and
    the folders that could not be listed, with the reason."""
    patterns = [("**", *PurePosixPath(g).parts) for g in globs]
    found: list[Path] = []
    unreadable: list[tuple[str, str]] = []

    def failed(exc: OSError) -> None:
        unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    for root, dirs, files in os.walk(folder, onerror=failed):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(root)
        rel = base.relative_to(folder).parts
        for name in files:
            if any(_matches((*rel, name), p) for p in patterns):
                found.append(base / name)
    return sorted(found), unreadable


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; False for what cannot even be asked (a name too long):
    the check of that path then says why."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def collect(paths: Iterable[str], globs: Sequence[str] = DEFAULT_GLOBS,
            skip_non_specs: bool = False) -> Collected:
    """Expand folders (recursively, skipping hidden folders) into candidates.

    Files found in folders that are not specs are passed over when checked (a CI
    config is not a spec); files named explicitly are checked as specs unless
    ``skip_non_specs``.  Paths that do not exist are kept: the check reports them
    (a built-in zoo name is also a valid path).  A UsageError for an empty path or a
    pattern that is not relative (:func:`check_globs`).
    """
    globs = check_globs(globs)
    out = Collected()
    seen: set[str] = set()
    for text in paths:
        if not text:
            raise UsageError("an empty PATH: give a spec file, a folder ('.' for this one) "
                             "or a built-in name")
        path = Path(text)
        if _is_folder(path):
            files, unreadable = _walk(path, globs)
            candidates = [Candidate(str(p), text, True) for p in files]
            candidates += [Candidate(f, text, unreadable=why) for f, why in unreadable]
            if not candidates:
                out.empty.append(text)
        else:
            candidates = [Candidate(text, None, skip_non_specs)]
        for c in candidates:
            if c.path not in seen:
                seen.add(c.path)
                out.files.append(c)
    return out


def run_check(files: Sequence[str | Candidate], budgets: Mapping[str, Target] | None = None, *,
              strict: bool | None = None, limits: Limits = DEFAULT_LIMITS,
              on_result: Callable[[SpecResult | Skip], None] | None = None,
              empty: Sequence[str] = ()) -> CheckRun:
    """Check every file in order (a plain string is a file named on the command line);
    ``on_result`` is called after each (progress bars).  A folder none of whose files
    turned out to be a spec is added to ``empty``."""
    start = time.perf_counter()
    results: list[SpecResult] = []
    skipped: list[Skip] = []
    folders: dict[str, bool] = {f: False for f in empty}  # folder -> held a spec
    for f in files:
        c = f if isinstance(f, Candidate) else Candidate(f)
        verdicts = check_candidate(c, budgets, strict=strict, limits=limits)
        if isinstance(verdicts, Skip):
            skipped.append(verdicts)
        else:
            results.extend(verdicts)
        if c.folder is not None:
            folders[c.folder] = folders.get(c.folder, False) or not isinstance(verdicts, Skip)
        for verdict in (verdicts,) if isinstance(verdicts, Skip) else verdicts:
            if on_result is None:
                break
            try:
                on_result(verdict)
            except Exception:  # noqa: BLE001 - a progress display never stops the check
                on_result = None
    return CheckRun(tuple(results), tuple(skipped), tuple(f for f, held in folders.items()
                                                           if not held),
                    time.perf_counter() - start)
