"""cnncalc.peers: each peer tool's figure rebuilt from a cnncalc report.

Oracles: the four published ResNet-50 figures (architecture brief; torchinfo 1.8.0,
fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1 on torchvision's resnet50 at 1x3x224x224);
torchinfo run live on a plain-torch ResNet-50 (always: it is a dependency); and, when
fvcore / ptflops / thop are installed, those tools run live on plain-torch ResNet-50,
ResNet-18, AlexNet and on one module per op (batch 2, which exercises ptflops' per-sample
averaging of module hooks).  The tests skip the peers that are not installed.  ptflops
imports torchvision at its own import: :func:`torchvision_oracle.import_peer` imports it
first, with the trick its compiled ops need on this CPU torch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import cnncalc
from cnncalc import peers
from cnncalc.ops import REGISTRY
from cnncalc.report import Report

from helpers import sample_spec
from torchvision_oracle import import_peer

#: the figures each tool printed for the torchvision-style net at 1x3x224x224
#: (ResNet-50: the published four; ResNet-18 and AlexNet: measured with the versions in
#: peers.PEER_VERSIONS, and re-measured by test_live_peer_matches_rebuilt_figure)
FIGURES = {
    "resnet50": {"torchinfo": 4_089_238_376, "fvcore": 4_111_512_576,
                 "ptflops": 4_132_436_968, "thop": 4_133_742_592},
    "resnet18": {"torchinfo": 1_814_083_944, "fvcore": 1_819_065_856,
                 "ptflops": 1_825_313_768, "thop": 1_824_033_792},
    "alexnet": {"torchinfo": 714_682_664, "fvcore": 714_197_696,
                "ptflops": 716_441_128, "thop": 714_206_912},
}
FUNCS: dict[str, Callable[[Report], int]] = {
    "torchinfo": peers.torchinfo_mult_adds, "fvcore": peers.fvcore_flops,
    "ptflops": peers.ptflops_macs, "thop": peers.thop_macs,
}


def analyze(text: str, batch: int = 1) -> Report:
    return cnncalc.analyze(cnncalc.loads(text, "t.yaml"), batch=batch)


def zoo(net: str, batch: int = 1) -> Report:
    """The built-in zoo spec ``net`` (specs/<net>.yaml: torchvision's nets) analysed."""
    return cnncalc.analyze(cnncalc.load(net), batch=batch)


@pytest.fixture(scope="module")
def resnet50() -> Report:
    return zoo("resnet50")


# ------------------------------------------------------------ from the report alone
@pytest.mark.parametrize("peer", peers.PEERS)
def test_published_resnet50_figure_rebuilt(resnet50: Report, peer: str) -> None:
    assert resnet50.totals.macs == 4_089_184_256
    assert FUNCS[peer](resnet50) == FIGURES["resnet50"][peer]


@pytest.mark.parametrize("net", ["resnet50", "resnet18", "alexnet"])
def test_zoo_specs_rebuild_the_recorded_figures(net: str) -> None:
    assert {p: FUNCS[p](zoo(net)) for p in peers.PEERS} == FIGURES[net]


def test_resnet50_reconciliation_table(resnet50: Report) -> None:
    """The worked table of docs/counting.md, category by category."""
    parts = {p: dict(peers.peer_count(resnet50, p).parts) for p in peers.PEERS}
    conv, fc = 4_087_136_256, 2_048_000
    bn_elements = resnet50.totals.flops_breakdown["norm"] // 2
    assert bn_elements == 11_113_984
    relu = resnet50.totals.flops_breakdown["activation"]
    assert parts["torchinfo"] == {"conv": conv, "linear": fc, "bias": 1000, "norm": 53_120}
    assert parts["fvcore"] == {"conv": conv, "linear": fc, "norm": 2 * bn_elements,
                               "pool": 2048 * 49}
    assert parts["ptflops"] == {"conv": conv, "linear": fc, "bias": 1000, "norm": 2 * bn_elements,
                                "activation": 2 * relu,
                                "pool": 2 * (64 * 112 * 112 + 2048 * 49)}
    assert parts["thop"] == {"conv": conv, "linear": fc, "norm": 4 * bn_elements,
                             "pool": 2048 * (49 + 1)}


def test_torchinfo_batchnorm_part_is_its_affine_params(resnet50: Report) -> None:
    bn = sum(r.params for r in resnet50.layers if r.op == "batchnorm")
    shortcut_bn = sum(2 * r.output_shape[0] for r in resnet50.layers
                      if r.op == "add" and r.macs)
    assert bn + shortcut_bn == 53_120  # ResNet-50's BN weights + biases
    assert peers.peer_count(resnet50, "torchinfo").parts["norm"] == 53_120


def test_batch_scales_all_but_ptflops(resnet50: Report) -> None:
    r4 = zoo("resnet50", batch=4)
    for peer in ("torchinfo", "fvcore", "thop"):
        assert FUNCS[peer](r4) == 4 * FUNCS[peer](resnet50)
    # ptflops averages module hooks per sample but sums patched functional calls
    relu_and_pools = 9_608_704 + 802_816 + 100_352
    assert peers.ptflops_macs(r4) == peers.ptflops_macs(resnet50) + 3 * relu_and_pools


def test_every_registered_op_is_modelled_or_listed() -> None:
    for peer, rules in peers.RULES.items():
        missing = set(REGISTRY) - set(rules) - peers.UNMODELLED
        assert not missing, f"{peer}: no rule for {sorted(missing)}"


def test_unmodelled_layers_are_reported() -> None:
    r = cnncalc.analyze(cnncalc.load("lenet5"))
    count = peers.peer_count(r, "thop")
    assert count.unmodelled and all(r.layer(i).op in peers.UNMODELLED for i in count.unmodelled)


def test_unknown_peer_is_refused(resnet50: Report) -> None:
    with pytest.raises(ValueError, match="choose from torchinfo"):
        peers.peer_count(resnet50, "flopco")  # type: ignore[arg-type]


# ---------------------------------------------------------------- live: the tools
def _plain_nets() -> dict[str, Callable[[], Any]]:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def cbr(cin: int, cout: int, k: int, s: int = 1, relu: bool = True) -> list[Any]:
        layers = [nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout)]
        return layers + ([nn.ReLU(inplace=True)] if relu else [])

    class Block(nn.Module):
        def __init__(self, cin: int, width: int, stride: int, bottleneck: bool) -> None:
            super().__init__()
            out = width * (4 if bottleneck else 1)
            if bottleneck:
                body = (cbr(cin, width, 1) + cbr(width, width, 3, stride)
                        + cbr(width, out, 1, relu=False))
            else:
                body = cbr(cin, width, 3, stride) + cbr(width, width, 3, relu=False)
            self.body = nn.Sequential(*body)
            self.down = (nn.Sequential(*cbr(cin, out, 1, stride, relu=False))
                         if stride != 1 or cin != out else nn.Identity())
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x: Any) -> Any:
            y = self.body(x)
            y += self.down(x)  # torchvision: `out += identity` (no counted add op)
            return self.relu(y)

    def resnet(depths: list[int], bottleneck: bool) -> Any:
        layers, cin = [*cbr(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)], 64
        for i, n in enumerate(depths):
            for j in range(n):
                layers.append(Block(cin, 64 * 2 ** i, 2 if i and not j else 1, bottleneck))
                cin = 64 * 2 ** i * (4 if bottleneck else 1)
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))

    def alexnet() -> Any:
        return nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d(6), nn.Flatten(), nn.Dropout(), nn.Linear(9216, 4096),
            nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True),
            nn.Linear(4096, 1000))

    return {"resnet50": lambda: resnet([3, 4, 6, 3], True),
            "resnet18": lambda: resnet([2, 2, 2, 2], False), "alexnet": alexnet}


