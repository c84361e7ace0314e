"""The course notes' worked examples (examples/*.yaml) give the numbers the notes give.

Two layers of checking:

* every example is run and checked against its own ``expect:`` section
  (parametrised over the folder, so a new example is covered the moment it is added);
* the worked numbers of the notes are asserted here *by name*, independently of the
  files, so an ``expect:`` edited to match a wrong result still fails.

Where torch is installed, the examples' shapes and parameter counts are also compared
with the modules ``cnncalc.build_torch`` makes (skipped until the builder exists).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.report import LayerReport, Report

from helpers import expect_misses

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))
#: too large to instantiate as a torch module at any input size (out: 10^6 is fixed)
NOT_FOR_TORCH = {"connectivity_fully_connected.yaml"}
#: compared with torch on a smaller image (10^8 float32 weights = 400 MB at full size)
SMALLER_FOR_TORCH = {"connectivity_local.yaml": (1, 30, 30)}

_cache: dict[str, Report] = {}


def report(name: str) -> Report:
    """The analysis of ``examples/<name>`` (cached: several tests read each one)."""
    if name not in _cache:
        _cache[name] = cnncalc.analyze(cnncalc.load(EXAMPLES_DIR / name))
    return _cache[name]


def rf_size(row: LayerReport | Report) -> list[int] | None:
    rf = row.receptive_field
    return None if rf is None else [int(v) if v == int(v) else float(v) for v in rf.size]


# ------------------------------------------------------------ every example
def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 15


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_meets_its_expect_section(path: Path) -> None:
    """Held by the library's checker, as ``cnncalc check`` holds it."""
    from cnncalc.check import check_source

    net = cnncalc.load(path)
    assert isinstance(net.expect, dict) and "output_shape" in net.expect, \
        f"{path.name} needs an expect: section with at least output_shape"
    result = check_source(path)
    assert result.status == "pass", result.error.format() if result.error else result.failures
    assert len(result.outcomes) >= 2
    assert expect_misses(report(path.name), net.expect) == [], path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_explains_itself_in_a_header_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 3, f"{path.name} should open with a comment: the lesson and its numbers"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_has_worked_numbers_asserted_here(path: Path) -> None:
    assert path.name in WORKED, (f"add a test of {path.name}'s worked numbers "
                                 "to tests/test_examples.py")


def test_the_checker_notices_a_wrong_expectation() -> None:
    rep = report("edge_detection.yaml")
    wrong = {"output_shape": [1, 6, 8], "layers": {"edges": {"macs": 1}}}
    assert expect_misses(rep, wrong) == [
        "output_shape: expected (1, 6, 8), got (1, 6, 7)",
        "layers.edges.macs: expected 1, got 84"]


# -------------------------------------------------- the notes' worked numbers
WORKED: dict[str, Callable[[], None]] = {}


