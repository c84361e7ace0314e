"""What the figures do not see: the zoo's built modules have torchvision's settings.

tests/test_torchvision_zoo.py holds every zoo spec to torchvision's figures (params,
buffers, MACs, shapes, layer by layer).  Settings that change none of those figures pass it
unseen: a batchnorm's eps and momentum (MobileNetV3's 0.001 / 0.01, not torch's defaults), a
layer norm's eps (ConvNeXt's 1e-6), a dropout's or a stochastic depth's p and mode (ConvNeXt's
p grows block by block), which activation follows a layer (ReLU or Hardswish), a conv's
padding beside its dilation.  Here the spec is built into torch (``cnncalc.build_torch``, on
the meta device) and run beside torchvision's model; every module call of the kinds below is
recorded with its settings on both sides, and the two multisets must be equal.

Oracle: torchvision 0.28.0's models (tests/torchvision_oracle.py builds them).  The families
checked are regnet, convnext, efficientnet, the mobile nets (mobilenet, mnasnet,
shufflenet), segmentation and video_resnet.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import cnncalc

import torchvision_oracle as oracle

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REGNETS = tuple(n for n in oracle.CLASSIFICATION if n.startswith("regnet_"))
CONVNEXTS = tuple(n for n in oracle.CLASSIFICATION if n.startswith("convnext_"))
#: EfficientNet's stochastic-depth p grows block by block (0.2 * i / blocks): the spec names
#: each copy with ``repeat: {index: i}``, so its p is torchvision's, bit for bit
EFFICIENTNETS = tuple(n for n in oracle.CLASSIFICATION if n.startswith("efficientnet_"))
#: the mobile families' batchnorm settings differ from torch's defaults (MobileNetV3's eps
#: 0.001 and momentum 0.01, MNASNet's momentum 1 - 0.9997, EfficientNet V2's eps 0.001)
MOBILE = ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet0_5",
          "mnasnet1_0", "shufflenet_v2_x0_5", "efficientnet_v2_s")
NAMES = (*REGNETS, *CONVNEXTS, *EFFICIENTNETS, *MOBILE, *oracle.SEGMENTATION, *oracle.VIDEO)

#: activation modules compared by type (torch's class name; GELU with its approximation)
ACTIVATIONS = ("ReLU", "ReLU6", "Hardswish", "Hardsigmoid", "Sigmoid", "SiLU", "Tanh", "GELU")


def setting(module: Any) -> tuple[Any, ...] | None:
    """What a module call is, with the settings that decide what it computes; None for the
    modules not compared (containers, merges, pools, cnncalc's wrappers)."""
    from torch import nn

    name = type(module).__name__
    if isinstance(module, nn.modules.conv._ConvNd):
        return ("conv", len(module.kernel_size), module.in_channels, module.out_channels,
                module.kernel_size, module.stride, module.padding, module.dilation,
                module.groups, module.bias is not None)
    if isinstance(module, nn.Linear):
        return ("linear", module.in_features, module.out_features, module.bias is not None)
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return ("batchnorm", module.num_features, module.eps, module.momentum, module.affine)
    if isinstance(module, nn.LayerNorm):
        return ("layernorm", tuple(module.normalized_shape), module.eps,
                module.elementwise_affine)
    if isinstance(module, nn.Dropout):
        return ("dropout", module.p)
    if hasattr(module, "p") and hasattr(module, "mode"):  # torchvision's StochasticDepth
        return ("stochastic depth", module.p, module.mode)
    if name in ACTIVATIONS:
        return ("activation", name, getattr(module, "approximate", None))
    return None


def calls(model: Any, input_shape: tuple[int, ...]) -> Counter[tuple[Any, ...]]:
    """The settings of every compared module call of ``model`` on a meta input."""
    import torch

    seen: Counter[tuple[Any, ...]] = Counter()
    handles = []
    for module in model.modules():
        if setting(module) is not None:
            handles.append(module.register_forward_hook(
                lambda m, args, out: seen.update([setting(m)])))
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def built(name: str) -> tuple[Any, tuple[int, ...]]:
    """The zoo spec ``name`` built into torch on the meta device, in eval mode."""
    import torch

    net = oracle.load_zoo(name)
    with torch.device("meta"):
        model = cnncalc.build_torch(net)
    return model.eval(), tuple(net.input_shape)


def differences(theirs: Counter[tuple[Any, ...]], ours: Counter[tuple[Any, ...]]) -> list[str]:
    lines = [f"torch has, the spec lacks: {k} x{n}" for k, n in (theirs - ours).items()]
    return lines + [f"the spec has, torch lacks: {k} x{n}" for k, n in (ours - theirs).items()]


@pytest.mark.parametrize("name", NAMES)
def test_built_modules_have_torchvisions_settings(name: str) -> None:
    oracle.torchvision_models()
    model, input_shape = built(name)
    ours = calls(model, input_shape)
    theirs = calls(oracle.build(name), input_shape)
    diff = differences(theirs, ours)
    assert not diff, f"{name}:\n" + "\n".join(diff[:20])


def test_a_wrong_setting_is_caught() -> None:
    """The comparison sees what the figures cannot: one batchnorm's eps changed."""
    oracle.torchvision_models()
    model, input_shape = built("r3d_18")
    first = next(m for m in model.modules() if setting(m) and setting(m)[0] == "batchnorm")
    first.eps = 1e-3
    diff = differences(calls(oracle.build("r3d_18"), input_shape), calls(model, input_shape))
    assert diff == ["torch has, the spec lacks: ('batchnorm', 64, 1e-05, 0.1, True) x1",
                    "the spec has, torch lacks: ('batchnorm', 64, 0.001, 0.1, True) x1"]
