"""cnncalc.build_torch: every op builds a module, custom modules compute what they claim
(oracles: plain torch functional code written out here), names follow the spec's ids."""

from __future__ import annotations

import itertools
import json
import keyword
import re
import sys
import warnings
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import EnvironmentUnavailable
from cnncalc.ops import REGISTRY, Op

from helpers import BASIC_BLOCK

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn


ROOT_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def net(layers: str, input_shape: str = "[3, 16, 16]", extra: str = "") -> cnncalc.Network:
    return cnncalc.loads(f"cnncalc: 1\ninput: {input_shape}\n{extra}layers:\n{layers}")


def n_params(module: nn.Module, trainable: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ------------------------------------------------------------------ every op
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_builds_a_torch_module(name: str) -> None:
    assert REGISTRY[name].torch is not Op.torch, f"op {name} has no torch() method"


# ------------------------------------------------------------------ LeNet-5
@pytest.fixture(scope="module")
def lenet():
    return cnncalc.build_torch(cnncalc.load("lenet5"))


def test_lenet5_layers_by_id_and_counts(lenet) -> None:
    c3 = lenet.layer("C3")
    assert lenet.path("C3") == "C3.conv" and lenet.get_submodule("C3.conv") is c3
    assert n_params(c3) == 1516  # 60 connected 5x5 kernels + 16 biases, not 2,416
    assert c3.weight.shape == (60, 5, 5)
    assert n_params(lenet) == 60840 and n_params(lenet, trainable=True) == 60000
    assert lenet.get_submodule("OUTPUT").weight.requires_grad is False
    assert n_params(lenet.get_submodule("S2")) == 12
    assert isinstance(lenet.get_submodule("C1.act"), nn.Tanh)
    assert lenet.layer("C1.act") is lenet.get_submodule("C1.act")


def test_shorthand_rows_are_siblings_run_in_order(lenet) -> None:
    """``C1`` (conv + act) is one container whose children are the conv and the tanh, so
    ``get_submodule("C1")`` computes what ``in: C1`` reads: the activated output."""
    unit = lenet.get_submodule("C1")
    assert [name for name, _ in unit.named_children()] == ["conv", "act"]
    assert not list(lenet.layer("C1").children())  # the conv is a leaf: peers count it
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(unit(x), torch.tanh(lenet.layer("C1")(x)))


def _dense_from_table(conv) -> torch.Tensor:
    """The equivalent masked dense weight (out, in, k, k): the oracle."""
    c_in = 1 + max(i for row in conv.table for i in row)
    dense = torch.zeros(len(conv.table), c_in, *conv.kernel_size)
    t = 0
    for j, row in enumerate(conv.table):
        for i in row:
            dense[j, i] = conv.weight[t]
            t += 1
    return dense


def test_connection_table_equals_masked_dense_conv(lenet) -> None:
    c3 = lenet.layer("C3")
    x = torch.randn(3, 6, 14, 14, requires_grad=True)
    y = c3(x)
    dense = _dense_from_table(c3).detach().requires_grad_(True)
    want = F.conv2d(x, dense, c3.bias)
    torch.testing.assert_close(y, want)
    g = torch.randn_like(y)
    y.backward(g)
    want.backward(g)
    # the gradient of each connected kernel is the dense gradient at its (j, i) slot
    torch.testing.assert_close(c3.weight.grad, _dense_from_table_grad(c3, dense.grad),
                               rtol=1e-4, atol=1e-4)
    assert c3.weight.grad.shape == (60, 5, 5)


def _dense_from_table_grad(conv, grad: torch.Tensor) -> torch.Tensor:
    return torch.stack([grad[j, i] for j, row in enumerate(conv.table) for i in row])


def test_connection_table_any_order_and_padding() -> None:
    table = "[[2], [0, 1], [1], [0, 2], [0, 1, 2]]"  # lengths interleave: output reordered
    model = cnncalc.build_torch(net(f"  - {{id: c, op: conv, out: 5, k: 3, pad: [[1, 0], [0, 2]], "
                                    f"connect: {table}}}"))
    c = model.get_submodule("c")
    x = torch.randn(2, 3, 16, 16)
    want = F.conv2d(F.pad(x, (0, 2, 1, 0)), _dense_from_table(c), c.bias)
    torch.testing.assert_close(c(x), want)


def test_subsample_is_window_sum_times_coefficient_plus_bias(lenet) -> None:
    s2 = lenet.layer("S2")
    x = torch.randn(2, 6, 28, 28)
    sums = x.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))
    per_map = (1, -1, 1, 1)
    torch.testing.assert_close(s2(x), sums * s2.weight.view(per_map) + s2.bias.view(per_map))


def test_rbf_is_squared_euclidean_distance(lenet) -> None:
    rbf = lenet.get_submodule("OUTPUT")
    x = torch.randn(4, 84)
    want = ((x[:, None, :] - rbf.weight[None]) ** 2).sum(-1)
    torch.testing.assert_close(rbf(x), want, rtol=1e-4, atol=1e-3)


def test_lenet5_trains_only_trainable_weights(lenet) -> None:
    lenet.zero_grad()
    lenet(torch.randn(2, 1, 32, 32)).sum().backward()
    assert lenet.get_submodule("OUTPUT").weight.grad is None
    assert lenet.layer("C3").weight.grad.abs().sum() > 0


