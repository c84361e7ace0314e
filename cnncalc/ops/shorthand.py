"""The ``act`` / ``bn`` shorthand arguments of conv, linear and subsample."""

from __future__ import annotations

from .base import OpArgs
from .types import ActName


class Shorthand(OpArgs):
    """``act`` and ``bn`` expand into their own rows (``ID.bn``, ``ID.act``)."""

    act: ActName = "none"
    bn: bool = False
