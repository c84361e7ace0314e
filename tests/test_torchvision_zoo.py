"""Every torchvision CNN issue 13 names is a zoo name, and equals torchvision 0.28.0's model.

Oracle: torchvision's own models (tests/torchvision_oracle.py: built with weights=None on
the meta device, measured by torch: parameters, buffers, output shape, FlopCounterMode MACs,
and every conv / linear / norm call), and their model cards (the published weights' params,
GFLOPS and input size).  A name whose spec is not written yet fails: the list below is the
zoo's to-do list.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import cnncalc
from cnncalc.report import Report

import torchvision_oracle as oracle

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    """The zoo's reports, analysed once per module."""
    return {}


def zoo_report(name: str, reports: dict[str, Report]) -> tuple[Report, Any]:
    """The zoo spec ``name`` analysed at its own input, and its network (for ``expect:``)."""
    try:
        net = oracle.load_zoo(name)
    except cnncalc.CnncalcError as exc:
        pytest.fail(f"the zoo has no {name!r} (a specs/ file or a family's variant): {exc}",
                    pytrace=False)
    if name not in reports:
        reports[name] = cnncalc.analyze(net)
    return reports[name], net


@pytest.mark.parametrize("name", oracle.ALL_CNNS)
def test_zoo_equals_torchvision(name: str, reports: dict[str, Report]) -> None:
    oracle.torchvision_models()
    report, net = zoo_report(name, reports)
    differences = oracle.compare(name, report)
    differences += oracle.check_card(name, report, net.expect)
    assert not differences, f"{name}:\n" + "\n".join(differences)


# ------------------------------------------------------------ the oracle's own checks
def test_torchvision_is_the_pinned_release() -> None:
    oracle.torchvision_models()
    import torchvision

    assert torchvision.__version__.split("+")[0] == oracle.TORCHVISION_VERSION


def test_the_import_trick_leaves_register_fake_alone() -> None:
    torch = pytest.importorskip("torch")
    oracle.torchvision_models()
    assert torch.library.register_fake is not oracle._no_op_register_fake
    assert oracle.import_torchvision() is oracle.import_torchvision()


def test_every_named_cnn_is_a_torchvision_model() -> None:
    models = oracle.torchvision_models()
    assert len(set(oracle.ALL_CNNS)) == len(oracle.ALL_CNNS) == 77
    assert set(oracle.ALL_CNNS) <= set(models.list_models())


@pytest.mark.parametrize("name", ["regnet_y_128gf", "googlenet", "fcn_resnet50"])
def test_models_build_on_meta(name: str) -> None:
    model = oracle.build(name)
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert not model.training


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_no_aux_heads(name: str) -> None:
    model = oracle.build(name)
    assert model.aux1 is None if name == "googlenet" else model.AuxLogits is None


@pytest.mark.parametrize("name", ["alexnet", "resnet18", "googlenet", "mobilenet_v3_small",
                                  "regnet_y_400mf", "convnext_tiny", "fcn_resnet50",
                                  "r2plus1d_18"])
def test_flop_counter_per_call_agrees_with_the_formula(name: str) -> None:
    """Each recorded call's MACs (FlopCounterMode's count during the call) equal the
    formula from the module's attributes; the layers hold all of the total's MACs."""
    model = oracle.build(name)
    figures = oracle.figures(name)
    assert oracle.layer_figures(model, oracle.default_input(name)) == list(figures.layers)
    modules = dict(model.named_modules())
    for layer in figures.layers:
        module = modules[layer.where]
        assert layer.macs == oracle.formula_macs(module, layer.input_shape, layer.shape), layer
    assert sum(layer.macs for layer in figures.layers) == figures.macs


def test_transposed_and_3d_conv_macs_agree_with_the_formula() -> None:
    """No torchvision CNN has a transposed conv: FlopCounterMode's count of one (and of a
    grouped 3-D conv) during its call is the formula's."""
    torch = pytest.importorskip("torch")
    from torch import nn

    with torch.device("meta"):
        cases = [(nn.ConvTranspose2d(8, 6, 3, stride=2, groups=2), (8, 5, 5)),
                 (nn.Sequential(nn.Conv3d(6, 4, (1, 3, 3), groups=2), nn.GroupNorm(2, 4)),
                  (6, 4, 5, 5))]
    for model, shape in cases:
        figures = oracle.measure(model.eval(), shape)
        modules = dict(model.named_modules())
        for layer in figures.layers:
            want = oracle.formula_macs(modules[layer.where], layer.input_shape, layer.shape)
            assert layer.macs == want, layer
        assert figures.macs == sum(layer.macs for layer in figures.layers) > 0
    assert [f.kind for f in figures.layers] == ["conv", "groupnorm"]


