"""Each op's figures against the equivalent module written in plain torch.

For every case: parameters, trainable parameters, fixed parameters and buffers equal
torch's ``sum(p.numel())`` / ``sum(b.numel())`` exactly; a forward pass gives our output
shape; and for the weight-product ops (conv, conv_transpose, local, linear, rbf, add's
projection) our MACs are half of ``torch.utils.flop_counter.FlopCounterMode``'s count.

FlopCounterMode counts 2 FLOPs per multiply-accumulate of convolutions and matrix
products and ignores bias adds, so "MACs = FlopCounterMode / 2" is an exact oracle for
our bias-free MAC definition.  For transposed convolutions torch counts
``2 * C_in * C_out/groups * prod(k) * prod(input spatial)`` (its conv_flop_count uses the
*input* spatial size when ``transposed=True``): every input element times every weight
it touches, once, which is exactly our conv_transpose MACs; so that comparison is also
exact, not approximate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from cnncalc.ops import REGISTRY, get_op  # noqa: E402

torch.set_num_threads(1)

# LeNet-5's C3 (LeCun et al. 1998, Table I): the S2 maps each C3 map reads
C3 = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
      [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
      [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


# ------------------------------------------------------- plain-torch reference modules
class ConnectConv(nn.Module):
    """A partially connected conv: output map j is a conv over the input maps in row j."""

    def __init__(self, table: list[list[int]], k: int) -> None:
        super().__init__()
        self.table = table
        self.convs = nn.ModuleList(nn.Conv2d(len(row), 1, k) for row in table)

    def forward(self, x: Any) -> Any:
        return torch.cat([c(x[:, row]) for c, row in zip(self.convs, self.table)], dim=1)


class Local2d(nn.Module):
    """Locally connected 2-D layer: unshared weights and one bias per output unit."""

    def __init__(self, c: int, out: int, k: int, stride: int, hw: tuple[int, int]) -> None:
        super().__init__()
        self.k, self.stride = k, stride
        self.oh, self.ow = ((n - k) // stride + 1 for n in hw)
        self.weight = nn.Parameter(torch.randn(self.oh * self.ow, c * k * k, out))
        self.bias = nn.Parameter(torch.zeros(out, self.oh, self.ow))

    def forward(self, x: Any) -> Any:
        cols = F.unfold(x, self.k, stride=self.stride)  # N, C*k*k, L
        y = torch.einsum("ncl,lco->nol", cols, self.weight)
        return y.reshape(x.shape[0], -1, self.oh, self.ow) + self.bias


class Subsample(nn.Module):
    """LeNet-5 S2/S4: window sum times one coefficient plus one bias per map."""

    def __init__(self, c: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x: Any) -> Any:
        s = F.avg_pool2d(x, self.k) * self.k * self.k
        return s * self.weight[:, None, None] + self.bias[:, None, None]


class Rbf(nn.Module):
    """LeNet-5's output: squared distances to fixed centres."""

    def __init__(self, n_in: int, out: int) -> None:
        super().__init__()
        self.centres = nn.Parameter(torch.randn(out, n_in), requires_grad=False)

    def forward(self, x: Any) -> Any:
        d = x[:, None, :] - self.centres
        return torch.einsum("noi,noi->no", d, d)


class ChannelsLast(nn.Module):
    """Apply a module over the channel axis moved last (LayerNorm over channels)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Any) -> Any:
        return self.inner(x.movedim(1, -1)).movedim(-1, 1)


class Merge(nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs: Any) -> Any:
        return self.fn(*xs)


class ProjectAdd(nn.Module):
    """ResNet's projection shortcut: 1x1 strided conv (no bias) + BN on the first input."""

    def __init__(self, c_in: int, c: int, stride: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, a: Any, b: Any) -> Any:
        return self.proj(a) + b


class Pad(nn.Module):
    def __init__(self, pad: tuple[int, ...]) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: Any) -> Any:
        return F.pad(x, self.pad)


