"""cnncalc.memory against torch: what autograd saves (``saved_tensors_hooks`` on the built
module, unique storages, parameters and buffers excluded) equals the declared saved
tensors exactly, per layer and in total, for every op's samples (with and without an input
that requires grad) and for zoo nets."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.memory import saved_bytes
from cnncalc.ops import REGISTRY

torch = pytest.importorskip("torch")
from memory_oracle import saved_storages  # noqa: E402

from helpers import sample_spec  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SAMPLES = [(name, i) for name, cls in REGISTRY.items() for i in range(len(cls.samples))]
BATCH = 3


def _measured(net: cnncalc.Network, batch: int, input_grad: bool, shape=None) -> dict[str, int]:
    torch.manual_seed(0)
    model = cnncalc.build_torch(net, shape)
    x = torch.randn(batch, *model.input_shape, requires_grad=input_grad)
    return {k: sum(v.values()) for k, v in saved_storages(model, x).items()}


@pytest.mark.parametrize("input_grad", [False, True], ids=["input", "input-grad"])
@pytest.mark.parametrize(("name", "number"), SAMPLES, ids=[f"{n}-{i}" for n, i in SAMPLES])
def test_saved_per_op(name: str, number: int, input_grad: bool) -> None:
    net = cnncalc.loads(sample_spec(name, number))
    assert saved_bytes(net, BATCH, input_grad=input_grad) == _measured(net, BATCH, input_grad)


@pytest.mark.parametrize(("spec", "shape"), [("lenet5", None), ("resnet18", [3, 64, 64]),
                                             ("mobilenet_v2", [3, 64, 64])])
def test_saved_zoo(spec: str, shape) -> None:
    net = cnncalc.load(spec)
    assert saved_bytes(net, 2, input_shape=shape) == _measured(net, 2, False, shape)


# ------------------------------------------------------------- the measured step
STEP_CASES = [("lenet5", None, 1, "sgd"), ("lenet5", None, 8, "adam"),
              ("resnet18", [3, 64, 64], 2, "momentum"), ("resnet18", [3, 64, 64], 16, "adam"),
              ("mobilenet_v2", [3, 64, 64], 4, "sgd"), ("mobilenet_v2", [3, 64, 64], 16, "adamw")]


@pytest.mark.parametrize(("spec", "shape", "batch", "optimizer"), STEP_CASES,
                         ids=[f"{c[0]}-b{c[2]}-{c[3]}" for c in STEP_CASES])
def test_peak_against_measured_step(spec: str, shape, batch: int, optimizer: str) -> None:
    """One real training step, storages followed by a TorchDispatchMode: within 10%."""
    from memory_oracle import measured_step

    from cnncalc.memory import estimate

    net = cnncalc.load(spec)
    measured = measured_step(net, batch, optimizer, shape)
    est = estimate(net, shape, mode="training", batch=batch, optimizer=optimizer).peak_bytes
    assert abs(est - measured) <= 0.10 * measured, (est, measured)