def measure(peer: str, model: Any, x: Any) -> int:
    """Run ``peer`` on ``model`` (eval mode) for input ``x`` (batch included)."""
    tool = import_peer({"fvcore": "fvcore.nn"}.get(peer, peer))
    model = model.eval()
    quiet = contextlib.redirect_stdout(io.StringIO())
    with quiet, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if peer == "torchinfo":
            return tool.summary(model, input_data=x, verbose=0).total_mult_adds
        if peer == "thop":
            return int(tool.profile(model, inputs=(x,), verbose=False)[0])
        if peer == "ptflops":
            return tool.get_model_complexity_info(
                model, tuple(x.shape[1:]), input_constructor=lambda _: x, as_strings=False,
                print_per_layer_stat=False)[0]
        analysis = tool.FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        return analysis.total()


def test_torchinfo_live_resnet50(resnet50: Report) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    model = _plain_nets()["resnet50"]()
    assert sum(p.numel() for p in model.parameters()) == resnet50.totals.params
    live = measure("torchinfo", model, torch.zeros(1, 3, 224, 224))
    assert live == peers.torchinfo_mult_adds(resnet50) == FIGURES["resnet50"]["torchinfo"]


@pytest.mark.parametrize("net", ["resnet50", "resnet18", "alexnet"])
@pytest.mark.parametrize("peer", ["fvcore", "ptflops", "thop"])
def test_live_peer_matches_rebuilt_figure(net: str, peer: str) -> None:
    import_peer({"fvcore": "fvcore.nn"}.get(peer, peer))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    live = measure(peer, _plain_nets()[net](), torch.zeros(1, 3, 224, 224))
    assert live == FUNCS[peer](zoo(net)) == FIGURES[net][peer]