# ------------------------------------------------------------------ local
@pytest.mark.parametrize("shape,k,stride,pad", [
    ("[2, 9]", 3, 2, 1),
    ("[2, 7, 6]", [3, 2], [1, 2], [[1, 0], [0, 1]]),
    ("[2, 4, 5, 4]", 2, 1, 0),
])
def test_local_equals_per_position_loop(shape, k, stride, pad) -> None:
    spec = net(f"  - {{id: l, op: local, out: 3, k: {k}, stride: {stride}, pad: {pad}}}", shape)
    layer = cnncalc.build_torch(spec).get_submodule("l")
    assert n_params(layer) == cnncalc.analyze(spec).totals.params
    x = torch.randn(2, *json.loads(shape))
    xp = F.pad(x, layer.pre_pad) if layer.pre_pad else x
    y = layer(x)
    want = torch.empty_like(y)
    positions = itertools.product(*[range(n) for n in y.shape[2:]])  # row-major, as weight
    for index, pos in enumerate(positions):
        spans = (slice(p * s, p * s + kk) for p, s, kk in zip(pos, layer.stride, layer.kernel_size))
        window = xp[(slice(None), slice(None), *spans)]
        want[(slice(None), slice(None), *pos)] = window.reshape(2, -1) @ layer.weight[index]
    torch.testing.assert_close(y, want + layer.bias)


# ------------------------------------------------------------------ padding, conv variants
def test_same_padding_with_even_kernel_pads_top_left_explicitly() -> None:
    model = cnncalc.build_torch(net("  - {id: c, op: conv, out: 4, k: 4, pad: same}", "[3, 6, 6]"))
    c = model.get_submodule("c")
    assert isinstance(c, nn.Conv2d) and c.padding == (0, 0)
    assert c.pre_pad == (2, 1, 2, 1)  # (left, right, top, bottom): extra row top/left
    x = torch.randn(1, 3, 6, 6)
    torch.testing.assert_close(c(x), F.conv2d(F.pad(x, (2, 1, 2, 1)), c.weight, c.bias))
    assert c(x).shape == (1, 4, 6, 6)


def test_symmetric_padding_uses_plain_conv() -> None:
    model = cnncalc.build_torch(net("  - {id: c, op: conv, out: 4, k: 3, pad: same, bias: false}"))
    c = model.get_submodule("c")
    assert type(c) is nn.Conv2d and c.padding == (1, 1) and c.bias is None


@pytest.mark.parametrize("shape,cls", [("[4, 20]", nn.Conv1d), ("[4, 6, 8, 8]", nn.Conv3d)])
def test_conv_rank_follows_input(shape, cls) -> None:
    model = cnncalc.build_torch(net("  - {id: c, op: conv, out: 8, k: 3, groups: 2, dilation: 2}",
                                    shape))
    c = model.get_submodule("c")
    assert type(c) is cls and c.groups == 2 and c.dilation[0] == 2


def test_conv_transpose_and_pools() -> None:
    model = cnncalc.build_torch(net(
        "  - {id: up, op: conv_transpose, out: 4, k: 3, stride: 2, pad: 1, output_padding: 1}\n"
        "  - {id: mp, op: maxpool, k: 3, stride: 2, pad: 1, ceil_mode: true}\n"
        "  - {id: gp, op: avgpool, global: true}\n"))
    assert isinstance(model.get_submodule("up"), nn.ConvTranspose2d)
    assert model.get_submodule("mp").ceil_mode is True
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 4, 1, 1)


# ------------------------------------------------------------------ blocks, names, order
@pytest.fixture(scope="module")
def resnetish():
    spec = net("  - {id: stem, op: conv, out: 8, k: 3, pad: 1}\n"
               "  - {id: stage, op: basic, out: 16, repeat: {n: 2, first: {stride: 2}}}\n"
               "  - {op: avgpool, global: true}\n  - flatten\n  - {id: fc, op: linear, out: 10}\n",
               extra=BASIC_BLOCK)
    return spec, cnncalc.build_torch(spec)


def test_block_ids_map_to_nested_modules(resnetish) -> None:
    _, model = resnetish
    assert model.path("stage[0].b.bn") == "stage.0.b.bn"
    assert isinstance(model.get_submodule("stage.0.b.bn"), nn.BatchNorm2d)
    assert model.layer("stage[0].sum") is model.get_submodule("stage.0.sum")
    proj = model.get_submodule("stage.0.sum.proj")
    assert isinstance(proj[0], nn.Conv2d) and proj[0].stride == (2, 2) and proj[0].bias is None
    assert not hasattr(model.get_submodule("stage.1.sum"), "proj")
    keys = list(model.state_dict())
    assert keys[:2] == ["stem.weight", "stem.bias"]
    assert "stage.0.sum.proj.1.running_var" in keys and "stage.1.a.bn.weight" in keys


def test_parameters_follow_spec_order(resnetish) -> None:
    _spec, model = resnetish
    names = [n for n, _ in model.named_parameters()]
    assert names[:6] == ["stem.weight", "stem.bias", "stage.0.a.conv.weight",
                         "stage.0.a.bn.weight", "stage.0.a.bn.bias", "stage.0.b.conv.weight"]
    assert names[-2:] == ["fc.weight", "fc.bias"]
    assert names.index("stage.0.sum.proj.0.weight") < names.index("stage.1.a.conv.weight")


