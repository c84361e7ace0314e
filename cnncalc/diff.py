"""Layer-by-layer differences between two analysed specs (``cnncalc diff``).

Layers are matched by id: a layer is *added*, *removed*, *changed* (its op, wiring,
shape or a figure differs) or the *same*.  Totals are compared with their deltas and
percentages.  Plain data only; ``cnncalc.render.diff`` formats it.

>>> import cnncalc
>>> a = cnncalc.analyze(cnncalc.load("lenet5"))
>>> b = cnncalc.analyze(cnncalc.loads(
...     "cnncalc: 1\\ninput: [1, 32, 32]\\nlayers: [{id: C1, op: conv, out: 8, k: 5}]"))
>>> d = diff_reports(a, b)
>>> d.change("C1").fields, d.total("params").delta
(('output_shape', 'params', 'trainable_params', 'macs', 'flops', 'activation_bytes'), -60632)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from .report import LayerReport, Report
from .units import json_number

Kind = Literal["added", "removed", "changed", "same"]

#: what makes a layer "changed" (in this order)
LAYER_FIELDS = ("op", "inputs", "output_shape", "params", "trainable_params", "buffers", "macs",
                "flops", "activation_bytes")
#: the totals compared
TOTAL_FIELDS = ("params", "trainable_params", "buffers", "macs", "flops", "param_bytes",
                "activation_bytes", "peak_activation_bytes")


@dataclass(frozen=True)
class LayerChange:
    """One layer id on either side."""

    id: str
    kind: Kind
    old: LayerReport | None
    new: LayerReport | None
    fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        side = {"old": self.old, "new": self.new}
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "op": self.row.op}
        if self.kind == "changed":
            out["changes"] = {f: {k: _jsonable(getattr(r, f)) for k, r in side.items()}
                              for f in self.fields}
        else:
            out["output_shape"] = list(self.row.output_shape)
            out["params"] = self.row.params
            out["macs"] = self.row.macs
        return out

    @property
    def row(self) -> LayerReport:
        """The layer as it is after the change (as it was, when it was removed)."""
        row = self.new or self.old
        if row is None:  # pragma: no cover - a change has a side
            raise ValueError(f"layer change {self.id} has neither side")
        return row


@dataclass(frozen=True)
class Delta:
    """A total on both sides."""

    name: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old

    @property
    def percent(self) -> Fraction | None:
        """The change in percent of the old value, exact; None when the old value is 0."""
        return Fraction(100 * self.delta, self.old) if self.old else None

    def to_dict(self) -> dict[str, Any]:
        pct = self.percent
        return {"old": self.old, "new": self.new, "delta": self.delta,
                "percent": None if pct is None else _jsonable(pct)}


@dataclass(frozen=True)
class ReportDiff:
    """Everything that differs between ``old`` and ``new``."""

    old_label: str
    new_label: str
    old: Report
    new: Report
    layers: tuple[LayerChange, ...]
    totals: tuple[Delta, ...]

    def change(self, layer_id: str) -> LayerChange:
        return next(c for c in self.layers if c.id == layer_id)

    def total(self, name: str) -> Delta:
        return next(t for t in self.totals if t.name == name)

    def count(self, kind: Kind) -> int:
        return sum(c.kind == kind for c in self.layers)

    @property
    def shapes_changed(self) -> bool:
        return (self.old.input_shape, self.old.output_shape) != (self.new.input_shape,
                                                                 self.new.output_shape)

    @property
    def rf_sizes(self) -> tuple[tuple[int | Fraction, ...] | None,
                                tuple[int | Fraction, ...] | None]:
        """The network receptive field's size on each side, exact (None: not spatial)."""
        return _rf_size(self.old), _rf_size(self.new)

    @property
    def identical(self) -> bool:
        return (not self.shapes_changed and all(c.kind == "same" for c in self.layers)
                and all(t.delta == 0 for t in self.totals))

    def to_dict(self) -> dict[str, Any]:
        old_rf, new_rf = self.rf_sizes
        return {
            "old": self.old_label, "new": self.new_label,
            "input_shape": {"old": list(self.old.input_shape), "new": list(self.new.input_shape)},
            "output_shape": {"old": list(self.old.output_shape),
                             "new": list(self.new.output_shape)},
            "receptive_field": {"old": _jsonable(old_rf), "new": _jsonable(new_rf)},
            "totals": {t.name: t.to_dict() for t in self.totals},
            "summary": {k: self.count(k) for k in ("added", "removed", "changed", "same")},
            "layers": [c.to_dict() for c in self.layers if c.kind != "same"],
        }


def _exact(value: Any) -> int | Fraction:
    x = Fraction(value)
    return int(x) if x.denominator == 1 else x


def _rf_size(report: Report) -> tuple[int | Fraction, ...] | None:
    """The network receptive field's size, exact (None: not spatial)."""
    rf = report.receptive_field
    return tuple(_exact(v) for v in rf.size) if rf else None


def _jsonable(value: Any) -> Any:
    """Tuples as lists; a fraction as a float, or as the nearest int when it is too large
    for a float (figures are exact ints of any size: no float conversion can overflow)."""
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return json_number(value) if isinstance(value, Fraction) else value


def _compare(old: LayerReport, new: LayerReport) -> LayerChange:
    fields = tuple(f for f in LAYER_FIELDS if getattr(old, f) != getattr(new, f))
    return LayerChange(new.id, "changed" if fields else "same", old, new, fields)


def _align(old: Report, new: Report) -> list[LayerChange]:
    """New layers in new order; each removed layer after its nearest kept predecessor."""
    new_ids = {r.id for r in new.layers}
    old_by_id = {r.id: r for r in old.layers}
    after: dict[str | None, list[LayerReport]] = {}
    anchor: str | None = None
    for row in old.layers:
        if row.id in new_ids:
            anchor = row.id
        else:
            after.setdefault(anchor, []).append(row)
    out = [LayerChange(r.id, "removed", r, None) for r in after.get(None, [])]
    for row in new.layers:
        prev = old_by_id.get(row.id)
        out.append(_compare(prev, row) if prev else LayerChange(row.id, "added", None, row))
        out += [LayerChange(r.id, "removed", r, None) for r in after.get(row.id, [])]
    return out


def diff_reports(old: Report, new: Report, old_label: str | None = None,
                 new_label: str | None = None) -> ReportDiff:
    """Compare two reports layer by layer (by id) and total by total."""
    totals = tuple(Delta(f, getattr(old.totals, f), getattr(new.totals, f)) for f in TOTAL_FIELDS)
    return ReportDiff(old_label or old.source, new_label or new.source, old, new,
                      tuple(_align(old, new)), totals)
