"""``cnncalc import`` / ``cnncalc.from_torch`` / ``cnncalc.copy_weights``: a round trip.

For every torchvision CNN the zoo holds (tests/torchvision_oracle.py builds them as the
model cards describe, on the meta device) the imported spec's analysis must equal the
model's parameters, buffers, output shape and MACs (FlopCounterMode / 2) exactly, and layer
by layer every conv, linear and norm.  Then the module built from the spec, given the
original's weights by ``copy_weights``, must compute the same output (allclose 1e-4) on a
random input (at a small input size: the models are fully convolutional; the figures are
checked at the model card's size), for every model up to 40 M parameters and the smallest
of every structure (:data:`NUMERIC_PARAMS`).  The same for the plain-torch reference nets in
tests/reference_nets.py, and a user's own model file through the CLI.
"""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.cli import app

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import torchvision_oracle as tv  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: the numerical check at a small input (figures are checked at the card's size)
SMALL = {"inception_v3": (3, 96, 96), **{v: (3, 4, 32, 32) for v in tv.VIDEO}}
#: the numerical check runs every model of at most this many parameters, and for each
#: structure (torchvision class and the set of module types in it) at least its smallest
#: member: a bigger model of a structure already run differs only in widths and depths,
#: which its figures (checked exactly for every model) see. It keeps the suite inside its
#: time budget: the 29 models above 40 M parameters took half of this file's time.
NUMERIC_PARAMS = 40_000_000


@functools.cache
def structure(name: str) -> tuple[str, frozenset[str]]:
    model = tv.build(name)
    return type(model).__name__, frozenset(type(m).__name__ for m in model.modules())


@functools.cache
def parameters(name: str) -> int:
    return sum(p.numel() for p in tv.build(name).parameters())


def numeric_names() -> list[str]:
    """The models whose built module is run against torchvision's (see NUMERIC_PARAMS)."""
    tv.torchvision_models()
    run = {n for n in tv.ALL_CNNS if parameters(n) <= NUMERIC_PARAMS}
    for key in {structure(n) for n in tv.ALL_CNNS}:
        members = [n for n in tv.ALL_CNNS if structure(n) == key]
        if not run.intersection(members):
            run.add(min(members, key=parameters))
    return [n for n in tv.ALL_CNNS if n in run]


NUMERIC = numeric_names()


@functools.cache
def imported(name: str) -> str:
    return cnncalc.from_torch(tv.build(name), tv.default_input(name), name)


@pytest.mark.parametrize("name", tv.ALL_CNNS)
def test_imported_torchvision_model_has_torchs_figures(name: str) -> None:
    """params, buffers, output shape and MACs exactly, and every conv/linear/norm."""
    report = cnncalc.analyze(cnncalc.loads(imported(name), f"{name}.yaml"))
    theirs = tv.figures(name)
    assert tv.compare_totals(theirs, report) == []
    assert tv.compare_layers(theirs.layers, tv.report_layers(report)) == []


def _materialise(model: nn.Module, seed: int = 0) -> nn.Module:
    """A meta-device model on the CPU with random weights (filled in place: no
    initialisation scheme runs) and valid batch-norm statistics."""
    gen = torch.Generator().manual_seed(seed)
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:  # fan-in scaled, so deep nets keep their activations finite
                p.normal_(0.0, 0.5 / p[0].numel() ** 0.5, generator=gen)
            else:
                p.normal_(1.0 if name.endswith("weight") else 0.0, 0.1, generator=gen)
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 1.5, generator=gen)
            elif name.endswith("running_mean"):
                b.normal_(0.0, 0.1, generator=gen)
            else:
                b.zero_()
    return model.eval()


