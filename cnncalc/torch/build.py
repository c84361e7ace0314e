"""Spec -> ``torch.nn.Module``: each op builds its own module (``Op.torch``), the
:class:`~cnncalc.torch.model.SpecNet` names them after the spec's ids and runs them.

>>> import cnncalc
>>> model = cnncalc.build_torch(cnncalc.load("lenet5"))
>>> sum(p.numel() for p in model.get_submodule("C3").parameters(recurse=False))
1516
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..analysis import analyze
from ..errors import CnncalcError
from ..graph import Network
from . import require_torch

if TYPE_CHECKING:  # pragma: no cover
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
    modules = []
    for node, row in zip(network.nodes, report.layers):
        try:
            modules.append(node.op.torch(list(row.input_shapes), row.output_shape))
        except CnncalcError as exc:
            raise exc.located(node.loc, layer=node.id) from None
    return SpecNet(network, report, modules)
