"""Parity: every zoo spec and every example, built as a torch module, agrees with the
analysis on every figure.  The oracle is torch itself.

The spec files are globbed at collection time, so a new spec is covered the moment it
is added.  Two passes per spec:

- ``test_parity_meta``: the module is built on the ``meta`` device (no memory, no
  arithmetic) for the spec's own input: parameters, trainable parameters and buffers
  (totals and per layer), every layer's output shape (forward hooks keyed by id) and
  MACs (half of ``FlopCounterMode``'s count, per layer) must equal the analysis, and the
  parameters must come in the spec's layer order.  This covers even the 10^12-weight
  fully connected example.
- ``test_parity_forward``: a real forward pass on random numbers, same checks.  Nets
  over ``MAC_BUDGET`` run on a smaller input when the spec allows one (same parameter
  count); the analysis is then for that input too.  A net whose weights would not fit
  ``PARAM_BYTES_LIMIT`` is skipped here (it is covered by the meta pass).

MACs exceptions (cnncalc.pytorch.verify.MAC_EXCEPTIONS): ``subsample`` multiplies
element-wise (the counter sees only matmuls/convolutions), so its one multiply per output
is not compared; a connection-table conv runs as one dense convolution with zeros where
the table has no link (4-25x faster on CPU than grouped convolutions), so the counter
must see exactly the dense figure ``out * C_in * prod(k) * prod(out spatial)`` instead of
the analysed connected MACs.  Everything else, including locally connected layers (one
batched matmul), transposed convolutions (counted per input element by both) and the RBF
output (one matmul), is compared exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(ROOT.glob("specs/*.yaml")) + sorted(ROOT.glob("examples/*.yaml"))
IDS = [f"{p.parent.name}/{p.stem}" for p in SPECS]
#: a real forward pass above this many MACs runs on a smaller input if the spec allows
MAC_BUDGET = 1_200_000_000
#: weights above this many bytes are not allocated for real (the meta pass covers them)
PARAM_BYTES_LIMIT = 1 << 30
#: ops whose MACs the counter cannot see (element-wise multiplies)
NOT_COUNTED = {"subsample"}


#: one intra-op thread for the module (tests/conftest.py): the suite shares 2 cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _layer_of_tensor(model) -> dict[int, int]:
    """id(parameter or buffer) -> index of the layer that owns it (nested layers apart)."""
    owner: dict[int, int] = {}
    for index, node_id in enumerate(model.ids):  # a nested layer (C1.bn) comes after C1
        for t in model.layer(node_id).parameters():
            owner[id(t)] = index  # ... so it overwrites its tensors' owner
        for t in model.layer(node_id).buffers():
            owner[id(t)] = index
    return owner


def _per_layer_counts(model) -> list[dict[str, int]]:
    owner = _layer_of_tensor(model)
    counts = [{"params": 0, "trainable": 0, "buffers": 0} for _ in model.ids]
    for p in model.parameters():
        counts[owner[id(p)]]["params"] += p.numel()
        counts[owner[id(p)]]["trainable"] += p.numel() if p.requires_grad else 0
    for b in model.buffers():
        counts[owner[id(b)]]["buffers"] += b.numel()
    return counts


def _run(model, x) -> dict[str, tuple[tuple[int, ...], int]]:
    """Output shape (without batch) and FLOPs of every layer, keyed by id."""
    counter = FlopCounterMode(display=False)
    before: dict[str, int] = {}
    seen: dict[str, tuple[tuple[int, ...], int]] = {}
    handles = []
    for node_id in model.ids:
        module = model.layer(node_id)
        handles.append(module.register_forward_pre_hook(
            lambda m, a, i=node_id: before.__setitem__(i, counter.get_total_flops())))
        handles.append(module.register_forward_hook(
            lambda m, a, out, i=node_id: seen.__setitem__(
                i, (tuple(out.shape[1:]), counter.get_total_flops() - before[i]))))
    with torch.no_grad(), counter:
        model(x)
    for h in handles:
        h.remove()
    return seen


def _check(net, shape, device: str, batch: int) -> None:
    report = cnncalc.analyze(net, shape)
    with torch.device(device):
        model = cnncalc.build_torch(net, shape).eval()
        x = torch.randn(batch, *report.input_shape)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == \
        report.totals.trainable_params
    assert sum(b.numel() for b in model.buffers()) == report.totals.buffers
    owner = _layer_of_tensor(model)
    order = [owner[id(p)] for p in model.parameters()]
    assert order == sorted(order), "parameters are not in the spec's layer order"
    counts = _per_layer_counts(model)
    seen = _run(model, x)
    assert seen.keys() == {row.id for row in report.layers}
    for row, c in zip(report.layers, counts):
        got = (seen[row.id][0], c["params"], c["trainable"], c["buffers"])
        want = (row.output_shape, row.params, row.trainable_params, row.buffers)
        assert got == want, f"{row.id} ({row.op}): (shape, params, trainable, buffers)"
        node = net.node(row.id)
        if row.op not in NOT_COUNTED:
            want_macs = _dense_macs(node, row) if _has_table(node) else row.macs
            assert seen[row.id][1] == 2 * want_macs * batch, f"{row.id} ({row.op}): MACs"


def _has_table(node) -> bool:
    return getattr(node.op.args, "connect", None) is not None


def _dense_macs(node, row) -> int:
    """A connection-table conv runs as one dense conv (zeros where there is no link)."""
    k = node.op.window(node.op.resolve(row.input_shapes)).k
    out = row.output_shape
    return out[0] * row.input_shapes[0][0] * math.prod(k) * math.prod(out[1:])


def _forward_shape(net):
    """The spec's input, or a smaller one with the same parameters, under MAC_BUDGET."""
    report = cnncalc.analyze(net)
    if report.totals.macs <= MAC_BUDGET:
        return None
    c, *spatial = net.input_shape
    for f in (2, 4, 8, 16):
        shape = (c, *(max(1, n // f) for n in spatial))
        try:
            small = cnncalc.analyze(net, shape)
        except cnncalc.CnncalcError:
            continue
        if small.totals.params == report.totals.params and small.totals.macs <= MAC_BUDGET:
            return shape
    pytest.skip(f"{report.totals.macs:,} MACs and no smaller input keeps its parameters "
                "(covered by the meta-device pass)")


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_parity_meta(path: Path) -> None:
    _check(cnncalc.load(path), None, "meta", 1)


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_parity_forward(path: Path) -> None:
    torch.manual_seed(0)
    net = cnncalc.load(path)
    params = cnncalc.analyze(net).totals.params
    if params * 4 > PARAM_BYTES_LIMIT:
        pytest.skip(f"{params:,} weights do not fit in memory (covered by the meta-device pass)")
    shape = _forward_shape(net)
    _check(net, shape, "cpu", 2)


def test_specs_are_collected() -> None:
    assert any(p.stem == "lenet5" for p in SPECS)
    assert any(p.parent.name == "examples" for p in SPECS)