def test_forward_matches_hand_written_torch(resnetish) -> None:
    _, model = resnetish
    model.eval()
    x = torch.randn(2, 3, 16, 16)
    m = model.get_submodule

    def block(h, i):
        a = F.relu(m(f"stage.{i}.a.bn")(m(f"stage.{i}.a")(h)))
        b = m(f"stage.{i}.b.bn")(m(f"stage.{i}.b")(a))
        short = m(f"stage.{i}.sum.proj")(h) if i == 0 else h
        return F.relu(short + b)

    h = block(block(m("stem")(x), 0), 1)
    want = m("fc")(h.mean((2, 3)))
    torch.testing.assert_close(model(x), want)


def test_relu_runs_in_place_only_when_safe() -> None:
    model = cnncalc.build_torch(net(
        "  - {id: r0, op: relu}\n"                       # reads the network input: no
        "  - {id: c, op: conv, out: 4, k: 3, act: relu}\n"  # sole reader of a conv: yes
        "  - {id: r2, op: relu, in: c}\n"                 # c (c.act) is also read below: no
        "  - {id: s, op: add, in: [c, r2]}\n"))
    assert model.layer("r0").inplace is False
    assert model.layer("c.act").inplace is True
    assert model.layer("r2").inplace is False
    x = torch.randn(1, 3, 16, 16)
    x0 = x.clone()
    y = model(x)
    torch.testing.assert_close(x, x0)  # the caller's input is untouched
    c = F.relu(model.layer("c")(F.relu(x0)))
    torch.testing.assert_close(y, c + F.relu(c))


