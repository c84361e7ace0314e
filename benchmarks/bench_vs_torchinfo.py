"""Whole-process time of `cnncalc summary resnet50` against torchinfo's summary of an
equivalent plain-torch ResNet-50, side by side, at 224x224 and 1024x1024.

Run: python benchmarks/bench_vs_torchinfo.py [--repeats 5]
Both sides are full processes (interpreter start, imports, work, printing), run in
alternation so that machine noise hits both alike; the figure is the ratio of medians.
"""

from __future__ import annotations

import argparse
import sys

from common import ROOT, alternate, cnncalc_exe, med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="224,1024")
    args = parser.parse_args()
    peer = str(ROOT / "benchmarks" / "torchinfo_resnet50.py")
    print(f"{'input':>10} {'cnncalc s':>10} {'torchinfo s':>12} {'speed-up':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        times = alternate({
            "cnncalc": [cnncalc_exe(), "summary", "resnet50", "--input", f"3x{size}x{size}"],
            "torchinfo": [sys.executable, peer, str(size)],
        }, args.repeats)
        a, b = med(times["cnncalc"]), med(times["torchinfo"])
        print(f"{size:>6}x{size:<3} {a:>10.3f} {b:>12.3f} {b / a:>8.1f}x")


if __name__ == "__main__":
    main()
