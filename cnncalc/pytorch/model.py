"""The module a spec builds into: layer modules named after the spec's ids, and a
forward that runs them in the spec's (topological) order.

Naming (how a layer id becomes a module path):

- ``[i]`` becomes ``.i`` and every ``.`` nests: ``conv3[0].b.bn`` is the submodule
  ``conv3.0.b.bn``; so ``model.get_submodule("C3")`` and ``model.get_submodule("conv3.0.b")``
  work, and a state_dict reads ``conv3.0.b.conv.weight``, ``conv3.0.b.bn.running_mean``.
- A block instance or a repeat (``conv3``, ``conv3.0``) is a :class:`Group`, a container that
  runs nothing itself.
- A layer written with the ``bn``/``act`` shorthand is a :class:`Unit`: an ``nn.Sequential``
  named after the entry's id whose children are the layer itself (named after its op:
  ``conv``, ``linear``, ...), then ``bn``, then ``act``, siblings run in that order, the
  structure a torch user writes (torchvision's ``Conv2dNormActivation``).  So the row ``C1``
  is the module ``C1.conv``, ``C1.act`` is ``C1.act``, and ``model.get_submodule("C1")(x)``
  is the activated output, the value ``in: C1`` reads in the spec.  Every tool that counts
  leaf modules (torchinfo, thop, ptflops, fvcore) sees a plain conv, norm and activation.
- Each ``.``-separated segment becomes a child name by :func:`escape`, which is injective
  (two ids never share a module path): a segment that would shadow an attribute of
  ``nn.Module`` or of the container (``forward``, ``training``, ``parameters``, ``_modules``)
  or is a Python keyword (``class``, ``for``, ``None``: torch.fx, torch.export and so the
  ONNX exporter generate ``self.<name>`` code) gets a trailing ``_``, and so does every
  segment that already ends in ``_`` (the escape char is escaped), so ``forward`` ->
  ``forward_``, ``forward_`` -> ``forward__``.  Should an escaped name still be taken, a
  counter is appended (``name_2``, ...), checked against every name already in the parent.
  :meth:`SpecNet.path` and :meth:`SpecNet.layer` always give the truth.

Because the spec's ids are contiguous per block and per layer, the module tree's
depth-first order is the spec's layer order, so ``parameters()`` follow the spec.
"""

from __future__ import annotations

import keyword
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from ..graph import INPUT, Network
from ..report import Report


def id_segments(node_id: str) -> list[str]:
    """``"conv3[0].b.bn"`` -> ``["conv3", "0", "b", "bn"]``."""
    return re.sub(r"\[(\d+)\]", r".\1", node_id).split(".")


class Group(nn.Module):
    """A block instance or a set of repeat copies: a container, run by :class:`SpecNet`."""

    def forward(self, *args: Any) -> Any:
        raise RuntimeError("a Group only holds layers; run the whole SpecNet instead")


class Unit(nn.Sequential):
    """A layer and the ``bn``/``act`` rows its shorthand adds, as sibling modules run in
    order: ``Unit(conv=Conv2d, bn=BatchNorm2d, act=ReLU)``.  :class:`SpecNet` runs it as one
    step; its output is the entry's output (what ``in: ID`` reads)."""


def unit_child(op_name: str) -> str:
    """The child name of a unit's own layer: its op's name (``conv``, ``linear``)."""
    return op_name if op_name not in ("bn", "act") else f"{op_name}_"


def _units(network: Network) -> dict[int, list[int]]:
    """Index of each layer with shorthand rows -> the indices of those rows (in order)."""
    units: dict[int, list[int]] = {}
    owner = -1
    for i, node in enumerate(network.nodes):
        if node.shorthand is None:
            owner = i
        elif owner >= 0:
            units.setdefault(owner, []).append(i)
    return units


def _reserved(parent: nn.Module, name: str) -> bool:
    """``name`` cannot be a child of ``parent``: empty, dotted, a Python keyword (the code
    torch.fx generates would not parse), or an attribute (a method, a property, a
    parameter, a buffer or an existing child)."""
    return not name or "." in name or keyword.iskeyword(name) or hasattr(parent, name)


def escape(parent: nn.Module, segment: str) -> str:
    """The context-free child name of an id segment: ``segment`` itself, or ``segment_``
    when it is reserved in ``parent`` or already ends in ``_`` (the escape char is
    escaped, so the mapping is injective)."""
    if segment.endswith("_") or _reserved(parent, segment):
        return segment + "_"
    return segment


def _attach(parent: nn.Module, segment: str, module: nn.Module) -> str:
    """Add ``module`` under ``parent`` as the escaped ``segment``; returns the name used.
    A name still taken (reserved, or already a child) gets a counter: never two ids on
    one name."""
    name = escape(parent, segment)
    if _reserved(parent, name):
        base = name.replace(".", "_") or "_"
        name = next(f"{base}_{i}" for i in range(2, 2**31) if not _reserved(parent, f"{base}_{i}"))
    parent.add_module(name, module)
    return name