def test_ids_that_shadow_module_attributes_get_a_suffix() -> None:
    model = cnncalc.build_torch(net("  - {id: forward, op: relu}\n  - {id: training, op: relu}\n"))
    assert model.path("forward") == "forward_" and model.path("training") == "training_"
    assert model(torch.ones(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_output_may_be_an_inner_layer_and_dead_branches_still_run() -> None:
    spec = net("  - {id: a, op: conv, out: 4, k: 3}\n  - {id: aux, op: relu}\n",
               extra="output: a\n")
    model = cnncalc.build_torch(spec)
    seen = []
    model.layer("aux").register_forward_hook(lambda m, i, o: seen.append(o.shape))
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 4, 14, 14)
    assert seen == [(1, 4, 14, 14)]


def test_input_shape_override() -> None:
    model = cnncalc.build_torch(net("  - {op: conv, out: 4, k: 3}\n  - flatten\n"
                                    "  - {id: fc, op: linear, out: 2}\n"), input_shape=(3, 8, 8))
    assert model.get_submodule("fc").in_features == 4 * 6 * 6
    assert model.input_shape == (3, 8, 8)


def test_to_meta_and_back_keeps_connection_table_indices() -> None:
    with torch.device("meta"):
        model = cnncalc.build_torch(cnncalc.load("lenet5"))
    model = model.to_empty(device="cpu")
    c3 = model.layer("C3")
    assert c3._slots.device.type == "cpu"
    nn.init.normal_(c3.weight)
    nn.init.zeros_(c3.bias)  # to_empty leaves memory as it was: a NaN there fails the compare
    x = torch.randn(1, 6, 14, 14)
    torch.testing.assert_close(c3(x), F.conv2d(x, _dense_from_table(c3), c3.bias))


# ------------------------------------------------------------------ environment
def test_without_torch_build_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(EnvironmentUnavailable) as info:
        cnncalc.build_torch(cnncalc.load("lenet5"))
    assert info.value.exit_code == 3
    assert "pip install 'cnncalc[torch]'" in info.value.format()


# ------------------------------------------------------------------ verify
def test_verify_finds_nothing_on_the_zoo_sample() -> None:
    from cnncalc.pytorch.verify import verify

    for name in ("lenet5", "resnet18"):
        spec = cnncalc.load(name)
        assert verify(spec, cnncalc.analyze(spec, (3, 64, 64) if name != "lenet5" else None)) == []


def test_verify_reports_each_disagreement() -> None:
    import dataclasses

    from cnncalc.pytorch.verify import Disagreement, verify

    spec = cnncalc.load("lenet5")
    report = cnncalc.analyze(spec)
    rows = list(report.layers)
    c3 = next(i for i, r in enumerate(rows) if r.id == "C3")
    rows[c3] = dataclasses.replace(rows[c3], params=2416, output_shape=(16, 9, 9))
    found = verify(spec, dataclasses.replace(report, layers=tuple(rows)))
    assert Disagreement("C3", "params", 2416, 1516) in found
    assert Disagreement("C3", "output_shape", (16, 9, 9), (16, 10, 10)) in found
    assert len(found) == 2 and str(found[0]).startswith("C3: ")


# ------------------------------------------------------------------ export
def test_export_torchscript_round_trip(tmp_path) -> None:
    from cnncalc.pytorch.export import export_torchscript

    spec = cnncalc.load("lenet5")
    torch.manual_seed(1)
    path = export_torchscript(spec, tmp_path / "lenet5.pt")
    torch.manual_seed(1)
    model = cnncalc.build_torch(spec).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in 2.x
        loaded = torch.jit.load(str(path))
    x = torch.randn(3, 1, 32, 32)  # another batch size than the traced one
    torch.testing.assert_close(loaded(x), model(x))
    assert "C3.conv.weight" in dict(loaded.named_parameters())


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_export_onnx_runs_in_onnx_reference_evaluator(tmp_path, monkeypatch, exporter) -> None:
    pytest.importorskip("onnx")
    if exporter == "dynamo":
        pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from cnncalc.pytorch import export

    monkeypatch.setattr(export, "onnx_exporter", lambda: exporter)
    spec = cnncalc.load("lenet5")
    torch.manual_seed(2)
    path = export.export_onnx(spec, tmp_path / "lenet5.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["lenet5.onnx"]  # one file, weights inside
    torch.manual_seed(2)
    model = cnncalc.build_torch(spec).eval()
    x = torch.randn(2, 1, 32, 32)
    got = ReferenceEvaluator(str(path)).run(None, {"input": x.numpy()})[0]
    torch.testing.assert_close(torch.from_numpy(got), model(x).detach(), rtol=1e-4, atol=1e-3)


def test_export_onnx_without_onnx_says_what_to_install(monkeypatch, tmp_path) -> None:
    from cnncalc.pytorch import export

    monkeypatch.setattr(export.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EnvironmentUnavailable) as info:
        export.export_onnx(cnncalc.load("lenet5"), tmp_path / "x.onnx")
    assert info.value.exit_code == 3 and "pip install onnx" in info.value.format()


def test_export_makes_a_missing_folder_and_refuses_a_file_as_one(tmp_path) -> None:
    from cnncalc.errors import UsageError
    from cnncalc.pytorch.export import export_torchscript

    out = export_torchscript(cnncalc.load("lenet5"), tmp_path / "new" / "x.pt")
    assert out == tmp_path / "new" / "x.pt" and out.stat().st_size > 0
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="cannot create the folder"):
        export_torchscript(cnncalc.load("lenet5"), tmp_path / "file" / "x.pt")


# ------------------------------------------------------------------ every op, verified
#: one small spec per op (input [4, 12, 12]), with non-default arguments where they exist
OP_SAMPLES = {
    "conv": "- {op: conv, out: 6, k: 3, stride: 2, pad: [[1, 0], [0, 1]], dilation: 2, groups: 2}",
    "conv_transpose": "- {op: conv_transpose, out: 6, k: 3, stride: 2, pad: 1, output_padding: 1, "
                      "groups: 2, dilation: 1}",
    "local": "- {op: local, out: 3, k: 3, stride: 2, pad: same}",
    "maxpool": "- {op: maxpool, k: 3, stride: 2, pad: 1, dilation: 2, ceil_mode: true}",
    "avgpool": "- {op: avgpool, k: 3, stride: 2, pad: 1, ceil_mode: true}",
    "adaptive_avgpool": "- {op: adaptive_avgpool, size: [5, 3]}",
    "adaptive_maxpool": "- {op: adaptive_maxpool, size: 5}",
    "subsample": "- {op: subsample, k: [2, 3]}",
    "linear": "- {op: linear, out: 5}",  # over the last axis of [4, 12, 12]
    "rbf": "- flatten\n- {op: rbf, out: 5, trainable: true}",
    "flatten": "- flatten",
    "identity": "- identity",
    "dropout": "- {op: dropout, p: 0.3}",
    "leaky_relu": "- {op: leaky_relu, slope: 0.2}",
    "softmax": "- {op: softmax, dim: 1}",
    "prelu": "- {op: prelu}\n- {op: prelu, shared: true, init: 0.1}",
    "batchnorm": "- {op: batchnorm, eps: 0.001, momentum: 0.2}\n- flatten\n- {op: batchnorm}",
    "layernorm": "- {op: layernorm}\n- {op: layernorm, over: channels, bias: false}",
    "instancenorm": "- {op: instancenorm, affine: true, track_running_stats: true}",
    "groupnorm": "- {op: groupnorm, groups: 2}",
    "lrn": "- {op: lrn, size: 3}",
    "add": ("- {id: a, op: conv, out: 8, k: 1, stride: 2}\n"
            "- {op: add, in: [input, a], project: auto}"),
    "mul": "- {id: a, op: sigmoid}\n- {op: mul, in: [input, a, a]}",
    "concat": "- {id: a, op: relu}\n- {op: concat, in: [input, a]}",
    "upsample": "- {op: upsample, scale: [2, 3], mode: bilinear, align_corners: true}\n"
                "- {op: upsample, size: 30}",
    "zeropad": "- {op: zeropad, pad: [[1, 0], [2, 3]]}",
    "channel_shuffle": "- {op: channel_shuffle, groups: 2}",
}


def op_sample(name: str) -> str:
    """The spec lines that run op ``name`` below: a hand-picked OP_SAMPLES entry (non-default
    arguments), else the arguments of the op's own first sample (``Op.samples``)."""
    import json

    if name in OP_SAMPLES:
        return OP_SAMPLES[name]
    return "- " + json.dumps({"op": name, **REGISTRY[name].samples[0].args})


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_verifies_against_torch(name: str) -> None:
    from cnncalc.pytorch.verify import verify

    sample = op_sample(name)
    spec = net("\n".join("  " + line for line in sample.splitlines()), "[4, 12, 12]")
    report = cnncalc.analyze(spec)
    assert verify(spec, report) == []
    model = cnncalc.build_torch(spec).eval()
    assert model(torch.randn(2, 4, 12, 12)).shape == (2, *report.output_shape)


# ------------------------------------------------------------------ module plumbing
def test_copy_pickle_dtype_and_fx_keep_the_graph(resnetish) -> None:
    import copy
    import io

    _, model = resnetish
    model.eval()
    x = torch.randn(1, 3, 16, 16)
    clone = copy.deepcopy(model)
    own = {id(m) for m in clone.modules()}  # the clone runs its own modules, not the model's
    assert all(id(step[0]) in own for step in clone._steps)
    torch.testing.assert_close(clone(x), model(x))
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    torch.testing.assert_close(torch.load(buf, weights_only=False)(x), model(x))
    assert clone.double()(x.double()).dtype == torch.float64
    torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), model(x))


