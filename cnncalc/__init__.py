"""cnncalc: a CNN architecture analyzer and shape calculator.

>>> import cnncalc
>>> report = cnncalc.analyze(cnncalc.load("lenet5"))
>>> report.output_shape, report.totals.trainable_params
((10,), 60000)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CnncalcError, ShapeError, SpecError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .analysis import analyze
    from .graph import Network, Node
    from .report import LayerReport, Report, Totals
    from .spec import Limits

#: public names imported on first use, so that `cnncalc --help` does not pay for
#: pydantic, yaml and the op registry (PEP 562)
_LAZY = {"analyze": "analysis", "Network": "graph", "Node": "graph", "LayerReport": "report",
         "Report": "report", "Totals": "report", "Limits": "spec", "load_network": "spec"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")

__version__ = "0.1.0"
__all__ = ["CnncalcError", "LayerReport", "Limits", "Network", "Node", "Report", "ShapeError",
           "SpecError", "Totals", "analyze", "build_torch", "copy_weights", "from_torch", "load",
           "loads"]


def load(source: str | Path, limits: Limits | None = None, *, variant: str | None = None,
         args: Mapping[str, Any] | None = None) -> Network:
    """Load a spec from a file path, ``-`` (stdin), a built-in zoo name or
    ``FILE.yaml:VARIANT``; ``variant`` picks one of a family's variants, ``args`` set
    the spec's top-level args (over the variant's values).

    >>> net = load("resnet50")  # a variant of specs/resnet.yaml, found through the zoo index
    >>> net.variant, net.name
    ('resnet50', 'ResNet-50')
    """
    from .spec import Limits, load_network

    return load_network(source, limits or Limits(), variant, args)


def loads(text: str, name: str = "<string>", limits: Limits | None = None, *,
          variant: str | None = None, args: Mapping[str, Any] | None = None) -> Network:
    """Load a spec from YAML text (as ``variant``, with ``args``: see :func:`load`).

    >>> from cnncalc import analyze
    >>> net = loads("cnncalc: 1\\ninput: [3, 32, 32]\\nlayers: [{op: conv, out: 8, k: 3}]")
    >>> analyze(net).output_shape
    (8, 30, 30)
    """
    from .spec import Limits, parse_network

    return parse_network(text.encode(), name, limits or Limits(), variant, args)


def build_torch(network: Network, input_shape: Any = None) -> torch.nn.Module:
    """Instantiate ``network`` as a runnable ``torch.nn.Module`` (needs the torch extra)."""
    from .pytorch.build import build

    return build(network, input_shape)


def from_torch(model: torch.nn.Module, input_shape: Any, name: str | None = None) -> str:
    """A spec (YAML text) computing ``model`` on one sample of ``input_shape`` (no batch
    axis), captured with torch.fx; ``loads(text)`` loads it (needs the torch extra)."""
    from .pytorch import require_torch

    require_torch()
    from .pytorch.importer import from_torch as capture

    return capture(model, input_shape, name)


def copy_weights(source: torch.nn.Module, built: torch.nn.Module) -> torch.nn.Module:
    """Copy ``source``'s parameters and buffers into ``built`` (``build_torch`` of the spec
    :func:`from_torch` made from ``source``); returns ``built``."""
    from .pytorch.importer import copy_weights as copy

    return copy(source, built)
