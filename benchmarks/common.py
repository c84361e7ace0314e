"""Helpers shared by the benchmark scripts: timing processes, the reference nets."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # reference_nets.py: plain-torch torchvision twins


def cnncalc_exe() -> str:
    """The cnncalc console script next to this interpreter (falls back to PATH)."""
    here = Path(sys.executable).with_name("cnncalc")
    return str(here) if here.exists() else "cnncalc"


class ProcessRun(NamedTuple):
    """One whole process: wall and CPU (user + system) seconds, peak RSS, exit code."""

    wall: float
    cpu: float
    peak_rss: int
    returncode: int


def run_process(cmd: Sequence[str], env: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> ProcessRun:
    """Run ``cmd`` to its end, its output thrown away, and measure it (the child's own
    rusage, from ``os.wait4``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=dict(env) if env is not None else None, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024,
                      os.waitstatus_to_exitcode(status))


def time_process(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall-clock seconds of one whole process (startup included); a failure raises."""
    run = run_process(cmd, {**os.environ, **(env or {})})
    if run.returncode:
        raise subprocess.CalledProcessError(run.returncode, list(cmd))
    return run.wall


def alternate(cmds: dict[str, Sequence[str]], repeats: int) -> dict[str, list[float]]:
    """Run the commands in turn, ``repeats`` rounds, so drift hits all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            times[name].append(time_process(cmd))
    return times


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (stdev / mean)."""
    return statistics.pstdev(values) / statistics.fmean(values) if len(values) > 1 else 0.0
