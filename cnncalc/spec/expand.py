"""Expand a validated spec into a flat list of graph nodes.

Blocks are instantiated with their arguments, ``repeat`` makes chained copies
(``conv3[0]``, ``conv3[1]``, ...) with ``first``/``last`` overrides, ``$name`` and
``${expr}`` are substituted, ``defaults`` are applied, and the ``act``/``bn``
shorthand on conv and linear becomes rows of their own (``C1.bn``, ``C1.act``).
Wiring is by name only, and only to earlier ids, so the result is a DAG in
topological order.  Expansion is bounded by ``Limits.max_layers``.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import CnncalcError, LimitError, Loc, SpecError
from ..graph import INPUT, Node
from ..ops import REGISTRY, get_op
from ..ops.base import Op, Shape
from ..suggest import did_you_mean, name_list, shown
from .diagnose import spec_error, suggest
from .expr import SHAPE_NAMES, substitute
from .schema import ID_PATTERN, Block, Repeat, Spec
from .yamlio import DEFAULT_LIMITS, Limits, MDict, MList, key_text

META = ("id", "op", "in", "repeat", "if")
_META = frozenset(META)
#: words a block argument cannot be called: the keys of a layer entry, and ``args``
#: (positional arguments)
RESERVED_ARGS = (*META, "args")
_ID = re.compile(ID_PATTERN)
#: blocks may call blocks this many levels deep (a chain b1 -> b2 -> ... deeper than this
#: is refused before expanding it, so expansion never exhausts Python's stack)
MAX_BLOCK_DEPTH = 32
#: the longest id a layer entry may be given (``id:``)
MAX_ID_CHARS = 200
#: the longest id a layer may have once expanded (``stage.block[3].conv``): block and repeat
#: ids joined, so a spec's ids cost at most ``max_layers`` times this much memory
MAX_LAYER_ID_CHARS = 1000
#: expansions for other input shapes an input-dependent network remembers
REEXPANSIONS_KEPT = 4
#: distinct literal layer entries whose op an expansion remembers (see
#: Expander._literal_key): a large spec repeats a few; one of all-different layers must not
#: pay for remembering each
LITERALS_KEPT = 4096


@dataclass(frozen=True)
class Scope:
    """Where a list of layers is being expanded."""

    prefix: str
    input: str
    vars: Mapping[str, Any]
    defaults: Mapping[str, Mapping[str, Any]]
    trace: tuple[str, ...] = ()
    stack: tuple[str, ...] = ()
    block: str | None = None
    block_name: str | None = None

    def with_vars(self, names: Mapping[str, Any]) -> Scope:
        """This scope seeing ``names`` (``dataclasses.replace``, without its generic field
        walk: a repeat's copies and a block's calls make one each)."""
        return Scope(self.prefix, self.input, names, self.defaults, self.trace, self.stack,
                     self.block, self.block_name)


def _marked(base: Any, loc: Loc | None) -> MDict:
    out = MDict(base or {})
    out.loc = getattr(base, "loc", loc)
    out.key_loc = dict(getattr(base, "key_loc", {}))
    out.val_loc = dict(getattr(base, "val_loc", {}))
    if hasattr(base, "key_src"):
        out.key_src = base.key_src
    return out


def _merge(*maps: Any) -> MDict:
    """Later mappings win; value locations travel with their values."""
    out = _marked(None, None)
    for m in maps:
        if not m:
            continue
        out.loc = getattr(m, "loc", out.loc)
        for key, value in m.items():
            out[key] = value
            for attr in ("key_loc", "val_loc"):
                src = getattr(m, attr, {})
                if key in src:
                    getattr(out, attr)[key] = src[key]
    return out


class _LowerBound:
    """A lower bound on the number of layers some entries expand to, computed without
    expanding them, so ``repeat: 1000`` of a block holding ``repeat: 1000`` is refused at
    once.  Repeat counts and block arguments that are plain (or computable) integers are
    followed; anything else, and the bn/act shorthand rows, count as one, and an entry
    with ``if:`` as none, so a spec within the limit is never refused here."""

    def __init__(self, blocks: Mapping[str, Any], tables: dict[str, Any], cap: int) -> None:
        self.blocks, self.tables, self.cap = blocks, tables, cap
        self.memo: dict[Any, int] = {}

    def entries(self, entries: Any, scope: Mapping[str, Any], stack: frozenset[str]) -> int:
        total = 0
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and "if" in entry:
                continue  # a conditional entry may not exist: it counts none
            total += self.entry(entry, scope, stack)
            if total > self.cap:
                break
        return total

    def entry(self, entry: Any, scope: Mapping[str, Any], stack: frozenset[str]) -> int:
        if not isinstance(entry, dict):
            return 1
        op = entry.get("op")
        if "repeat" not in entry and not (isinstance(op, str) and op in self.blocks):
            return 1  # one op's entry (what follows counts blocks and repeats)
        rep = entry.get("repeat")
        n = self._int(rep.get("n") if isinstance(rep, dict) else rep, scope) or 1
        special = min(n, sum(1 for k in ("first", "last") if isinstance(rep, dict) and rep.get(k)))
        if not isinstance(op, str) or op not in self.blocks or op in stack \
                or len(stack) >= MAX_BLOCK_DEPTH:  # (expansion refuses deeper chains)
            return n
        block = self.blocks[op]
        declared = block.get("args") if isinstance(block, dict) else None
        args = {k: v for k, v in declared.items() if type(v) is int} \
            if isinstance(declared, dict) else {}
        for key, value in entry.items():
            if key not in META and (number := self._int(value, scope)) is not None:
                args[key] = number
        memo = (op, tuple(sorted(args.items(), key=repr)))
        if memo not in self.memo:
            self.memo[memo] = self.entries(block.get("layers"), ChainMap(args, self.tables),
                                           stack | {op})
        return (n - special) * self.memo[memo] + special  # overridden copies count one

    @staticmethod
    def _int(value: Any, scope: Mapping[str, Any]) -> int | None:
        try:
            value = substitute(value, scope)
        except CnncalcError:
            return None
        return value if type(value) is int and value > 0 else None


class _Shapes:
    """The output shapes of the nodes expanded so far, worked out only when an expression
    asks for one (``in_channels``, ``in_shape``, ...): each node is resolved once, in
    definition order, with :meth:`Op.resolve`, as the analysis will resolve it.  A shape
    error met this way is located at the layer that caused it."""

    def __init__(self, input_shape: Shape, nodes: list[Node]) -> None:
        self.nodes = nodes  # the expander's list, growing
        self.shapes: dict[str, Shape] = {INPUT: input_shape}
        self.done = 0  # nodes[:done] are resolved
        self.used = False  # whether any expression asked (the expansion is input-dependent)

    def of(self, node_id: str, asked_by: str) -> Shape:
        self.used = True
        from ..analysis import locate_error  # (the analysis imports no spec code)

        while node_id not in self.shapes and self.done < len(self.nodes):
            node = self.nodes[self.done]
            ins = [self.shapes[i] for i in node.inputs]
            try:
                self.shapes[node.id] = node.op.resolve(ins).out
            except CnncalcError as exc:
                raise locate_error(exc, node, ins).located(notes=(
                    f"its shape was needed for {asked_by}",)) from None
            self.done += 1
        return self.shapes[node_id]


class _ShapeNames(Mapping[str, Any]):
    """The input-shape names of one entry, looked up lazily: ``in_*`` for what the entry
    reads (its first input), ``input_*`` for the input of the list it is in."""

    def __init__(self, shapes: _Shapes, reads: str, list_input: str, layer: str) -> None:
        self.shapes, self.layer = shapes, layer
        self.reads = {"in": reads, "input": list_input}

    def __getitem__(self, name: str) -> Any:
        if name not in SHAPE_NAMES:
            raise KeyError(name)
        which, _, part = name.partition("_")
        shape = self.shapes.of(self.reads[which], f"{name} of layer {shown(self.layer)}")
        return list(shape) if part == "shape" else shape[0]

    def __iter__(self) -> Iterator[str]:
        return iter(SHAPE_NAMES)

    def __len__(self) -> int:
        return len(SHAPE_NAMES)


class Expander:
    """Expands one spec; use :func:`expand`."""

    def __init__(self, spec: Spec, raw: MDict, limits: Limits = DEFAULT_LIMITS,
                 args: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.raw = raw
        self.limits = limits
        self.blocks: dict[str, Block] = spec.blocks
        self.raw_blocks: MDict = raw.get("blocks") or _marked(None, None)
        #: the names every expression sees: tables and the spec's args (never the same name)
        self.tables: dict[str, Any] = {**(raw.get("tables") or {}), **(args or {})}
        self.sizes: dict[int, int] = {}  # id of a document list/mapping -> its _size
        #: (op name, its arguments frozen) -> the op validated from them (see _validated)
        self.ops: dict[tuple[str, Any], Op[Any]] = {}
        #: a literal layer entry (see _literal_key) -> what it makes (see _literal_layer)
        self.literal: dict[tuple[Any, ...], _Literal] = {}
        self.literal_hits = self.literal_misses = 0  # (see _literals_pay)
        #: id of a list of entries -> (the list, its explicit ids): see _explicit_ids
        self.explicit: dict[int, tuple[MList, dict[str, Loc]]] = {}
        self.expanded_for: dict[Shape, tuple[list[Node], str]] = {}  # (see expand_for)
        self._start(tuple(spec.input))

    def _start(self, input_shape: Shape) -> None:
        """The state of one expansion, for ``input_shape`` (:meth:`expand_for` starts
        another from the same settings)."""
        self.nodes: list[Node] = []
        self.defined: dict[str, str] = {INPUT: INPUT}
        self.arg_values = 0  # argument values of the layers so far (see _spend)
        self.shapes = _Shapes(input_shape, self.nodes)

    @property
    def input_dependent(self) -> bool:
        """Whether an expression of the expansion used an input-shape name (the network
        must then be expanded again for another input: :meth:`expand_for`)."""
        return self.shapes.used

    def expand_for(self, input_shape: Shape) -> tuple[list[Node], str]:
        """The expansion of the same spec for another input shape (a fresh expander with
        this one's settings); the last few are remembered (a command's passes ask again)."""
        shape = tuple(input_shape)
        if shape not in self.expanded_for:
            again = copy.copy(self)
            again._start(shape)
            again.expanded_for = {}
            if len(self.expanded_for) >= REEXPANSIONS_KEPT:
                del self.expanded_for[next(iter(self.expanded_for))]
            self.expanded_for[shape] = again.run()
        return self.expanded_for[shape]

    # ------------------------------------------------------------------ lists
    def run(self) -> tuple[list[Node], str]:
        self._check_table_names()
        self._check_defaults(self.raw.get("defaults"))
        for name in self.raw_blocks:
            self._check_block(name)
        self._precount()
        scope = Scope("", INPUT, self.tables, self.raw.get("defaults") or {})
        last, local = self.layers(self.raw["layers"], scope)
        out = self.spec.output
        if out is not None:
            if out == INPUT:
                raise SpecError("output: input names the network's own input; name one of its "
                                "layers", loc=self.raw.val_loc["output"])
            target = local.get(out) or self.defined.get(out)
            if target is None:
                raise SpecError(f"output names {shown(out)}, which is not a layer id",
                                loc=self.raw.val_loc["output"])
            last = target
        self._check_output(last)
        return self.nodes, last

    def _check_output(self, last: str) -> None:
        """The network's output is a layer, even when conditional entries are skipped."""
        if last != INPUT:
            return
        out = self.spec.output
        if out is not None:
            raise SpecError(f"output: {shown(out)} is skipped (its if: is false), so it names "
                            "the network's own input; name one of its layers",
                            loc=self.raw.val_loc["output"])
        what = "every layer is skipped" if not self.nodes else "the last layer is skipped"
        raise SpecError(f"{what} (if: false) and the network's output would be its own input",
                        loc=self.raw.val_loc["layers"],
                        hints=("give `output:` the layer the network ends with",))

    def _check_table_names(self) -> None:
        """A table name is looked up for every ``$name`` of every layer: bounded."""
        raw = self.raw.get("tables")
        for name in self.tables:
            if name in SHAPE_NAMES:
                where = raw if isinstance(raw, MDict) and name in raw else self.raw.get("args")
                what = "table name" if where is raw else "argument"
                raise SpecError(f"the {what} {shown(name)} is reserved: it names the input "
                                "shape in expressions", loc=where.key_loc.get(name)
                                if isinstance(where, MDict) else None)
            if len(name) > MAX_ID_CHARS:
                raise LimitError(f"the table name {shown(name)} is longer than {MAX_ID_CHARS} "
                                 "characters", loc=raw.key_loc.get(name) if isinstance(raw, MDict)
                                 else None)

    def _precount(self) -> None:
        """Refuse, before expanding anything, a spec whose repeats and blocks multiply past
        ``max_layers`` (see :class:`_LowerBound`)."""
        bound = _LowerBound(self.raw_blocks, self.tables, self.limits.max_layers)
        entries = self.raw["layers"]
        total = 0
        no_blocks: frozenset[str] = frozenset()
        for i, entry in enumerate(entries):
            # (bound.entries([entry], ...), without making a list for each entry)
            own = 0 if isinstance(entry, dict) and "if" in entry else \
                bound.entry(entry, self.tables, no_blocks)
            total += own
            if total > self.limits.max_layers:
                alone = (f" (this entry alone makes at least {own:,}: repeats and blocks "
                         "multiply)") if 1 < own < total else \
                    " (repeats and blocks multiply)" if own > 1 else ""
                raise LimitError(
                    f"the spec would expand to more than {self.limits.max_layers:,} layers: "
                    f"at least {total:,} by this entry{alone}",
                    loc=entry.val_loc.get("repeat", entries.item_loc[i])
                    if isinstance(entry, MDict) else entries.item_loc[i],
                    hints=("raise the limit with --max-layers if this is intended",))

    def layers(self, entries: MList, scope: Scope) -> tuple[str, dict[str, str]]:
        explicit = self._explicit_ids(entries)
        local: dict[str, str] = {INPUT: scope.input}
        counts: dict[str, int] = {}
        prev = scope.input
        for i, raw_entry in enumerate(entries):
            loc = entries.item_loc[i]
            entry = self._normalise(raw_entry, loc)
            local_id = entry.get("id") or self._auto_id(entry, explicit, counts, local)
            full = scope.prefix + local_id
            try:
                inputs = self._wire(entry, local, explicit, prev, local_id, scope)
                present = self._present(entry, inputs, scope, full)
                if not present:
                    self._check_skipped(entry)
                # a skipped entry's id names what it would have read: its last input
                out = self.entry(entry, full, inputs, scope, loc) if present else inputs[-1]
            except CnncalcError as exc:
                notes = (*_written_elsewhere(entry, exc.loc), *reversed(scope.trace))
                raise exc.located(loc, layer=full, notes=notes) from None
            local[local_id] = out
            self.defined[full] = out
            prev = out
        return prev, local

    def _present(self, entry: MDict, inputs: tuple[str, ...], scope: Scope, full: str) -> bool:
        """Whether an entry exists: its ``if:`` (true, false or an expression giving one;
        the input-shape names are those of the entry), true when absent."""
        if "if" not in entry:
            return True
        loc = entry.val_loc.get("if")
        try:
            value = substitute(entry["if"], self._reading_vars(scope, inputs, full))
        except CnncalcError as exc:
            raise exc.located(loc) from None
        if type(value) is not bool:
            raise SpecError(f"if: must be true or false, got {_written(value)}", loc=loc,
                            hints=("write a condition, e.g. if: \"${stride == 1}\"",))
        return value

    def _check_skipped(self, entry: MDict) -> None:
        """A skipped entry is not expanded (its values may only make sense when it is
        present), but its op and argument names are still checked: a typo under a false
        ``if:`` is an error, not silence.  An op named by an expression is not checked."""
        op = entry.get("op")
        if not isinstance(op, str) or op.startswith("$"):
            return
        skipped = ("this entry is skipped (its if: is false), but its op and argument names "
                   "are still checked",)
        if op in self.blocks:
            known = [name for name, _, _ in self._arg_items(self.raw_blocks[op].get("args") or {})]
            names = {*known, "args"}
        elif op in REGISTRY:
            fields = get_op(op).Args.model_fields
            known = [f.alias or n for n, f in fields.items()]
            names = set(fields) | set(known)
        else:
            hint = did_you_mean(op, [*REGISTRY, *self.blocks])
            raise SpecError(f"op {shown(op)} is unknown{hint}", loc=entry.val_loc.get("op"),
                            hints=skipped)
        for key in entry:
            if key not in META and key not in names:
                raise SpecError(f"unknown argument {shown(str(key))} of {shown(op)}"
                                f"{suggest(str(key), known)} (known: {', '.join(known)})",
                                loc=entry.key_loc.get(key), hints=skipped)

    def _normalise(self, entry: Any, loc: Loc) -> MDict:
        if isinstance(entry, str):
            out = _marked({"op": entry}, loc)
            out.val_loc["op"] = loc
            return out
        if not isinstance(entry, MDict):
            raise SpecError(
                f"a layer is a mapping like {{op: conv, out: 64, k: 3}} or an op name, "
                f"got {type(entry).__name__} {shown(repr(entry), quote='')}", loc=loc)
        if "op" not in entry:
            raise SpecError("this layer has no 'op'", loc=loc,
                            hints=("every layer names its op, e.g. {op: conv, out: 64, k: 3}",))
        return entry

    def _explicit_ids(self, entries: MList) -> dict[str, Loc]:
        """The ids a list of entries gives explicitly, checked; a block's list is checked
        once, not at each call (its entries are the document's: they do not change)."""
        known = self.explicit.get(id(entries))
        if known is not None and known[0] is entries:
            return known[1]
        seen = self._check_explicit_ids(entries)
        self.explicit[id(entries)] = (entries, seen)
        return seen

    def _check_explicit_ids(self, entries: MList) -> dict[str, Loc]:
        seen: dict[str, Loc] = {}
        for entry in entries:
            if not isinstance(entry, MDict) or "id" not in entry:
                continue
            name = entry["id"]
            # a copy through an alias, or an id merged in with <<: where this entry has it
            loc = entry.via or getattr(entry, "merged", {}).get("id") or entry.val_loc["id"]
            if not isinstance(name, str) or not _ID.fullmatch(name):
                raise SpecError(f"id {shown(repr(name), quote='')} must be a name: letters, digits "
                                "and _, not starting with a digit", loc=loc)
            if len(name) > MAX_ID_CHARS:
                raise LimitError(f"id {shown(name)} is longer than {MAX_ID_CHARS} characters",
                                 loc=loc)
            if name == INPUT:
                raise SpecError("'input' is reserved: it names the network's (or block's) input",
                                loc=loc)
            if name in seen:
                first = seen[name]
                raise SpecError(f"duplicate id '{name}' (first used at line {first.line})", loc=loc)
            seen[name] = loc
        return seen

    def _auto_id(self, entry: MDict, explicit: Mapping[str, Loc], counts: dict[str, int],
                 local: Mapping[str, str]) -> str:
        base = _id_base(entry["op"] if isinstance(entry["op"], str) else "layer")
        number = counts.get(base, 0)
        while True:
            number += 1
            name = f"{base}{number}"
            if name not in explicit and name not in local:
                counts[base] = number
                return name

    def _wire(self, entry: MDict, local: Mapping[str, str], explicit: Mapping[str, Loc],
              prev: str, me: str, scope: Scope) -> tuple[str, ...]:
        if "in" not in entry:
            return (prev,)
        value, loc = entry["in"], entry.val_loc["in"]
        names = value if isinstance(value, list) else [value]
        if not names:
            raise SpecError("in: is an empty list", loc=loc)
        out = []
        for j, name in enumerate(names):
            where = value.item_loc[j] if isinstance(value, MList) else loc
            out.append(self._resolve(name, local, explicit, me, scope, where))
        return tuple(out)

    def _resolve(self, name: Any, local: Mapping[str, str], explicit: Mapping[str, Loc], me: str,
                 scope: Scope, loc: Loc) -> str:
        if isinstance(name, bool) or not isinstance(name, str):
            raise SpecError(
                f"in: {shown(repr(name), quote='')} is not an id; layers are wired by name, "
                "never by index",
                loc=loc, hints=("write the id of the layer to read, e.g. in: conv1 "
                                "(or in: input for the network's input)",))
        if name in local:
            return local[name]
        if name == me:
            raise SpecError(f"in: {shown(name)} is the layer itself; that would be a cycle",
                            loc=loc)
        if name in explicit:
            raise SpecError(
                f"in: {shown(name)} is defined later (line {explicit[name].line}); a layer can "
                "only read layers above it, so this would be a cycle or a forward reference",
                loc=loc)
        for full in (scope.prefix + name, name):
            if full in self.defined:
                return self.defined[full]
        hint = did_you_mean(name, [*(k for k in local if k != INPUT), INPUT])
        raise SpecError(f"in: {shown(name)} is not a layer id{hint}", loc=loc)

    # ---------------------------------------------------------------- entries
    def entry(self, entry: MDict, full: str, inputs: tuple[str, ...], scope: Scope,
              loc: Loc) -> str:
        if "repeat" not in entry:
            return self.single(entry, full, inputs, scope, loc)
        n, first, last, index = self._repeat(entry, self._reading_vars(scope, inputs, full))
        if len(self.nodes) + n > self.limits.max_layers:  # every copy adds at least one layer
            raise LimitError(f"the spec expands to more than {self.limits.max_layers:,} layers "
                             f"({len(self.nodes):,} so far, then a repeat of {n:,})",
                             loc=entry.val_loc.get("repeat", loc),
                             hints=("raise the limit with --max-layers if this is intended",))
        base = _marked({k: v for k, v in entry.items() if k != "repeat"}, loc)
        base.val_loc = dict(entry.val_loc)
        out = inputs
        for c in range(n):
            over = (first if c == 0 else None, last if c == n - 1 else None)
            copy_entry = _merge(base, *over) if any(over) else base  # single() only reads it
            name = f"{full}[{c}]"
            # ChainMap only reads the maps after its first (vars may be lazy: not copied)
            here = scope if index is None else scope.with_vars(
                ChainMap({index: c}, scope.vars))  # type: ignore[arg-type]
            try:
                result = self.single(copy_entry, name, out, here, loc, copy=(full, c))
            except CnncalcError as exc:
                raise exc.located(loc, layer=name) from None
            self.defined[name] = result
            out = (result,)
        return out[0]

    def _repeat(self, entry: MDict, scope_vars: Mapping[str, Any]
                ) -> tuple[int, Any, Any, str | None]:
        raw, loc = entry["repeat"], entry.val_loc["repeat"]
        value = substitute(raw, scope_vars)  # a block argument may give the count
        if isinstance(value, dict) and "n" in value:
            value = {**value, "n": substitute(value["n"], scope_vars)}
        if isinstance(value, bool) or not isinstance(value, (int, dict)):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)[:60]
            raise SpecError(
                f"repeat must be a count or {{n: ..., first: ..., last: ...}}, got {shown}",
                loc=loc)
        if isinstance(value, int):
            if value < 1:
                raise SpecError(f"repeat must be >= 1, got {value}", loc=loc)
            value = {"n": value}
        try:
            rep = Repeat.model_validate(value)
        except ValidationError as exc:
            raise spec_error(exc, raw, Repeat, what="repeat key").located(loc) from None
        if rep.n > self.limits.max_layers:
            raise LimitError(f"repeat of {rep.n:,} is over the limit of {self.limits.max_layers:,} "
                             "layers", loc=loc, hints=("raise it with --max-layers",))
        for key in ("id", "repeat", "in", "if"):
            if key in rep.first or key in rep.last:
                raise SpecError(f"repeat first/last cannot override '{key}'", loc=loc)
        if rep.index is not None:
            self._check_index(rep.index, scope_vars, loc)
        return rep.n, value.get("first"), value.get("last"), rep.index

    @staticmethod
    def _check_index(name: str, scope_vars: Mapping[str, Any], loc: Loc) -> None:
        """``repeat: {index: i}`` names the copy's number: a name that hides nothing."""
        if not _ID.fullmatch(name) or name.startswith("__") or len(name) > MAX_ID_CHARS:
            raise SpecError(f"repeat index {shown(repr(name), quote='')} must be a name: "
                            "letters, digits and _, not starting with a digit", loc=loc)
        if name in SHAPE_NAMES or name in scope_vars:
            raise SpecError(f"repeat index {shown(name)} would hide the name {shown(name)} "
                            "already in scope (a block argument, a table, a spec arg or an "
                            "input-shape name); pick another", loc=loc)

    def _reading_vars(self, scope: Scope, inputs: tuple[str, ...],
                      full: str) -> Mapping[str, Any]:
        """The names an entry that reads ``inputs`` sees: the scope's, then the input-shape
        names (looked up only when an expression asks)."""
        names = _ShapeNames(self.shapes, inputs[0], scope.input, full)
        return ChainMap(scope.vars, names)  # type: ignore[arg-type]

    def _sub(self, args: MDict, scope: Scope) -> MDict:
        return self._sub_in_place(_marked(args, args.loc), scope.vars)

    def _sub_in_place(self, out: MDict, scope_vars: Mapping[str, Any]) -> MDict:
        """``out`` with each value substituted, an error located at the value."""
        for key, value in out.items():
            try:
                out[key] = self._deep_sub(value, scope_vars)
            except CnncalcError as exc:
                raise exc.located(out.val_loc.get(key)) from None
        return out

    def _deep_sub(self, value: Any, scope_vars: Mapping[str, Any]) -> Any:
        if isinstance(value, list) and not isinstance(value, str):
            items = [self._deep_sub(v, scope_vars) for v in value]
            if all(a is b for a, b in zip(items, value)):
                return value
            return items
        return substitute(value, scope_vars)

    def single(self, entry: MDict, full: str, inputs: tuple[str, ...], scope: Scope, loc: Loc,
               copy: tuple[str, int] | None = None) -> str:
        """Expand one entry that is not a repeat: a block call, or one op's node (and the
        rows of its ``bn``/``act`` shorthand).  Returns the id the next entry reads."""
        key = self._literal_key(entry, scope.defaults) if self._literals_pay() else None
        known = self.literal.get(key) if key is not None else None
        if known is not None:
            self.literal_hits += 1
            return self._literal_layer(known, entry, full, inputs, scope, loc)
        self.literal_misses += key is not None
        reading = self._reading_vars(scope, inputs, full)
        op_name = self._op_name(entry, reading, loc)
        if op_name in self.blocks:
            call = _marked({k: v for k, v in entry.items() if k not in META}, loc)
            call.val_loc, call.key_loc = dict(entry.val_loc), dict(entry.key_loc)
            return self.block(op_name, call, full, inputs, scope.with_vars(reading), loc, copy)
        op_cls = self._op_class(op_name, entry, inputs, loc)
        args = self._op_args(entry, scope.defaults.get(op_name), reading)
        values = self._values(args)
        self._spend(values, loc)
        op = self._validated(op_cls, args)
        rows = _rows(op)
        if key is not None and len(self.literal) < LITERALS_KEPT:
            self.literal[key] = _Literal(op_cls, op, values, rows)
        self._add(Node.made(full, op, inputs, loc, dict(args.val_loc), scope.trace,
                            scope.block, scope.block_name))
        if not rows:
            return full
        return self._shorthand_rows(op, rows, full, scope, lambda: reading, loc)

    def _literal_key(self, entry: MDict, defaults: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What an op's layer entry makes depends on its op name, its arguments and the
        op's defaults in scope, and on nothing else when none of them is substituted (no
        ``$name`` or ``${...}`` anywhere in them): then this is those three, frozen (see
        :func:`_frozen`), and the entry makes the op an entry with the same key made (the
        most layers of a large spec are such repeats of a few texts).  None for any other
        entry: a block call, an op named or an argument given by an expression."""
        op_name = entry["op"]
        if type(op_name) is not str or op_name.startswith("$") or op_name in self.blocks:
            return None
        pairs = []
        for key, value in entry.items():
            if key in _META:
                continue
            kind = type(value)  # (the common case inline: a name and a plain value)
            frozen = (kind, value) if kind is int or kind is bool or (
                kind is str and not value.startswith("$")) else _frozen(value, literal=True)
            if frozen is None or type(key) is not str:
                return None
            pairs.append((key, frozen))
        given = defaults.get(op_name)
        frozen_defaults = _frozen(given, literal=True) if given else ()
        if frozen_defaults is None:
            return None
        return (op_name, tuple(pairs), frozen_defaults)

    def _literals_pay(self) -> bool:
        """Whether looking literal entries up is worth its cost (freezing the arguments):
        not once its misses pass four times its hits by over a thousand (a spec of
        all-different layers).  Whether it is used changes no result, only the time."""
        return self.literal_misses <= 4 * self.literal_hits + 1000

    def _literal_layer(self, known: _Literal, entry: MDict, full: str,
                       inputs: tuple[str, ...], scope: Scope, loc: Loc) -> str:
        """The layer of an entry whose op was made before from the same literal arguments
        (see :meth:`_literal_key`): what depends on its place is still checked (the op's
        arity for these inputs, the argument values and layers spent so far) and the node
        located at its own text."""
        op_name = entry["op"]
        _check_arity(known.op_cls, op_name, entry, inputs, loc)
        self._spend(known.values, loc)
        op = known.op
        self._add(Node.made(full, op, inputs, loc, _arg_locs(entry, scope.defaults.get(op_name)),
                            scope.trace, scope.block, scope.block_name))
        if not known.rows:
            return full
        return self._shorthand_rows(op, known.rows, full, scope,
                                    functools.partial(self._reading_vars, scope, inputs, full),
                                    loc)

    def _op_name(self, entry: MDict, reading: Mapping[str, Any], loc: Loc) -> str:
        """The entry's ``op:``, substituted: the name of an op or a block."""
        op_loc = entry.val_loc.get("op", loc)
        try:
            op_name = substitute(entry["op"], reading)
        except CnncalcError as exc:
            raise exc.located(op_loc) from None
        if not isinstance(op_name, str):
            raise SpecError(f"op must be a name, got {shown(repr(op_name), quote='')}", loc=op_loc)
        return op_name

    def _op_class(self, op_name: str, entry: MDict, inputs: tuple[str, ...],
                  loc: Loc) -> type[Op[Any]]:
        """The op class ``op_name`` names, given as many inputs as it takes."""
        if op_name not in REGISTRY:
            hint = did_you_mean(op_name, [*REGISTRY, *self.blocks])
            raise SpecError(f"op {shown(op_name)} is unknown{hint}",
                            loc=entry.val_loc.get("op", loc),
                            layer=None if "id" in entry else "",  # not its made-up id
                            hints=("`cnncalc ops` lists every op",))
        op_cls = get_op(op_name)
        _check_arity(op_cls, op_name, entry, inputs, loc)
        return op_cls

    def _op_args(self, entry: MDict | None, defaults: Any, reading: Mapping[str, Any]) -> MDict:
        """An op's arguments: the ``defaults`` for it, then the entry's own (not its
        ``id``/``op``/``in``/...), each substituted; every value keeps where it is written
        (one copy, where merging then substituting made three)."""
        out = _marked(None, None)
        for given in (defaults, entry):
            if not given:
                continue
            out.loc = getattr(given, "loc", out.loc)
            key_locs = getattr(given, "key_loc", {})
            for key, value in given.items():
                if given is entry and key in META:
                    continue
                out[key] = value
                if key in key_locs:
                    out.key_loc[key] = key_locs[key]
        out.val_loc = _arg_locs(entry, defaults)
        return self._sub_in_place(out, reading)

    def _validated(self, op_cls: type[Op[Any]], args: MDict) -> Op[Any]:
        """The op of ``args``, validated by its model; equal arguments (by type and value)
        give the one op object, validated once (ops and their frozen models never change)."""
        key = (op_cls.name, _frozen(args))
        op = self.ops.get(key) if key[1] is not None else None
        if op is None:
            try:
                op = op_cls.from_args(dict(args))
            except ValidationError as exc:
                raise spec_error(exc, args, op_cls.Args) from None
            if key[1] is not None:
                self.ops[key] = op
        return op

    def _shorthand_rows(self, op: Op[Any], rows: tuple[tuple[str, str], ...], full: str,
                        scope: Scope, reading: Callable[[], Mapping[str, Any]], loc: Loc) -> str:
        """The ``rows`` of a layer's ``bn: true`` and ``act:`` shorthand (``_rows(op)``); the
        id the next entry reads (``reading``: the names the layer's expressions see, made
        if asked)."""
        last = full
        for row, op_name in rows:
            row_op = self._shorthand(op_name, scope.defaults, reading)
            self._add(Node.made(f"{full}.{row}", row_op, (last,), loc, {}, scope.trace,
                                scope.block, scope.block_name, row))
            last = f"{full}.{row}"
        return last

    def _shorthand(self, op_name: str, defaults: Mapping[str, Any],
                   reading: Callable[[], Mapping[str, Any]]) -> Op[Any]:
        """The op of a ``bn``/``act`` row; ``defaults`` for that op apply, as to a written one
        (with none, it is the op of no arguments: validated once, then looked up)."""
        given = defaults.get(op_name)
        bare = None if given else self.ops.get((op_name, _NO_ARGS))
        if bare is not None:
            return bare
        return self._validated(get_op(op_name), self._op_args(None, given, reading()))

    def _check_defaults(self, defaults: Any, where: str = "defaults") -> None:
        """Every ``defaults:`` key names an op, and every key under it one of the op's
        arguments: a typo would otherwise be ignored silently (and a default is merged into
        every layer of its op, so it must be small)."""
        for name in defaults or {}:
            loc = defaults.key_loc.get(name) if isinstance(defaults, MDict) else None
            if name not in REGISTRY:
                if name in self.blocks:
                    raise SpecError(f"{where}: {shown(name)} is a block; defaults are for ops "
                                    "(give a block argument its default in the block's args:)",
                                    loc=loc)
                raise SpecError(f"{where}: {shown(key_text(defaults, name))} is not an op"
                                f"{did_you_mean(name, REGISTRY)}", loc=loc,
                                hints=("`cnncalc ops` lists every op",))
            values = defaults[name]
            fields = get_op(name).Args.model_fields
            known = [f.alias or n for n, f in fields.items()]
            for key in values if isinstance(values, dict) else ():
                if key not in known:
                    at = values.key_loc.get(key) if isinstance(values, MDict) else loc
                    raise SpecError(f"{where}.{name}: unknown argument "
                                    f"{shown(key_text(values, key))}{suggest(str(key), known)} "
                                    f"(known: {', '.join(known)})", loc=at)

    def _add(self, node: Node) -> None:
        if len(self.nodes) >= self.limits.max_layers:
            raise LimitError(f"the spec expands to more than {self.limits.max_layers:,} layers",
                             hints=("raise the limit with --max-layers if this is intended",))
        if len(node.id) > MAX_LAYER_ID_CHARS:
            raise LimitError(f"the layer id {shown(node.id)} is longer than {MAX_LAYER_ID_CHARS:,} "
                             "characters (the ids of the blocks and repeats around a layer are "
                             "joined into its id)", hints=("use shorter ids",))
        self.nodes.append(node)

    def _values(self, args: Mapping[str, Any]) -> int:
        """The argument values one layer holds (a list counts its items: see _spend)."""
        total = 0
        for value in args.values():
            total += self._size(value) if isinstance(value, (list, dict)) else 1
        return total

    def _spend(self, values: int, loc: Loc) -> None:
        """Count the argument values of one layer against ``max_arg_values``: a large table
        given to every layer (``connect: $big`` in a repeat) costs that much memory and
        validation each time, so the total is bounded before it is spent."""
        self.arg_values += values
        if self.arg_values > self.limits.max_arg_values:
            raise LimitError(
                f"the expanded layers hold more than {self.limits.max_arg_values:,} argument "
                "values (a large table given to many layers?)", loc=loc,
                hints=("raise Limits(max_arg_values=...) in the Python API if this is "
                       "intended",))

    def _size(self, value: Any) -> int:
        """How many values ``value`` holds (a list: 1 + its items'), without recursion.
        Lists of the document itself (tables) are counted once and remembered."""
        if not isinstance(value, (list, dict)):
            return 1
        if isinstance(value, (MList, MDict)) and id(value) in self.sizes:
            return self.sizes[id(value)]
        total = 0
        pending = [value]
        while pending:
            item = pending.pop()
            total += 1
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.values())
            if total > self.limits.max_arg_values:
                break
        if isinstance(value, (MList, MDict)):  # (alive with the document: the id stays its)
            self.sizes[id(value)] = total
        return total

    # ----------------------------------------------------------------- blocks
    def _check_block(self, name: str) -> None:
        """What a block definition must be, before any call: argument names that
        ``$name`` can refer to and a call can give, an ``output:`` that is one of its
        layers, and defaults that name ops and their arguments."""
        braw = self.raw_blocks[name]
        if not isinstance(name, str) or not _ID.fullmatch(name) or len(name) > MAX_ID_CHARS:
            raise SpecError(f"block name {shown(repr(name), quote='')} is not a name (`op:` "
                            "calls a block by it): letters, digits and _, not starting with a "
                            f"digit, at most {MAX_ID_CHARS} characters",
                            loc=self.raw_blocks.key_loc.get(name))
        if name in REGISTRY:
            raise SpecError(f"block {shown(name)} has the name of an op: `op: {name}` could not "
                            "tell them apart; rename the block",
                            loc=self.raw_blocks.key_loc.get(name))
        self._check_defaults(braw.get("defaults"), f"block {shown(name)}: defaults")
        if braw.get("output") == INPUT:
            raise SpecError(f"block {shown(name)}: output: input would make the block's output "
                            "its own input; name one of the block's layers",
                            loc=braw.val_loc.get("output"))
        seen: set[str] = set()
        for arg, _, loc in self._arg_items(braw.get("args") or {}, braw.val_loc.get("args")):
            problem = None
            if arg in RESERVED_ARGS:
                problem = (f"'{arg}' is reserved: it is a key of every layer entry"
                           if arg != "args" else "'args' is reserved: it gives positional "
                           "arguments")
            elif not _ID.fullmatch(arg):
                problem = (f"{shown(repr(arg), quote='')} is not a name ($name could never "
                           "refer to it): letters, digits and _, not starting with a digit")
            elif arg.startswith("__"):
                problem = f"{shown(arg)} starts with __, and such names are never looked up"
            elif arg in SHAPE_NAMES:
                problem = f"{shown(arg)} is reserved: it names the input shape in expressions"
            elif len(arg) > MAX_ID_CHARS:
                problem = f"{shown(arg)} is longer than {MAX_ID_CHARS} characters"
            elif arg in seen:
                problem = f"'{arg}' is declared twice"
            if problem:
                raise SpecError(f"block {shown(name)}: argument {problem}", loc=loc)
            seen.add(arg)

    def block(self, name: str, call: MDict, full: str, inputs: tuple[str, ...], scope: Scope,
              loc: Loc, copy: tuple[str, int] | None) -> str:
        op_loc = call.val_loc.get("op", loc)
        if name in scope.stack:
            chain = " -> ".join(shown(b, 40, quote="")
                                for b in (*scope.stack[scope.stack.index(name):], name))
            raise SpecError(f"block {shown(name)} uses itself ({chain}); blocks cannot recurse",
                            loc=op_loc)
        if len(scope.stack) >= MAX_BLOCK_DEPTH:
            raise LimitError(f"blocks nest deeper than {MAX_BLOCK_DEPTH} levels: "
                             f"{_chain((*scope.stack, name))}", loc=op_loc,
                             hints=("a chain of blocks calling blocks this deep is not a "
                                    "network anyone draws: flatten it",))
        if len(inputs) != 1:
            raise SpecError(f"block {shown(name)} takes one input, got {len(inputs)}",
                            loc=call.val_loc.get("in", loc))
        bdef, braw = self.blocks[name], self.raw_blocks[name]
        where = f"{copy[0]}, copy {copy[1]}" if copy else full
        note = f"in block {shown(name)} instantiated at {loc} ({shown(where, quote='')})"
        try:
            own = _ShapeNames(self.shapes, inputs[0], inputs[0], full)  # (the block's view)
            bound = self._bind(name, bdef, braw, self._sub(call, scope), loc, own)
        except CnncalcError as exc:
            raise exc.located(notes=(note,)) from None
        defaults = scope.defaults  # (copied only when the block has defaults of its own)
        if braw.get("defaults"):
            defaults = dict(defaults)
            for op_name, values in braw["defaults"].items():
                defaults[op_name] = _merge(defaults.get(op_name), values)
        sub = Scope(full + ".", inputs[0], ChainMap(bound, self.tables), defaults,
                    (*scope.trace, note), (*scope.stack, name), full, name)
        last, local = self.layers(braw["layers"], sub)
        if bdef.output is not None:
            if bdef.output not in local:
                raise SpecError(f"block {shown(name)}: output names {shown(bdef.output)}, not a "
                                "layer of the block", loc=braw.val_loc.get("output"))
            last = local[bdef.output]
        return last

    def _bind(self, name: str, bdef: Block, braw: MDict, call: MDict, loc: Loc,
              shape_names: Mapping[str, Any]) -> dict[str, Any]:
        declared: dict[str, tuple[bool, Any, Loc | None]] = {}  # name -> (required, default, loc)
        for arg, spec, arg_loc in self._arg_items(braw.get("args") or {}, braw.val_loc.get("args")):
            required = spec in ("int", "list", "bool", "float", "str", "any")
            declared[arg] = (required, None if required else spec, arg_loc)
        given = dict(call)
        positional = given.pop("args", None)
        if positional is not None:
            if not isinstance(positional, list):
                raise SpecError(f"args: must be a list of values for block {shown(name)}",
                                loc=call.val_loc.get("args", loc))
            if len(positional) > len(declared):
                raise SpecError(f"block {shown(name)} takes {len(declared)} argument"
                                f"{'s' if len(declared) != 1 else ''}, got "
                                f"{len(positional)}", loc=call.val_loc.get("args", loc))
            for arg, value in zip(declared, positional):
                if arg in given:
                    raise SpecError(f"block {shown(name)}: '{arg}' given twice",
                                    loc=call.key_loc.get(arg))
                given[arg] = value
        for arg in given:
            if arg not in declared:
                raise SpecError(f"block {shown(name)} has no argument {shown(key_text(call, arg))}"
                                f"{did_you_mean(arg, declared)} "
                                f"(its arguments: {name_list(declared) or 'none'})",
                                loc=call.key_loc.get(arg, loc))
        bound: dict[str, Any] = {}
        for arg, (required, default, arg_loc) in declared.items():
            if arg in given:
                bound[arg] = given[arg]
            elif required:
                raise SpecError(f"block {shown(name)} needs argument '{arg}'", loc=loc)
            else:  # evaluated for this call: tables and the arguments declared before it
                try:
                    bound[arg] = self._deep_sub(default, ChainMap(bound, self.tables,
                                                                  shape_names))  # type: ignore[arg-type]
                except CnncalcError as exc:
                    raise exc.located(arg_loc, notes=(
                        f"evaluating the default of argument '{arg}' of block {shown(name)}",
                    )) from None
        return bound

    @staticmethod
    def _arg_items(args: Any, loc: Loc | None = None) -> list[tuple[str, Any, Loc | None]]:
        """A block's declared arguments: (name, type word or default, where it is written)."""
        if isinstance(args, dict):
            return [(k, v, args.val_loc.get(k, loc) if isinstance(args, MDict) else loc)
                    for k, v in args.items()]
        out: list[tuple[str, Any, Loc | None]] = []
        for i, item in enumerate(args):
            item_loc = args.item_loc[i] if isinstance(args, MList) else loc
            if isinstance(item, str):
                out.append((item, "any", item_loc))
            else:
                out.extend((k, v, item.val_loc.get(k, item_loc) if isinstance(item, MDict)
                            else item_loc) for k, v in item.items())
        return out