@pytest.mark.parametrize("name", NUMERIC)
def test_built_from_the_import_computes_the_same_output(name: str) -> None:
    shape = SMALL.get(name, (3, 64, 64))
    tv.torchvision_models()
    model = _materialise(tv.build.__wrapped__(name))
    net = cnncalc.loads(cnncalc.from_torch(model, shape, name))
    with torch.device("meta"):  # no initialisation: copy_weights fills every tensor
        built = cnncalc.build_torch(net)
    built = cnncalc.copy_weights(model, built.to_empty(device="cpu")).eval()
    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = tv._output_tensor(model(x))
        got = built(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_every_structure_is_run_numerically() -> None:
    """Each model not run shares its structure with a model that is, and is bigger."""
    assert {"alexnet", "vgg11", "vgg11_bn", "resnet18", "squeezenet1_0"} <= set(NUMERIC)
    for name in sorted(set(tv.ALL_CNNS) - set(NUMERIC)):
        siblings = [n for n in NUMERIC if structure(n) == structure(name)]
        assert siblings and parameters(name) > NUMERIC_PARAMS, name


# ------------------------------------------------------------- plain-torch references
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18", "resnet50", "googlenet"])
def test_reference_net_round_trip(name: str) -> None:
    import reference_nets

    model = reference_nets.REFERENCES[name]().eval()
    shape = (3, 224, 224)
    text = cnncalc.from_torch(model, shape, name)
    report = cnncalc.analyze(cnncalc.loads(text))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.buffers == sum(b.numel() for b in model.buffers())
    assert report.totals.macs == cnncalc.analyze(cnncalc.load(name)).totals.macs
    small = (3, 96, 96) if name != "alexnet" else (3, 224, 224)
    net = cnncalc.loads(cnncalc.from_torch(model, small, name))
    built = cnncalc.copy_weights(model, cnncalc.build_torch(net).eval())
    x = torch.randn(1, *small)
    with torch.no_grad():
        torch.testing.assert_close(built(x), model(x), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------- readability
def test_resnet50_imports_as_a_readable_spec() -> None:
    """ids from module paths, bn/act shorthand, the stages' blocks as two parameterised
    block definitions, identical consecutive blocks folded into a repeat."""
    text = imported("resnet50")
    assert "{id: conv1, op: conv, out: 64, k: 7, stride: 2, pad: 3, bias: false, bn: true, " \
           "act: relu}" in text
    assert "  bottleneck:\n    args: [out, conv3_out]" in text
    assert "{id: layer3_1_to_5, op: bottleneck, out: 256, conv3_out: 1024, repeat: 5}" in text
    assert "{id: layer2_0, op: bottleneck_2, out: 128, conv3_out: 512}" in text
    assert "{id: downsample_0, op: conv, in: input, out: \"$conv3_out\", k: 1, stride: 2" in text
    lines = [line for line in text.splitlines() if line.strip().startswith("- ")]
    assert len(lines) < 40  # 161 rows of torch layers, written in fewer entries
    assert cnncalc.analyze(cnncalc.loads(text)).totals.params == 25_557_032


def test_bn_settings_shared_through_defaults() -> None:
    text = imported("googlenet")  # torchvision's BasicConv2d: BatchNorm2d(eps=0.001)
    assert "defaults:\n  batchnorm: {eps: 0.001}" in text
    assert "bn: true" in text


# ------------------------------------------------------------------- errors
def run(*args: str) -> Any:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args))


USER_FILE = textwrap.dedent('''\
    import torch
    from torch import nn


    class TinyNet(nn.Module):
        """A small CNN for CIFAR-10."""

        def __init__(self, width: int = 16) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU())
            self.fc = nn.Linear(2 * width, 10)

        def forward(self, x):
            x = self.features(x)
            return self.fc(x.mean((2, 3)))


    class Branchy(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x


    class Sorts(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return torch.sort(self.c(x), dim=1)[0]


    def not_a_module():
        return 3
    ''')


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    path = tmp_path / "user_model.py"
    path.write_text(USER_FILE)
    return path


def test_cli_imports_a_user_file_and_the_spec_loads(user_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.yaml"
    result = run("import", f"{user_file}:TinyNet", "--input", "3x32x32", "--arg", "width=8",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    report = cnncalc.analyze(cnncalc.load(str(out)))
    import importlib.util

    spec = importlib.util.spec_from_file_location("user_model_t", user_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.TinyNet(width=8)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.output_shape == (10,)


def test_cli_prints_the_spec_on_stdout(user_file: Path) -> None:
    result = run("import", f"{user_file}:TinyNet", "--input", "3x32x32")
    assert result.exit_code == 0
    assert result.stdout.startswith("cnncalc: 1\n")
    assert cnncalc.analyze(cnncalc.loads(result.stdout)).output_shape == (10,)


@pytest.mark.parametrize(("target", "wanted"), [
    ("{f}:Branchy", ["data-dependent control flow", "line 23", "if x.sum() > 0"]),
    ("{f}:Sorts", ["torch.sort", "graph node 'sort'", "return torch.sort(self.c(x)"]),
    ("{f}:Nope", ["has no 'Nope'"]),
    ("{f}:not_a_module", ["returned int, not an nn.Module"]),
    ("{f}", ["must be package.module:callable"]),
    ("no/such/file.py:Net", ["no such file"]),
    ("no_such_package_xyz:Net", ["cannot import no_such_package_xyz"]),
])
def test_what_cannot_be_imported_is_a_located_exit_2(user_file: Path, target: str,
                                                      wanted: list[str]) -> None:
    result = run("import", target.format(f=user_file), "--input", "3x32x32")
    assert result.exit_code == 2, result.output
    for text in wanted:
        assert text in result.output


def test_bad_arg_and_input_are_exit_2(user_file: Path) -> None:
    assert run("import", f"{user_file}:TinyNet", "--input", "3x0x32").exit_code == 2
    bad = run("import", f"{user_file}:TinyNet", "--input", "3x32x32", "--arg", "nope")
    assert bad.exit_code == 2 and "name=value" in bad.output
    wrong = run("import", f"{user_file}:TinyNet", "--input", "3x32x32", "--arg", "depth=3")
    assert wrong.exit_code == 2 and "depth" in wrong.output


def test_a_model_returning_its_input_is_one_identity_layer() -> None:
    text = cnncalc.from_torch(nn.Identity(), (3, 8, 8))
    report = cnncalc.analyze(cnncalc.loads(text))
    assert [r.op for r in report.layers] == ["identity"] and report.output_shape == (3, 8, 8)


def test_from_torch_refuses_a_non_module() -> None:
    with pytest.raises(cnncalc.CnncalcError, match=r"needs an nn\.Module"):
        cnncalc.from_torch(3, (3, 8, 8))


def test_copy_weights_needs_a_built_module() -> None:
    with pytest.raises(cnncalc.CnncalcError, match=r"built by cnncalc\.build_torch"):
        cnncalc.copy_weights(nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3))


def _param_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())
