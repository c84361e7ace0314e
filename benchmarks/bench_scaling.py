"""Analysis time of generated N-layer specs: it must grow linearly with N.

Run: python benchmarks/bench_scaling.py [--sizes 1000,2000,5000,10000] [--repeats 3]
Prints, per size, the best-of-repeats time of load (parse + expand) and analyze, and
the time per layer; linear growth shows as a flat time-per-layer column.
"""

from __future__ import annotations

import argparse
import time

import cnncalc
from cnncalc.spec import Limits


def spec_text(n_layers: int) -> str:
    """A residual-style chain: conv+bn+relu units (3 rows each) wired by name."""
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


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    limits = Limits(max_layers=10_000_000)
    print(f"{'layers':>8} {'load s':>8} {'analyze s':>10} {'us/layer':>9}")
    for n in (int(s) for s in args.sizes.split(",")):
        text = spec_text(n)
        net = cnncalc.loads(text, limits=limits)
        t_load = best(lambda text=text: cnncalc.loads(text, limits=limits), args.repeats)
        t_an = best(lambda net=net: cnncalc.analyze(net), args.repeats)
        per_layer = 1e6 * (t_load + t_an) / len(net)
        print(f"{len(net):>8} {t_load:>8.3f} {t_an:>10.3f} {per_layer:>9.1f}")


if __name__ == "__main__":
    main()