M = (3, 8, 8)
# id -> (op, args, input shapes, torch module factory)
CASES: dict[str, tuple[str, dict, list[tuple[int, ...]], Callable[[], Any]]] = {
    "conv2d": ("conv", {"out": 8, "k": 3, "stride": 2, "pad": 1}, [(3, 16, 16)],
               lambda: nn.Conv2d(3, 8, 3, 2, 1)),
    "conv1d_dilated": ("conv", {"out": 6, "k": 5, "dilation": 2, "bias": False}, [(4, 30)],
                       lambda: nn.Conv1d(4, 6, 5, dilation=2, bias=False)),
    "conv3d_groups": ("conv", {"out": 6, "k": [3, 1, 3], "groups": 3, "pad": [1, 0, 1]},
                      [(3, 6, 5, 6)],
                      lambda: nn.Conv3d(3, 6, (3, 1, 3), groups=3, padding=(1, 0, 1))),
    "conv_depthwise": ("conv", {"out": 8, "k": 3, "groups": 8, "pad": 1}, [(8, 7, 7)],
                       lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8)),
    "conv_asymmetric": ("conv", {"out": 4, "k": 2, "pad": [[1, 0], [0, 1]]}, [(3, 7, 7)],
                        lambda: nn.Sequential(nn.ZeroPad2d((0, 1, 1, 0)), nn.Conv2d(3, 4, 2))),
    "conv_same": ("conv", {"out": 4, "k": [4, 3], "pad": "same"}, [(3, 7, 9)],
                  lambda: nn.Conv2d(3, 4, (4, 3), padding="same")),
    "lenet_c3": ("conv", {"out": 16, "k": 5, "connect": C3}, [(6, 14, 14)],
                 lambda: ConnectConv(C3, 5)),
    "conv_transpose2d": ("conv_transpose", {"out": 4, "k": 3, "stride": 2, "pad": 1,
                                            "output_padding": 1}, [(8, 7, 7)],
                         lambda: nn.ConvTranspose2d(8, 4, 3, 2, 1, 1)),
    "conv_transpose1d": ("conv_transpose", {"out": 6, "k": 3, "stride": 3, "groups": 2,
                                            "dilation": 2, "bias": False}, [(4, 5)],
                         lambda: nn.ConvTranspose1d(4, 6, 3, stride=3, groups=2, dilation=2,
                                                    bias=False)),
    "conv_transpose3d": ("conv_transpose", {"out": 2, "k": [2, 3, 2], "stride": [2, 1, 2]},
                         [(3, 3, 4, 3)],
                         lambda: nn.ConvTranspose3d(3, 2, (2, 3, 2), stride=(2, 1, 2))),
    "local2d": ("local", {"out": 4, "k": 3, "stride": 2}, [(3, 9, 9)],
                lambda: Local2d(3, 4, 3, 2, (9, 9))),
    "maxpool2d": ("maxpool", {"k": 3, "stride": 2, "pad": 1}, [(3, 9, 9)],
                  lambda: nn.MaxPool2d(3, 2, 1)),
    "maxpool_ceil_dilated": ("maxpool", {"k": 2, "stride": 2, "dilation": 2, "ceil_mode": True},
                             [(2, 10)], lambda: nn.MaxPool1d(2, 2, dilation=2, ceil_mode=True)),
    "maxpool_global": ("maxpool", {"global": True}, [M], lambda: nn.AdaptiveMaxPool2d(1)),
    "avgpool3d": ("avgpool", {"k": 2, "ceil_mode": True}, [(2, 5, 4, 5)],
                  lambda: nn.AvgPool3d(2, ceil_mode=True)),
    "avgpool_global": ("avgpool", {"global": True}, [(4, 7, 7)], lambda: nn.AvgPool2d(7)),
    "adaptive_avgpool2d": ("adaptive_avgpool", {"size": [3, 5]}, [(3, 7, 9)],
                           lambda: nn.AdaptiveAvgPool2d((3, 5))),
    "adaptive_maxpool1d": ("adaptive_maxpool", {"size": 4}, [(2, 10)],
                           lambda: nn.AdaptiveMaxPool1d(4)),
    "subsample": ("subsample", {}, [(6, 28, 28)], lambda: Subsample(6, 2)),
    "linear": ("linear", {"out": 84}, [(120,)], lambda: nn.Linear(120, 84)),
    "linear_on_map": ("linear", {"out": 5, "bias": False}, [(3, 4, 7)],
                      lambda: nn.Linear(7, 5, bias=False)),
    "linear_channels": ("linear", {"out": 5, "axis": 0}, [(3, 4, 7)],
                        lambda: ChannelsLast(nn.Linear(3, 5))),
    "linear_channels_1d": ("linear", {"out": 6, "axis": 0, "bias": False}, [(4, 9)],
                           lambda: ChannelsLast(nn.Linear(4, 6, bias=False))),
    "linear_channels_3d": ("linear", {"out": 2, "axis": 0}, [(3, 2, 4, 5)],
                           lambda: ChannelsLast(nn.Linear(3, 2))),
    "rbf": ("rbf", {"out": 10}, [(84,)], lambda: Rbf(84, 10)),
    "flatten": ("flatten", {}, [M], lambda: nn.Flatten()),
    "dropout": ("dropout", {"p": 0.3}, [M], lambda: nn.Dropout(0.3)),
    "identity": ("identity", {}, [M], lambda: nn.Identity()),
    "relu": ("relu", {}, [M], lambda: nn.ReLU()),
    "relu6": ("relu6", {}, [M], lambda: nn.ReLU6()),
    "sigmoid": ("sigmoid", {}, [M], lambda: nn.Sigmoid()),
    "tanh": ("tanh", {}, [M], lambda: nn.Tanh()),
    "gelu": ("gelu", {}, [M], lambda: nn.GELU()),
    "silu": ("silu", {}, [M], lambda: nn.SiLU()),
    "elu": ("elu", {}, [M], lambda: nn.ELU()),
    "hardswish": ("hardswish", {}, [M], lambda: nn.Hardswish()),
    "hardsigmoid": ("hardsigmoid", {}, [M], lambda: nn.Hardsigmoid()),
    "mish": ("mish", {}, [M], lambda: nn.Mish()),
    "softplus": ("softplus", {}, [M], lambda: nn.Softplus()),
    "leaky_relu": ("leaky_relu", {"slope": 0.2}, [M], lambda: nn.LeakyReLU(0.2)),
    "prelu": ("prelu", {}, [M], lambda: nn.PReLU(3)),
    "prelu_shared": ("prelu", {"shared": True}, [M], lambda: nn.PReLU()),
    "softmax": ("softmax", {}, [(10,)], lambda: nn.Softmax(dim=1)),
    "batchnorm2d": ("batchnorm", {}, [M], lambda: nn.BatchNorm2d(3)),
    "batchnorm1d_vector": ("batchnorm", {"affine": False}, [(20,)],
                           lambda: nn.BatchNorm1d(20, affine=False)),
    "batchnorm3d": ("batchnorm", {}, [(2, 3, 3, 3)], lambda: nn.BatchNorm3d(2)),
    "layernorm_all": ("layernorm", {}, [M], lambda: nn.LayerNorm([3, 8, 8])),
    "layernorm_channels": ("layernorm", {"over": "channels"}, [(6, 5, 5)],
                           lambda: ChannelsLast(nn.LayerNorm(6))),
    "layernorm_no_bias": ("layernorm", {"bias": False}, [(16,)],
                          lambda: nn.LayerNorm(16, bias=False)),
    "layernorm_no_affine": ("layernorm", {"affine": False}, [M],
                            lambda: nn.LayerNorm([3, 8, 8], elementwise_affine=False)),
    "instancenorm": ("instancenorm", {}, [M], lambda: nn.InstanceNorm2d(3)),
    "instancenorm_tracked": ("instancenorm", {"affine": True, "track_running_stats": True},
                             [(4, 6)], lambda: nn.InstanceNorm1d(4, affine=True,
                                                                 track_running_stats=True)),
    "groupnorm": ("groupnorm", {"groups": 2}, [(6, 4, 4)], lambda: nn.GroupNorm(2, 6)),
    "lrn": ("lrn", {"size": 5}, [(8, 6, 6)], lambda: nn.LocalResponseNorm(5)),
    "add": ("add", {}, [M, M, M], lambda: Merge(lambda a, b, c: a + b + c)),
    "add_project": ("add", {"project": "auto"}, [(8, 8, 8), (16, 4, 4)],
                    lambda: ProjectAdd(8, 16, 2)),
    "mul": ("mul", {}, [M, M], lambda: Merge(torch.mul)),
    "concat": ("concat", {}, [M, (5, 8, 8)], lambda: Merge(lambda *xs: torch.cat(xs, dim=1))),
    "upsample_nearest": ("upsample", {"scale": 2}, [M], lambda: nn.Upsample(scale_factor=2)),
    "upsample_linear": ("upsample", {"scale": 3, "mode": "linear"}, [(2, 5)],
                        lambda: nn.Upsample(scale_factor=3, mode="linear")),
    "upsample_bilinear": ("upsample", {"size": [5, 11], "mode": "bilinear",
                                       "align_corners": True}, [M],
                          lambda: nn.Upsample(size=(5, 11), mode="bilinear", align_corners=True)),
    "upsample_trilinear": ("upsample", {"scale": [1, 2, 3], "mode": "trilinear"}, [(2, 3, 3, 3)],
                           lambda: nn.Upsample(scale_factor=(1, 2, 3), mode="trilinear")),
    "zeropad": ("zeropad", {"pad": [[1, 0], [0, 2]]}, [M], lambda: nn.ZeroPad2d((0, 2, 1, 0))),
    "zeropad3d": ("zeropad", {"pad": [1, 0, 2]}, [(2, 3, 3, 3)], lambda: Pad((2, 2, 0, 0, 1, 1))),
    "channel_shuffle": ("channel_shuffle", {"groups": 2}, [(4, 3, 3)],
                        lambda: nn.ChannelShuffle(2)),
}

