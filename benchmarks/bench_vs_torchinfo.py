"""Whole-process time of `cnncalc summary resnet50` against torchinfo's summary of an
equivalent plain-torch ResNet-50, side by side, at 224x224 and 1024x1024.

Run: python benchmarks/bench_vs_torchinfo.py [--repeats 5]
Both sides are full processes (interpreter start, imports, work, printing), run in
alternation so that machine noise hits both alike; the figure is the ratio of medians.

A second table compares the work alone, in one process after every import: torchinfo's
``summary`` call (a forward pass with hooks) on a model built once against cnncalc's
analyse + render of a network loaded once (the speed-up), and with the spec's loading
(parse, expand, validate) counted on cnncalc's side too (``incl. load``).

A third table is the floor the chosen stack sets before any work: an empty interpreter,
a hello-world typer program with one option, and a process that only imports typer,
pydantic's BaseModel, PyYAML and rich. torchinfo's time divided by a floor is the most
any program on that stack could be faster, whatever it did.

Bytecode: cnncalc's modules are compiled first (``compileall``), as ``pip install`` does
for a wheel; an editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise compile
every module from source on every run (+0.05-0.1 s, not a cost users pay).
"""

from __future__ import annotations

import argparse
import compileall
import sys

from common import ROOT, alternate, cnncalc_exe, med

HELLO_TYPER = """
import typer
app = typer.Typer(add_completion=False)
@app.command()
def main(spec: str, batch: int = 1) -> None:
    print(spec, batch)
app()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="224,1024")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    import cnncalc

    compileall.compile_dir(str(ROOT / "cnncalc"), quiet=1)
    print(f"cnncalc {cnncalc.__version__} from {cnncalc.__file__}")
    peer = str(ROOT / "benchmarks" / "torchinfo_resnet50.py")
    print(f"{'input':>10} {'cnncalc s':>10} {'torchinfo s':>12} {'speed-up':>9}")
    for size in sizes:
        times = alternate({
            "cnncalc": [cnncalc_exe(), "summary", "resnet50", "--input", f"3x{size}x{size}"],
            "torchinfo": [sys.executable, peer, str(size)],
        }, args.repeats)
        a, b = med(times["cnncalc"]), med(times["torchinfo"])
        print(f"{size:>6}x{size:<3} {a:>10.3f} {b:>12.3f} {b / a:>8.1f}x")
    in_process(sizes, args.repeats)
    if not args.no_floor:
        floor(args.repeats, peer, sizes)


def floor(repeats: int, peer: str, sizes: list[int]) -> None:
    """What the chosen stack costs before any work, and the most speed-up it allows."""
    import typer

    procs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        f"hello-world typer {typer.__version__}": [sys.executable, "-c", HELLO_TYPER, "x"],
        "import typer, BaseModel, yaml, rich": [
            sys.executable, "-c",
            "import typer, typer.main, yaml, rich.console; from pydantic import BaseModel"],
        "cnncalc summary resnet50": [cnncalc_exe(), "summary", "resnet50"],
    } | {f"torchinfo {s}": [sys.executable, peer, str(s)] for s in sizes}
    times = {k: med(v) for k, v in alternate(procs, repeats).items()}
    print(f"{'process':>38} {'s':>7}" + "".join(f" {'max x @' + str(s):>11}" for s in sizes))
    for name, t in times.items():
        if name.startswith("torchinfo"):
            continue
        ratios = "".join(f" {times[f'torchinfo {s}'] / t:>10.1f}x" for s in sizes)
        print(f"{name:>38} {t:>7.3f}{ratios}")


def in_process(sizes: list[int], repeats: int) -> None:
    """The work alone: imports and model construction excluded on both sides."""
    import io
    import time

    import torch
    import torchinfo
    from rich.console import Console

    import cnncalc
    from cnncalc.render.table import render_report
    from cnncalc.render.views import VIEWS

    from reference_nets import resnet50

    model = resnet50().eval()
    print(f"{'input':>10} {'load ms':>8} {'analyse+render ms':>18} {'torchinfo ms':>13} "
          f"{'speed-up':>9} {'incl. load':>11}   (in process)")
    for size in sizes:
        loads, works, theirs = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            net = cnncalc.load("resnet50")
            t1 = time.perf_counter()
            report = cnncalc.analyze(net, input_shape=(3, size, size))
            render_report(Console(file=io.StringIO(), width=160), report, VIEWS["summary"])
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            works.append(t2 - t1)
            t0 = time.perf_counter()
            with torch.no_grad():
                torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0, depth=3)
            theirs.append(time.perf_counter() - t0)
            time.sleep(0.3)  # torch's OpenMP workers spin ~0.2 s after a parallel region
        a, w, b = med(loads), med(works), med(theirs)
        print(f"{size:>6}x{size:<3} {1e3 * a:>8.1f} {1e3 * w:>18.1f} {1e3 * b:>13.1f} "
              f"{b / w:>8.0f}x {b / (a + w):>10.0f}x")


if __name__ == "__main__":
    main()
