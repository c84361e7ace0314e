"""Receptive fields, measured: the analysed size (and centre) of a net's receptive field
equals what backpropagation shows.

Method: build the spec, make every weight positive (so no contributions cancel), feed a
positive input large enough that the field does not reach a border, backpropagate from
one output unit near the centre and take the extent of the input pixels that receive a
nonzero gradient along each axis.  Its length is the field's size; its midpoint is the
field's centre, ``start + index * jump`` in the analysis.  Max pools are measured as
average pools of the same window (a max routes the gradient to one pixel per window;
the window, and so the field, is the same).
"""

from __future__ import annotations

import pytest

import cnncalc

from helpers import BASIC_BLOCK

torch = pytest.importorskip("torch")
F = torch.nn.functional

INCEPTION = """\
blocks:
  mixed:
    layers:
      - {id: b1, op: conv, out: 2, k: 1, in: input}
      - {id: b3, op: conv, out: 2, k: 3, pad: 1, in: input}
      - {id: b5, op: conv, out: 2, k: 5, pad: 2, in: input}
      - {id: bp, op: maxpool, k: 3, stride: 1, pad: 1, in: input}
      - {op: concat, in: [b1, b3, b5, bp]}
"""

NETS = {
    "stride_dilation_padding": ("[1, 64, 64]", "", """
  - {op: conv, out: 2, k: 3, stride: 2, pad: 1}
  - {op: conv, out: 2, k: 3, dilation: 2, pad: 2, act: relu}
  - {op: conv, out: 2, k: 5}"""),
    "resnet_stem_maxpool": ("[3, 96, 96]", "", """
  - {op: conv, out: 4, k: 7, stride: 2, pad: 3, bias: false, bn: true, act: relu}
  - {op: maxpool, k: 3, stride: 2, pad: 1}
  - {op: conv, out: 4, k: 3, pad: 1}"""),
    "residual_blocks": ("[2, 64, 64]", BASIC_BLOCK, """
  - {op: conv, out: 4, k: 3, pad: 1}
  - {id: s1, op: basic, out: 4}
  - {id: s2, op: basic, out: 8, stride: 2}"""),
    "inception_concat": ("[2, 48, 48]", INCEPTION, """
  - {op: conv, out: 4, k: 3, stride: 2}
  - {id: m, op: mixed}
  - {op: conv, out: 2, k: 1}"""),
    "even_kernel_same_avgpool": ("[1, 60, 60]", "", """
  - {op: conv, out: 2, k: 4, pad: same}
  - {op: avgpool, k: 2, stride: 2}
  - {op: conv, out: 2, k: [3, 5], dilation: [3, 1], stride: [1, 2], pad: [[0, 2], [1, 0]]}"""),
    "even_kernel_same_upper": ("[1, 60, 60]", "", """
  - {op: conv, out: 2, k: 4, pad: same_upper}
  - {op: conv, out: 2, k: [2, 3], stride: 2, pad: same_upper}
  - {op: conv, out: 2, k: 2, dilation: 3, pad: same_lower}"""),
    "conv1d": ("[1, 200]", "", """
  - {op: conv, out: 2, k: 7, stride: 3}
  - {op: maxpool, k: 3, stride: 2, dilation: 2}
  - {op: conv, out: 2, k: 3, dilation: 4}"""),
    "conv3d": ("[1, 24, 24, 24]", "", """
  - {op: conv, out: 2, k: 3, stride: 2, pad: 1}
  - {op: conv, out: 2, k: [1, 3, 3], dilation: 2}"""),
    "local_and_subsample": ("[1, 40, 40]", "", """
  - {op: local, out: 2, k: 3, stride: 1}
  - {op: subsample, k: 2}
  - {op: conv, out: 2, k: 5}"""),
}


def _spec(name: str) -> cnncalc.Network:
    shape, blocks, layers = NETS[name]
    return cnncalc.loads(f"cnncalc: 1\ninput: {shape}\n{blocks}layers:{layers}\n")


def _as_average(module) -> None:
    """Make a max pool backpropagate to its whole window (same window, same field)."""
    pool = getattr(F, f"avg_pool{len(module.kernel_size)}d")

    def forward(x, m=module):
        if any(d != 1 for d in m.dilation):
            return _dilated_average_1d(x, m)
        return pool(x, m.kernel_size, m.stride, m.padding, m.ceil_mode)

    module.forward = forward


def _dilated_average_1d(x, m):
    """The mean of a dilated 1-D window (the only dilated pool used here)."""
    (k,), (s,), (d,), (p,) = m.kernel_size, m.stride, m.dilation, m.padding
    x = F.pad(x, (p, p))
    last = x.shape[-1] - d * (k - 1)
    return sum(x[..., i * d: last + i * d: s] for i in range(k)) / k


def _measure(net: cnncalc.Network) -> tuple[list[int], list[float], list[int]]:
    """Per axis: extent of the input pixels with gradient, their midpoint, and the index
    of the output unit backpropagated from."""
    model = cnncalc.build_torch(net).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.05)
    for node_id in model.ids:
        if net.node(node_id).op.name == "maxpool":
            _as_average(model.layer(node_id))
    x = (torch.rand(1, *net.input_shape) + 0.5).requires_grad_(True)
    y = model(x)
    unit = [n // 2 for n in y.shape[2:]]
    y[(0, 0, *unit)].backward()
    hit = (x.grad[0].abs().sum(0) > 0).nonzero()
    lo, hi = hit.min(0).values.tolist(), hit.max(0).values.tolist()
    for axis, n in enumerate(net.input_shape[1:]):
        assert lo[axis] > 0 and hi[axis] < n - 1, "the field reaches a border: enlarge the input"
    return [h - b + 1 for b, h in zip(lo, hi)], [(b + h) / 2 for b, h in zip(lo, hi)], unit


@pytest.mark.parametrize("name", sorted(NETS))
def test_receptive_field_matches_gradient(name: str) -> None:
    torch.manual_seed(0)
    net = _spec(name)
    rf = cnncalc.analyze(net).layers[-1].receptive_field
    size, centre, unit = _measure(net)
    assert size == [int(s) for s in rf.size]
    assert centre == [float(st + i * j) for st, i, j in zip(rf.start, unit, rf.jump)]


def test_measurement_can_fail() -> None:
    """The method sees a one-pixel change of kernel: a 3x3 and a 5x5 conv differ."""
    small = cnncalc.loads("cnncalc: 1\ninput: [1, 21, 21]\nlayers: [{op: conv, out: 1, k: 3}]")
    large = cnncalc.loads("cnncalc: 1\ninput: [1, 21, 21]\nlayers: [{op: conv, out: 1, k: 5}]")
    assert _measure(small)[0] == [3, 3] and _measure(large)[0] == [5, 5]
