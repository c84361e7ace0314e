"""Helpers shared by the benchmark scripts: timing processes, the reference nets."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # reference_nets.py: plain-torch torchvision twins


def cnncalc_exe() -> str:
    """The cnncalc console script next to this interpreter (falls back to PATH)."""
    here = Path(sys.executable).with_name("cnncalc")
    return str(here) if here.exists() else "cnncalc"


def time_process(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall-clock seconds of one whole process (startup included)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - t0


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
