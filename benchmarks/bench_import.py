"""`cnncalc import` of ResNet-50: the goal is under 2 s beyond importing torch.

Two whole processes, run in turn so machine drift hits both alike: the baseline imports
torch and builds the plain-torch ResNet-50 (tests/reference_nets.py, torchvision's
structure); the measured one does the same and then imports it as a spec with
``cnncalc.from_torch`` and analyses the result.  The difference is what importing costs a
user who already has torch loaded.

    python benchmarks/bench_import.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys

from common import ROOT, alternate, med

SETUP = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import torch, "
         "reference_nets; m = reference_nets.resnet50().eval()")
IMPORT = ("; import cnncalc; t = cnncalc.from_torch(m, (3, 224, 224)); "
          "assert cnncalc.analyze(cnncalc.loads(t)).totals.params == 25557032")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = alternate({"torch + model": [sys.executable, "-c", SETUP],
                       "torch + model + import": [sys.executable, "-c", SETUP + IMPORT]},
                      args.repeats)
    base, full = med(times["torch + model"]), med(times["torch + model + import"])
    print(f"torch + ResNet-50 built:           {base:.2f} s (median of {args.repeats})")
    print(f"... then cnncalc.from_torch + load: {full:.2f} s")
    print(f"importing ResNet-50 costs {full - base:.2f} s beyond torch (goal: < 2 s)")


if __name__ == "__main__":
    main()
