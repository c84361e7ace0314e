"""torch's layer arguments as a spec writes them, and the refusal of what has no cnncalc
equivalent (shared by the capture and its table of module handlers)."""

from __future__ import annotations

from typing import Any

from torch import nn


class Unmapped(Exception):
    """A graph node with no cnncalc equivalent (turned into a located UsageError)."""


def ints(value: Any) -> Any:
    """A torch size argument as the spec writes it: an int, or a list of ints (a tuple
    whose items are all equal becomes one int)."""
    if isinstance(value, (tuple, list)):
        items = [int(v) for v in value]
        return items[0] if len(set(items)) == 1 else items
    return int(value)


def conv_padding(module: nn.Module) -> Any:
    """A convolution's ``padding`` as the spec's ``pad`` (``"same"`` -> ``same_upper``)."""
    padding = module.padding
    if isinstance(padding, str):
        return {"same": "same_upper", "valid": "valid"}[padding]
    return ints(padding)


def zeropad_pairs(padding: Any) -> Any:
    """torch's (left, right, top, bottom) -> per-axis [before, after] pairs, first axis first."""
    values = list(padding) if isinstance(padding, (tuple, list)) else [padding] * 2
    pairs = [[values[i], values[i + 1]] for i in range(0, len(values), 2)][::-1]
    return pairs
