"""Scaling to 100,000 layers: whole processes on generated chains, and the analysis in process.

Run: python benchmarks/bench_scaling.py [--sizes 10000,100000] [--repeats 3] [--vs TREE]

The whole-process table (issue 16's goal: each command under 5 s and at most 12x its
10,000-layer time at 100,000 layers, peak memory under 1 GB) runs ``python -m cnncalc``
on a generated flat chain of conv 3x3 / relu layers (``chain_text``) for ``summary``
(json, csv, table), ``shapes``, ``check`` and ``explain``.  Every command runs at every
size in turn, ``--repeats`` rounds, so machine noise hits the sizes alike; it prints the
median wall time, the 100k/10k ratio, the median CPU seconds (user + system) at the
largest size (a shared machine disturbs it less than the wall time) and the largest peak
RSS of a run (the child's own ``ru_maxrss``, from ``os.wait4``).  With ``--vs TREE``
(another checkout of cnncalc, e.g. ``git archive main | tar -x -C /tmp/base``) the same
commands run from that tree too, in alternation with this one, and a column gives this
tree's time over that one's at the largest size.

``--in-process`` prints the older table instead: best-of-repeats time of load (parse +
expand) and analyze of a repeat-built chain, per layer, in this process.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, ProcessRun, run_process

#: (label, arguments after ``python -m cnncalc``; SPEC is replaced by the spec's path)
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("summary json", ("summary", "SPEC", "--format", "json")),
    ("summary csv", ("summary", "SPEC", "--format", "csv")),
    ("summary table", ("summary", "SPEC")),
    ("shapes", ("shapes", "SPEC")),
    ("check", ("check", "SPEC")),
    ("explain", ("explain", "SPEC")),
)


def chain_text(n_layers: int) -> str:
    """A flat chain of ``n_layers`` entries written one per line: conv 3x3 (8 -> 8
    channels, padded) and relu in turn, on an 8x32x32 input."""
    lines = ["cnncalc: 1", f"name: chain{n_layers}", "input: [8, 32, 32]", "layers:"]
    for i in range(n_layers):
        lines.append("  - {op: conv, out: 8, k: 3, pad: 1}" if i % 2 == 0 else "  - {op: relu}")
    return "\n".join(lines) + "\n"


def varied_text(n_layers: int) -> str:
    """A chain of unlike layers, written one per line, in units of eight rows: conv (out
    cycling 8..64, kernel 1, 3 or 5, padded to keep the size), batchnorm, relu, conv 1x1,
    maxpool 3 (stride 1, padded), an add of it and the unit's input (a residual, projected
    when the channels differ), leaky_relu, dropout; on a 16x16x16 input.  A spec whose layers are
    not copies of each other: a win measured on it is not one for identical rows only."""
    lines = ["cnncalc: 1", f"name: varied{n_layers}", "input: [16, 16, 16]", "layers:"]
    last = "input"
    for i in range(n_layers):
        unit, row = divmod(i, 8)
        out, k = 8 + 8 * (unit % 8), (1, 3, 5)[unit % 3]
        lines.append("  - " + (
            f"{{id: u{unit}, op: conv, out: {out}, k: {k}, pad: {k // 2}}}",
            "{op: batchnorm}", "{op: relu}", f"{{op: conv, out: {out}, k: 1}}",
            f"{{id: p{unit}, op: maxpool, k: 3, stride: 1, pad: 1}}",
            f"{{op: add, in: [{last}, p{unit}], project: auto}}" if unit else "{op: identity}",
            "{op: leaky_relu}", f"{{id: e{unit}, op: dropout, p: 0.1}}")[row])
        if row == 7:
            last = f"e{unit}"
    return "\n".join(lines) + "\n"


#: the generated specs ``--spec`` chooses from
SPECS = {"chain": chain_text, "varied": varied_text}


def repeat_text(n_layers: int) -> str:
    """A residual-style chain: conv+bn+relu units (3 rows each) made by one repeat."""
    units = n_layers // 3
    return f"""cnncalc: 1
name: chain{n_layers}
input: [16, 32, 32]
blocks:
  unit:
    layers:
      - {{id: c, op: conv, out: 16, k: 3, pad: 1, bn: true, act: relu}}
