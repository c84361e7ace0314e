"""The run-time rule of a norm whose statistics are taken over the batch (batchnorm, and
the batchnorm of a projection shortcut in `add`)."""

from __future__ import annotations

from ..working import bracketed
from .base import Shape, numel

# ------------------------------------------------------------ run-time rules
# torch refuses some inputs at run time that the analysis accepts: a norm whose
# statistics would be taken over a single value.  Each norm op states its rule as
# ``torch_refusal(ins, batch, training)`` (the message, or None when torch runs it);
# cnncalc.pytorch.runnable applies them before a forward pass, and a rule that holds
# for every batch is also a warning at analysis (``warnings``).


def batch_stats_refusal(x: Shape, batch: int, training: bool, op: str = "batchnorm") -> str | None:
    """batchnorm in training takes each channel's statistics over batch x spatial values:
    torch refuses one ("Expected more than 1 value per channel when training")."""
    values = batch * numel(x[1:])
    if not training or values > 1:
        return None
    return (f"{op} in training mode takes each channel's statistics over batch x spatial "
            f"values: at batch {batch} the input {bracketed(x)} gives {values}, and torch needs "
            "more than 1")