@functools.lru_cache(maxsize=1024)
@functools.lru_cache(maxsize=1024)
def _id_base(op: str) -> str:
    """The stem of the ids made up for entries of ``op`` (``conv`` -> conv1, conv2, ...);
    a spec names a few ops, 10^5 times."""
    base = op[:80].lstrip("$").replace("{", "").replace("}", "")
    return re.sub(r"\W", "_", base)[:40] or "layer"


def _frozen(value: Any, literal: bool = False) -> Any:
    """A hashable twin of an argument value that tells apart what validation tells apart
    (``1``, ``1.0`` and ``true``; ``0.0`` and ``-0.0``; a list and a mapping), or None when
    it holds something else (with ``literal``, or a string an expression would substitute:
    ``$name``, ``${...}``).

    >>> _frozen({"k": 3, "pad": [1, True]}) == _frozen({"k": 3, "pad": [1, 1]})
    False
    >>> _frozen(["$w", 3]), _frozen(["$w", 3], literal=True)
    ((<class 'list'>, ((<class 'str'>, '$w'), (<class 'int'>, 3))), None)
    """
    kind = type(value)
    if kind is str and literal and value.startswith("$"):
        return None
    if kind is int or kind is str or kind is bool or value is None:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))
    if isinstance(value, list):
        items = tuple(_frozen(v, literal) for v in value)
        return None if None in items else (list, items)
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            kind = type(v)  # (the common case inline: a name and a plain value)
            pair = ((str, k) if type(k) is str else _frozen(k, literal),
                    (kind, v) if kind is int or kind is bool or (
                        kind is str and not (literal and v.startswith("$")))
                    else _frozen(v, literal))
            if pair[0] is None or pair[1] is None:
                return None
            pairs.append(pair)
        return (dict, tuple(pairs))
    return None


