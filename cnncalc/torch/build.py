"""Spec -> ``torch.nn.Module``: each op builds its own module (``Op.torch``), the
:class:`~cnncalc.torch.model.SpecNet` names them after the spec's ids and runs them.

>>> import cnncalc
>>> model = cnncalc.build_torch(cnncalc.load("lenet5"))
>>> sum(p.numel() for p in model.get_submodule("C3").parameters(recurse=False))
1516
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

from ..analysis import analyze
from ..errors import CnncalcError, EnvironmentUnavailable
from ..graph import Network
from . import require_torch

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report
    from .model import SpecNet


def build(network: Network, input_shape: Sequence[int] | None = None) -> "SpecNet":
    """Instantiate ``network`` for ``input_shape`` (default: the spec's input).

    The analysis runs first (it validates every shape); each layer's op then builds its
    module from the analysed input and output shapes.  Raises EnvironmentUnavailable
    (exit 3) when torch is not installed.
    """
    require_torch()
    from .model import SpecNet

    report = analyze(network, tuple(input_shape) if input_shape is not None else None)
    if require_torch().get_default_device().type != "meta":  # meta tensors take no memory
        _check_fits(report)
    modules = []
    for node, row in zip(network.nodes, report.layers):
        try:
            modules.append(node.op.torch(list(row.input_shapes), row.output_shape))
        except CnncalcError as exc:
            raise exc.located(node.loc, layer=node.id) from None
        except (RuntimeError, OverflowError, MemoryError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EnvironmentUnavailable(
                f"torch cannot build this layer: {first}", loc=node.loc, layer=node.id,
                hints=(ANALYSIS_HINT,)) from None
    return SpecNet(network, report, modules)


ANALYSIS_HINT = ("the analysis commands (summary, shapes, params, flops, rf) handle any size "
                 "without building the network")


def _check_fits(report: "Report") -> None:
    """Refuse, before allocating, a network whose weights alone exceed this machine's RAM."""
    need = (report.totals.params + report.totals.buffers) * 4
    have = physical_memory()
    if have is not None and need > have:
        raise EnvironmentUnavailable(
            f"building needs {need / 2**30:,.1f} GiB for parameters and buffers (float32); "
            f"this machine has {have / 2**30:,.1f} GiB", hints=(ANALYSIS_HINT,))


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
