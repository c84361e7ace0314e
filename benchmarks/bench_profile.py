"""Does `cnncalc profile` distort what it measures?  Its throughput for ResNet-18 on the
CPU against a hand-written timing loop over the plain-torch reference ResNet-18, side by
side in one process, plus the spread of repeated profiles.

Run: python benchmarks/bench_profile.py [--batch 8] [--rounds 5] [--min-time 2]
Goals: throughput agrees within 5%; repeated profiles vary by under 3% (CV).
"""

from __future__ import annotations

import argparse
import time

from common import cv, med


def hand_loop(model, x, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """The loop an expert writes: warm up, then time iterations for ~seconds."""
    import torch

    with torch.inference_mode():
        for _ in range(3):
            model(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(x)
            n += 1
        return n * x.shape[0] / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    import cnncalc
    from cnncalc.pytorch.profile import Budget, ProfileSettings, run_profile

    from reference_nets import resnet18

    torch.set_num_threads(args.threads)
    net = cnncalc.load("resnet18")
    ref = resnet18().eval()
    x = torch.randn(args.batch, 3, 224, 224)
    settings = ProfileSettings(device="cpu", batches=(args.batch,), threads=args.threads,
                        budget=Budget(warmup=3, min_time=args.min_time))
    ours, ours_mean, theirs = [], [], []
    for _ in range(args.rounds):
        row = run_profile(net, settings).results[0]
        ours.append(row.throughput_per_s)
        ours_mean.append(args.batch / (row.latency.mean_ms / 1e3))
        theirs.append(hand_loop(ref, x, args.min_time))
        print(f"  round: profile median {ours[-1]:.2f}, mean {ours_mean[-1]:.2f}; "
              f"hand loop {theirs[-1]:.2f} samples/s")
    print(f"resnet18, batch {args.batch}, {args.threads} threads, {args.rounds} rounds")
    print(f"cnncalc profile {med(ours):8.2f} samples/s  (cv {100 * cv(ours):.2f}%)  "
          f"from the median latency")
    print(f"cnncalc profile {med(ours_mean):8.2f} samples/s  (cv {100 * cv(ours_mean):.2f}%)  "
          f"from the mean latency")
    print(f"hand loop       {med(theirs):8.2f} samples/s  (cv {100 * cv(theirs):.2f}%)")
    print(f"ratio profile/hand: {med(ours) / med(theirs):.4f} (median), "
          f"{med(ours_mean) / med(theirs):.4f} (mean)")


if __name__ == "__main__":
    main()