# One module per op: (spec layers, input shape, torch module built from torch.nn).
def _op_cases() -> list[tuple[str, str, list[int], Callable[[Any], Any]]]:
    def lambda_module(nn: Any, fn: Callable[[Any], Any]) -> Any:
        class Fn(nn.Module):
            def forward(self, x: Any) -> Any:
                return fn(x)
        return Fn()

    s, v = [4, 6, 6], [4, 10]
    act = {"relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "elu": "ELU",
           "gelu": "GELU", "silu": "SiLU", "sigmoid": "Sigmoid", "tanh": "Tanh",
           "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "mish": "Mish",
           "softplus": "Softplus"}
    cases: list[tuple[str, str, list[int], Callable[[Any], Any]]] = [
        (a, f"- {{op: {a}}}", s, lambda nn, c=c: getattr(nn, c)()) for a, c in act.items()]
    cases += [
        ("prelu", "- {op: prelu}", s, lambda nn: nn.PReLU(4)),
        ("prelu shared", "- {op: prelu, shared: true}", s, lambda nn: nn.PReLU()),
        ("conv", "- {op: conv, out: 8, k: 3}", s, lambda nn: nn.Conv2d(4, 8, 3)),
        ("conv groups", "- {op: conv, out: 8, k: 3, stride: 2, groups: 2, bias: false}", s,
         lambda nn: nn.Conv2d(4, 8, 3, 2, groups=2, bias=False)),
        ("conv1d", "- {op: conv, out: 8, k: 3}", v, lambda nn: nn.Conv1d(4, 8, 3)),
        ("conv_transpose", "- {op: conv_transpose, out: 8, k: 3, stride: 2}", s,
         lambda nn: nn.ConvTranspose2d(4, 8, 3, 2)),
        ("conv_transpose groups",
         "- {op: conv_transpose, out: 8, k: 3, stride: 2, groups: 2, bias: false}", s,
         lambda nn: nn.ConvTranspose2d(4, 8, 3, 2, groups=2, bias=False)),
        ("linear", "- {op: linear, out: 3}", [10], lambda nn: nn.Linear(10, 3)),
        ("linear 2-d", "- {op: linear, out: 3, axis: -1}", [5, 10], lambda nn: nn.Linear(10, 3)),
        ("linear channels", "- {op: linear, out: 3, axis: 0}", s,
         lambda nn: nn.Sequential(lambda_module(nn, lambda x: x.movedim(1, -1)), nn.Linear(4, 3),
                                  lambda_module(nn, lambda x: x.movedim(-1, 1)))),
        ("linear no bias", "- {op: linear, out: 3, bias: false}", [10],
         lambda nn: nn.Linear(10, 3, bias=False)),
        ("batchnorm", "- {op: batchnorm}", s, lambda nn: nn.BatchNorm2d(4)),
        ("batchnorm plain", "- {op: batchnorm, affine: false}", s,
         lambda nn: nn.BatchNorm2d(4, affine=False)),
        ("layernorm", "- {op: layernorm}", s, lambda nn: nn.LayerNorm([4, 6, 6])),
        ("layernorm channels", "- {op: layernorm, over: channels}", s,
         lambda nn: nn.Sequential(lambda_module(nn, lambda x: x.movedim(1, -1)), nn.LayerNorm(4),
                                  lambda_module(nn, lambda x: x.movedim(-1, 1)))),
        ("groupnorm", "- {op: groupnorm, groups: 2}", s, lambda nn: nn.GroupNorm(2, 4)),
        ("instancenorm", "- {op: instancenorm}", s, lambda nn: nn.InstanceNorm2d(4)),
        ("instancenorm affine", "- {op: instancenorm, affine: true}", s,
         lambda nn: nn.InstanceNorm2d(4, affine=True)),
        ("lrn", "- {op: lrn, size: 3}", s, lambda nn: nn.LocalResponseNorm(3)),
        ("softmax", "- {op: softmax}", s, lambda nn: nn.Softmax(1)),
        ("maxpool", "- {op: maxpool, k: 2}", s, lambda nn: nn.MaxPool2d(2)),
        ("avgpool", "- {op: avgpool, k: 2}", s, lambda nn: nn.AvgPool2d(2)),
        ("avgpool overlapping", "- {op: avgpool, k: 3, stride: 1}", s,
         lambda nn: nn.AvgPool2d(3, 1)),
        ("avgpool global", "- {op: avgpool, global: true}", s,
         lambda nn: nn.AdaptiveAvgPool2d(1)),
        ("avgpool global 1-d", "- {op: avgpool, global: true}", v,
         lambda nn: nn.AdaptiveAvgPool1d(1)),
        ("maxpool global", "- {op: maxpool, global: true}", s,
         lambda nn: nn.AdaptiveMaxPool2d(1)),
        ("adaptive_avgpool", "- {op: adaptive_avgpool, size: 4}", s,
         lambda nn: nn.AdaptiveAvgPool2d(4)),
        ("adaptive_maxpool", "- {op: adaptive_maxpool, size: 4}", s,
         lambda nn: nn.AdaptiveMaxPool2d(4)),
        ("upsample", "- {op: upsample, scale: 2}", s, lambda nn: nn.Upsample(scale_factor=2)),
        ("upsample bilinear", "- {op: upsample, scale: 2, mode: bilinear}", s,
         lambda nn: nn.Upsample(scale_factor=2, mode="bilinear")),
        ("upsample linear", "- {op: upsample, size: 20, mode: linear}", v,
         lambda nn: nn.Upsample(size=20, mode="linear")),
        ("upsample trilinear", "- {op: upsample, scale: 2, mode: trilinear}", [4, 3, 3, 3],
         lambda nn: nn.Upsample(scale_factor=2, mode="trilinear")),
        ("add", "- identity\n- {op: add, in: [input, identity1]}", s,
         lambda nn: lambda_module(nn, lambda x: x + x)),
        ("add projected",
         "- {id: c, op: conv, out: 8, k: 3, stride: 2, pad: 1, bias: false}\n"
         "- {op: add, in: [input, c], project: auto}", s, _projected_add),
        ("mul", "- identity\n- {op: mul, in: [input, identity1]}", s,
         lambda nn: lambda_module(nn, lambda x: x * x)),
        ("concat", "- identity\n- {op: concat, in: [input, identity1]}", s,
         lambda nn: lambda_module(nn, lambda x: __import__("torch").cat([x, x], 1))),
        ("dropout", "- dropout", s, lambda nn: nn.Dropout()),
        ("flatten", "- flatten", s, lambda nn: nn.Flatten()),
        ("zeropad", "- {op: zeropad, pad: 1}", s, lambda nn: nn.ZeroPad2d(1)),
        ("channel_shuffle", "- {op: channel_shuffle, groups: 2}", s,
         lambda nn: nn.ChannelShuffle(2)),
    ]
    return cases