#: the frozen arguments of an op given none (see _frozen)
_NO_ARGS = (dict, ())


@dataclass(frozen=True)
class _Literal:
    """What a literal layer entry makes (see :meth:`Expander._literal_key`): its op class
    and op, the argument values it holds, and its bn/act shorthand rows (see _rows)."""

    op_cls: type[Op[Any]]
    op: Op[Any]
    values: int
    rows: tuple[tuple[str, str], ...]


def _rows(op: Op[Any]) -> tuple[tuple[str, str], ...]:
    """The shorthand rows an op's layer has: (``bn``, ``batchnorm``) for ``bn: true``,
    (``act``, its op) for an ``act:`` other than none."""
    given = vars(op.args)  # (getattr of a field a model lacks is slow in pydantic)
    bn, act = given.get("bn", False), given.get("act", "none")
    if not bn and act == "none":
        return ()
    return tuple((row, op_name) for row, op_name in (
        ("bn", "batchnorm" if bn else "none"), ("act", act)) if op_name != "none")


def _check_arity(op_cls: type[Op[Any]], op_name: str, entry: MDict, inputs: tuple[str, ...],
                 loc: Loc) -> None:
    """``op_name`` (its class ``op_cls``) takes as many inputs as the entry gives it."""
    lo, hi = op_cls.arity
    if not lo <= len(inputs) <= (hi if hi is not None else len(inputs)):
        want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
        raise SpecError(f"{op_name} takes {want} input{'s' if want != '1' else ''}, "
                        f"got {len(inputs)}", loc=entry.val_loc.get("in", loc))


