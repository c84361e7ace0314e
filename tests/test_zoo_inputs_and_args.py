"""The regnet, convnext, segmentation and video_resnet families away from their model cards.

tests/test_torchvision_zoo.py holds each variant to torchvision at its model card's input.
These specs also read their input (``input_channels`` sizes a block's convs; segmentation's
heads upsample to the input's size and the ASPP pooling branch to its feature map's), so at
another input they are expanded again: here they must still equal torchvision's model at
that input, layer by layer (oracle: tests/torchvision_oracle.py).  And the family args a
user may set beyond torchvision's variants either give the network they say or are refused,
never silently cut short.
"""

from __future__ import annotations

import pytest

import cnncalc

import torchvision_oracle as oracle

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(("name", "input_shape"), [
    ("lraspp_mobilenet_v3_large", (3, 480, 640)),    # not square, not the card's 520
    ("deeplabv3_mobilenet_v3_large", (3, 225, 301)),  # odd sizes: every stride rounds
    ("fcn_resnet50", (3, 224, 224)),
    ("deeplabv3_resnet50", (3, 257, 193)),
    ("r2plus1d_18", (3, 8, 112, 112)),                # 8 frames
    ("mc3_18", (3, 16, 128, 171)),                    # the clips before the crop
    ("regnet_y_400mf", (3, 256, 256)),
    ("convnext_tiny", (3, 288, 288)),
])
def test_equal_to_torchvision_at_another_input(name: str, input_shape: tuple[int, ...]) -> None:
    oracle.torchvision_models()
    report = cnncalc.analyze(cnncalc.load(name), input_shape=input_shape)
    assert tuple(report.input_shape) == input_shape
    differences = oracle.compare(name, report)
    assert not differences, f"{name} at {list(input_shape)}:\n" + "\n".join(differences)


def test_segmentation_output_is_the_inputs_size() -> None:
    report = cnncalc.analyze(cnncalc.load("lraspp_mobilenet_v3_large"), input_shape=(3, 97, 131))
    assert tuple(report.output_shape) == (21, 97, 131)


def test_convnext_stage_depth_from_args() -> None:
    """A stage of 5 blocks has 5 (features5[0] .. [4]), and stochastic depth still grows to
    stochastic_depth_prob at the network's last block (3 + 3 + 5 + 3 = 14 blocks)."""
    net = cnncalc.load("specs/convnext.yaml", args={"depth3": 5})
    ps = [node.op.args.p for node in net.nodes if node.op_name == "drop_path"]
    assert len(ps) == 14
    assert ps == [0.1 * i / 13 for i in range(14)]
    ids = {node.id.split(".")[0] for node in net.nodes if node.id.startswith("features5[")}
    assert ids == {f"features5[{i}]" for i in range(5)}


def test_convnext_stage_of_any_depth() -> None:
    """No stage depth is written out: 40 blocks are 40 copies, p still torchvision's."""
    net = cnncalc.load("specs/convnext.yaml", args={"depth3": 40})
    ps = [node.op.args.p for node in net.nodes if node.op_name == "drop_path"]
    assert len(ps) == 49 and ps == [0.1 * i / 48 for i in range(49)]


@pytest.mark.parametrize("name", [n for n in oracle.SEGMENTATION if not n.startswith("lraspp")])
def test_segmentation_cards_count_the_auxiliary_head(name: str) -> None:
    """The spec leaves out the auxiliary FCNHead (aux_loss=False, the eval graph); its
    header says the model card counts it: torchvision built with it has the card's params
    and GFLOPS, the spec's model has fewer."""
    import torch

    models = oracle.torchvision_models()
    with torch.device("meta"):
        model = models.get_model_builder(name)(**{**oracle.builder_kwargs(name),
                                                  "aux_loss": True})
    with_aux = oracle.measure(model.eval(), (3, 520, 520))
    (card,) = oracle.cards(name)
    assert with_aux.params == card.params
    assert round(with_aux.macs / 1e9, 3) == card.gflops
    assert cnncalc.analyze(cnncalc.load(name)).totals.params < card.params