def worked(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a test as the worked-number test of ``examples/<name>``."""
    def deco(fn: Callable[[], None]) -> Callable[[], None]:
        WORKED[name] = fn
        return fn
    return deco


def shape(name: str, layer: str) -> tuple[int, ...]:
    return report(name).layer(layer).output_shape


@worked("padding_stride.yaml")
def test_padding_keeps_or_halves_the_size() -> None:
    n = "padding_stride.yaml"
    assert shape(n, "k3_pad1") == (1, 8, 8)          # 8 + 2*1 - 3 + 1
    assert shape(n, "k5_pad2") == (1, 8, 8)          # 8 + 2*2 - 5 + 1
    assert shape(n, "k3_pad1_stride2") == (1, 4, 4)  # floor((8 + 2 - 3) / 2) + 1
    assert shape(n, "k4_same") == (1, 8, 8)          # even kernel, same padding
    # the stride-2 layer leaves one padded position over, but it is padding: no warning
    assert report(n).warnings == ()
    # same on an even kernel: the extra padding row goes first, so the first output's
    # centre sits half a pixel before the image: (4 - 1) / 2 - 2 = -0.5
    assert [float(s) for s in report(n).layer("k4_same").receptive_field.start] == [-0.5, -0.5]
    assert report(n).layer("k5_pad2").params == 25
    assert report(n).layer("k5_pad2").macs == 25 * 64


@worked("truncation.yaml")
def test_truncating_strides_floor_and_warn() -> None:
    n = "truncation.yaml"
    assert shape(n, "k3_stride2") == (1, 3, 3)  # floor((8 - 3) / 2) + 1
    assert shape(n, "d2l_3x5") == (1, 2, 2)     # d2l: kernel 3x5, padding (0,1), stride (3,4)
    rows = report(n).layer("k3_stride2").warnings
    assert len(rows) == 2 and "(8 - 3) % 2 = 1" in rows[0]
    d2l = report(n).layer("d2l_3x5").warnings
    assert len(d2l) == 1 and "(8 - 3) % 3 = 2" in d2l[0]  # the width drops only padding
    assert all(w.startswith(("k3_stride2: ", "d2l_3x5: ")) for w in report(n).warnings)


def test_truncation_is_an_error_when_strict() -> None:
    net = cnncalc.load(EXAMPLES_DIR / "truncation.yaml")
    with pytest.raises(cnncalc.ShapeError, match="does not tile"):
        cnncalc.analyze(net, strict=True)


@worked("edge_detection.yaml")
def test_edge_detection_6x8_with_1x2_kernel_gives_6x7() -> None:
    r = report("edge_detection.yaml")
    assert r.output_shape == (1, 6, 7)
    assert (r.totals.params, r.totals.macs) == (2, 6 * 7 * 2)


@worked("multichannel.yaml")
def test_multi_input_multi_output_channels() -> None:
    r = report("multichannel.yaml")
    assert r.output_shape == (3, 2, 2)
    assert r.totals.params == 3 * 2 * 2 * 2 + 3       # c_o x c_i x k_h x k_w + biases
    assert r.totals.macs == 3 * 2 * 2 * 2 * 2 * 2


@worked("conv1x1.yaml")
def test_1x1_conv_is_a_per_pixel_fully_connected_layer() -> None:
    r = report("conv1x1.yaml")
    assert r.output_shape == (2, 3, 3)
    assert (r.totals.params, r.totals.macs) == (6, 54)
    assert rf_size(r) == [1, 1]


@worked("bottleneck_direct.yaml")
def test_5x5_conv_on_28x28x192_costs_120m_macs() -> None:
    r = report("bottleneck_direct.yaml")
    assert r.output_shape == (32, 28, 28)
    assert r.totals.macs == 120_422_400


@worked("bottleneck_1x1.yaml")
def test_1x1_bottleneck_costs_12m_macs() -> None:
    r = report("bottleneck_1x1.yaml")
    assert r.output_shape == (32, 28, 28)
    assert r.layer("reduce").output_shape == (16, 28, 28)
    assert r.layer("reduce").macs == 2_408_448
    assert r.layer("conv5x5").macs == 10_035_200
    assert r.totals.macs == 12_443_648
    direct = report("bottleneck_direct.yaml").totals.macs
    assert direct / r.totals.macs == pytest.approx(9.68, abs=0.01)


@worked("connectivity_fully_connected.yaml")
def test_fully_connected_on_a_megapixel_needs_10_to_the_12_weights() -> None:
    r = report("connectivity_fully_connected.yaml")
    assert r.output_shape == (10**6,)
    assert r.totals.params == 10**12


@worked("connectivity_local.yaml")
def test_locally_connected_10x10_needs_10_to_the_8_weights() -> None:
    r = report("connectivity_local.yaml")
    assert r.output_shape == (1, 1000, 1000)
    assert r.totals.params == 10**8
    assert rf_size(r) == [10, 10]


@worked("connectivity_conv.yaml")
def test_convolution_needs_only_the_kernel() -> None:
    r = report("connectivity_conv.yaml")
    assert r.output_shape == (1, 1000, 1000)
    assert r.totals.params == 100
    assert r.totals.macs == 10**8  # the same arithmetic as the locally connected layer
    assert report("connectivity_local.yaml").totals.macs == r.totals.macs


@worked("transposed_conv.yaml")
def test_transposed_conv_shapes() -> None:
    n = "transposed_conv.yaml"
    assert shape(n, "basic") == (1, 3, 3)    # 2x2 input, 2x2 kernel, stride 1
    assert shape(n, "stride2") == (1, 4, 4)  # stride 2
    assert shape(n, "pad1") == (1, 1, 1)     # padding 1 trims a row and column on each side
    assert shape(n, "out_pad") == (1, 4, 4)  # k3, s2, p1, output_padding 1: doubles 2 -> 4
    assert report(n).layer("basic").macs == 4 * 4  # 4 input elements x 4 weights


@worked("conv_transpose_inverse.yaml")
def test_conv_transpose_restores_the_shape_a_conv_took() -> None:
    r = report("conv_transpose_inverse.yaml")
    assert r.layer("down").output_shape == (20, 6, 6)
    assert r.output_shape == r.input_shape == (10, 16, 16)


@worked("dilated_conv.yaml")
def test_dilation_widens_the_kernel_and_the_receptive_field() -> None:
    n = "dilated_conv.yaml"
    r = report(n)
    assert shape(n, "single_d2") == (1, 28, 28)  # effective kernel 3 + 2*1 = 5: 32 - 5 + 1
    assert rf_size(r.layer("single_d2")) == [5, 5]
    assert r.layer("single_d2").params == 9      # still a 3x3 kernel
    assert [rf_size(r.layer(i))[0] for i in ("d1", "d2", "d4")] == [3, 7, 15]
    assert rf_size(r) == [15, 15]


@worked("conv1d_narrow_wide_same.yaml")
def test_narrow_wide_same_1d() -> None:
    n = "conv1d_narrow_wide_same.yaml"
    assert shape(n, "narrow") == (1, 8)   # n - k + 1
    assert shape(n, "wide") == (1, 12)    # n + k - 1
    assert shape(n, "same") == (1, 10)    # n


@worked("pooling.yaml")
def test_pooling_shapes_and_no_params() -> None:
    n = "pooling.yaml"
    r = report(n)
    assert shape(n, "max2x2") == (1, 4, 4)
    assert shape(n, "max3x3_same") == (1, 8, 8)
    assert shape(n, "avg2x2") == (1, 4, 4)
    assert r.totals.params == 0 and r.totals.macs == 0
    assert r.layer("max2x2").flops == 3 * 16


@worked("pooling_ceil_mode.yaml")
def test_ceil_mode_keeps_the_partial_window() -> None:
    n = "pooling_ceil_mode.yaml"
    assert shape(n, "floor") == (1, 2, 2)
    assert len(report(n).layer("floor").warnings) == 2
    assert shape(n, "ceil") == (1, 3, 3)
    assert report(n).layer("ceil").warnings == ()
    assert shape(n, "ceil_pad1") == (1, 3, 3)  # the 4th window would start in the padding


@worked("receptive_field.yaml")
def test_stacked_3x3_receptive_fields() -> None:
    r = report("receptive_field.yaml")
    assert [rf_size(r.layer(i)) for i in ("conv1", "conv2", "conv3")] == [[3, 3], [5, 5], [7, 7]]
    assert rf_size(r.layer("one7x7")) == [7, 7]
    assert 3 * r.layer("conv1").params == 27 * 8 * 8    # three 3x3: 27 C^2
    assert r.layer("one7x7").params == 49 * 8 * 8       # one 7x7:   49 C^2


@worked("receptive_field_stride.yaml")
def test_receptive_field_after_a_stride() -> None:
    r = report("receptive_field_stride.yaml")
    sizes = [rf_size(r.layer(i))[0] for i in ("conv1", "conv2", "conv3", "pool", "conv4")]
    assert sizes == [3, 5, 9, 11, 19]
    assert [int(r.layer(i).receptive_field.jump[0]) for i in ("conv2", "pool")] == [2, 4]
    assert r.warnings == ()  # conv2's uncovered row and column are padding


@worked("normalization.yaml")
def test_normalisation_params_and_buffers() -> None:
    r = report("normalization.yaml")
    c, hw = 8, 4 * 4
    figures = {i: (r.layer(i).params, r.layer(i).buffers) for i in
               ("batch", "batch_no_affine", "layer", "group", "instance", "instance_affine")}
    assert figures == {
        "batch": (2 * c, 2 * c + 1),            # gamma, beta; running mean, var, num_batches
        "batch_no_affine": (0, 2 * c + 1),
        "layer": (2 * c * hw, 0),               # gamma, beta per normalised element
        "group": (2 * c, 0),
        "instance": (0, 0),                     # torch default: no affine, no running stats
        "instance_affine": (2 * c, 0),
    }
    assert (r.layer("lrn").params, r.layer("lrn").buffers) == (0, 0)  # a fixed formula
    assert all(row.output_shape == (c, 4, 4) and row.macs == 0 for row in r.layers)


@worked("global_average_pooling.yaml")
def test_global_average_pooling_needs_no_parameters() -> None:
    r = report("global_average_pooling.yaml")
    assert r.output_shape == (10, 1, 1)
    assert r.layer("gap").params == r.layer("adaptive").params == 0
    assert r.layer("adaptive").output_shape == (10, 1, 1)
    assert r.layer("fc").params == 10 * 5 * 5 * 10 + 10
    assert rf_size(r.layer("gap")) == [5, 5]


# ----------------------------------------------------------- torch oracle
def _torch_build() -> Any:
    pytest.importorskip("torch")
    try:
        from cnncalc.pytorch import build  # noqa: F401
    except ImportError:
        pytest.skip("cnncalc.pytorch.build is not there yet")
    return cnncalc.build_torch


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.name not in NOT_FOR_TORCH],
                         ids=lambda p: p.stem)
def test_example_agrees_with_torch(path: Path) -> None:
    build = _torch_build()
    import torch

    torch.set_num_threads(1)
    net = cnncalc.load(path)
    x = SMALLER_FOR_TORCH.get(path.name, net.input_shape)
    rep = cnncalc.analyze(net, x)
    assert rep.totals.params < 10**7, "too large to build in a test: add it to SMALLER_FOR_TORCH"
    try:
        module = build(net, x)
    except NotImplementedError:  # pragma: no cover - while the torch builder is incomplete
        pytest.skip("an op of this example has no torch module yet")
    assert sum(p.numel() for p in module.parameters()) == rep.totals.params
    seen: dict[str, tuple[int, ...]] = {}
    for row in rep.layers:
        layer = module.layer(row.id)
        own = sum(p.numel() for p in layer.parameters(recurse=False))
        buffers = sum(b.numel() for b in layer.buffers(recurse=False))
        assert (own, buffers) == (row.params, row.buffers), row.id
        layer.register_forward_hook(
            lambda m, i, o, name=row.id: seen.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        out = module(torch.zeros(1, *x))
    assert tuple(out.shape[1:]) == rep.output_shape
    assert seen == {row.id: row.output_shape for row in rep.layers}


# ------------------------------- spec-language behaviour documented in docs/spec-format.md
def _loads(text: str) -> cnncalc.Network:
    import textwrap

    return cnncalc.loads(textwrap.dedent(text), "t.yaml")


def test_defaults_reach_the_bn_and_act_shorthand_rows() -> None:
    net = _loads("""
        cnncalc: 1
        input: [3, 8, 8]
        defaults:
          conv: {bn: true, act: leaky_relu}
          batchnorm: {affine: false}
          leaky_relu: {slope: 0.2}
        layers: [{id: c, op: conv, out: 4, k: 3}]
    """)
    assert [n.id for n in net.nodes] == ["c", "c.bn", "c.act"]
    assert net.node("c.bn").op.args.affine is False
    assert net.node("c.act").op.args.slope == 0.2
    assert cnncalc.analyze(net).layer("c.bn").params == 0


@pytest.mark.parametrize("key, message", [
    ("cnv", "defaults: 'cnv' is not an op; did you mean 'conv'?"),
    ("blk", "defaults: 'blk' is a block"),
])
def test_a_defaults_key_must_name_an_op(key: str, message: str) -> None:
    with pytest.raises(cnncalc.SpecError) as info:
        _loads(f"""
            cnncalc: 1
            input: [3, 8, 8]
            defaults:
              {key}: {{k: 3}}
            blocks:
              blk: {{layers: [relu]}}
            layers: [relu]
        """)
    assert message in info.value.message
    assert (info.value.loc.line, info.value.loc.col) == (5, 3)


# ----------------------------------------------- docs/spec-format.md's own examples
DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def doc_blocks() -> list[tuple[str, str, str]]:
    """``(kind, text, following text block)`` for each fenced block of the spec docs."""
    import re

    blocks = re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(), re.S)
    out = []
    for i, (kind, text) in enumerate(blocks):
        after = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else ""
        out.append((kind, text, after))
    return out


def _doc_specs() -> list[tuple[str, str]]:
    return [(text, after) for kind, text, after in doc_blocks()
            if kind == "yaml" and "\ncnncalc: 1\n" in "\n" + text]


@pytest.mark.parametrize("text, error", _doc_specs(), ids=lambda v: "")
def test_spec_format_doc_examples(text: str, error: str) -> None:
    first = text.splitlines()[0]
    name = first[2:].strip() if first.startswith("# ") and first.endswith(".yaml") else "doc.yaml"
    if name != "doc.yaml" and error.startswith(name + ":"):
        with pytest.raises(cnncalc.CnncalcError) as info:
            cnncalc.analyze(cnncalc.loads(text, name))
        # a reworded message fails here: paste the new text into the doc's text block
        assert info.value.format() == error.rstrip("\n")
        return
    report_ = cnncalc.analyze(cnncalc.loads(text, name))
    assert report_.layers


def test_spec_format_doc_has_its_examples() -> None:
    specs = _doc_specs()
    assert len(specs) >= 12
    assert sum(1 for _, error in specs if error) >= 7  # the error gallery


def test_spec_format_doc_first_spec_numbers() -> None:
    text = next(t for t, _ in _doc_specs() if "name: small net" in t)
    r = cnncalc.analyze(cnncalc.loads(text))
    assert [row.id for row in r.layers] == ["conv1", "conv1.bn", "conv1.act", "maxpool1", "conv2",
                                            "conv2.act", "avgpool1", "flatten1", "fc"]
    assert r.output_shape == (10,) and r.totals.params == 5450 == 448 + 32 + 4640 + 330


# ------------------------------------------------------- docs/api.md, run by doctest
API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_api_doc_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest
    import importlib.util

    monkeypatch.chdir(API_DOC.parent.parent)
    text = API_DOC.read_text()
    if importlib.util.find_spec("torch") is None:  # the torch section needs torch
        text = text.split("<!-- torch -->")[0]
    test = doctest.DocTestParser().get_doctest(text, {}, "api.md", str(API_DOC), 0)
    assert len(test.examples) >= 15
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


# ------------------------------------------- the design brief's sketches are expressible
RESNET50_SKETCH = """
cnncalc: 1
defaults:
  conv: {bias: false, bn: true, act: relu}
input: [3, 224, 224]
blocks:
  bottleneck:
    args: {width: int, stride: 1}
    layers:
      - {id: a, op: conv, out: $width, k: 1}
      - {id: b, op: conv, out: $width, k: 3, stride: $stride, pad: 1}
      - {id: c, op: conv, out: "${4 * width}", k: 1, act: none}
      # a 1x1 conv+BN shortcut when the shapes differ
      - {id: sum, op: add, in: [input, c], project: auto}
      - relu
layers:
  - {id: stem, op: conv, out: 64, k: 7, stride: 2, pad: 3}
  - {op: maxpool, k: 3, stride: 2, pad: 1}
  - {id: conv2, op: bottleneck, width: 64, repeat: 3}
  - {id: conv3, op: bottleneck, width: 128, repeat: {n: 4, first: {stride: 2}}}
  - {id: conv4, op: bottleneck, width: 256, repeat: {n: 6, first: {stride: 2}}}
  - {id: conv5, op: bottleneck, width: 512, repeat: {n: 3, first: {stride: 2}}}
  - {op: avgpool, global: true}
  - flatten
  - {id: fc, op: linear, out: 1000}
"""


def test_the_design_briefs_resnet50_sketch() -> None:
    r = cnncalc.analyze(cnncalc.loads(RESNET50_SKETCH, "resnet50.yaml"), strict=True)
    assert r.totals.params == 25_557_032            # torchvision's resnet50
    assert r.totals.macs == 4_089_184_256           # conv + linear weight MACs at 224x224
    assert r.layer("conv3[0].sum").output_shape == (512, 28, 28)
    assert r.warnings == ()
