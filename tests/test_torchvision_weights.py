"""The zoo's families, built by ``cnncalc build``, are torchvision's modules: the same
parameter and buffer shapes in the same order as torchvision 0.28.0's model of the same name,
and with torchvision's weights loaded by position, the same output (eval mode, batchnorm
statistics randomised so that they count).

Oracle: torchvision's own models (tests/torchvision_oracle.py), on the CPU with their
default initialisation (no download).  One model per family structure (the figures of every
variant are tests/test_torchvision_zoo.py's); small inputs where the net ends in a global
pool, so the weights do not depend on the size.
"""

from __future__ import annotations

from typing import Any

import pytest

import cnncalc

import torchvision_oracle as oracle
from helpers import randomise_batchnorm

torch = pytest.importorskip("torch")

#: zoo name -> input side (the weights do not depend on it: each ends in a global pool).
#: The VGGs (133-144 M parameters: 0.5 GB a copy) are left to tests/test_reference.py's
#: replica of vgg16 and to the figures.
CASES = {"squeezenet1_0": 96, "squeezenet1_1": 96, "densenet121": 64, "googlenet": 96,
         "inception_v3": 96, "resnext50_32x4d": 64}

#: one intra-op thread for the module (tests/conftest.py): the suite shares 2 cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=sorted(CASES))
def pair(request: pytest.FixtureRequest) -> tuple[str, Any, Any]:
    """(name, torchvision's model, cnncalc's built module), both on the CPU in eval mode."""
    name = request.param
    models = oracle.torchvision_models()
    torch.manual_seed(0)
    theirs = models.get_model_builder(name)(**oracle.builder_kwargs(name)).eval()
    ours = cnncalc.build_torch(cnncalc.load(name)).eval()
    return name, theirs, ours


def _mismatch(theirs: list[Any], ours: list[Any]) -> str:
    for i, ((tn, tt), (on, ot)) in enumerate(zip(theirs, ours)):
        if tt.shape != ot.shape:
            return f"entry {i}: torchvision {tn} {tuple(tt.shape)} vs built {on} {tuple(ot.shape)}"
    return f"{len(theirs)} torchvision entries vs {len(ours)} built"


def test_same_state_shapes_in_torchvisions_order(pair: tuple[str, Any, Any]) -> None:
    _, theirs, ours = pair
    t, o = list(theirs.named_parameters()), list(ours.named_parameters())
    assert [p.shape for _, p in t] == [p.shape for _, p in o], _mismatch(t, o)
    t, o = list(theirs.state_dict().items()), list(ours.state_dict().items())
    assert [p.shape for _, p in t] == [p.shape for _, p in o], _mismatch(t, o)


def test_torchvision_weights_by_position_give_torchvisions_output(
        pair: tuple[str, Any, Any]) -> None:
    name, theirs, ours = pair
    with torch.no_grad():
        randomise_batchnorm(theirs)
        ours.load_state_dict(dict(zip(ours.state_dict(), theirs.state_dict().values())))
        side = CASES[name]
        x = torch.randn(2, 3, side, side)
        want = theirs(x.clone())
        got = ours(x.clone())
    assert got.shape == want.shape == (2, 1000)
    scale = want.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * scale)
