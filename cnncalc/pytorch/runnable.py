"""Refuse, before a forward pass, what torch would refuse at run time.

The analysis accepts every shape that has well-defined figures, but torch refuses some
of them when the layer runs: a norm whose statistics would be taken over one value
(batchnorm in training at batch 1 on a 1x1 map or a vector, instancenorm over one
spatial element, groupnorm with one value per group).  Each norm op states its rule
(``Op.torch_refusal``, in cnncalc/ops/norm/); a projected ``add`` shortcut holds a
batchnorm of its own (``Add.torch_refusal``).  :func:`check_runnable` raises
the first refusal as a ShapeError located at the layer (exit 2: the spec's fault for
that mode and batch), never a torch traceback.
"""

from __future__ import annotations

from ..analysis import for_input
from ..errors import ShapeError
from ..graph import Network
from ..report import Report
from . import Mode

#: what to do about a refusal, by op
HINTS = {
    "batchnorm": "train with a batch of 2 or more or a larger input, or normalise with "
                 "layernorm (per sample); eval mode (--mode inference) runs it",
    "add": "train with a batch of 2 or more or a larger input; eval mode (--mode inference) "
           "runs it",
    "instancenorm": "use a larger input (or pool less before it), or layernorm; with "
                    "track_running_stats: true, eval mode runs it",
    "groupnorm": "use fewer groups, a larger input or a batch of 2 or more, or layernorm",
}


def refusal(network: Network, report: Report, batch: int,
            mode: Mode) -> ShapeError | None:
    """The first layer torch would refuse at ``batch`` in ``mode``, as an error; or None."""
    training = mode == "training"
    for node, row in zip(for_input(network, report.input_shape).nodes, report.layers):
        why = node.op.torch_refusal(node.op.resolve(row.input_shapes), batch, training)
        if why is not None:
            hint = HINTS.get(node.op.name)
            return ShapeError(why, loc=node.loc, layer=node.id, hints=(hint,) if hint else ())
    return None


def check_runnable(network: Network, report: Report, batch: int = 1,
                   mode: Mode = "inference") -> None:
    """Raise (exit 2, located) if torch would refuse a layer at ``batch`` in ``mode``."""
    found = refusal(network, report, batch, mode)
    if found is not None:
        raise found
