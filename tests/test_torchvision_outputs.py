"""The zoo's regnet, convnext, segmentation and video_resnet nets compute torchvision's
function: with torchvision's weights loaded, the same output on the same input.

Figures (tests/test_torchvision_zoo.py) cannot see wiring: a ReLU before the residual sum
instead of after it, the gate multiplying the wrong map, the classifiers of LR-ASPP summed
from the wrong features all leave every count unchanged.  Here each spec is built into torch
(``cnncalc.build_torch``) beside torchvision's model (random init, batchnorm statistics
randomised so they matter), torchvision's parameters and buffers are copied into the built
module, and both run in eval mode on one random input: the outputs must agree to float
rounding.

Weights are matched by first use: a forward pass under a dispatch mode records the order in
which each model's parameters and buffers first enter an aten op; the i-th tensor used by
torchvision's model is loaded into the i-th used by the spec's, and their shapes must agree.
(Registration order would not do: ConvNeXt's CNBlock registers its gamma before the block
it scales.)  One difference of order is known and harmless: RegNet's block computes
``self.proj(x) + self.f(x)``, its projection first, where the spec's ``add`` with
``project: auto`` projects after f; :func:`projection_after_f` moves torchvision's ``proj``
tensors after their block's others before matching.  Inputs are small, so the test is
cheap; the weights do not depend on them.
"""

from __future__ import annotations

from typing import Any

import pytest

import cnncalc

import torchvision_oracle as oracle
from helpers import randomise_batchnorm

torch = pytest.importorskip("torch")
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CASES = [
    ("regnet_x_400mf", (3, 64, 64)),
    ("regnet_x_8gf", (3, 64, 64)),        # stage 1's group width differs from the others'
    ("regnet_y_400mf", (3, 64, 64)),
    ("convnext_tiny", (3, 64, 64)),
    ("fcn_resnet50", (3, 64, 64)),
    ("deeplabv3_resnet50", (3, 64, 64)),
    ("deeplabv3_mobilenet_v3_large", (3, 64, 64)),
    ("lraspp_mobilenet_v3_large", (3, 80, 48)),
    ("r3d_18", (3, 4, 32, 32)),
    ("mc3_18", (3, 4, 32, 32)),
    ("r2plus1d_18", (3, 4, 32, 32)),
]


class _FirstUse(TorchDispatchMode):
    """Records the tensors of ``watched`` (storage pointer -> name) in the order in which
    they first enter an aten op."""

    def __init__(self, watched: dict[int, str]) -> None:
        super().__init__()
        self.watched, self.order, self.seen = watched, [], set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        for arg in (*args, *(kwargs or {}).values()):
            for t in arg if isinstance(arg, (list, tuple)) else (arg,):
                if isinstance(t, torch.Tensor):
                    key = t.untyped_storage().data_ptr()
                    if key in self.watched and key not in self.seen:
                        self.seen.add(key)
                        self.order.append(self.watched[key])
        return func(*args, **(kwargs or {}))


def first_use(model: Any, x: Any) -> list[str]:
    """The state-dict names of ``model``'s tensors in the order a forward pass uses them."""
    watched = {t.untyped_storage().data_ptr(): name
               for name, t in model.state_dict(keep_vars=True).items() if t.numel()}
    mode = _FirstUse(watched)
    with torch.no_grad(), mode:
        model(x)
    return mode.order


def projection_after_f(names: list[str]) -> list[str]:
    """RegNet's ``<block>.proj.*`` tensors moved after the block's last other tensor."""
    out = [n for n in names if ".proj." not in n]
    for name in (n for n in names if ".proj." in n):
        block = name.split(".proj.")[0] + "."
        last = max(i for i, n in enumerate(out) if n.startswith(block) and ".proj." not in n)
        at = last + 1
        while at < len(out) and out[at].startswith(block + "proj."):
            at += 1  # after the projection tensors moved there already, in their order
        out.insert(at, name)
    return out


def torchvision_model(name: str) -> Any:
    models = oracle.torchvision_models()
    torch.manual_seed(0)
    model = models.get_model_builder(name)(**oracle.builder_kwargs(name))
    randomise_batchnorm(model)
    if name.startswith("convnext"):  # gamma is 1e-6 at init: the blocks would hardly count
        for m in model.modules():
            if hasattr(m, "layer_scale"):
                m.layer_scale.data.uniform_(0.5, 1.5)
    return model.eval()


def _output(y: Any) -> Any:
    return y["out"] if isinstance(y, dict) else y


@pytest.mark.parametrize(("name", "input_shape"), CASES)
def test_same_output_with_torchvisions_weights(name: str, input_shape: tuple[int, ...]) -> None:
    ref = torchvision_model(name)
    built = cnncalc.build_torch(cnncalc.load(name), input_shape).eval()
    x = torch.randn(2, *input_shape)
    theirs, ours = projection_after_f(first_use(ref, x)), first_use(built, x)
    assert len(theirs) == len(ours), f"{name}: torch uses {len(theirs)}, the spec {len(ours)}"
    ref_state, state = ref.state_dict(), built.state_dict()
    for t_name, o_name in zip(theirs, ours):
        assert ref_state[t_name].shape == state[o_name].shape, (
            f"{name}: {t_name} {list(ref_state[t_name].shape)} is used where the spec uses "
            f"{o_name} {list(state[o_name].shape)}")
        state[o_name] = ref_state[t_name]
    built.load_state_dict(state)
    with torch.no_grad():
        want = _output(ref(x))
        got = built(x)
    assert got.shape == want.shape
    scale = want.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * scale)
