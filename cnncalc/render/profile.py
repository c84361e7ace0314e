"""Rendering of ``cnncalc profile`` results (tables, JSON) and its progress bar."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

from ..pytorch.profile import BatchResult, ProfileReport
from ..units import human, human_bytes


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def _gflops(x: float | None) -> str:
    return "-" if not x else f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def _row(r: BatchResult) -> list[str]:
    if r.latency is None:
        return [str(r.batch_size), f"[red]{r.error}[/red]"] + ["-"] * 7
    lat = r.latency
    memory = human_bytes(r.peak_memory_bytes) if r.peak_memory_bytes is not None else "-"
    if r.peak_memory_source == "estimated":
        memory += " (est.)"
    elif r.estimated_memory_bytes is not None:  # measured, next to the estimate
        memory += f" (est. {human_bytes(r.estimated_memory_bytes)})"
    return [
        str(r.batch_size), _ms(lat.median_ms), _ms(lat.p10_ms), _ms(lat.p90_ms),
        f"{100 * lat.spread:.1f}%", human(round(r.throughput_per_s or 0, 1)),
        _gflops(r.achieved_gflops),
        f"{100 * r.fraction_of_peak:.1f}%" if r.fraction_of_peak else "-", memory,
    ]


def results_table(p: ProfileReport) -> Table:
    """One row per batch size."""
    title = (f"{p.name} on {p.device} ({p.device_name}), {p.dtype}, {p.mode}"
             + (f", {p.threads} threads" if p.threads else "")
             + (", channels_last" if p.channels_last else "")
             + (", compiled (compilation untimed)" if p.compiled else ""))
    t = Table(title=title, title_justify="left")
    for col in ("batch", "median ms", "p10 ms", "p90 ms", "spread", "samples/s", "GFLOP/s",
                "of peak", "peak memory"):
        t.add_column(col, justify="right")
    for r in p.results:
        t.add_row(*_row(r))
    return t


def layers_table(p: ProfileReport, exact: bool = False) -> Table:
    """Per-layer time joined with MACs: which layer to redesign."""
    t = Table(title=f"per layer (batch {p.results[0].batch_size}, forward hooks with "
                    "device synchronisation)", title_justify="left")
    for col, just in (("id", "left"), ("op", "left"), ("MACs", "right"), ("time ms", "right"),
                      ("share", "right"), ("GFLOP/s", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    top = sorted(p.per_layer, key=lambda x: -x.share)[:5]
    for row in p.per_layer:
        style = "bold" if row in top else None
        t.add_row(row.id, row.op, human(row.macs, exact) if row.macs else "-", _ms(row.time_ms),
                  f"{100 * row.share:.1f}%",
                  _gflops(row.achieved_gflops), style=style)
    return t


def ratio_table(a: ProfileReport, b: ProfileReport) -> Table:
    """Throughput and latency of B relative to A, per batch size."""
    t = Table(title=f"{b.name} relative to {a.name}", title_justify="left")
    for col in ("batch", "latency ratio", "throughput ratio"):
        t.add_column(col, justify="right")
    for ra, rb in zip(a.results, b.results):
        if ra.latency is None or rb.latency is None:
            t.add_row(str(ra.batch_size), "-", "-")
            continue
        t.add_row(str(ra.batch_size), f"x{rb.latency.median_ms / ra.latency.median_ms:.3f}",
                  f"x{(rb.throughput_per_s or 0) / (ra.throughput_per_s or 1):.3f}")
    return t


def render(console: Console, reports: list[ProfileReport], exact: bool = False) -> None:
    for p in reports:
        console.print(results_table(p))
        if p.per_layer:
            console.print(layers_table(p, exact))
        for note in p.notes:
            console.print(f"[dim]note: {note}[/dim]")
    if len(reports) == 2:
        console.print(ratio_table(*reports))


def to_json(reports: list[ProfileReport]) -> str:
    """The JSON for CI: the first report's object, plus ``compare`` and ``ratios``."""
    out: dict[str, Any] = reports[0].to_dict()
    if len(reports) == 2:
        out["compare"] = reports[1].to_dict()
        out["ratios"] = [
            {"batch_size": ra.batch_size,
             "throughput": (rb.throughput_per_s / ra.throughput_per_s
                            if ra.throughput_per_s and rb.throughput_per_s else None)}
            for ra, rb in zip(reports[0].results, reports[1].results)]
    return json.dumps(out, indent=2) + "\n"


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A transient bar on stderr (only on a terminal); yields the progress callback."""
    if not enabled:
        yield lambda label, done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("profiling", total=1)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"profiling: {label}", completed=done, total=total)

        yield update
