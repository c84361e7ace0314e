"""The importer's tables of handlers (cnncalc/pytorch/module_map.py, function_map.py) and
its spec writer's folding, held to what they wrote before they were tables: golden imported
specs (a model touching every kind of layer and function the importer maps, and the plain
torch reference nets, whose blocks, ``repeat`` and ``defaults:`` exercise the folding), the
lookup's rules (a subclass of a torch layer maps as its base; an activation only by its exact
class), and the refusals' words."""

from __future__ import annotations

import ast
import operator
import os
from pathlib import Path
from typing import Any

import pytest

import cnncalc

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from cnncalc.errors import UsageError  # noqa: E402
from cnncalc.pytorch import function_map, module_map  # noqa: E402
from cnncalc.pytorch.capture import LEAF_TYPES  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"
PYTORCH = Path(cnncalc.__file__).parent / "pytorch"
SAMPLE = (8, 16, 16)


class EveryLayer(nn.Module):
    """One of each layer and function kind the importer maps (a pattern of each too)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(8, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.same = nn.Conv2d(16, 16, 3, padding="same", dilation=2, groups=2)
        self.up = nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1)
        self.down = nn.Conv2d(8, 16, 2, 2)
        self.norms = nn.Sequential(nn.GroupNorm(4, 16), nn.InstanceNorm2d(16, affine=True),
                                   nn.LocalResponseNorm(5, 1e-4, 0.75, 2))
        self.acts = nn.Sequential(nn.ReLU6(), nn.Sigmoid(), nn.Tanh(), nn.SiLU(),
                                  nn.Hardswish(), nn.Hardsigmoid(), nn.Mish(), nn.GELU(),
                                  nn.LeakyReLU(0.2), nn.ELU(), nn.Softplus(), nn.PReLU(16),
                                  nn.Dropout2d(0.1))
        self.pools = nn.Sequential(nn.ZeroPad2d((1, 0, 1, 0)), nn.MaxPool2d(3, 2, 1),
                                   nn.AvgPool2d(2, ceil_mode=True), nn.Upsample(scale_factor=2),
                                   nn.ChannelShuffle(2))
        self.ln = nn.LayerNorm(16)
        self.mlp = nn.Linear(16, 16)
        self.scale = nn.Parameter(torch.ones(16, 1, 1))
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 10),
                                  nn.Softmax(dim=1))

    def forward(self, x: Any) -> Any:
        x = self.same(self.stem(x))
        x = self.down(F.relu(self.up(x)))
        x = self.pools(self.acts(self.norms(x)))
        y = x.permute(0, 2, 3, 1)
        y = F.gelu(self.mlp(self.ln(y))).permute(0, 3, 1, 2)
        x = x + self.scale * y
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.cat([F.leaky_relu(a, 0.3), F.dropout(b, 0.1)], 1)
        x = torch.cat(torch.split(x, [4, 12], 1), dim=1)[:, 0:16]
        x = F.interpolate(F.max_pool2d(x, 2), size=x.shape[-2:]) * x.sigmoid()
        return self.head(self.pool(x))


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual)
    assert path.exists(), f"{path} is missing; run with CNNCALC_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(), f"{name} differs (CNNCALC_UPDATE_GOLDEN=1 regenerates it)"


# ------------------------------------------------------------------ golden imports
def test_every_layer_kind_imports_as_before() -> None:
    text = cnncalc.from_torch(EveryLayer().eval(), SAMPLE, "every_layer")
    report = cnncalc.analyze(cnncalc.loads(text))
    assert report.totals.params == sum(p.numel() for p in EveryLayer().parameters())
    check_golden("import_every_layer.yaml", text)


@pytest.mark.parametrize("name", ["resnet18", "googlenet"])
def test_reference_net_imports_as_before(name: str) -> None:
    """Blocks by structure, ``repeat`` runs, ``defaults:`` (GoogLeNet's eps) and renamed ids."""
    import reference_nets

    text = cnncalc.from_torch(reference_nets.REFERENCES[name]().eval(), (3, 224, 224), name)
    check_golden(f"import_{name}.yaml", text)


# ------------------------------------------------------------------ module lookup
def test_every_leaf_layer_has_a_handler() -> None:
    """The tracer keeps these layers whole; each must then be mapped, not refused."""
    missing = [cls.__name__ for cls in LEAF_TYPES if module_map.handler_for(cls) is None]
    assert missing == []


@pytest.mark.parametrize("base", sorted(module_map.MODULE_HANDLERS, key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_a_subclass_maps_as_its_base(base: type) -> None:
    sub = type(f"My{base.__name__}", (base,), {})
    assert module_map.handler_for(sub) is module_map.handler_for(base)


@pytest.mark.parametrize("base", list(module_map.ACTIVATIONS), ids=lambda c: c.__name__)
def test_an_activation_maps_by_its_exact_class_only(base: type) -> None:
    assert module_map.handler_for(base) is module_map.map_activation
    assert module_map.handler_for(type(f"My{base.__name__}", (base,), {})) is None


class MyConv(nn.Conv2d):
    """A torch layer subclassed without a new forward (torchvision's Conv3DSimple)."""


class MyBatchNorm(nn.BatchNorm2d):
    pass


class MyReLU(nn.ReLU):
    pass


class StochasticDepth(nn.Module):
    """torchvision's, duck-typed by name and its ``p``/``mode``."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: Any) -> Any:
        return x


def _import(*layers: nn.Module) -> str:
    return cnncalc.from_torch(nn.Sequential(*layers).eval(), SAMPLE, "net")


def test_subclassed_layers_import_as_their_bases() -> None:
    assert _import(MyConv(8, 4, 3), MyBatchNorm(4)) == _import(nn.Conv2d(8, 4, 3),
                                                               nn.BatchNorm2d(4))


def test_stochastic_depth_is_recognised_by_name() -> None:
    text = _import(nn.Conv2d(8, 8, 1), StochasticDepth(0.2, "row"))
    assert "op: drop_path, p: 0.2" in text


# ------------------------------------------------------------------ refusals
REFUSED = [
    ((MyReLU(),), "cannot import MyReLU: no cnncalc op for the module"),
    ((nn.PixelShuffle(2),), "no cnncalc op for the module torch.nn.modules.pixelshuffle"),
    ((nn.Conv2d(8, 8, 3, padding_mode="circular"),),
     "padding_mode='circular' (cnncalc pads with zeros)"),
    ((nn.BatchNorm2d(8, track_running_stats=False),), "a batch norm without running statistics"),
    ((nn.LayerNorm([16]),), "LayerNorm over [16] of a [8, 16, 16] input"),
    ((nn.GELU(approximate="tanh"),), "GELU(approximate='tanh')"),
    ((nn.ELU(0.5),), "ELU(alpha=0.5) (cnncalc's elu has alpha 1)"),
    ((nn.Softplus(threshold=5),), "Softplus with beta or threshold other than torch's defaults"),
    ((nn.Softmax(dim=0),), "softmax over dim 0 (over the batch)"),
    ((nn.MaxPool2d(2, return_indices=True),), "max pooling that returns its indices"),
    ((nn.AdaptiveMaxPool2d(2, return_indices=True),),
     "adaptive max pooling that returns its indices"),
    ((nn.AvgPool2d(3, 1, 1, divisor_override=3),), "average pooling with divisor_override"),
    ((nn.AdaptiveAvgPool2d((None, 2)),), "an adaptive pool that keeps an axis"),
    ((nn.Upsample(scale_factor=2.5),), "a fractional scale factor 2.5"),
    ((nn.Flatten(0),), "flatten(start_dim=0, end_dim=-1)"),
    ((StochasticDepth(0.1, "row"), nn.Unflatten(1, (2, 4))), "no cnncalc op for the module"),
]


@pytest.mark.parametrize(("layers", "words"), REFUSED, ids=lambda v: str(v)[:30])
def test_a_module_with_no_cnncalc_op_is_refused_in_its_words(layers: tuple[nn.Module, ...],
                                                             words: str) -> None:
    with pytest.raises(UsageError) as caught:
        _import(*layers)
    assert words in caught.value.message


class Calls(nn.Module):
    def __init__(self, call: Any) -> None:
        super().__init__()
        self.conv, self.call = nn.Conv2d(8, 8, 1), call

    def forward(self, x: Any) -> Any:
        return self.call(self.conv(x))


CALLS_REFUSED = [
    (lambda x: torch.sort(x)[0], "no cnncalc op for the function torch.sort"),
    (lambda x: x - x, "no cnncalc op for the function _operator.sub"),
    (lambda x: x / x, "no cnncalc op for the function _operator.truediv"),
    (lambda x: torch.add(x, x, alpha=2), "add with alpha=2"),
    (lambda x: x * 2.0, "mul of a tensor and a float (2.0)"),
    (lambda x: F.gelu(x, approximate="tanh"), "gelu(approximate='tanh')"),
    (lambda x: torch.cat([x, x], 0), "cat along dim 0"),
    (lambda x: torch.transpose(x, 2, 3), "transpose(2, 3)"),
    (lambda x: x.abs(), "no cnncalc op for the tensor method .abs()"),
]


@pytest.mark.parametrize(("call", "words"), CALLS_REFUSED, ids=[w for _, w in CALLS_REFUSED])
def test_a_function_with_no_cnncalc_op_is_refused_in_its_words(call: Any, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        cnncalc.from_torch(Calls(call).eval(), SAMPLE, "net")
    assert words in caught.value.message


def test_shape_arithmetic_is_computed_not_mapped() -> None:
    """``x.size(1) // 2`` and friends are Python numbers (the batch stays a symbol)."""
    for op in (operator.floordiv, operator.sub, operator.truediv, operator.add, operator.mul):
        assert function_map.handler_for(op)(None, op, [12, 4], {}) == op(12, 4)


def test_a_function_is_registered_once() -> None:
    with pytest.raises(ValueError, match="has a handler already"):
        function_map.maps(torch.flatten)(function_map.refuse)


def test_a_module_class_is_registered_once() -> None:
    with pytest.raises(ValueError, match=r"torch\.nn\.modules\.conv\.Conv2d has a handler already"):
        module_map.maps(nn.Conv2d)(module_map.map_identity)


def test_functions_named_as_torchvisions_are_recognised() -> None:
    def channel_shuffle(x: Any, groups: int) -> Any:
        return x

    def stochastic_depth(x: Any, p: float, mode: str) -> Any:
        return x

    assert function_map.handler_for(channel_shuffle) is function_map.map_channel_shuffle
    assert function_map.handler_for(stochastic_depth) is function_map.map_stochastic_depth
    assert function_map.handler_for(torch.sort) is function_map.refuse


# ------------------------------------------------------------------ short functions
IMPORTER = ["capture.py", "function_map.py", "method_map.py", "module_map.py", "spec_writer.py"]


@pytest.mark.parametrize("file", IMPORTER)
def test_the_importers_functions_are_short(file: str) -> None:
    """Issue 12: a function of the importer fits a screen (a table of handlers, not a chain)."""
    tree = ast.parse((PYTORCH / file).read_text())
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno
            and node.end_lineno - node.lineno + 1 > 40]
    assert long == []


METHODS = [
    (lambda x: x.view(x.size(0), -1), "op: flatten"),
    (lambda x: x.reshape(x.shape[0], x.size(1), 16, x.dim() * 4).contiguous().clone(),
     "layers:\n  - {id: conv, op: conv, out: 8, k: 1}\n"),
    (lambda x: x.flatten(1), "op: flatten"),
    (lambda x: x.permute(0, 2, 3, 1).permute(0, 3, 1, 2), "op: conv"),
    (lambda x: x.chunk(2, dim=1)[1], "op: slice, in: conv, part: 1, parts: 2"),
    (lambda x: x.split(2, 1)[3], "op: slice, in: conv, start: 6, stop: 8"),
    (lambda x: x.mean((2, 3), keepdim=True), "op: avgpool, global: true"),
    (lambda x: x.add(x).mul_(x.relu_()), "op: mul"),
    (lambda x: x.sigmoid_(), "act: sigmoid"),
]


@pytest.mark.parametrize(("call", "words"), METHODS, ids=[w for _, w in METHODS])
def test_tensor_methods_map_like_their_functions(call: Any, words: str) -> None:
    assert words in cnncalc.from_torch(Calls(call).eval(), SAMPLE, "net")

