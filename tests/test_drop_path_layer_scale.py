"""``drop_path`` and ``layer_scale``: the stochastic-depth module measured (seeded, on CPU)
and against torchvision's own ``stochastic_depth`` draw for draw; layer scale's parameter,
values and FLOPs against torch; both in a ConvNeXt-style block the build verifies."""

from __future__ import annotations

import math

import pytest

import cnncalc
from cnncalc.ops import get_op

torch = pytest.importorskip("torch")


def _module(name: str, args: dict, shape: tuple[int, ...]):  # type: ignore[no-untyped-def]
    from cnncalc.pytorch import modules as kit

    op = get_op(name).from_args(args)
    layer = op.resolve([shape])
    return op, layer, op.torch(layer, kit)


def _torchvision_stochastic_depth():  # type: ignore[no-untyped-def]
    """torchvision.ops.stochastic_depth, imported with the oracle's register_fake trick
    (the package itself never imports torchvision)."""
    import importlib

    oracle = pytest.importorskip("torchvision_oracle")
    oracle.torchvision_models()  # imports torchvision with the trick
    return importlib.import_module("torchvision.ops.stochastic_depth").stochastic_depth


# --------------------------------------------------------------------- drop_path
@pytest.mark.parametrize("mode", ["row", "batch"])
@pytest.mark.parametrize("shape", [(3, 4, 4), (6,), (2, 3, 2, 2)])
def test_drop_path_is_torchvisions_stochastic_depth(mode: str, shape: tuple[int, ...]) -> None:
    """Same seed, same draws: the module's training output equals torchvision's
    stochastic_depth exactly, for several draws in a row; eval is the identity."""
    stochastic_depth = _torchvision_stochastic_depth()
    _, _, module = _module("drop_path", {"p": 0.3, "mode": mode}, shape)
    x = torch.randn(16, *shape)
    for seed in range(5):
        torch.manual_seed(seed)
        ours = module.train()(x)
        torch.manual_seed(seed)
        theirs = stochastic_depth(x, 0.3, mode, True)
        assert torch.equal(ours, theirs)
    assert module.eval()(x) is x


def test_row_mode_drops_samples_at_rate_p_and_keeps_the_mean() -> None:
    """One Bernoulli(1 - p) per sample: each row is all zero or all x / (1 - p); the
    dropped fraction is p within 5 standard errors; the mean stays the input's."""
    torch.manual_seed(0)
    p, n = 0.25, 20_000
    _, _, module = _module("drop_path", {"p": p}, (3, 2, 2))
    y = module.train()(torch.ones(n, 3, 2, 2))
    per_row = y.reshape(n, -1)
    dropped = (per_row == 0).all(1)
    kept = (per_row == 1 / (1 - p)).all(1)
    assert bool((dropped | kept).all())
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(dropped.float().mean().item() - p) < 5 * sigma
    assert abs(y.mean().item() - 1.0) < 5 * sigma / (1 - p)


def test_batch_mode_drops_the_whole_batch_at_rate_p() -> None:
    torch.manual_seed(1)
    p, calls = 0.4, 4000
    _, _, module = _module("drop_path", {"p": p, "mode": "batch"}, (5,))
    module.train()
    x = torch.ones(8, 5)
    outcomes = []
    for _ in range(calls):
        y = module(x)
        assert bool((y == 0).all()) or bool((y == 1 / (1 - p)).all())
        outcomes.append(bool((y == 0).all()))
    assert abs(sum(outcomes) / calls - p) < 5 * math.sqrt(p * (1 - p) / calls)


def test_drop_path_with_p_zero_is_the_identity_in_training() -> None:
    _, _, module = _module("drop_path", {"p": 0.0}, (4, 3, 3))
    x = torch.randn(2, 4, 3, 3)
    assert module.train()(x) is x


def test_drop_path_counts_nothing() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    op, layer, module = _module("drop_path", {"p": 0.5}, (4, 6, 6))
    assert (op.params(layer).total, op.macs(layer), op.flops(layer)) == (0, 0, {})
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    counter = FlopCounterMode(display=False)
    with counter:
        module.eval()(torch.randn(2, 4, 6, 6))
    assert counter.get_total_flops() == 0