def test_published_figures_of_resnet50() -> None:
    """torch's figures of torchvision's resnet50 are the model card's; its buffers are the
    batchnorms' 2C + 1 (running mean, running var, num_batches_tracked), as cnncalc counts."""
    figures = oracle.figures("resnet50")
    assert (figures.params, figures.macs, figures.output_shape) == (25_557_032, 4_089_184_256,
                                                                    (1000,))
    norms = [layer for layer in figures.layers if layer.kind == "batchnorm"]
    assert all(layer.buffers == 2 * layer.shape[0] + 1 for layer in norms)
    assert figures.buffers == sum(layer.buffers for layer in norms) == 53_173
    assert oracle.cards("resnet50")[0].params == 25_557_032


def test_projection_convs_are_split_out_of_the_add_row() -> None:
    report = cnncalc.analyze(cnncalc.load("resnet50"))
    layers = oracle.report_layers(report)
    split = [f for f in layers if f.where.startswith("layer1[0].add")]
    assert [(f.kind, f.params, f.buffers, f.macs) for f in split] == [
        ("conv", 64 * 256, 0, 64 * 256 * 56 * 56), ("batchnorm", 512, 513, 0)]
    assert len(layers) == len(oracle.figures("resnet50").layers)


def test_a_wrong_layer_is_reported_readably() -> None:
    """resnet18's report with its fc given 999 outputs and its stem conv a bias: the totals
    and those two layers differ, named on both sides."""
    report = cnncalc.analyze(cnncalc.load("resnet18"))
    rows = []
    for row in report.layers:
        if row.id == "fc":
            row = replace(row, output_shape=(999,), params=512 * 999 + 999, macs=512 * 999)
        elif row.id == "conv1":
            row = replace(row, params=row.params + 64)
        rows.append(row)
    totals = replace(report.totals, params=report.totals.params - 513 + 64)
    wrong = replace(report, layers=tuple(rows), totals=totals, output_shape=(999,))
    text = "\n".join(oracle.compare("resnet18", wrong))
    assert "params: torch 11,689,512, cnncalc 11,689,063 (-449)" in text
    assert "output shape: torch [1000], cnncalc [999]" in text
    assert "MACs" not in text.splitlines()[0]
    assert "torch has, the spec lacks (2):" in text and "the spec has, torch lacks (2):" in text
    assert "linear [1000] params 513,000 buffers 0 macs 512,000 (fc)" in text
    assert "conv [64, 112, 112] params 9,408 buffers 0 macs 118,013,952 (conv1)" in text
    assert "linear [999] params 512,487 buffers 0 macs 511,488 (fc)" in text


def test_channels_last_shapes_compare_up_to_rotation() -> None:
    figure = oracle.LayerFigure("linear", (56, 56, 384), 37_248, 0, 1, "block.3")
    ours = oracle.LayerFigure("linear", (384, 56, 56), 37_248, 0, 1, "pwconv1")
    assert figure.key() == ours.key()
    conv = oracle.LayerFigure("conv", (56, 56, 384), 1, 0, 1, "c")
    assert conv.key() != oracle.LayerFigure("conv", (384, 56, 56), 1, 0, 1, "c").key()


def test_peers_import_with_torchvision_installed() -> None:
    oracle.torchvision_models()
    assert oracle.import_peer("ptflops").get_model_complexity_info


def test_without_torchvision_the_oracle_skips_and_ci_refuses_the_skip(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No torchvision installed: a clean skip (not an error), which CI=true turns into a
    failure (tests/ci_skips.py)."""
    import importlib.util
    import sys

    import ci_skips

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torchvision" else real(name, *a))
    for name in [n for n in sys.modules if n.split(".")[0] == "torchvision"]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(pytest.skip.Exception) as info:
        oracle.torchvision_models()
    reason = str(info.value)
    assert "torchvision is not installed" in reason
    assert ci_skips.refused_in_ci(reason) is not None
