"""Start-up: whole cnncalc processes against the floor of the stack, side by side.

Run: python benchmarks/bench_startup.py [--repeats 21] [--warmup 2]

The floor is benchmarks/floor.py: a hello-world typer program importing pydantic, PyYAML
and rich (the same installed versions cnncalc uses).  The goals (issue 16), as ratios to
the floor (a ratio is "met" when both the wall and the CPU ratio are within it):

    cnncalc summary resnet50 --format json   within 1.15x
    cnncalc summary resnet50                 within 1.25x   (the table)
    cnncalc zoo                              within 1.3x

Each round runs the floor and the three commands once, in an order that rotates from
round to round, so that drift and position hit every command alike; each command's
ratio is taken against the floor run of the same round, and the median over the rounds
is quoted (with the ratio of the medians beside it).  Times are wall seconds (a clock
around the child) and CPU seconds (the child's user + system time, from the kernel's
accounting of the reaped child).  Output goes to /dev/null, as into a pipe (not a
terminal).  cnncalc's modules are compiled to bytecode first, as a wheel install does
(this sandbox sets PYTHONDONTWRITEBYTECODE=1: an editable install would otherwise compile
every module on every run); the children run this checkout's cnncalc.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from common import ROOT, cnncalc_exe, run_process

FLOOR = "floor"
#: (name, argv after the cnncalc executable, goal as a ratio to the floor)
GOALS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("summary resnet50 --format json", ("summary", "resnet50", "--format", "json"), 1.15),
    ("summary resnet50 (table)", ("summary", "resnet50"), 1.25),
    ("zoo", ("zoo",), 1.3),
)


def run_once(cmd: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one whole process, which must succeed."""
    run = run_process(cmd, env)
    if run.returncode:
        raise subprocess.CalledProcessError(run.returncode, list(cmd))
    return run.wall, run.cpu


Command = tuple[list[str], dict[str, str]]


def checkout_env(root: Path) -> dict[str, str]:
    """The environment that runs the cnncalc of the checkout ``root``."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}


def commands(baseline: Path | None) -> dict[str, Command]:
    """The floor, the goals' commands, and the same from ``baseline`` (another checkout)."""
    exe = cnncalc_exe()
    floor = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "resnet50"]
    cmds = {FLOOR: (floor, dict(os.environ))}
    for label, root in (("", ROOT), ("before: ", baseline)):
        if root is not None:
            compileall.compile_dir(str(root / "cnncalc"), quiet=1)
            cmds |= {label + name: ([exe, *argv], checkout_env(root)) for name, argv, _ in GOALS}
    return cmds


def measure(cmds: dict[str, Command], repeats: int, warmup: int
            ) -> dict[str, list[tuple[float, float]]]:
    """``repeats`` rounds (after ``warmup`` uncounted ones), the order rotating."""
    names = list(cmds)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_ in range(warmup + repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            result = run_once(*cmds[name])
            if round_ >= warmup:
                times[name].append(result)
    return times


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    floor = times[FLOOR]
    print(f"{'process':>46} {'wall s':>7} {'cpu s':>7} {'wall x':>7} {'cpu x':>7} "
          f"{'x of medians':>12} {'goal':>6}")
    print(f"{'floor (benchmarks/floor.py)':>46} {med(floor, 0):>7.3f} {med(floor, 1):>7.3f}")
    goals = {name: goal for name, _, goal in GOALS}
    for name, runs in times.items():
        if name == FLOOR:
            continue
        ratios = [[a[k] / b[k] for a, b in zip(runs, floor, strict=True)] for k in (0, 1)]
        wall_x, cpu_x = (statistics.median(r) for r in ratios)
        goal = goals[name.removeprefix("before: ")]
        verdict = "met" if max(wall_x, cpu_x) <= goal else "not met"
        label = f"before: cnncalc {name[8:]}" if name.startswith("before: ") else f"cnncalc {name}"
        print(f"{label:>46} {med(runs, 0):>7.3f} {med(runs, 1):>7.3f} "
              f"{wall_x:>6.3f}x {cpu_x:>6.3f}x {med(runs, 0) / med(floor, 0):>11.3f}x "
              f"{goal:>5}x {verdict}")


def med(runs: list[tuple[float, float]], k: int) -> float:
    return statistics.median(r[k] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21, help="counted rounds")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted rounds first")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also time the commands of another checkout (e.g. `git archive "
                             "REV | tar -x -C DIR`), as 'before:' rows")
    args = parser.parse_args()
    versions = ", ".join(f"{name} {version(name)}" for name in ("typer", "pydantic", "PyYAML",
                                                                 "rich"))
    print(f"Python {sys.version.split()[0]}, {versions}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}")
    times = measure(commands(args.baseline), args.repeats, args.warmup)
    print(f"{args.repeats} rounds (+{args.warmup} warm-up), medians; load at the end "
          f"{os.getloadavg()[0]:.2f}")
    report(times)


if __name__ == "__main__":
    main()
