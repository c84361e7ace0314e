"""Small helpers shared by several test modules (imported as ``helpers``: pytest puts
tests/ on the path, as for ``reference_nets``)."""

from __future__ import annotations

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
      - {id: a, op: conv, out: $out, k: 3, stride: $stride, pad: 1, bias: false, bn: true, act: relu}
      - {id: b, op: conv, out: $out, k: 3, pad: 1, bias: false, bn: true}
      - {id: sum, op: add, in: [input, b], project: auto}
      - relu
"""


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