def test_torch_package_doctests() -> None:
    import doctest

    from cnncalc.pytorch import budget, build, importer, verify

    for module in (budget, build, importer, verify):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_verify_names_the_layer_whose_forward_fails(monkeypatch) -> None:
    from cnncalc.pytorch import modules
    from cnncalc.pytorch.verify import verify

    def broken(self, x):
        raise RuntimeError("boom")

    monkeypatch.setattr(modules.Subsample, "forward", broken)
    spec = cnncalc.load("lenet5")
    found = verify(spec, cnncalc.analyze(spec))
    assert [(d.layer, d.figure) for d in found] == [("S2", "forward")]
    assert "boom" in str(found[0])


def test_verify_runs_huge_nets_on_the_meta_device() -> None:
    from cnncalc.pytorch.verify import choose_device, verify

    spec = cnncalc.load(ROOT_EXAMPLES / "connectivity_fully_connected.yaml")
    report = cnncalc.analyze(spec)
    assert choose_device(report) == "meta"
    assert verify(spec, report) == []  # 10^12 weights, checked without allocating them
    assert choose_device(cnncalc.analyze(cnncalc.load("lenet5"))) == "cpu"


def test_export_onnx_failure_is_reported_not_raised_raw(tmp_path, monkeypatch) -> None:
    pytest.importorskip("onnx")
    from cnncalc.pytorch import export

    monkeypatch.setattr(export, "onnx_exporter", lambda: "torchscript")
    spec = net("  - {op: channel_shuffle, groups: 2}", "[4, 6, 6]")  # aten op legacy cannot map
    with pytest.raises(EnvironmentUnavailable) as info:
        export.export_onnx(spec, tmp_path / "x.onnx")
    assert "torchscript exporter" in info.value.message and "onnxscript" in info.value.format()


def test_too_big_to_build_is_refused_before_allocating() -> None:
    text = "cnncalc: 1\ninput: [1000000]\nlayers: [{op: linear, out: 1000000}]\n"
    with pytest.raises(EnvironmentUnavailable) as info:
        cnncalc.build_torch(cnncalc.loads(text))
    assert "building the module needs ~3.6 TiB (weights 3.6 TiB)" in info.value.message
    assert info.value.exit_code == 3 and "--max-memory" in info.value.format()


def test_more_weights_than_torch_can_index_is_exit_2() -> None:
    from cnncalc.errors import UsageError

    text = ("cnncalc: 1\ninput: [3, 100000000, 100000000]\n"
            "layers: [{op: conv, out: 4, k: 3}, flatten, {id: fc, op: linear, out: 1000}]\n")
    with pytest.raises(UsageError) as info:
        cnncalc.build_torch(cnncalc.loads(text))
    assert info.value.message.startswith("fc: 39,999,998,400,000,017,000 parameters")
    assert "int64" in info.value.message
    assert "analysis commands" in info.value.format()


# ------------------------------------------------------------------ ids -> module names
#: names torch forbids as children or that shadow attributes, and their escapes
RESERVED = sorted(n for n in set(dir(nn.Module)) | {"training", "forward", "T_destination"}
                  | set(keyword.kwlist) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n)
                  and n != "input")


def _id_sets():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    base = st.sampled_from([*RESERVED, "a", "b", "x1", "_", "act", "bn", "proj"])
    plain = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
    ident = st.tuples(st.one_of(base, plain), st.integers(0, 3)).map(lambda t: t[0] + "_" * t[1])
    return st.lists(st.tuples(ident, st.booleans()), min_size=1, max_size=12,
                    unique_by=lambda t: t[0])


