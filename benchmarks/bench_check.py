"""``cnncalc check`` over a folder of 200 specs, in one process: the goal is < 5 s.

Run: python benchmarks/bench_check.py [--count 200] [--repeats 3]

The folder holds copies of every zoo spec (each with its ``expect:`` section: ResNets,
VGGs, DenseNet-121, GoogLeNet, MobileNetV2, U-Net, ...) cycled to ``--count`` files, so
the mix is the zoo's own.  Each repeat runs the installed ``cnncalc check DIR`` as a
fresh process (so interpreter start-up and imports are included) and reports wall time
and the child's CPU time (user + sys; less sensitive to other load on the machine), the
best of the repeats, and the in-process check time the command itself prints.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnncalc.spec.zoo import zoo_dir


def make_folder(folder: Path, count: int) -> list[str]:
    """Write ``count`` specs (the zoo, cycled) into ``folder``; return their zoo names."""
    zoo = sorted(zoo_dir().glob("*.yaml"))
    names = []
    for i in range(count):
        src = zoo[i % len(zoo)]
        shutil.copyfile(src, folder / f"{i:03d}_{src.name}")
        names.append(src.stem)
    return names


def cnncalc_command() -> list[str]:
    exe = Path(sys.executable).with_name("cnncalc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cnncalc"]


def run_once(folder: Path) -> tuple[float, float, str]:
    """Wall seconds, child CPU seconds, and the summary line of one ``cnncalc check``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*cnncalc_command(), "check", str(folder), "--no-progress"],
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"cnncalc check failed (exit {done.returncode}):\n{done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    summary = done.stdout.strip().splitlines()[-1]
    return wall, cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = make_folder(folder, args.count)
        print(f"{args.count} specs ({len(set(names))} distinct zoo specs, cycled) in {folder}")
        runs = [run_once(folder) for _ in range(args.repeats)]
    for i, (wall, cpu, summary) in enumerate(runs, 1):
        print(f"run {i}: wall {wall:.2f} s, cpu {cpu:.2f} s  | {summary}")
    wall, cpu, summary = min(runs)
    inner = re.search(r"in ([\d.]+) s", summary)
    loop = inner.group(1) if inner else "?"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs; wall time under "
          "load is inflated, the CPU time is the better figure")
    print(f"best: wall {wall:.2f} s, cpu {cpu:.2f} s; check loop {loop} s (goal: < 5 s wall)")


if __name__ == "__main__":
    main()