def _projected_add(nn: Any) -> Any:
    class ProjectedAdd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 8, 3, 2, 1, bias=False)
            self.down = nn.Sequential(nn.Conv2d(4, 8, 1, 2, bias=False), nn.BatchNorm2d(8))

        def forward(self, x: Any) -> Any:
            return self.down(x) + self.conv(x)
    return ProjectedAdd()


OP_CASES = _op_cases()


def test_op_cases_name_modelled_ops() -> None:
    """The plain-torch twins are extra oracles; every op is measured on its own samples
    (test_live_peer_per_op_sample), so a new op needs no twin here."""
    assert all(name and layers for name, layers, _, _ in OP_CASES)
    assert {name for name, _ in SAMPLE_CASES} == set(REGISTRY) - peers.UNMODELLED


@pytest.mark.parametrize("peer", peers.PEERS)
@pytest.mark.parametrize("case", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_live_peer_per_op(peer: str, case: tuple[str, str, list[int], Any]) -> None:
    import_peer({"fvcore": "fvcore.nn"}.get(peer, peer))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    name, layers, shape, make = case
    text = f"cnncalc: 1\ninput: {shape}\nlayers:\n{textwrap.indent(layers, '  ')}\n"
    report = analyze(text, batch=2)
    model = make(torch.nn)
    params = sum(p.numel() for p in model.parameters())
    assert params == report.totals.params, f"{name}: the torch twin differs from the spec"
    live = measure(peer, model, torch.randn(2, *shape))
    assert live == FUNCS[peer](report), f"{peer} on {name}"


def test_counting_doc_lists_every_op() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "counting.md").read_text()
    table = {cell.strip().strip("`") for line in doc.splitlines() if line.startswith("| `")
             for cell in line.split("|")[1].replace("(LeNet-5)", "").split(",")}
    assert set(REGISTRY) <= table, sorted(set(REGISTRY) - table)
    for figure in FIGURES["resnet50"].values():
        assert f"{figure:,}" in doc


