"""Check the analysis against reality: build the module, run one forward pass and
compare every layer's output shape, parameters, buffers and MACs (for
``cnncalc summary SPEC --verify``).

MACs are measured with ``torch.utils.flop_counter.FlopCounterMode`` (half its count:
it counts a multiply-accumulate as 2 FLOPs) between each layer's forward pre- and
post-hook.  It only sees matmuls and convolutions, so ops whose MACs are element-wise
multiplies, and connection-table convs (run densely, zeros included), are listed in
:data:`MAC_EXCEPTIONS` and not compared.

>>> import cnncalc
>>> from cnncalc.pytorch.verify import verify
>>> net = cnncalc.load("lenet5")
>>> verify(net, cnncalc.analyze(net))
[]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..analysis import for_input
from ..graph import Network, Node
from ..report import Report
from . import require_torch
from .budget import MemoryBudget, check_int64, estimate
from .failures import torch_errors, translate
from .runnable import check_runnable

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    from torch import Tensor, nn

    from .model import SpecNet

#: ops whose analysed MACs FlopCounterMode cannot see, and why
MAC_EXCEPTIONS = {
    "subsample": "one coefficient multiply per output, done element-wise (the counter "
                 "counts only matmuls and convolutions)",
    "connect": "a connection-table conv runs as one dense convolution whose weight is zero "
               "where the table has no link (fastest on CPU); the counter counts those "
               "zeros, the analysis only the connected weights",
}


def mac_exception(node: Node) -> str | None:
    """Why ``node``'s MACs are not compared with the counter's, or None."""
    if node.op.name == "subsample":
        return MAC_EXCEPTIONS["subsample"]
    if getattr(node.op.args, "connect", None) is not None:
        return MAC_EXCEPTIONS["connect"]
    return None


@dataclass(frozen=True)
class Disagreement:
    """One figure of one layer where the analysis and the built module differ."""

    layer: str
    figure: str
    analysed: object
    measured: object

    def __str__(self) -> str:
        return f"{self.layer}: {self.figure}: analysed {self.analysed}, measured {self.measured}"


@dataclass(frozen=True)
class Measured:
    """What one layer's module has and does (per sample)."""

    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    macs: int


def own_tensors(model: SpecNet, node_id: str) -> Iterator[tuple[str, Tensor, bool]]:
    """``(kind, tensor, trainable)`` of one layer: its module's parameters and buffers,
    without those of other layers (a unit's ``C1.act`` beside ``C1.conv``) but with helpers
    (``proj``)."""
    layers = {id(model.layer(i)) for i in model.ids}
    stack: list[nn.Module] = [model.layer(node_id)]
    while stack:
        module = stack.pop()
        for p in module.parameters(recurse=False):
            yield "param", p, p.requires_grad
        for b in module.buffers(recurse=False):
            yield "buffer", b, False
        stack.extend(c for c in module.children() if id(c) not in layers)


class ForwardFailed(Exception):
    """The built module raised while running layer ``layer``."""

    def __init__(self, layer: str, error: Exception) -> None:
        super().__init__(f"{layer}: {error}")
        self.layer, self.error = layer, error