layers:
  - {{id: body, op: unit, repeat: {units}}}
"""


def run(tree: Path, argv: list[str]) -> ProcessRun:
    """One whole process of ``python -m cnncalc ARGV`` from ``tree``: (wall seconds, CPU
    seconds (user + system), peak RSS in bytes, exit code); its output is thrown away."""
    # cwd: ``python -m`` puts the working folder first on the path, before PYTHONPATH
    return run_process([sys.executable, "-m", "cnncalc", *argv],
                       {**os.environ, "PYTHONPATH": str(tree)}, cwd=tree)


def whole_process(sizes: list[int], repeats: int, trees: dict[str, Path],
                  only: set[str] | None, spec: str = "chain") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        specs = {n: Path(tmp) / f"{spec}{n}.yaml" for n in sizes}
        for n, path in specs.items():
            path.write_text(SPECS[spec](n))
        for tree in trees.values():
            compileall.compile_dir(str(tree / "cnncalc"), quiet=1)
        head = f"{'command':<14} {'tree':<6}" + "".join(f" {f'{n:,} s':>10}" for n in sizes)
        print(head + f" {'ratio':>7} {'cpu s':>7} {'peak MiB':>9} {'rc':>3}"
              + (f" {'vs':>6}" if len(trees) > 1 else ""))
        for label, argv in COMMANDS:
            if only and label not in only:
                continue
            times: dict[tuple[str, int], list[float]] = {}
            cpus: dict[tuple[str, int], list[float]] = {}
            peaks: dict[str, int] = {}
            codes: dict[str, set[int]] = {}
            for _ in range(repeats):
                for n in sizes:
                    for name, tree in trees.items():
                        args = [str(specs[n]) if a == "SPEC" else a for a in argv]
                        wall, cpu, rss, rc = run(tree, args)
                        times.setdefault((name, n), []).append(wall)
                        cpus.setdefault((name, n), []).append(cpu)
                        peaks[name] = max(peaks.get(name, 0), rss)
                        codes.setdefault(name, set()).add(rc)
            first = next(iter(trees))
            for name in trees:
                meds = [statistics.median(times[(name, n)]) for n in sizes]
                cpu = statistics.median(cpus[(name, sizes[-1])])
                line = f"{label:<14} {name:<6}" + "".join(f" {m:>10.2f}" for m in meds)
                line += f" {meds[-1] / meds[0]:>7.1f} {cpu:>7.2f} {peaks[name] / 2**20:>9.0f}"
                line += f" {','.join(map(str, sorted(codes[name]))):>3}"
                if len(trees) > 1:
                    mine = statistics.median(times[(first, sizes[-1])])
                    line += f" {mine / meds[-1]:>6.2f}" if name != first else f" {'':>6}"
                print(line, flush=True)


def best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def in_process(sizes: list[int], repeats: int) -> None:
    sys.path.insert(0, str(ROOT))
    import cnncalc
    from cnncalc.spec import Limits

    limits = Limits(max_layers=10_000_000)
    print(f"{'layers':>8} {'load s':>8} {'analyze s':>10} {'us/layer':>9}")
    for n in sizes:
        text = repeat_text(n)
        net = cnncalc.loads(text, limits=limits)
        t_load = best(lambda text=text: cnncalc.loads(text, limits=limits), repeats)
        t_an = best(lambda net=net: cnncalc.analyze(net), repeats)
        per_layer = 1e6 * (t_load + t_an) / len(net)
        print(f"{len(net):>8} {t_load:>8.3f} {t_an:>10.3f} {per_layer:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vs", type=Path, help="another cnncalc tree to run side by side")
    parser.add_argument("--only", help="comma-separated command labels (e.g. 'summary json')")
    parser.add_argument("--spec", choices=sorted(SPECS), default="chain",
                        help="the generated spec: chain_text (default) or varied_text")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.in_process:
        in_process(sizes, args.repeats)
        return
    trees = {"this": ROOT} | ({"vs": args.vs.resolve()} if args.vs else {})
    only = set(args.only.split(",")) if args.only else None
    whole_process(sizes, args.repeats, trees, only, args.spec)


if __name__ == "__main__":
    main()