def test_torch_flop_counter_is_twice_macs(resnet50: Report) -> None:
    """The `macs` convention: half of torch.utils.flop_counter, transposed convs included."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(1)
    text = "cnncalc: 1\ninput: [4, 6, 6]\nlayers: [{op: conv_transpose, out: 8, k: 3, stride: 2}]"
    cases = [(resnet50, _plain_nets()["resnet50"](), (3, 224, 224)),
             (analyze(text), torch.nn.ConvTranspose2d(4, 8, 3, 2), (4, 6, 6))]
    for report, model, shape in cases:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(torch.zeros(1, *shape))
        assert counter.get_total_flops() == 2 * report.totals.macs


# ------------------------------------------------------- every op's own samples, live
SAMPLE_CASES = [(name, i) for name, cls in sorted(REGISTRY.items())
                if name not in peers.UNMODELLED for i in range(len(cls.samples))]
#: (peer, op) where the module cnncalc builds is not torch's own class, so a tool keyed on
#: exact module types measures it differently from the plain-torch model peers.RULES
#: describe (test_live_peer_per_op covers those ops with their plain-torch twin)
BUILT_DIFFERS = {("ptflops", "groupnorm"): "cnncalc builds a GroupNorm subclass (a "
                 "channels-last fix); ptflops' exact-type table does not hook it"}
#: the same per sample: ``linear`` over the channels of a map is built as ChannelLinear,
#: an nn.Linear subclass (so its keys are the layer's own weight and bias), which thop's and
#: ptflops' exact-type tables do not hook; the "linear channels" twin below (plain
#: nn.Linear applied channels-last, as torchvision's ConvNeXt does) covers it
EXACT_TYPE_PEERS = {"thop", "ptflops"}


def built_differs(peer: str, name: str, number: int) -> bool:
    sample = REGISTRY[name].samples[number]
    channels = name == "linear" and sample.args.get("axis") == 0 and len(sample.ins[0]) > 1
    return (peer, name) in BUILT_DIFFERS or (channels and peer in EXACT_TYPE_PEERS)


@pytest.mark.parametrize(("peer", "name", "number"),
                         [(peer, name, i) for name, i in SAMPLE_CASES for peer in peers.PEERS
                          if not built_differs(peer, name, i)])
def test_live_peer_per_op_sample(peer: str, name: str, number: int) -> None:
    """Every modelled op, the moment it is registered: each tool measured on the module
    cnncalc builds for the op's own samples equals what cnncalc.peers predicts (an op a
    tool counts needs a rule in peers.RULES; one it ignores needs nothing)."""
    import_peer({"fvcore": "fvcore.nn"}.get(peer, peer))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    spec = cnncalc.loads(sample_spec(name, number))
    report = cnncalc.analyze(spec, batch=2)
    model = cnncalc.build_torch(spec)
    live = measure(peer, model, torch.randn(2, *report.input_shape))
    assert live == FUNCS[peer](report), f"{peer} on {name} sample {number}"


# ------------------------------------------- whole built nets, counted like hand-written
@pytest.mark.parametrize("net", ["resnet50", "resnet18", "alexnet"])
@pytest.mark.parametrize("peer", peers.PEERS)
def test_built_net_counts_like_the_hand_written_one(net: str, peer: str) -> None:
    """Each tool on the module ``cnncalc build`` makes gives the total it gives on the same
    net written in plain torch: a layer's conv, norm and activation are sibling leaf
    modules, as a torch user writes them (a conv holding its bn and act as children was
    counted as a container: torchinfo reported 361,763,688 mult-adds for ResNet-50)."""
    import_peer({"fvcore": "fvcore.nn"}.get(peer, peer))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    x = torch.zeros(1, 3, 224, 224)
    built = measure(peer, cnncalc.build_torch(cnncalc.load(net)), x)
    assert built == measure(peer, _plain_nets()[net](), x) == FIGURES[net][peer]
