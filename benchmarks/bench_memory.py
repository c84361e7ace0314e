"""``cnncalc memory --mode training``'s peak against one measured training step.

Run: python benchmarks/bench_memory.py [--nets lenet5,resnet18,mobilenet_v2,resnet50]
     [--batches 1,8,32] [--optimizers sgd,adam] [--size 64] [--amp]

For each net, batch size and optimizer: the static estimate (``cnncalc.memory.estimate``,
no torch) and the measured peak of one steady-state training step of the built module on
CPU (tests/memory_oracle.py: a first step makes the optimizer's state, then forward,
backward and ``optimizer.step()`` under a TorchDispatchMode that follows every storage
until it is freed, plus parameters, buffers, optimizer state and the input).  The zoo nets
other than lenet5 run at ``--size`` x ``--size`` so CPU steps stay short.  ``--amp``: both
under torch.autocast to bfloat16 (``estimate(..., dtype="bfloat16", amp=True)``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import cnncalc
from cnncalc.memory import estimate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from memory_oracle import measured_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="lenet5,resnet18,mobilenet_v2,resnet50")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--optimizers", default="sgd,adam")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--amp", action="store_true")
    args = ap.parse_args()
    amp = {"dtype": "bfloat16", "amp": True} if args.amp else {}
    torch.set_num_threads(2)
    print(f"{'net':>14} {'input':>9} {'batch':>5} {'opt':>5} {'estimate':>14} "
          f"{'measured':>14} {'error':>7}")
    for name in args.nets.split(","):
        net = cnncalc.load(name)
        x = net.input_shape
        shape = None if name == "lenet5" else (x[0], args.size, args.size)
        shown = "x".join(map(str, shape or net.input_shape))
        for batch in map(int, args.batches.split(",")):
            for opt in args.optimizers.split(","):
                est = estimate(net, shape, mode="training", batch=batch,
                               optimizer=opt, **amp).peak_bytes
                real = measured_step(net, batch, opt, shape, "bfloat16" if args.amp else None)
                print(f"{name:>14} {shown:>9} {batch:>5} {opt:>5}{' amp' if args.amp else ''} "
                      f"{est:>14,} {real:>14,} "
                      f"{est / real - 1:>+7.1%}", flush=True)


if __name__ == "__main__":
    main()
