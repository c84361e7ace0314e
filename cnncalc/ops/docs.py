"""docs/ops.md, generated from the registry: every op's summary, arguments, formulas and
notes as the op class states them; and the "Per-op formulas" table of docs/counting.md,
from the same formulas.  Regenerate after changing an op::

    python -m cnncalc.ops.docs            # writes docs/ops.md and the counting table
    python -m cnncalc.ops.docs --check    # exit 1 when a committed file is stale

``tests/test_ops_docs.py`` fails when a committed file differs from :func:`render` or
:func:`with_counting_table`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..generated import write_or_check
from . import FAMILIES, REGISTRY, op_info

#: the doc's sections: family -> title, in the order they appear (the families' own order)
SECTIONS = FAMILIES
FIGURES = ("shape", "params", "macs", "flops", "rf")
DOC = Path(__file__).resolve().parents[2] / "docs" / "ops.md"
COUNTING = DOC.with_name("counting.md")
#: the lines around the generated table in docs/counting.md
TABLE_START = ("<!-- Generated from each op's `formulas` by `python -m cnncalc.ops.docs`: do not "
               "edit by hand. -->")
TABLE_END = "<!-- End of the generated table. -->"

HEADER = """\
# Ops reference

<!-- Generated from the op registry by `python -m cnncalc.ops.docs`: do not edit by hand.
     An op's summary, arguments, formulas and notes live on its class in cnncalc/ops/;
     change them there and regenerate (tests/test_ops_docs.py checks this file is current). -->

Every op a spec can use, with its arguments and the formula behind each figure cnncalc
reports. `cnncalc ops` prints the same information from the registry
(`cnncalc.ops.op_info`), and `tests/test_ops_registry.py` checks that every registered op
has a section here whose formulas match the code. The spec format itself is described in
[spec-format.md](spec-format.md).

## Notation

- Shapes have no batch axis: `(C, *spatial)` for a feature map (`[C, L]`, `[C, H, W]` or
  `[C, D, H, W]`; the rank picks the 1-D, 2-D or 3-D op) and `(F,)` for a vector.
- Per spatial axis: `n` input size, `k` kernel, `s` stride, `d` dilation, `p` symmetric
  padding, `pb` / `pa` padding before / after. Scalars broadcast to every axis; a list
  gives one value per axis.
- `C` is the input's channel count, `out` the output channels, `numel` the element count
  of a tensor, `prod(k)` the kernel's volume.
- **params** equal `sum(p.numel() for p in module.parameters())` of the equivalent torch
  module; **buffers** (running statistics) are reported apart.
- **macs** are multiply-accumulates of weight products (conv, conv_transpose, local,
  linear, rbf, projection shortcuts), bias excluded: half of
  `torch.utils.flop_counter.FlopCounterMode`'s count.
- **flops** are all floating-point operations per sample, split into the categories
  `conv`, `linear`, `bias`, `norm`, `activation`, `pool`, `merge` and `other`; the
  report multiplies them by the batch.
- **saved for backward** is what `torch.autograd` keeps for the layer's backward in
  training (`Op.saved`; `cnncalc memory` adds it up, a storage two layers save counted
  once), checked exactly against `saved_tensors_hooks` by `tests/test_memory.py`.
- **rf** is the receptive-field step of Araujo et al. (Distill 2019): per axis, the
  field `size`, the `jump` between neighbouring outputs in input pixels and the `start`
  (centre of the first output unit). "unchanged" means an element-wise op.

`tests/test_ops_figures.py` builds each op in plain torch and checks params, buffers,
output shape and MACs exactly; `tests/test_shapes_torch.py` checks the shape arithmetic
of conv, conv_transpose, the pools and upsample against torch on thousands of random
1-D, 2-D and 3-D cases, including the cases torch rejects.
"""


def _default(arg: dict[str, Any]) -> str:
    if arg["required"]:
        return "required"
    value = arg["default"]
    if value is None:
        return "—"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"`{text}`"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def op_section(name: str) -> str:
    """One op's section: summary, argument table, formulas and notes."""
    info, cls = op_info(name), REGISTRY[name]
    lines = [f"### `{name}`", "", _sentence(info["summary"]), ""]
    if info["args"]:
        lines += ["| argument | type | default |", "| --- | --- | --- |"]
        lines += [f"| `{a['name']}` | {a['type'].replace('|', '&#124;')} | {_default(a)} |"
                  for a in info["args"]]
        lines.append("")
    else:
        lines += ["No arguments.", ""]
    lo, hi = cls.arity
    if (lo, hi) != (1, 1):
        lines += [f"Inputs: {lo} or more." if hi is None else f"Inputs: {lo} to {hi}.", ""]
    lines += [f"- **{fig}**: `{cls.formulas[fig]}`" for fig in FIGURES]
    lines.append(f"- **saved for backward** (training): {cls.saved_doc}")
    if cls.notes:
        lines += ["", cls.notes.strip()]
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole of docs/ops.md."""
    parts = [HEADER]
    for family, title in SECTIONS.items():
        names = [n for n, c in REGISTRY.items() if c.family == family]
        if names:
            parts.append(f"## {title}\n")
            parts += [op_section(n) for n in names]
    missing = {c.family for c in REGISTRY.values()} - set(SECTIONS)
    if missing:  # a programming error: a new family needs a title
        raise RuntimeError(f"families without a section title: {sorted(missing)} (name each "
                           "in cnncalc.ops.discovery.FAMILIES)")
    return "\n".join(parts) + "\n"


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def counting_table() -> str:
    """docs/counting.md's table: params, MACs and FLOPs of every op, from its ``formulas``;
    ops whose three formulas are the same share a row (the simple activations), placed
    where the first of them comes, family by family in the order of docs/ops.md."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for family in SECTIONS:
        for name, cls in REGISTRY.items():
            if cls.family == family:
                f = cls.formulas
                rows.setdefault((f["params"], f["macs"], f["flops"]), []).append(name)
    lines = ["| op | params | MACs | FLOPs by category |", "| --- | --- | --- | --- |"]
    lines += [f"| {', '.join(f'`{n}`' for n in names)} | {' | '.join(map(_code, key))} |"
              for key, names in rows.items()]
    return "\n".join(lines) + "\n"


def with_counting_table(doc: str) -> str:
    """``doc`` (docs/counting.md) with the text between its table markers regenerated."""
    head, start, rest = doc.partition(TABLE_START + "\n")
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:  # a programming error: the markers were edited away
        raise RuntimeError(f"{COUNTING.name} lacks the generated table's markers")
    return head + start + "\n" + counting_table() + "\n" + end + tail


def _outputs() -> dict[Path, str]:
    """Each generated file and what it must hold."""
    return {DOC: render(),
            COUNTING: with_counting_table(COUNTING.read_text(encoding="utf-8"))}


def main(argv: list[str]) -> int:
    return write_or_check(_outputs(), "python -m cnncalc.ops.docs", argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
