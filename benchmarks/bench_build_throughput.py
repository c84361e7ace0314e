"""Inference throughput of cnncalc's built ResNet-50 against the plain-torch reference
ResNet-50 (torchvision's definition, tests/reference_nets.py), side by side on the CPU.

Run: python benchmarks/bench_build_throughput.py [--batch 8] [--rounds 5] [--iters 5]
Rounds alternate between the two models; the figure is the ratio of median throughputs
(built / reference), which should be within 3% of 1.0.
"""

from __future__ import annotations

import argparse
import time

from common import cv, med


def throughput(model, x, iters: int) -> float:  # type: ignore[no-untyped-def]
    import torch

    with torch.inference_mode():
        model(x)
        t0 = time.perf_counter()
        for _ in range(iters):
            model(x)
        return iters * x.shape[0] / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--net", default="resnet50")
    args = parser.parse_args()
    import torch

    import cnncalc

    import reference_nets

    if args.threads:
        torch.set_num_threads(args.threads)
    built = cnncalc.build_torch(cnncalc.load(args.net)).eval()
    ref = getattr(reference_nets, args.net)().eval()
    x = torch.randn(args.batch, 3, 224, 224)
    a, b = [], []
    for _ in range(args.rounds):
        a.append(throughput(built, x, args.iters))
        b.append(throughput(ref, x, args.iters))
    print(f"{args.net}, batch {args.batch}, {torch.get_num_threads()} threads, "
          f"{args.rounds} rounds x {args.iters} iterations")
    print(f"built     {med(a):8.2f} samples/s  (cv {100 * cv(a):.1f}%)")
    print(f"reference {med(b):8.2f} samples/s  (cv {100 * cv(b):.1f}%)")
    print(f"ratio built/reference: {med(a) / med(b):.4f}")


if __name__ == "__main__":
    main()
