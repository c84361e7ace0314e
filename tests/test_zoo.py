"""The built-in zoo (specs/*.yaml): every spec loads, analyses and holds its figures.

Oracles: the published figures of each reference (torchvision's weights metadata and model
cards for the torchvision nets, d2l's printed shapes, the papers' tables and formulas),
torchvision's construction logic for the parameter order, and plain-torch replicas of the
nets torchvision does not define (params and output shapes on the meta device).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomllib

import cnncalc
from cnncalc.report import Report
from cnncalc.spec.expect import parse_target
from cnncalc.spec.zoo import variant_file, variant_names, zoo_dir, zoo_names

from helpers import expect_misses

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

#: every spec this helper owns (lenet5 exists separately and is held to its own expect too)
ZOO = ["alexnet", "c3d", "charcnn", "densenet121", "densenet161", "densenet169", "densenet201",
       "dilated_context", "googlenet", "inception_v3", "lenet", "lenet5", "mobilenet_v2", "nin",
       "resnet101", "resnet152", "resnet18", "resnet34", "resnet50", "resnext101_32x8d",
       "resnext101_64x4d", "resnext50_32x4d", "squeezenet1_0", "squeezenet1_1", "unet",
       "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
       "wide_resnet101_2", "wide_resnet50_2",
       # the mobile families' variants
       "mobilenet_v3_small", "mobilenet_v3_large",
       "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
       "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
       *(f"efficientnet_b{i}" for i in range(8)),
       "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
       # families: regnet, convnext, video_resnet, segmentation
       *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
       *(f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf",
                                   "128gf")),
       "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
       "r3d_18", "mc3_18", "r2plus1d_18",
       "fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
       "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]

#: layers whose windows do not tile their input (torch drops the rows too); all others none
# Only real input rows/columns that no window reads are flagged; unused padding is not
# (ResNet's 7x7/2 stem on 224 leaves one padding row over, which loses nothing).
EXPECTED_WARNINGS = {
    "nin": {"nin1.conv", "pool1", "pool2", "pool3"},  # d2l's 11x11/4 conv on 224: 1 row dropped
    "squeezenet1_0": {"features.conv1"},  # torchvision's 7x7/2 stem on 224: 1 row dropped
    "squeezenet1_1": {"features.conv1"},  # its 3x3/2 stem on 224: 1 row dropped
}


def _report(name: str) -> Report:
    return cnncalc.analyze(cnncalc.load(name))


_REPORTS: dict[str, Report] = {}


def report(name: str) -> Report:
    """Analyse each zoo spec once per test session."""
    if name not in _REPORTS:
        _REPORTS[name] = _report(name)
    return _REPORTS[name]


# ------------------------------------------- the library's expect: checker
def holds(actual: int, expected: Any) -> bool:
    """An exact figure, an SI figure to its written precision, or {min, max} bounds."""
    return parse_target(expected).holds(actual)


def test_expect_checker_itself() -> None:
    assert holds(4_089_184_256, "4.089G") and not holds(4_089_600_000, "4.089G")
    assert holds(25_557_032, 25_557_032) and not holds(25_557_033, 25_557_032)
    assert holds(1_500, {"min": "1.5k", "max": 1500}) and not holds(1_501, {"max": "1.5k"})
    assert holds(301_000_000, "0.30G") and not holds(306_000_000, "0.30G")


# ----------------------------------------------------------------- every spec
@pytest.mark.parametrize("name", ZOO)
def test_spec_analyses_with_only_the_expected_warnings(name: str) -> None:
    r = report(name)
    flagged = {w.split(": ", 1)[0] for w in r.warnings}
    assert flagged == EXPECTED_WARNINGS.get(name, set())


@pytest.mark.parametrize("name", ZOO)
def test_spec_holds_its_expect_section(name: str) -> None:
    net = cnncalc.load(name)
    assert net.expect, f"{name} has no expect: section"
    assert "output_shape" in net.expect
    assert expect_misses(report(name), net.expect) == []


@pytest.mark.parametrize("name", ZOO)
def test_spec_file_has_header_version_name_and_input(name: str) -> None:
    text = (SPECS / f"{variant_file(name) or name}.yaml").read_text()
    modeline, rest = text.split("\n", 1)
    assert modeline == "# yaml-language-server: $schema=../docs/cnncalc.schema.json"
    assert rest.startswith("# "), "a header comment names the reference"
    assert re.search(r"^cnncalc: 1$", text, re.M)
    net = cnncalc.load(name)
    assert net.name
    assert re.search(r"^name: .+$", text, re.M) and re.search(r"^input: \[", text, re.M)


def test_zoo_lists_every_spec_and_ships_in_the_wheel() -> None:
    families = {variant_file(v) for v in variant_names()}
    names = (set(zoo_names()) - families) | set(variant_names())
    assert names == set(ZOO), "a new zoo spec (or variant) needs its entries in this file"
    assert zoo_dir().resolve() in {SPECS.resolve(), (ROOT / "cnncalc" / "specs").resolve()}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include.get("specs") == "cnncalc/specs"


def test_expect_checker_catches_a_wrong_figure() -> None:
    r = report("resnet18")
    wrong = {"output_shape": [1000], "params": 11_689_513, "macs": "1.9G",
             "layers": {"fc": {"params": 512_000}}}
    assert len(expect_misses(r, wrong)) == 3


# ------------------------------------------------------ torchvision's figures
# Every torchvision net's params and MACs are held to its model cards, read live from
# torchvision's weights entries (tests/torchvision_oracle.py's check_card, run by
# tests/test_torchvision_zoo.py for all 72), so no copy of the cards is kept here.
def test_resnet50_macs_exact() -> None:
    assert report("resnet50").totals.macs == 4_089_184_256


def _torchvision_resnet_sizes(bottleneck: bool, layers: list[int]) -> list[int]:
    """Parameter-tensor sizes in torchvision's module order, from resnet.py's _make_layer."""
    def bn(c: int) -> list[int]:
        return [c, c]
    sizes, inplanes, expansion = [3 * 64 * 49, *bn(64)], 64, 4 if bottleneck else 1
    for planes, blocks, stride in zip((64, 128, 256, 512), layers, (1, 2, 2, 2)):
        for i in range(blocks):
            out = planes * expansion
            if bottleneck:
                sizes += [inplanes * planes, *bn(planes), 9 * planes * planes, *bn(planes),
                          planes * out, *bn(out)]
            else:
                sizes += [9 * inplanes * planes, *bn(planes), 9 * planes * planes, *bn(planes)]
            if i == 0 and (stride != 1 or inplanes != out):
                sizes += [inplanes * out, *bn(out)]          # downsample.0, downsample.1
            inplanes = out
    return [*sizes, 512 * expansion * 1000, 1000]


@pytest.mark.parametrize("name, bottleneck, layers", [
    ("resnet18", False, [2, 2, 2, 2]), ("resnet34", False, [3, 4, 6, 3]),
    ("resnet50", True, [3, 4, 6, 3]), ("resnet101", True, [3, 4, 23, 3]),
])
def test_resnet_parameter_order_is_torchvisions(name: str, bottleneck: bool,
                                                 layers: list[int]) -> None:
    expected = _torchvision_resnet_sizes(bottleneck, layers)
    # each row holds whole tensors: regroup torchvision's tensors row by row
    rows = [row.params for row in report(name).layers if row.params]
    assert sum(rows) == sum(expected)
    merged, i = [], 0
    for total in rows:
        acc = 0
        while acc < total:
            acc += expected[i]
            i += 1
        merged.append(acc)
    assert merged == rows and i == len(expected)


def test_googlenet_3x3_quirk_costs_the_paper_its_5x5_weights() -> None:
    text = (SPECS / "googlenet.yaml").read_text()
    quirk = "{id: branch3b, op: basic, out: $c5, k: 3, pad: 1}"
    assert text.count(quirk) == 1
    paper = cnncalc.loads(text.replace(quirk, "{id: branch3b, op: basic, out: $c5, k: 5, pad: 2}"))
    reduce_x_out = [16 * 32, 32 * 96, 16 * 48, 24 * 64, 24 * 64, 32 * 64, 32 * 128, 32 * 128,
                    48 * 128]                                   # #5x5 reduce x #5x5, Table 1
    extra = cnncalc.analyze(paper).totals.params - report("googlenet").totals.params
    assert extra == 16 * sum(reduce_x_out) == 380_928


# --------------------------------------------------- papers, d2l, hand counts
def test_lenet_d2l_shapes_and_hand_counts() -> None:
    r = report("lenet")
    shapes = [r.layer(i).output_shape for i in ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2",
                                                 "fc3")]
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,)]
    assert r.totals.params == (6 * (25 + 1) + 16 * (6 * 25 + 1) + 400 * 120 + 120 + 120 * 84 + 84
                               + 84 * 10 + 10) == 61_706
    assert r.totals.macs == 6 * 25 * 28 * 28 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10


def test_dilated_context_module_table1() -> None:
    r = report("dilated_context")
    fields = [r.layer(f"ctx{i}").receptive_field.size for i in range(1, 9)]
    assert [int(f[0]) for f in fields] == [3, 5, 9, 17, 33, 65, 67, 67]
    c = 21
    assert r.totals.params == 64 * c * c + 8 * c           # 64C^2 weights + biases
    assert r.output_shape == (c, 64, 64)


@pytest.mark.parametrize("length", [1014, 1014 + 27, 1014 + 5 * 27])
def test_charcnn_frame_length_formula(length: int) -> None:
    r = cnncalc.analyze(cnncalc.load("charcnn"), input_shape=(70, length))
    assert r.layer("pool6").output_shape == (256, (length - 96) // 27)


# ------------------------------------------------ plain-torch replicas (params, shapes)
def _torch_replica(name: str) -> Any:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def relu_conv(cin: int, cout: int, k: int, **kw: Any) -> list[Any]:
        return [nn.Conv2d(cin, cout, k, **kw), nn.ReLU()]

    if name == "nin":
        def block(cin: int, cout: int, k: int, s: int, p: int) -> list[Any]:
            return relu_conv(cin, cout, k, stride=s, padding=p) + relu_conv(cout, cout, 1) \
                + relu_conv(cout, cout, 1)
        return nn.Sequential(*block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2),
                             *block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
                             *block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5),
                             *block(384, 10, 3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if name == "lenet":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
                             nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
                             nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                             nn.Linear(84, 10))
    if name == "dilated_context":
        layers: list[Any] = []
        for d in (1, 1, 2, 4, 8, 16, 1):
            layers += relu_conv(21, 21, 3, padding=d, dilation=d)
        return nn.Sequential(*layers, nn.Conv2d(21, 21, 1))
    if name == "charcnn":
        def c1(cin: int, k: int) -> list[Any]:
            return [nn.Conv1d(cin, 256, k), nn.ReLU()]
        return nn.Sequential(*c1(70, 7), nn.MaxPool1d(3), *c1(256, 7), nn.MaxPool1d(3),
                             *c1(256, 3), *c1(256, 3), *c1(256, 3), *c1(256, 3), nn.MaxPool1d(3),
                             nn.Flatten(), nn.Linear(8704, 1024), nn.ReLU(), nn.Dropout(),
                             nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(), nn.Linear(1024, 4))
    if name == "c3d":
        def c3(cin: int, cout: int) -> list[Any]:
            return [nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU()]
        return nn.Sequential(*c3(3, 64), nn.MaxPool3d((1, 2, 2)), *c3(64, 128), nn.MaxPool3d(2),
                             *c3(128, 256), *c3(256, 256), nn.MaxPool3d(2),
                             *c3(256, 512), *c3(512, 512), nn.MaxPool3d(2),
                             *c3(512, 512), *c3(512, 512), nn.MaxPool3d(2, padding=(0, 1, 1)),
                             nn.Flatten(), nn.Linear(8192, 4096), nn.ReLU(), nn.Dropout(),
                             nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 487))
    assert name == "unet"
    return _TorchUNet(nn)


class _TorchUNet:
    """The padded U-Net of specs/unet.yaml in plain torch (built lazily: torch is optional)."""

    def __new__(cls, nn: Any) -> Any:
        import torch

        def double(cin: int, cout: int) -> Any:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

        class UNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                widths = [64, 128, 256, 512, 1024]
                self.enc = nn.ModuleList(double(a, b) for a, b in zip([1, *widths], widths))
                self.up = nn.ModuleList(nn.ConvTranspose2d(w, w // 2, 2, 2) for w in widths[:0:-1])
                self.dec = nn.ModuleList(double(w, w // 2) for w in widths[:0:-1])
                self.head = nn.Conv2d(64, 2, 1)

            def forward(self, x: Any) -> Any:
                skips = []
                for i, enc in enumerate(self.enc):
                    x = enc(x if i == 0 else nn.functional.max_pool2d(x, 2))
                    skips.append(x)
                for up, dec, skip in zip(self.up, self.dec, skips[-2::-1]):
                    x = dec(torch.cat([skip, up(x)], 1))
                return self.head(x)

        return UNet()


@pytest.mark.parametrize("name", ["lenet", "nin", "dilated_context", "charcnn", "c3d", "unet"])
def test_matches_a_plain_torch_replica(name: str) -> None:
    torch = pytest.importorskip("torch")
    model = _torch_replica(name).to("meta")
    r = report(name)
    assert sum(p.numel() for p in model.parameters()) == r.totals.params
    out = model(torch.empty(1, *r.input_shape, device="meta"))
    assert tuple(out.shape[1:]) == r.output_shape
