"""Spec -> ``torch.nn.Module``: each op builds its own module (``Op.torch``), the
:class:`~cnncalc.pytorch.model.SpecNet` names them after the spec's ids and runs them.

Before anything is allocated, the sizes are bounded: a tensor torch cannot index
(int64) is refused with exit 2, and weights that do not fit the memory budget with
exit 3 (:mod:`cnncalc.pytorch.budget`).  With ``mode`` given, what torch would refuse to
run in that mode at ``batch`` is refused too, located (:mod:`cnncalc.pytorch.runnable`).

>>> import cnncalc
>>> model = cnncalc.build_torch(cnncalc.load("lenet5"))
>>> sum(p.numel() for p in model.layer("C3").parameters())
1516
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..analysis import analyze, for_input, resolve_layers
from ..errors import CnncalcError, EnvironmentUnavailable
from ..graph import Network
from . import require_torch
from .budget import ANALYSIS_HINT, MemoryBudget, Mode, check_fits, check_int64
from .failures import first_line, translate
from .runnable import check_runnable

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report
    from .model import SpecNet


def build(network: Network, input_shape: Sequence[int] | None = None, *,
          budget: MemoryBudget | None = None, mode: Mode | None = None,
          batch: int = 1) -> SpecNet:
    """Instantiate ``network`` for ``input_shape`` (default: the spec's input).

    The analysis runs first (it validates every shape); each layer's op then builds its
    module from the analysed input and output shapes.  Raises EnvironmentUnavailable
    (exit 3) when torch is not installed or the weights exceed ``budget`` (default: the
    memory available; no check on the meta device), UsageError (exit 2) for sizes torch
    cannot index, and with ``mode`` a located ShapeError for a layer torch cannot run.
    """
    torch = require_torch()
    report = analyze(network, tuple(input_shape) if input_shape is not None else None)
    check_int64(report, batch)
    if mode is not None:
        check_runnable(network, report, batch, mode)
    device = torch.get_default_device().type
    if device != "meta":  # meta tensors take no memory
        check_fits(report, budget or MemoryBudget(), device=device, weights_only=True,
                   what="building the module")
    return _instantiate(network, report)


def _instantiate(network: Network, report: Report) -> SpecNet:
    from . import modules as kit  # every op builds its module from these (Op.torch)
    from .model import SpecNet

    modules = []
    network = for_input(network, report.input_shape)  # (its layers may depend on the input)
    for node, layer in zip(network.nodes, resolve_layers(network, report)):
        try:
            modules.append(layer.op.torch(layer, kit))
        except CnncalcError as exc:
            raise exc.located(node.loc, layer=node.id) from None
        except (RuntimeError, OverflowError, MemoryError, ValueError) as exc:
            mapped = translate(exc, layer=node.id, loc=node.loc)
            if mapped is not None:
                raise mapped from None
            raise EnvironmentUnavailable(
                f"torch cannot build this layer: {first_line(exc)}", loc=node.loc,
                layer=node.id, hints=(ANALYSIS_HINT,)) from None
    return SpecNet(network, report, modules)