def test_ids_map_to_module_names_injectively() -> None:
    from hypothesis import assume, given, settings

    from cnncalc.errors import SpecError

    @settings(max_examples=40)  # each example builds and runs a net: ~0.15 s
    @given(_id_sets())
    def check(ids: list[tuple[str, bool]]) -> None:
        # each id a layer; some with `bn: true, act: relu` (rows ID.bn and ID.act nest under it)
        rows = "".join(f"  - {{id: {i}, op: conv, out: 3, k: 1"
                       f"{', bn: true, act: relu' if nested else ''}}}\n" for i, nested in ids)
        try:
            spec = net(rows, "[3, 4, 4]")
        except SpecError:
            assume(False)  # an id the spec language itself refuses (e.g. `input`)
        model = cnncalc.build_torch(spec)
        paths = [model.path(i) for i in model.ids]
        assert len(set(paths)) == len(paths)  # injective
        for node_id in model.ids:  # each path leads to that layer's own module
            assert model.get_submodule(model.path(node_id)) is model.layer(node_id)
        assert len({id(model.layer(i)) for i in model.ids}) == len(model.ids)
        assert model(torch.ones(2, 3, 4, 4)).shape == (2, 3, 4, 4)
        torch.fx.symbolic_trace(model)  # every name is one generated code can use

    check()


@pytest.mark.parametrize("ids,paths", [
    (["forward", "forward_"], ["forward_", "forward__"]),
    (["forward_", "forward"], ["forward__", "forward_"]),
    (["training", "training_", "training__"], ["training_", "training__", "training___"]),
    (["parameters", "_modules", "cuda", "a_"], ["parameters_", "_modules_", "cuda_", "a__"]),
    (["class", "class_", "None", "lambda"], ["class_", "class__", "None_", "lambda_"]),
])
def test_reserved_ids_and_their_escapes_never_collide(ids: list[str], paths: list[str]) -> None:
    model = cnncalc.build_torch(net("".join(f"  - {{id: {i}, op: relu}}\n" for i in ids)))
    assert [model.path(i) for i in ids] == paths


def test_reserved_ids_in_blocks_and_repeats() -> None:
    blocks = ("blocks:\n  b:\n    layers:\n"
              "      - {id: forward, op: conv, out: 3, k: 1, bn: true}\n"
              "      - {id: forward_, op: relu}\n")
    spec = net("  - {id: training, op: b}\n  - {id: training_, op: b, repeat: 2}\n"
               "  - {id: forward, op: relu}\n", "[3, 4, 4]", extra=blocks)
    model = cnncalc.build_torch(spec)
    assert model.path("training.forward.bn") == "training_.forward_.bn"
    assert model.path("training_[1].forward_") == "training__.1.forward__"
    assert len({model.path(i) for i in model.ids}) == len(model.ids)
    assert model(torch.ones(1, 3, 4, 4)).shape == (1, 3, 4, 4)


def test_python_keyword_ids_trace_with_fx_and_torch_export() -> None:
    ids = ["class", "for", "None", "import", "lambda", "self"]
    spec = net("".join(f'  - {{id: "{i}", op: conv, out: 3, k: 1}}\n' for i in ids), "[3, 4, 4]")
    model = cnncalc.build_torch(spec).eval()
    torch.fx.symbolic_trace(model)  # generates `self.<name>` code: a keyword would not parse
    torch.export.export(model, (torch.randn(1, 3, 4, 4),))


def test_escape_counter_when_an_escaped_name_is_still_taken() -> None:
    from cnncalc.pytorch.model import Group, _attach

    parent = Group()
    parent.register_buffer("x", torch.zeros(1))  # "x" is reserved here: it escapes to "x_",
    parent.register_buffer("x_", torch.zeros(1))  # which is taken too
    assert _attach(parent, "x", nn.Identity()) == "x__2"
    assert _attach(parent, "x_", nn.Identity()) == "x__"


# ------------------------------------------------------------------ what torch refuses to run
#: samples that reach a 1x1 map or a vector (input [4, 1, 1], [4, 1], [4, 1, 1, 1] or [4])
TINY_SAMPLES = {
    "conv": "- {op: conv, out: 4, k: 1, bn: true, act: relu}",
    "conv_transpose": "- {op: conv_transpose, out: 4, k: 1}",
    "local": "- {op: local, out: 2, k: 1}",
    "adaptive_avgpool": "- {op: adaptive_avgpool, size: 1}",
    "adaptive_maxpool": "- {op: adaptive_maxpool, size: 1}",
    "maxpool": "- {op: maxpool, k: 1}",
    "avgpool": "- {op: avgpool, k: 1}",
    "subsample": "- {op: subsample, k: 1}",
    "linear": "- flatten\n- {op: linear, out: 3, bn: true}",
    "rbf": "- flatten\n- {op: rbf, out: 3}",
    "batchnorm": "- {op: batchnorm}",
    "instancenorm": "- {op: instancenorm}\n- {op: instancenorm, track_running_stats: true}",
    "groupnorm": "- {op: groupnorm, groups: 4}\n- {op: groupnorm, groups: 2}",
    "lrn": "- {op: lrn, size: 2}",
    "add": "- {id: a, op: conv, out: 8, k: 1}\n- {op: add, in: [input, a], project: auto}",
    "upsample": "- {op: upsample, scale: 2}",
    "zeropad": "- {op: zeropad, pad: 0}",
    "channel_shuffle": "- {op: channel_shuffle, groups: 2}",
}
TINY_SHAPES = ("[4]", "[4, 1]", "[4, 1, 1]", "[4, 1, 1, 1]")