def measure(model: SpecNet, x: Tensor) -> dict[str, Measured]:
    """Run ``model`` on ``x`` once (no grad) and measure every layer, keyed by id.
    Raises :class:`ForwardFailed` naming the layer if the forward pass raises."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    start: dict[str, int] = {}
    seen: dict[str, tuple[tuple[int, ...], int]] = {}
    handles = []
    for node_id in model.ids:
        module = model.layer(node_id)

        def pre(_m: object, _a: object, node_id: str = node_id) -> None:
            start[node_id] = counter.get_total_flops()

        def post(_m: object, _a: object, out: Tensor, node_id: str = node_id) -> None:
            seen[node_id] = (tuple(out.shape[1:]), counter.get_total_flops() - start[node_id])

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        with torch.no_grad(), counter:
            model(x)
    except (RuntimeError, ValueError, IndexError) as exc:
        running = next((i for i in model.ids if i in start and i not in seen), "(forward)")
        raise ForwardFailed(running, exc) from exc
    finally:
        for h in handles:
            h.remove()
    return {node_id: _counts(model, node_id, shape, flops // 2 // x.shape[0])
            for node_id, (shape, flops) in seen.items()}


def _counts(model: SpecNet, node_id: str, shape: tuple[int, ...], macs: int) -> Measured:
    tensors = list(own_tensors(model, node_id))
    return Measured(
        shape,
        sum(t.numel() for kind, t, _ in tensors if kind == "param"),
        sum(t.numel() for kind, t, trainable in tensors if kind == "param" and trainable),
        sum(t.numel() for kind, t, _ in tensors if kind == "buffer"),
        macs,
    )


def compare(network: Network, report: Report,
            measured: dict[str, Measured]) -> list[Disagreement]:
    """Every per-layer figure where ``report`` and ``measured`` differ."""
    found = []
    for node, row in zip(for_input(network, report.input_shape).nodes, report.layers):
        got = measured.get(row.id)
        if got is None:
            found.append(Disagreement(row.id, "forward", "runs", "never called"))
            continue
        pairs = [("output_shape", tuple(row.output_shape), got.output_shape),
                 ("params", row.params, got.params),
                 ("trainable_params", row.trainable_params, got.trainable_params),
                 ("buffers", row.buffers, got.buffers)]
        if mac_exception(node) is None:
            pairs.append(("macs", row.macs // report.batch, got.macs))
        found += [Disagreement(row.id, f, a, m) for f, a, m in pairs if a != m]
    return found


#: above these, verify() builds and runs on torch's meta device (shapes, parameters and
#: MACs without memory or arithmetic) unless a device is given
REAL_LIMITS = {"param_bytes": 2 << 30, "macs": 50_000_000_000}


def choose_device(report: Report, budget: MemoryBudget = MemoryBudget()) -> str:
    """``"cpu"`` for a real forward pass, ``"meta"`` for nets over :data:`REAL_LIMITS`
    or whose batch-1 forward pass (weights, input, peak activations) exceeds ``budget``
    (default: the memory available)."""
    big = (report.totals.params * 4 > REAL_LIMITS["param_bytes"]
           or report.totals.macs // report.batch > REAL_LIMITS["macs"])
    if big:
        return "meta"
    have, _source = budget.resolve("cpu")
    return "meta" if have is not None and estimate(report).total > have else "cpu"


def verify(network: Network, report: Report, seed: int = 0, device: str | None = None,
           budget: MemoryBudget = MemoryBudget()) -> list[Disagreement]:
    """Build ``network`` for the report's input, run one forward pass on a random input
    (batch 1, eval mode) and list every per-layer disagreement with ``report`` (none
    expected).

    ``device`` defaults to :func:`choose_device`; on the meta device nothing is
    allocated, the input included.  Sizes torch cannot index are refused (exit 2), as
    is a layer torch cannot run in eval mode at batch 1 (located); an allocation that
    fails anyway is exit 3.  A forward pass that raises otherwise is itself a
    disagreement, reported at the layer that was running.
    """
    torch = require_torch()
    from .build import build

    check_int64(report)
    check_runnable(network, report, 1, "inference")
    device = device or choose_device(report, budget)
    with torch_errors(device=device):
        with torch.device(device):
            model = build(network, report.input_shape, budget=budget).eval()
        x = _random_input(torch, report.input_shape, device, seed)
        try:
            measured = measure(model, x)
        except ForwardFailed as failed:
            mapped = translate(failed.error, layer=failed.layer, device=device)
            if mapped is not None:
                raise mapped from None
            return [Disagreement(failed.layer, "forward", "runs", f"raises {failed.error}")]
    return compare(network, report, measured)


def _random_input(torch: ModuleType, shape: tuple[int, ...], device: str,
                  seed: int) -> Tensor:
    """A batch-1 input: random on a real device, shape only on meta (no allocation)."""
    if device == "meta":
        return torch.empty(1, *shape, device="meta")
    gen = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(1, *shape, generator=gen, device=device)
