"""The zoo's mobile families equal torchvision 0.28.0's models: mobilenet_v2, mobilenet_v3
(small, large), mnasnet (0_5 .. 1_3), shufflenet_v2 (x0_5 .. x2_0), efficientnet (b0 .. b7)
and efficientnet_v2 (s, m, l).

Oracle: torchvision itself (tests/torchvision_oracle.py), measured by torch on the meta
device: params, buffers, output shape, MACs (FlopCounterMode / 2) and every conv, linear and
batchnorm call, as a multiset and in call order.  Beyond the published variants, each
family's arguments (width multipliers, MNASNet's alpha, EfficientNet's compound scaling,
MobileNetV3's reduced tail and dilation, ShuffleNet's stage widths) are held to torchvision's
constructors called with the same arguments, and an input-dependent spec to torchvision at
another input size: the spec must be torchvision's construction rule, not its four numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.report import Report

from helpers import expect_misses
from torchvision_oracle import (
    compare_layers,
    compare_totals,
    figures,
    measure,
    report_layers,
    torchvision_models,
)

SPECS = Path(__file__).resolve().parent.parent / "specs"

#: family file -> its variants, each a torchvision model name
FAMILIES = {
    "mobilenet_v2": ["mobilenet_v2"],
    "mobilenet_v3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "shufflenet_v2": [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)],
    "efficientnet_v2": [f"efficientnet_v2_{s}" for s in "sml"],
}
NAMES = [name for names in FAMILIES.values() for name in names]
#: each variant analysed once per session (two tests read each)
_REPORTS: dict[str, Report] = {}


def report(name: str) -> Report:
    if name not in _REPORTS:
        _REPORTS[name] = cnncalc.analyze(cnncalc.load(name))
    return _REPORTS[name]


def differences(theirs: Any, ours: Report) -> list[str]:
    return compare_totals(theirs, ours) + compare_layers(theirs.layers, report_layers(ours))


@pytest.mark.parametrize("name", NAMES)
def test_variant_equals_torchvision(name: str) -> None:
    ours = report(name)
    theirs = figures(name, tuple(ours.input_shape))
    lines = differences(theirs, ours)
    assert not lines, f"{name}:\n" + "\n".join(lines)


@pytest.mark.parametrize("name", NAMES)
def test_layers_in_torchvision_call_order(name: str) -> None:
    """Not only the same multiset: the spec's rows come in torchvision's forward order."""
    ours = report(name)
    theirs = figures(name, tuple(ours.input_shape))
    mine = report_layers(ours)
    first = next((i for i, (a, b) in enumerate(zip(theirs.layers, mine)) if a.key() != b.key()),
                 None)
    assert len(mine) == len(theirs.layers) and first is None, (
        f"{name}: {len(mine)} rows, torch {len(theirs.layers)} calls; first difference at "
        f"{first}: torch {theirs.layers[first].text() if first is not None else '-'}, "
        f"cnncalc {mine[first].text() if first is not None else '-'}")


def test_every_variant_is_a_zoo_name_of_its_family_file() -> None:
    """A zoo name loads its family's file, as that variant (mobilenet_v2: the file itself)."""
    for family, names in FAMILIES.items():
        for name in names:
            net = cnncalc.load(name)
            variant = None if name == family else name
            file = net.source if variant is None else net.source.removesuffix(f":{variant}")
            assert (Path(file).name, net.variant) == (f"{family}.yaml", variant)



# ------------------------------------------------- the families' arguments
def _mobilenet_v2(m: Any, **kw: Any) -> Any:
    return m.MobileNetV2(**kw)


def _v3(arch: str) -> Callable[..., Any]:
    def build(m: Any, **kw: Any) -> Any:
        return getattr(m, arch)(weights=None, **kw)
    return build


def _efficientnet(m: Any, width_mult: float, depth_mult: float, dropout: float = 0.2) -> Any:
    setting, last = m.efficientnet._efficientnet_conf("efficientnet_b0", width_mult=width_mult,
                                                      depth_mult=depth_mult)
    return m.EfficientNet(setting, dropout, last_channel=last)


