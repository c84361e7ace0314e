"""The activations that take no arguments, one class generated per row of a table."""

from __future__ import annotations

from ..base import Sample, register
from .elementwise import Activation, activation_formulas

#: activations whose backward reads their output (torch saves ``result``); the others
#: save their input (relu6 is torch's hardtanh, whose backward reads the input)
SAVES = {"relu": "output", "sigmoid": "output", "tanh": "output"}


#: activations whose torch module may overwrite its input (the backward does not need it)
INPLACE_OK = frozenset({"relu", "relu6"})


#: what docs/ops.md says after an activation's formulas
NOTES = {"relu": (
             "Every element-wise activation counts one FLOP per element (see docs/counting.md);\n"
             "`softmax` counts three.")}


def _simple(op_name: str, text: str) -> type[Activation]:
    attrs = {"name": op_name, "summary": text, "formulas": activation_formulas(),
             "samples": (Sample({}, ((3, 8, 8),), "f"),), "notes": NOTES.get(op_name, ""),
             "inplace_ok": op_name in INPLACE_OK, "inplace_shares": op_name == "relu",
             "saves": SAVES.get(op_name, "input"),
             "saved_doc": f"its {SAVES.get(op_name, 'input')} (nothing when its input needs no "
                          "gradient)"}
    cls = type(op_name.title().replace("_", ""), (Activation,), attrs)
    return register(cls)


for _name, _text in [
    ("relu", "max(x, 0)"),
    ("relu6", "min(max(x, 0), 6)"),
    ("sigmoid", "1 / (1 + exp(-x))"),
    ("tanh", "hyperbolic tangent"),
    ("gelu", "x * Phi(x) (exact erf form)"),
    ("silu", "x * sigmoid(x), a.k.a. swish"),
    ("elu", "x if x > 0 else exp(x) - 1"),
    ("hardswish", "x * relu6(x + 3) / 6 (MobileNetV3)"),
    ("hardsigmoid", "relu6(x + 3) / 6"),
    ("mish", "x * tanh(softplus(x))"),
    ("softplus", "log(1 + exp(x))"),
]:
    _simple(_name, _text)
