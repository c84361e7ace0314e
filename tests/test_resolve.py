"""An op is bound to its input shapes once (``Op.resolve``): every figure, the explanation
and the torch build read the resolved layer; nothing is worked out twice, and no op
caches on itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from test_ops_registry import SAMPLES, make

import cnncalc
from cnncalc.explain import explain_network
from cnncalc.ops import REGISTRY
from cnncalc.ops.base import Layer, Op

#: one spec using the ops with a geometry: windows, projections, transposed axes, sizes
GEOMETRY_SPEC = """\
cnncalc: 1
input: [3, 16, 16]
layers:
  - {id: c, op: conv, out: 8, k: 3, pad: 1, stride: 2}
  - {id: t, op: conv_transpose, out: 8, k: 2, stride: 2}
  - {id: a, op: add, project: auto, in: [t, c]}
  - {id: l, op: local, out: 4, k: 3}
  - {id: m, op: maxpool, k: 2}
  - {id: s, op: subsample, k: 2}
  - {id: u, op: upsample, scale: 2}
  - {id: z, op: zeropad, pad: 1}
  - {id: p, op: adaptive_avgpool, size: 2}
  - {id: v, op: avgpool, global: true}
"""


def _count_geometry(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every call of every op class's own ``geometry`` (and ``shape``)."""
    calls: Counter[str] = Counter()
    for cls in REGISTRY.values():
        for part in ("geometry", "shape"):
            if part not in vars(cls):
                continue
            original = vars(cls)[part]

            def counted(self: Op[Any], *args: Any, _f: Any = original, _p: str = part) -> Any:
                calls[f"{self.name}.{_p}"] += 1
                return _f(self, *args)

            monkeypatch.setattr(cls, part, counted)
    return calls


def test_the_analysis_resolves_each_layer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    net = cnncalc.loads(GEOMETRY_SPEC)
    calls = _count_geometry(monkeypatch)
    cnncalc.analyze(net)
    ops = Counter(n.op.name for n in net.nodes)
    for key, n in calls.items():
        layers = ops[key.split(".")[0]]
        assert n == layers, f"{key} ran {n} times for {layers} layers"
    assert calls["add.geometry"] == 1 and calls["conv_transpose.geometry"] == 1


def test_resnet50_resolves_each_layer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most once per layer: the layers of a repeated block share their op objects, and
    one op on the same input shapes is resolved once (ResNet-50: 49 convs, 20 distinct)."""
    net = cnncalc.load("resnet50")
    calls = _count_geometry(monkeypatch)
    report = cnncalc.analyze(net)
    for op in ("add", "conv"):
        layers = [(id(n.op), row.input_shapes) for n, row in zip(net.nodes, report.layers)
                  if n.op.name == op]
        assert calls[f"{op}.geometry"] == len(set(layers)) < len(layers), op


def test_explain_resolves_each_explained_layer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    net = cnncalc.loads(GEOMETRY_SPEC)
    report = cnncalc.analyze(net)
    calls = _count_geometry(monkeypatch)
    explain_network(net, report=report)
    ops = Counter(n.op.name for n in net.nodes)
    for key, n in calls.items():
        assert n == ops[key.split(".")[0]], key


def test_the_torch_build_resolves_each_layer_once_after_the_analysis(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    net = cnncalc.loads(GEOMETRY_SPEC)
    calls = _count_geometry(monkeypatch)
    cnncalc.build_torch(net)
    ops = Counter(n.op.name for n in net.nodes)
    for key, n in calls.items():  # once by the analysis, once to build
        assert n == 2 * ops[key.split(".")[0]], key


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_no_op_mutates_itself(name: str) -> None:
    """Every part reads the layer; the op keeps only its arguments (Conv used to cache
    its window on itself)."""
    op, ins, _ = make(name)
    before = dict(vars(op))
    layer = op.resolve(ins)
    op.params(layer), op.macs(layer), op.flops(layer), op.rf(layer), op.rf_inputs(layer)
    op.warnings(layer), op.window(layer), op.explain(layer), op.torch_refusal(layer, 1, True)
    other = op.resolve([tuple(d + 2 if i else d for i, d in enumerate(x)) for x in ins])
    op.params(other)
    assert vars(op) == before
    assert isinstance(layer, Layer) and layer.op is op and layer.ins == list(ins)


def test_a_layer_is_frozen() -> None:
    op, ins, _ = make("conv")
    layer = op.resolve(ins)
    with pytest.raises(AttributeError):
        layer.out = (1,)  # type: ignore[misc]
