"""The expanded layer graph: nodes in topological (definition) order.

Layers may only read ids defined before them, so definition order *is* a
topological order and a cycle cannot be written (the expander says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import Loc
from .ops.base import Op, Shape

INPUT = "input"


@dataclass(frozen=True)
class Node:
    """One row of the report: an op instance wired to earlier node ids."""

    id: str
    op: Op[Any]
    inputs: tuple[str, ...]
    loc: Loc | None = None
    arg_locs: Mapping[str, Loc] = field(default_factory=dict)
    #: where blocks were instantiated, outermost first (for error notes)
    trace: tuple[str, ...] = ()
    #: the block instance this node belongs to ("conv3[0]"), or None at top level
    block: str | None = None
    #: the block's definition name ("bottleneck"), or None at top level
    block_name: str | None = None
    #: "bn" / "act" for rows expanded from shorthand on a conv or linear
    shorthand: str | None = None

    @property
    def op_name(self) -> str:
        return self.op.name

    @classmethod
    def made(cls, id: str, op: Op[Any], inputs: tuple[str, ...], loc: Loc | None,
             arg_locs: Mapping[str, Loc], trace: tuple[str, ...], block: str | None,
             block_name: str | None, shorthand: str | None = None) -> Node:
        """``Node(...)`` with every field given, without the frozen dataclass's
        ``__init__`` (a guarded ``object.__setattr__`` per field): the expansion makes one
        per layer, 10^5 for a large spec, and this is about 2x cheaper; the node is the same."""
        node = _object_new(cls)
        node.__dict__.update(zip(_NODE_FIELDS, (id, op, inputs, loc, arg_locs, trace, block,
                                                block_name, shorthand)))
        return node


_object_new = object.__new__
#: Node's fields in order (Node.made gives each one)
_NODE_FIELDS = tuple(f.name for f in fields(Node))


@dataclass(frozen=True)
class Network:
    """A validated, expanded spec.  ``cnncalc.analyze`` turns it into a Report.

    >>> import cnncalc
    >>> net = cnncalc.load("lenet5")
    >>> net.input_shape, net.nodes[0].id
    ((1, 32, 32), 'C1')
    """

    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    output: str
    source: str = "<spec>"
    #: the spec's `strict:` (None when unset: `cnncalc check` then treats it as true)
    strict: bool | None = None
    #: the spec's `side_by_side:`: layers that do not reach the output are alternatives laid
    #: side by side, not dead branches (no warning)
    side_by_side: bool = False
    #: the raw ``expect:`` mapping (with marks), for ``cnncalc check``
    expect: Any = None
    #: the raw document (with marks), for tools that need to point into it
    raw: Any = None
    #: the variant of a family it was loaded as (None: the spec's defaults)
    variant: str | None = None
    #: the values of the spec's top-level args: it was expanded with
    args: Mapping[str, Any] = field(default_factory=dict)
    #: for a spec whose expressions read the input shape (``in_channels``, ...): its
    #: expansion for another input shape, (nodes, output); None when the layers do not
    #: depend on the input (see :func:`cnncalc.analysis.for_input`)
    reexpand: Callable[[Shape], tuple[list[Node], str]] | None = field(
        default=None, compare=False, repr=False)

    @property
    def input_dependent(self) -> bool:
        """Whether the layers themselves depend on the input shape (``groups:
        "${in_channels}"``): analysing another input expands the spec again."""
        return self.reexpand is not None

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)