#: (family file, spec args, torchvision constructor, its kwargs, input)
OFF_CARD = [
    ("mobilenet_v2", {"width": 0.75}, _mobilenet_v2, {"width_mult": 0.75}, (3, 224, 224)),
    ("mobilenet_v2", {"width": 1.4}, _mobilenet_v2, {"width_mult": 1.4}, (3, 224, 224)),
    ("mobilenet_v2", {"width": 0.35}, _mobilenet_v2, {"width_mult": 0.35}, (3, 160, 160)),
    ("mobilenet_v3", {"width": 0.75}, _v3("mobilenet_v3_large"), {"width_mult": 0.75},
     (3, 224, 224)),
    ("mobilenet_v3", {"reduced_tail": True, "dilated": True}, _v3("mobilenet_v3_large"),
     {"reduced_tail": True, "dilated": True}, (3, 224, 224)),
    ("mobilenet_v3", {"small": True, "width": 1.25, "reduced_tail": True},
     _v3("mobilenet_v3_small"), {"width_mult": 1.25, "reduced_tail": True}, (3, 192, 192)),
    ("mnasnet", {"alpha": 0.35}, lambda m, **kw: m.MNASNet(**kw), {"alpha": 0.35},
     (3, 224, 224)),
    ("mnasnet", {"alpha": 1.7}, lambda m, **kw: m.MNASNet(**kw), {"alpha": 1.7}, (3, 256, 256)),
    ("efficientnet", {"width": 0.9, "depth": 1.3}, _efficientnet,
     {"width_mult": 0.9, "depth_mult": 1.3}, (3, 256, 256)),
    ("efficientnet", {"width": 2.2, "depth": 0.5}, _efficientnet,
     {"width_mult": 2.2, "depth_mult": 0.5}, (3, 128, 128)),
    ("shufflenet_v2", {"c2": 64, "c3": 128, "c4": 256, "c5": 512},
     lambda m, **kw: m.ShuffleNetV2([4, 8, 4], [24, 64, 128, 256, 512]), {}, (3, 224, 224)),
]


@pytest.mark.parametrize(("family", "args", "build", "kwargs", "shape"), OFF_CARD,
                         ids=[f"{f}-{'-'.join(f'{k}={v}' for k, v in a.items())}"
                              for f, a, *_ in OFF_CARD])
def test_family_arguments_follow_torchvision_construction(
        family: str, args: dict[str, Any], build: Callable[..., Any], kwargs: dict[str, Any],
        shape: tuple[int, ...]) -> None:
    import torch

    models = torchvision_models()
    with torch.device("meta"):
        model = build(models, **kwargs).eval()
    theirs = measure(model, shape)
    ours = cnncalc.analyze(cnncalc.load(SPECS / f"{family}.yaml", args=args), input_shape=shape)
    lines = differences(theirs, ours)
    assert not lines, f"{family} {args}:\n" + "\n".join(lines)


@pytest.mark.parametrize(("name", "shape"), [("efficientnet_b0", (3, 320, 320)),
                                             ("efficientnet_v2_s", (3, 224, 224)),
                                             ("shufflenet_v2_x1_0", (3, 160, 160)),
                                             ("mobilenet_v3_small", (3, 96, 96))])
def test_at_another_input_size(name: str, shape: tuple[int, ...]) -> None:
    """The specs read their input widths, so a re-analysis at another size stays exact."""
    ours = cnncalc.analyze(cnncalc.load(name), input_shape=shape)
    lines = differences(figures(name, shape), ours)
    assert not lines, f"{name} at {list(shape)}:\n" + "\n".join(lines)


# ------------------------------------------------- docs/spec-format.md, "Modern blocks"
DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def modern_blocks() -> list[str]:
    """The `cnncalc: 1` examples of the spec docs' "Modern blocks" section, in order."""
    text = DOC.read_text()
    section = text[text.index("\n## Modern blocks\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```yaml\n(cnncalc: 1\n.*?)```", section, re.S)


def test_modern_blocks_examples_hold_their_expect() -> None:
    examples = modern_blocks()
    assert len(examples) == 4  # SE, ShuffleNet unit, conditional residual, ConvNeXt block
    for text in examples:
        net = cnncalc.loads(text)
        assert net.expect and expect_misses(cnncalc.analyze(net), net.expect) == [], text


def test_modern_blocks_se_and_shufflenet_stage_are_torchvisions() -> None:
    """The SE example is torchvision.ops.SqueezeExcitation(64, 16) and the ShuffleNet example
    is shufflenet_v2_x1_0's stage2, layer by layer."""
    import torch

    torchvision = torchvision_models()
    from torchvision.ops import SqueezeExcitation

    se, stage = modern_blocks()[:2]
    with torch.device("meta"):
        module = SqueezeExcitation(64, 16).eval()
    lines = differences(measure(module, (64, 28, 28)), cnncalc.analyze(cnncalc.loads(se)))
    assert not lines, "\n".join(lines)
    stage2 = torchvision.get_model("shufflenet_v2_x1_0", weights=None).stage2.to("meta")
    ours = cnncalc.analyze(cnncalc.loads(stage))
    lines = differences(measure(stage2.eval(), (24, 56, 56)), ours)
    assert not lines, "\n".join(lines)
