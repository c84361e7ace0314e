"""torch's layer arguments as a spec writes them, the refusal of what has no cnncalc
equivalent, and the ``maps`` decorator of a handler table (shared by the capture and its
tables of handlers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn


class Unmapped(Exception):
    """A graph node with no cnncalc equivalent (turned into a located UsageError)."""


H = TypeVar("H", bound=Callable[..., Any])


def registrar(table: dict[Any, H], name: Callable[[Any], str]
              ) -> Callable[..., Callable[[H], H]]:
    """The ``maps(*keys)`` decorator of a handler table: it enters the decorated handler
    in ``table`` under each key, each key at most once (a ValueError with its ``name``)."""
    def maps(*keys: Any) -> Callable[[H], H]:
        def enter(handler: H) -> H:
            for key in keys:
                if key in table:
                    raise ValueError(f"{name(key)} has a handler already")
                table[key] = handler
            return handler
        return enter
    return maps


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
