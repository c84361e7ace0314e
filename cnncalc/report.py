"""The analysis result: frozen dataclasses of plain numbers (no strings to display).

Renderers format these; :meth:`Report.to_dict` is the JSON contract of
``cnncalc summary --format json`` (see docs/api.md#the-json-report and docs/report.schema.json).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from .errors import Loc
from .units import json_number, json_real

if TYPE_CHECKING:  # pragma: no cover
    from .ops.base import Layer

Number = int | Fraction
#: the element types the memory figures are counted in (``--dtype``)
DType = Literal["float32", "float16", "bfloat16", "float64", "int8"]
#: what a network is run for (``--mode``): inference, or training (forward, backward and
#: an optimizer step)
Mode = Literal["inference", "training"]
#: the optimizers whose state the memory figures count (``--optimizer``)
Optimizer = Literal["sgd", "momentum", "adam", "adamw"]
#: bytes of one element of each dtype
DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


#: the name peers.py imports :func:`json_number` by (one number helper, in cnncalc.units)
plain = json_number


@dataclass(frozen=True)
class ReceptiveField:
    """Per spatial axis: size, jump (effective stride) and start (centre of the
    first output unit in input coordinates), as in Araujo et al. (Distill 2019)."""

    size: tuple[Number, ...]
    jump: tuple[Number, ...]
    start: tuple[Number, ...]
    #: False when a merge joins paths whose centres do not line up
    aligned: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": list(map(json_number, self.size)),
            "jump": list(map(json_number, self.jump)),
            "start": list(map(json_real, self.start)),
            "aligned": self.aligned,
        }


@dataclass(frozen=True)
class LayerReport:
    """Every figure of one layer, for the analysed batch size and dtype."""

    id: str
    op: str
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    flops_breakdown: Mapping[str, int]
    receptive_field: ReceptiveField | None
    activation_bytes: int
    param_bytes: int
    warnings: tuple[str, ...] = ()
    block: str | None = None
    block_name: str | None = None
    shorthand: str | None = None
    loc: Loc | None = None

    @property
    def fixed_params(self) -> int:
        return self.params - self.trainable_params

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op,
            "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "flops_breakdown": dict(self.flops_breakdown),
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "block": self.block,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Totals:
    """Network totals.  ``activation_bytes`` sums every layer's output; the peak is
    the most that is alive at once in a forward pass (inputs freed after last use)."""

    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    flops_breakdown: Mapping[str, int]
    param_bytes: int
    buffer_bytes: int
    input_bytes: int
    activation_bytes: int
    peak_activation_bytes: int

    @property
    def fixed_params(self) -> int:
        return self.params - self.trainable_params

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "fixed_params": self.fixed_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "flops_breakdown": dict(self.flops_breakdown),
            "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
        }


@dataclass(frozen=True)
class MemoryPeaks:
    """The peak bytes of one inference pass and of one training step (forward, backward,
    the optimizer's step) at the report's batch and dtype, as ``summary`` shows them side
    by side (:mod:`cnncalc.memory`; ``cnncalc memory`` has every part and setting)."""

    #: the optimizer of the training step (``sgd``: no state)
    optimizer: str
    inference_peak_bytes: int
    training_peak_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer, "inference_peak_bytes": self.inference_peak_bytes,
                "training_peak_bytes": self.training_peak_bytes}


@dataclass(frozen=True)
class Report:
    """What ``cnncalc.analyze`` returns."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    batch: int
    dtype: str
    layers: tuple[LayerReport, ...]
    totals: Totals
    receptive_field: ReceptiveField | None
    #: the layer the network's receptive field is read at (before any global reduction)
    receptive_field_layer: str | None
    warnings: tuple[str, ...] = ()
    source: str = "<spec>"
    #: works out :attr:`memory` when it is first asked for (set by the analysis, which
    #: keeps its bound layers for it: a walk of the layers that only summary needs)
    memory_of: Callable[[Report], MemoryPeaks] | None = field(
        default=None, repr=False, compare=False)
    #: each layer's op bound to its input shapes, in the order of :attr:`layers`, as the
    #: analysis bound them (layers bound alike share one): what the passes that follow
    #: an analysis read (explain, the memory peaks) instead of binding every op again.
    #: None for a report made otherwise.
    bound_layers: tuple[Layer[Any], ...] | None = field(default=None, repr=False, compare=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _memory: list[MemoryPeaks] = field(default_factory=list, repr=False, compare=False)

    @property
    def memory(self) -> MemoryPeaks | None:
        """The inference and training peaks (:class:`MemoryPeaks`), worked out once."""
        if not self._memory and self.memory_of is not None:
            self._memory.append(self.memory_of(self))
        return self._memory[0] if self._memory else None

    def layer(self, layer_id: str) -> LayerReport:
        """The row of ``layer_id``."""
        return self.layers[self.position(layer_id)]

    def position(self, layer_id: str) -> int:
        """Where the row of ``layer_id`` is in :attr:`layers`."""
        if not self._index:
            self._index.update({r.id: i for i, r in enumerate(self.layers)})
        return self._index[layer_id]

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """The JSON report (a contract: fields are added, never renamed or removed).
        Without ``layers``, the ``layers`` key holds None (streaming writers fill it)."""
        rf = self.receptive_field.to_dict() if self.receptive_field else None
        if rf is not None:
            rf["layer"] = self.receptive_field_layer
        return {
            "name": self.name,
            "source": self.source,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "layers": [layer.to_dict() for layer in self.layers] if layers else None,
            "totals": self.totals.to_dict(),
            "receptive_field": rf,
            "warnings": list(self.warnings),
            "memory": self.memory.to_dict() if self.memory else None,
        }
