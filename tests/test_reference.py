"""The zoo's AlexNet, VGG-16, ResNet-18, ResNet-50 and GoogLeNet, built from their
specs, are torchvision's networks: the same parameter shapes in the same order as the
plain-torch references in tests/reference_nets.py, and with the reference's weights
loaded by position, the same output on the same input (eval mode)."""

from __future__ import annotations

from collections import Counter

import pytest

import cnncalc

from helpers import randomise_batchnorm

torch = pytest.importorskip("torch")
from torch.utils import _python_dispatch  # noqa: E402,F401  (loads the submodule)

from reference_nets import REFERENCES  # noqa: E402

#: input side per net: the spec's 224 where cheap, smaller for the heavy ones (the
#: weights do not depend on it: every net ends in an adaptive/global pool)
SIDE = {"alexnet": 224, "vgg16": 96, "resnet18": 224, "resnet50": 128, "googlenet": 224}


#: one intra-op thread for the module (tests/conftest.py): the suite shares 2 cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=sorted(REFERENCES))
def pair(request):
    torch.manual_seed(0)
    name = request.param
    return name, REFERENCES[name](), cnncalc.build_torch(cnncalc.load(name))


def _mismatch(ref_items, built_items) -> str:
    for i, ((rn, rt), (bn, bt)) in enumerate(zip(ref_items, built_items)):
        if rt.shape != bt.shape:
            return f"entry {i}: reference {rn} {tuple(rt.shape)} vs built {bn} {tuple(bt.shape)}"
    return f"{len(ref_items)} reference entries vs {len(built_items)} built"


def test_same_parameter_shapes_in_same_order(pair) -> None:
    _name, ref, built = pair
    r, b = list(ref.named_parameters()), list(built.named_parameters())
    assert [t.shape for _, t in r] == [t.shape for _, t in b], _mismatch(r, b)
    rs, bs = list(ref.state_dict().items()), list(built.state_dict().items())
    assert [t.shape for _, t in rs] == [t.shape for _, t in bs], _mismatch(rs, bs)


def test_reference_weights_loaded_by_position_give_the_same_output(pair) -> None:
    name, ref, built = pair
    with torch.no_grad():
        randomise_batchnorm(ref)
        ref.eval()
        built.eval()
        built.load_state_dict(dict(zip(built.state_dict(), ref.state_dict().values())))
        x = torch.randn(2, 3, SIDE[name], SIDE[name])
        want = ref(x.clone())
        got = built(x.clone())
    assert got.shape == want.shape == (2, 1000)
    scale = want.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6 * scale)  # bitwise here


def test_spec_totals_are_the_references(pair) -> None:
    name, ref, _ = pair
    totals = cnncalc.analyze(cnncalc.load(name)).totals
    assert totals.params == sum(p.numel() for p in ref.parameters())
    assert totals.buffers == sum(b.numel() for b in ref.buffers())


class _OpCounter(torch.utils._python_dispatch.TorchDispatchMode):
    """Counts every aten op a forward pass dispatches."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops[str(func)] += 1
        return func(*args, **(kwargs or {}))


def test_built_module_runs_the_same_kernels_as_the_reference(pair) -> None:
    """The speed claim without a stopwatch: the same aten ops, as many times each
    (so also the same in-place ReLUs), hence the same work as the hand-written net."""
    _name, ref, built = pair
    x = torch.randn(1, 3, 64, 64)
    counts = []
    for model in (ref.eval(), built.eval()):
        with torch.inference_mode(), _OpCounter() as counter:
            model(x)
        counts.append(counter.ops)
    assert counts[0] == counts[1]