def test_drop_path_traces_in_training_mode() -> None:
    """The mask's shape is fixed at build time, so torch.fx traces the training path."""
    _, _, module = _module("drop_path", {"p": 0.2}, (4, 3, 3))
    traced = torch.fx.symbolic_trace(module.train())
    torch.manual_seed(3)
    a = traced(torch.ones(6, 4, 3, 3))
    torch.manual_seed(3)
    assert torch.equal(a, module(torch.ones(6, 4, 3, 3)))


# --------------------------------------------------------------------- layer_scale
@pytest.mark.parametrize(("shape", "gamma"), [((8, 5, 5), (8, 1, 1)), ((6,), (6,)),
                                              ((3, 4, 2, 2), (3, 1, 1, 1)), ((5, 7), (5, 1))])
def test_layer_scale_parameter_values_and_flops(shape: tuple[int, ...],
                                                gamma: tuple[int, ...]) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    op, layer, module = _module("layer_scale", {"init": 0.25}, shape)
    (param,) = list(module.parameters())
    assert tuple(param.shape) == gamma and param.requires_grad
    assert op.params(layer).trainable == param.numel() == shape[0]
    assert bool((param == 0.25).all())
    x = torch.randn(2, *shape)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = module(x)
    torch.testing.assert_close(y, x * 0.25)
    assert counter.get_total_flops() == 0 == 2 * op.macs(layer)  # no weight products
    assert op.flops(layer) == {"other": math.prod(shape)}


def test_layer_scale_default_init_is_convnexts() -> None:
    _, _, module = _module("layer_scale", {}, (4, 2, 2))
    assert bool((module.gamma == 1e-6).all())


def test_layer_scale_as_torchvision_convnext_holds_it() -> None:
    """torchvision's CNBlock keeps layer_scale as a [C, 1, 1] parameter: same count and
    shape as the module cnncalc builds."""
    oracle = pytest.importorskip("torchvision_oracle")
    tv = oracle.torchvision_models()
    block = tv.convnext.CNBlock(96, layer_scale=1e-6, stochastic_depth_prob=0.1)
    _, _, module = _module("layer_scale", {}, (96, 56, 56))
    assert block.layer_scale.shape == module.gamma.shape
    assert bool((block.layer_scale == module.gamma).all())


CONVNEXT_BLOCK = """\
cnncalc: 1
input: [16, 14, 14]
blocks:
  cnblock:
    args: {dim: int, p: 0.0}
    layers:
      - {id: dw, op: conv, out: $dim, k: 7, pad: 3, groups: $dim}
      - {id: norm, op: layernorm, over: channels, eps: 1e-6}
      - {id: pw1, op: conv, out: "${4 * dim}", k: 1}
      - gelu
      - {id: pw2, op: conv, out: $dim, k: 1}
      - {id: scale, op: layer_scale, init: 1e-6}
      - {id: drop, op: drop_path, p: $p}
      - {id: sum, op: add, in: [input, drop]}
layers:
  - {id: b0, op: cnblock, dim: 16, p: 0.1}
  - {id: b1, op: cnblock, dim: 16, p: 0.2}
"""


def test_convnext_style_block_builds_and_verifies() -> None:
    from cnncalc.pytorch.verify import verify

    spec = cnncalc.loads(CONVNEXT_BLOCK)
    report = cnncalc.analyze(spec)
    assert report.layer("b0.scale").params == 16
    assert report.layer("b0.scale").flops_breakdown == {"other": 16 * 14 * 14}
    assert report.layer("b1.drop").flops == report.layer("b1.drop").params == 0
    assert verify(spec, report) == []
    model = cnncalc.build_torch(spec)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    x = torch.randn(4, 16, 14, 14)
    model.eval()
    torch.testing.assert_close(model(x), model(x))  # eval: no randomness
    model.train()
    y = model(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert model.layer("b0.scale").gamma.grad is not None
