"""cnncalc: a CNN architecture analyzer and shape calculator.

>>> import cnncalc
>>> report = cnncalc.analyze(cnncalc.load("lenet5"))
>>> report.output_shape, report.totals.trainable_params
((10,), 60000)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import analyze
from .errors import CnncalcError, ShapeError, SpecError
from .graph import Network, Node
from .report import LayerReport, Report, Totals
from .spec import Limits, load_network

if TYPE_CHECKING:  # pragma: no cover
    import torch

__version__ = "0.1.0"
__all__ = ["CnncalcError", "LayerReport", "Limits", "Network", "Node", "Report", "ShapeError",
           "SpecError", "Totals", "analyze", "build_torch", "load", "loads"]


def load(source: str | Path, limits: Limits | None = None) -> Network:
    """Load a spec from a file path, ``-`` (stdin) or a built-in zoo name."""
    return load_network(source, limits or Limits())


def loads(text: str, name: str = "<string>", limits: Limits | None = None) -> Network:
    """Load a spec from YAML text.

    >>> net = loads("cnncalc: 1\\ninput: [3, 32, 32]\\nlayers: [{op: conv, out: 8, k: 3}]")
    >>> analyze(net).output_shape
    (8, 30, 30)
    """
    from .spec import parse_network

    return parse_network(text.encode(), name, limits or Limits())


def build_torch(network: Network, input_shape: Any = None) -> "torch.nn.Module":
    """Instantiate ``network`` as a runnable ``torch.nn.Module`` (needs the torch extra)."""
    from .torch.build import build

    return build(network, input_shape)