#: ops whose MACs are weight products that FlopCounterMode counts
MAC_OPS = {"conv", "conv_transpose", "local", "linear", "rbf", "add"}


def _setup(case: str) -> tuple[Any, list[tuple[int, ...]], Any]:
    name, args, ins, factory = CASES[case]
    op = get_op(name).from_args(args)
    torch.manual_seed(0)
    return op, ins, factory().eval()


#: every sample of every registered op (``Op.samples``), built by the op itself
SAMPLE_CASES = [(name, i) for name, cls in sorted(REGISTRY.items())
                for i in range(len(cls.samples))]


def _built(name: str, number: int) -> tuple[Any, Any, Any]:
    from cnncalc.pytorch import modules as kit

    sample = REGISTRY[name].samples[number]
    op = get_op(name).from_args(dict(sample.args))
    layer = op.resolve(sample.ins)
    torch.manual_seed(0)
    return op, layer, op.torch(layer, kit).eval()


@pytest.mark.parametrize(("name", "number"), SAMPLE_CASES)
def test_every_sample_matches_the_module_it_builds(name: str, number: int) -> None:
    """Every op, the moment it is registered: its figures for each of its own samples
    against the torch module it builds (parameters and buffers, output shape, and MACs
    against FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    op, layer, module = _built(name, number)
    p, params = op.params(layer), list(module.parameters())
    assert p.total == sum(t.numel() for t in params)
    assert p.trainable == sum(t.numel() for t in params if t.requires_grad)
    assert p.buffers == sum(b.numel() for b in module.buffers())
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = module(*(torch.randn(2, *x) for x in layer.ins))
    assert tuple(y.shape) == (2, *layer.out)
    if name not in NOT_COUNTED_BY_TORCH:
        assert counter.get_total_flops() == 2 * 2 * op.macs(layer)


def test_the_independent_oracles_name_registered_ops() -> None:
    """The hand-written plain-torch twins below are extra oracles (independent of the
    ops' own modules); an op needs none to be tested (its samples suffice)."""
    assert {c[0] for c in CASES.values()} <= set(REGISTRY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_params_and_buffers(case: str) -> None:
    op, ins, module = _setup(case)
    p = op.params(op.resolve(ins))
    params = list(module.parameters())
    assert p.total == sum(t.numel() for t in params)
    assert p.trainable == sum(t.numel() for t in params if t.requires_grad)
    assert p.fixed == sum(t.numel() for t in params if not t.requires_grad)
    assert p.buffers == sum(b.numel() for b in module.buffers())


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_shape(case: str) -> None:
    op, ins, module = _setup(case)
    with torch.no_grad():
        y = module(*(torch.randn(2, *x) for x in ins))
    assert tuple(y.shape) == (2, *op.resolve(ins).out)


#: LeNet's sub-sampling multiplies each window sum by one coefficient (1 MAC per output);
#: torch's reference does it with an element-wise product, which FlopCounterMode ignores
NOT_COUNTED_BY_TORCH = {"subsample"}


@pytest.mark.parametrize("case", sorted(c for c in CASES if c not in NOT_COUNTED_BY_TORCH))
def test_macs_are_half_of_flop_counter(case: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    op, ins, module = _setup(case)
    batch = 2
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*(torch.randn(batch, *x) for x in ins))
    ours = op.macs(op.resolve(ins)) * batch
    assert counter.get_total_flops() == 2 * ours
    if CASES[case][0] in MAC_OPS and case != "add":
        assert ours > 0


def test_lenet_c3_connect_table() -> None:
    """The paper's figure: C3 has 1,516 trainable parameters (60 connections x 25 + 16)."""
    op = get_op("conv").from_args({"out": 16, "k": 5, "connect": C3})
    layer = op.resolve([(6, 14, 14)])
    assert op.params(layer).trainable == 1516
    assert sum(p.numel() for p in ConnectConv(C3, 5).parameters()) == 1516
    assert layer.out == (16, 10, 10)
    # the paper's 151,600 connections count the bias too: 150,000 weight MACs + 1,600 bias adds
    assert op.macs(layer) == 150_000
    assert op.flops(layer)["bias"] == 1_600