def _torch_runs(model, x, training: bool) -> BaseException | None:  # type: ignore[no-untyped-def]
    try:
        y = model.train(training)(x)
        if training:
            y.float().sum().backward()
    except (ValueError, RuntimeError) as exc:
        return exc
    return None


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_on_one_value_runs_or_is_refused_located(name: str) -> None:
    """Batch 1 and 2, a 1x1 map or a vector, training and eval: torch runs the layer
    exactly when cnncalc.pytorch.runnable does not refuse it, with a located message."""
    from cnncalc.errors import CnncalcError
    from cnncalc.pytorch.runnable import refusal

    sample = TINY_SAMPLES.get(name, op_sample(name))
    tried = 0
    for shape in TINY_SHAPES:
        try:
            spec = net("\n".join("  " + line for line in sample.splitlines()), shape)
            report = cnncalc.analyze(spec)
        except CnncalcError:
            continue  # the op does not take this rank
        model = cnncalc.build_torch(spec)
        for batch, mode in itertools.product((1, 2), ("training", "inference")):
            tried += 1
            x = torch.randn(batch, *report.input_shape, requires_grad=True)
            failed = _torch_runs(model, x, mode == "training")
            refused = refusal(spec, report, batch, mode)
            assert (refused is None) == (failed is None), (shape, batch, mode, failed, refused)
            if refused is not None:
                assert refused.loc is not None and refused.layer and refused.exit_code == 2
                assert f"batch {batch}" in refused.message or "spatial" in refused.message
    assert tried, f"no tiny input reaches op {name}: add a TINY_SAMPLES entry"


def test_instancenorm_on_one_spatial_element_warns_at_analysis() -> None:
    spec = net("  - {op: conv, out: 4, k: 4}\n  - {id: n, op: instancenorm}\n", "[3, 4, 4]")
    row = cnncalc.analyze(spec).layer("n")
    assert row.warnings and "single spatial element" in row.warnings[0]
    assert not cnncalc.analyze(net("  - {op: instancenorm}\n", "[3, 2, 1]")).warnings


def test_build_in_training_mode_refuses_batchnorm_on_one_value() -> None:
    from cnncalc.errors import ShapeError
    from cnncalc.pytorch.build import build

    spec = net("  - flatten\n  - {id: fc, op: linear, out: 8, bn: true}\n", "[3, 2, 2]")
    with pytest.raises(ShapeError) as info:
        build(spec, mode="training", batch=1)
    assert info.value.layer == "fc.bn" and info.value.loc is not None
    assert "at batch 1" in info.value.message and info.value.exit_code == 2
    build(spec, mode="training", batch=2)
    build(spec, mode="inference", batch=1)
    cnncalc.build_torch(spec)  # the plain API builds; only a requested mode is checked


# ------------------------------------------------------------------ bounds before allocating
def test_parse_size() -> None:
    from cnncalc.errors import UsageError
    from cnncalc.pytorch.budget import parse_size

    assert parse_size("8GiB") == 8 * 2**30 and parse_size("512MB") == 512 * 10**6
    assert parse_size("1000") == 1000 and parse_size("1.5 KiB") == 1536
    assert parse_size("2g") == 2 * 10**9
    for bad in ("", "lots", "-1GB", "0", "1 PB", "1e9"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_estimate_follows_the_analysis() -> None:
    from cnncalc.pytorch.budget import estimate

    report = cnncalc.analyze(cnncalc.load("lenet5"))
    t = report.totals
    e = estimate(report, batch=10)
    assert e.weights == (t.params + t.buffers) * 4
    assert e.inputs == t.input_bytes * 10
    assert e.inputs + e.activations == t.peak_activation_bytes * 10  # the peak holds the input
    train = estimate(report, batch=10, mode="training")
    assert train.total > e.total and train.gradients >= t.params * 4
    # a report analysed at another batch and dtype gives the same estimate
    other = cnncalc.analyze(cnncalc.load("lenet5"), batch=5, dtype="float16")
    assert estimate(other, batch=10) == e


def test_estimate_counts_the_patches_a_local_layer_copies() -> None:
    from cnncalc.pytorch.budget import estimate

    spec = net("  - {op: local, out: 2, k: 5}\n", "[3, 20, 20]")
    report = cnncalc.analyze(spec)
    patches = 16 * 16 * 3 * 5 * 5  # positions x C_in x k x k, per sample
    assert estimate(report, 4).workspace == patches * 4 * 4
    assert estimate(report, 4, "training").workspace == patches * 4 * 4
    layer = cnncalc.build_torch(spec).layer(spec.nodes[0].id)
    x = torch.randn(4, 3, 20, 20)
    patches_made = x.unfold(2, 5, 1).unfold(3, 5, 1).permute(0, 2, 3, 1, 4, 5).reshape(4, -1)
    assert patches_made.numel() == patches * 4 and layer(x).shape == (4, 2, 16, 16)


def test_check_fits_refuses_with_the_figures_and_the_largest_batch() -> None:
    from cnncalc.pytorch.budget import MemoryBudget, check_fits, estimate

    report = cnncalc.analyze(cnncalc.load("lenet5"))
    limit = estimate(report, 100).total
    check_fits(report, MemoryBudget(limit), batch=100)
    with pytest.raises(EnvironmentUnavailable) as info:
        check_fits(report, MemoryBudget(limit), batch=101, what="profiling")
    text = info.value.format()
    assert info.value.exit_code == 3 and "profiling needs ~" in text and "--max-memory" in text
    assert "at most batch 100 fits" in text


def test_available_memory_reads_meminfo_and_cuda(monkeypatch, tmp_path) -> None:
    from cnncalc.pytorch import budget

    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       24684084 kB\nMemAvailable:   1000 kB\n")
    monkeypatch.setattr(budget, "MEMINFO", str(info))
    monkeypatch.setattr(budget._meminfo_available, "__defaults__", (str(info),))
    assert budget.available_memory("cpu") == 1000 * 1024
    monkeypatch.setattr(budget._meminfo_available, "__defaults__", (str(tmp_path / "none"),))
    pages = {"SC_PAGE_SIZE": 4096, "SC_AVPHYS_PAGES": 10}
    monkeypatch.setattr(budget.os, "sysconf", lambda name: pages[name])
    assert budget.available_memory("cpu") == 40960  # no /proc/meminfo: the OS's figure
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (3 * 2**30, 16 * 2**30))
    assert budget.available_memory("cuda") == 3 * 2**30
    assert budget.available_memory("meta") is None