class SpecNet(nn.Module):
    """A spec as a runnable ``nn.Module`` (build it with ``cnncalc.build_torch``)."""

    def __init__(self, network: Network, report: Report, modules: Sequence[nn.Module]) -> None:
        super().__init__()
        self.spec_name = network.name
        self.input_shape = tuple(report.input_shape)
        self._ids = tuple(n.id for n in network.nodes)
        nodes = network.nodes
        units = _units(network)
        steps = list(modules)  # what each step runs: a layer's module, or its Unit
        for i, rows in units.items():
            steps[i] = Unit(OrderedDict([(unit_child(nodes[i].op.name), modules[i])] +
                                        [(nodes[j].shorthand or "", modules[j]) for j in rows]))
        self._steps, self._out = _plan(network, steps, units)
        self._paths: dict[str, str] = {}
        #: raw segments of every scope or layer placed -> its module path
        scopes: dict[tuple[str, ...], str] = {}
        inside = {j for rows in units.values() for j in rows}
        for i, node in enumerate(nodes):
            if i in inside:
                continue  # placed with its unit, below
            path = self._place(node.id, steps[i], scopes)
            if i not in units:
                self._paths[node.id] = path
                continue
            self._paths[node.id] = f"{path}.{unit_child(node.op.name)}"
            for j in units[i]:
                self._paths[nodes[j].id] = f"{path}.{nodes[j].shorthand}"
        _mark_inplace(network, modules)

    def _place(self, node_id: str, module: nn.Module,
               scopes: dict[tuple[str, ...], str]) -> str:
        """Attach ``module`` at ``node_id``'s path, creating Groups for missing scopes."""
        segments = id_segments(node_id)
        parent: nn.Module = self
        path: list[str] = []
        for depth, seg in enumerate(segments):
            key = tuple(segments[:depth + 1])
            last = depth == len(segments) - 1
            if not last and key in scopes:  # a Group or a layer made earlier
                path = scopes[key].split(".")
                parent = self.get_submodule(scopes[key])
                continue
            child = module if last else Group()
            path.append(_attach(parent, seg, child))
            scopes[key] = ".".join(path)
            parent = child
        return ".".join(path)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every layer id, in spec order."""
        return self._ids

    def path(self, node_id: str) -> str:
        """The submodule path of layer ``node_id`` (``conv3[0].b`` -> ``conv3.0.b``)."""
        return self._paths[node_id]

    def layer(self, node_id: str) -> nn.Module:
        """The module of layer ``node_id``."""
        return self.get_submodule(self._paths[node_id])

    def forward(self, x: Tensor) -> Tensor:
        vals: list[Any] = [x] + [None] * len(self._ids)
        for module, src, dst, free in self._steps:
            if type(src) is int:
                vals[dst] = module(vals[src])
            else:
                vals[dst] = module(*[vals[i] for i in src])
            for i in free:
                vals[i] = None
        return vals[self._out]

    def extra_repr(self) -> str:
        return f"spec={self.spec_name!r}, input_shape={list(self.input_shape)}"


def _plan(network: Network, modules: Sequence[nn.Module], units: dict[int, list[int]]
          ) -> tuple[list[tuple], int]:
    """Precomputed steps ``(module, input slot(s), output slot, slots to free)``.

    Slot 0 is the input, slot ``i + 1`` the output of node ``i``; a tensor is dropped
    right after its last reader (or at once if nothing reads it), except the output.  A
    :class:`Unit` is one step from its layer's inputs to its last row's slot (nothing
    can read the rows in between: the shorthand rows cannot be named in ``in:``).
    """
    slot = {INPUT: 0} | {n.id: i + 1 for i, n in enumerate(network.nodes)}
    out = slot[network.output]
    last = {s: 0 for s in slot.values()}
    for i, node in enumerate(network.nodes):
        for name in node.inputs:
            last[slot[name]] = i + 1
    inside = {j for rows in units.values() for j in rows}
    steps = []
    for i, (node, module) in enumerate(zip(network.nodes, modules)):
        if i in inside:
            continue  # run by its unit
        srcs = tuple(slot[n] for n in node.inputs)
        src = srcs[0] if len(srcs) == 1 else srcs
        dst = units[i][-1] + 1 if i in units else i + 1
        free = [s for s in {slot[n] for n in node.inputs} if last[s] == i + 1 and s != out]
        if last[dst] == 0 and dst != out:
            free.append(dst)
        steps.append((module, src, dst, tuple(sorted(free))))
    return steps, out


def _mark_inplace(network: Network, modules: Sequence[nn.Module]) -> None:
    """Let ReLUs overwrite their input when nothing else reads it (as torchvision does)."""
    readers: dict[str, int] = {}
    for node in network.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    fresh = {n.id: n.op.fresh_output for n in network.nodes}  # Op.fresh_output
    for node, module in zip(network.nodes, modules):
        src = node.inputs[0]
        if (node.op.inplace_ok and hasattr(module, "inplace") and src != INPUT
                and readers[src] == 1 and src != network.output and fresh[src]):
            # nn.Module.__setattr__ is typed for tensors and modules; inplace is a plain flag
            module.inplace = True  # type: ignore[assignment]