def _arg_locs(entry: MDict | None, defaults: Any) -> dict[str, Loc]:
    """Where each argument of an op's layer is written: the op's ``defaults`` in scope, then
    the entry's own (not its ``id``/``op``/``in``/...)."""
    out: dict[str, Loc] = {}
    if defaults:
        val_locs = getattr(defaults, "val_loc", {})
        out = {key: val_locs[key] for key in defaults if key in val_locs}
    if entry:
        val_locs = getattr(entry, "val_loc", {})
        own = {key: val_locs[key] for key in entry if key not in _META and key in val_locs}
        if not out:
            return own
        out.update(own)
    return out


def _written_elsewhere(entry: MDict, at: Loc | None) -> tuple[str, ...]:
    """A note when an error inside a layer points at text written elsewhere: the anchor of
    the alias (``- *c``) the layer is, or the mapping merged in with ``<<:``."""
    if at is None:
        return ()
    via = entry.via
    if via is not None and at != via:
        return (f"this layer is the alias at line {via.line}, column {via.col}",)
    merged = getattr(entry, "merged", {})
    for key, merge_loc in merged.items():
        if entry.val_loc.get(key) == at:
            return (f"'{key}' is merged into this layer by the << at line {merge_loc.line}, "
                    f"column {merge_loc.col}",)
    return ()


def _written(value: Any) -> str:
    """A value as a spec would write it: ``3``, ``'yes'``, ``null``, ``[1, 2]``."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return shown(value)
    return shown(repr(list(value) if isinstance(value, list) else value), quote="")


def _chain(names: tuple[str, ...]) -> str:
    """``a -> b -> ... -> z`` with at most six names shown."""
    parts = [shown(n, 40, quote="") for n in names]
    if len(parts) > 6:
        parts = [*parts[:3], f"... ({len(parts) - 6:,} more)", *parts[-3:]]
    return " -> ".join(parts)


def expand(spec: Spec, raw: MDict, limits: Limits = DEFAULT_LIMITS,
           args: Mapping[str, Any] | None = None) -> tuple[list[Node], str]:
    """Expand ``spec`` (validated) whose marked document is ``raw``; ``args`` are the
    values of the spec's top-level args: (see :mod:`cnncalc.spec.family`)."""
    return Expander(spec, raw, limits, args).run()