def test_int64_bounds_are_checked_before_torch_sees_them() -> None:
    from cnncalc.errors import UsageError
    from cnncalc.pytorch.budget import check_int64

    report = cnncalc.analyze(cnncalc.load("lenet5"))
    check_int64(report, 2**40)
    for batch in (2**63, 10**23, 2**53 * 1024, 2**61 // 1024):  # the last: int64 bytes
        with pytest.raises(UsageError) as info:
            check_int64(report, batch)
        assert "int64" in info.value.message
    wide = cnncalc.analyze(net("  - {op: maxpool, k: 2}\n", "[3, 100000000000, 100000000000]"))
    with pytest.raises(UsageError):
        check_int64(wide)
    # on the meta device too: no tensor is made
    with pytest.raises(UsageError), torch.device("meta"):
        cnncalc.build_torch(net("  - {op: maxpool, k: 2}\n", "[3, 100000000000, 100000000000]"))
    long = net("  - {id: p, op: maxpool, k: 2}\n", f"[1, {2**61}]")  # elements fit, bytes do not
    with pytest.raises(UsageError) as info:
        check_int64(cnncalc.analyze(long))
    assert info.value.message.startswith("the input: a tensor of shape [1, 1, 2305843009213693952]")


# ------------------------------------------------------------------ torch's errors, mapped
@pytest.mark.parametrize("exc,code", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                  "allocate memory: you tried to allocate 102400000000 bytes. Error code 12"), 3),
    (RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 8 bytes"), 3),
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), 3),
    (MemoryError(), 3),
    (RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"), 3),
    (OverflowError("Python int too large to convert to C long"), 2),
    (RuntimeError("numel: integer multiplication overflow"), 2),
    (ValueError("Expected more than 1 value per channel when training, got input size [1, 4]"), 2),
    (RuntimeError("[enforce fail at inline_container.cc:747] . open file failed with strerror: "
                  "Is a directory"), 2),
])
def test_torch_errors_map_to_user_errors(exc: BaseException, code: int) -> None:
    from cnncalc.pytorch.failures import torch_errors, translate

    mapped = translate(exc)
    assert mapped is not None and mapped.exit_code == code
    assert "enforce fail" not in mapped.message and "\n" not in mapped.message
    with pytest.raises(type(mapped)), torch_errors():
        raise exc
    if "102400000000" in str(exc):
        assert "95.4 GiB" in mapped.message


def test_first_line_drops_what_torch_adds_for_a_terminal() -> None:
    from cnncalc.pytorch.failures import first_line

    exc = RuntimeError("\x1b[96mStep 3/3\x1b[0m failed\nframe #0: c10::Error")
    assert first_line(exc) == "Step 3/3 failed"
    enforce = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. x")
    assert first_line(enforce) == "err == 0. x"


def test_other_torch_errors_are_not_mapped() -> None:
    from cnncalc.pytorch.failures import torch_errors, translate

    assert translate(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None
    with pytest.raises(RuntimeError), torch_errors():
        raise RuntimeError("boom")


def test_allocation_failure_while_building_is_exit_3(monkeypatch) -> None:
    from cnncalc.ops.conv.conv import Conv

    def fail(self, layer, kit):  # type: ignore[no-untyped-def]
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           "4096 bytes")

    monkeypatch.setattr(Conv, "torch", fail)
    with pytest.raises(EnvironmentUnavailable) as info:
        cnncalc.build_torch(cnncalc.load("lenet5"))
    assert info.value.layer == "C1" and "out of memory" in info.value.message


def test_verify_on_the_meta_device_allocates_no_real_input(monkeypatch) -> None:
    from cnncalc.pytorch.budget import MemoryBudget
    from cnncalc.pytorch.verify import choose_device, verify

    spec = net("  - {id: p, op: maxpool, k: 2}\n", "[64, 20000, 20000]")  # a 95 GiB input
    report = cnncalc.analyze(spec)
    assert choose_device(report) == "meta"  # more than this machine has available
    small = cnncalc.analyze(cnncalc.load("lenet5"))
    assert choose_device(small, MemoryBudget(1000)) == "meta"
    monkeypatch.setattr(torch, "randn", lambda *a, **k: pytest.fail("a real input was made"))
    assert verify(spec, report) == []
