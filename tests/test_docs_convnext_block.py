"""docs/spec-format.md's ConvNeXt block ("Modern blocks") is torchvision's CNBlock.

Oracle: ``torchvision.models.convnext.CNBlock(96, layer_scale=1e-6,
stochastic_depth_prob=0.1)`` on a [96, 56, 56] map, measured by torch
(tests/torchvision_oracle.py): params, buffers, output shape, MACs and every conv / linear /
norm call; and, with the block's weights loaded, the same output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_torchvision_outputs import first_use

import cnncalc

import torchvision_oracle as oracle

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def example() -> str:
    """The docs' `cnncalc: 1` example that defines the cnblock."""
    (text,) = [t for t in re.findall(r"```yaml\n(cnncalc: 1\n.*?)```", DOC.read_text(), re.S)
               if "cnblock:" in t]
    return text


def cnblock(device: str) -> object:
    import torch

    oracle.torchvision_models()
    from torchvision.models.convnext import CNBlock

    torch.manual_seed(0)
    with torch.device(device):
        return CNBlock(96, layer_scale=1e-6, stochastic_depth_prob=0.1).eval()


def test_docs_convnext_block_is_torchvisions_cnblock() -> None:
    report = cnncalc.analyze(cnncalc.loads(example()))
    theirs = oracle.measure(cnblock("meta"), (96, 56, 56))
    lines = oracle.compare_totals(theirs, report)
    lines += oracle.compare_layers(theirs.layers, oracle.report_layers(report))
    assert not lines, "\n".join(lines)


def test_docs_convnext_block_computes_cnblock() -> None:
    """torchvision's weights (gamma made large enough to matter), matched by first use as
    in tests/test_torchvision_outputs.py, give the same output."""
    import torch

    ref = cnblock("cpu")
    ref.layer_scale.data.uniform_(0.5, 1.5)
    built = cnncalc.build_torch(cnncalc.loads(example())).eval()
    x = torch.randn(2, 96, 56, 56)
    ours, theirs = built.state_dict(), ref.state_dict()
    for o_name, t_name in zip(first_use(built, x), first_use(ref, x), strict=True):
        ours[o_name] = theirs[t_name].reshape(ours[o_name].shape)  # gamma: [96, 1, 1] both
    built.load_state_dict(ours)
    with torch.no_grad():
        torch.testing.assert_close(built(x), ref(x), rtol=1e-4, atol=1e-5)
