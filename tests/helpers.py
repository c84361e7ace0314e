"""Small helpers shared by several test modules (imported as ``helpers``: pytest puts
tests/ on the path, as for ``reference_nets``)."""

from __future__ import annotations

import subprocess
from typing import Any

from cnncalc.check import evaluate
from cnncalc.report import Report

#: a ResNet basic block (conv-BN-ReLU, conv-BN, projected shortcut, ReLU) as a spec's
#: ``blocks:`` section, for tests that build or measure a small residual net
BASIC_BLOCK = """\
blocks:
  basic:
    args: {out: int, stride: 1}
    layers:
      - {id: a, op: conv, out: $out, k: 3, stride: $stride, pad: 1, bias: false, bn: true,
         act: relu}
      - {id: b, op: conv, out: $out, k: 3, pad: 1, bias: false, bn: true}
      - {id: sum, op: add, in: [input, b], project: auto}
      - relu
"""


def sample_spec(name: str, number: int = 0) -> str:
    """A spec running sample ``number`` of op ``name`` (``Op.samples``) on its own input
    shapes: the network's input has the first input's channels and, per spatial axis, the
    largest size of any input; every input that is not that shape is made from it by an
    adaptive average pool (its spatial size) and a 1x1 conv (its channels; a linear on a
    vector), so a merge or a reference input gets exactly the sample's shapes."""
    import json

    from cnncalc.ops import REGISTRY

    sample = REGISTRY[name].samples[number]
    ins = [tuple(x) for x in sample.ins]
    top = (ins[0][0], *(max(x[a] for x in ins) for a in range(1, len(ins[0]))))
    pre: list[dict[str, Any]] = []
    wires = []
    for i, x in enumerate(ins):
        src = "input"
        if x[1:] != top[1:]:
            pre.append({"id": f"p{i}", "op": "adaptive_avgpool", "size": list(x[1:]), "in": src})
            src = f"p{i}"
        if x[0] != top[0]:
            kind = {"op": "linear"} if len(x) == 1 else {"op": "conv", "k": 1}
            pre.append({"id": f"b{i}", **kind, "out": x[0], "in": src})
            src = f"b{i}"
        wires.append(src)
    layer = {"op": name, **sample.args} | ({"in": wires} if len(ins) > 1 or wires != ["input"]
                                            else {})
    rows = "".join(f"  - {json.dumps(item)}\n" for item in (*pre, layer))
    return f"cnncalc: 1\ninput: {list(top)}\nlayers:\n{rows}"


def expect_misses(report: Report, expect: Any) -> list[str]:
    """Each entry of an ``expect:`` mapping that ``report`` misses, as a sentence (empty:
    all hold), held by the library's own checker (:func:`cnncalc.check.evaluate`)."""
    return [f"{o.key}: expected {o.expected}, got {o.actual}"
            for o in evaluate(report, expect) if not o.ok]


#: the fields of ``Report.to_dict()`` that the JSON contract promises, by level
JSON_CONTRACT = {
    "report": ("name", "input_shape", "output_shape", "layers", "totals", "receptive_field",
               "warnings"),
    "layer": ("id", "op", "inputs", "output_shape", "params", "trainable_params", "macs",
              "flops", "receptive_field", "activation_bytes"),
    "totals": ("params", "trainable_params", "buffers", "macs", "flops", "param_bytes",
               "activation_bytes"),
}


def assert_json_contract(data: dict[str, Any]) -> None:
    """``data`` (a report as JSON) has every contract field: the report's, the first
    layer's and the totals'."""
    for key in JSON_CONTRACT["report"]:
        assert key in data
    for key in JSON_CONTRACT["layer"]:
        assert key in data["layers"][0]
    for key in JSON_CONTRACT["totals"]:
        assert key in data["totals"]


def cli_process(*args: str, before: str = "", after: str = "",
                entry: str = "main") -> subprocess.CompletedProcess[str]:
    """Run ``cnncalc ARGS`` through a console entry point (``main``, or ``run``: the
    console script) in a fresh interpreter: the code ``before`` first, the code ``after``
    once the entry has returned or raised SystemExit (its status is then ``code``), and
    the process exits with ``code``."""
    import json
    import sys

    code = (f"import json, sys\n{before}\nsys.argv = ['cnncalc', *json.loads(sys.argv[1])]\n"
            f"from cnncalc.cli import {entry}\n"
            f"try:\n    {entry}()\nexcept SystemExit as e:\n    code = e.code or 0\n"
            f"else:\n    code = 0\n{after}\nsys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True,
                          text=True, timeout=120)


def fresh_cli(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``cnncalc ARGS`` through the console entry point in a fresh interpreter; return
    the process and every module it imported (to prove what start-up does not load)."""
    import json

    proc = cli_process(*args, after="sys.stderr.write('\\nMODULES ' + "
                                    "json.dumps(sorted(sys.modules)) + '\\n')")
    marker = proc.stderr.rpartition("\nMODULES ")
    return proc, set(json.loads(marker[2])) if marker[1] else set()


def torch_modules(modules: set[str]) -> list[str]:
    """The torch modules among ``modules``."""
    return sorted(m for m in modules if m == "torch" or m.startswith("torch."))


class Hang(Exception):
    """A guarded piece of work ran past its alarm: a hang is a failure too."""


def hang_guard(seconds: int = 60, what: str = "the work is not bounded"):  # type: ignore[no-untyped-def]
    """A context manager: a generous SIGALRM alarm, so unbounded work fails the test
    instead of hanging it (a no-op off the main thread or without SIGALRM)."""
    import contextlib
    import signal
    import threading

    @contextlib.contextmanager
    def guard():  # type: ignore[no-untyped-def]
        main = threading.current_thread() is threading.main_thread()
        if not hasattr(signal, "SIGALRM") or not main:
            yield
            return

        def expire(signum: int, frame: Any) -> None:
            raise Hang(f"still running after {seconds} s: {what}")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    return guard()


def randomise_batchnorm(model: Any) -> None:
    """Give every batch norm of ``model`` non-trivial statistics and affine terms (in
    place), so that an eval-mode comparison tests them too."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
