"""Captured entries -> a readable spec: the ``bn``/``act`` shorthand where a norm and an
activation follow a layer, ``in:`` written only where an entry does not read the previous
one, op defaults left out, runs of identical sub-modules folded into a block with
``repeat``, and torch's BatchNorm settings shared through ``defaults:``.

The result is YAML text that :func:`cnncalc.loads` reads back as it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..ops import get_op
from .capture import Entry, as_name

#: names a block cannot take: an op's (``op: conv`` could not tell them apart) or a key
META_NAMES = ("id", "op", "in", "repeat", "if", "args")
#: the ops the ``bn``/``act`` shorthand can follow (cnncalc's Shorthand argument models)
SHORTHAND_OWNERS = ("conv", "conv_transpose", "local", "linear", "subsample")
#: activations the ``act:`` shorthand names (argument-free ones)
ACT_SHORTHAND = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "elu", "hardswish",
                 "hardsigmoid", "mish", "softplus")


@dataclass
class Row:
    """One written entry: an :class:`Entry` with the shorthand rows it absorbed."""

    entry: Entry
    bn: Entry | None = None
    act: Entry | None = None
    #: the op arguments as written (defaults left out)
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def ins(self) -> list[str]:
        return self.entry.ins


@dataclass
class Imported:
    """A captured model, ready to write: rows, output id, and which source tensors each
    spec row's module holds (for :func:`cnncalc.copy_weights`)."""

    rows: list[Row]
    output: str
    defaults: dict[str, dict[str, Any]]
    #: spec row id (``layer1_0_conv1``, ``layer1_0_conv1.bn``) -> {built name: source path}
    tensors: dict[str, dict[str, str]]


def _written_args(op: str, args: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``args`` without the values the op (or ``defaults:``) would give anyway (a pool's
    stride equal to its kernel included)."""
    fields = get_op(op).Args.model_fields
    out = {}
    for name, value in args.items():
        if name == "stride" and op in ("maxpool", "avgpool") and value == args.get("k"):
            continue
        field_info = fields.get(name)
        default = defaults.get(name, field_info.default if field_info is not None else None)
        if field_info is not None and not field_info.is_required() and value == default:
            continue
        out[name] = value
    return out


def _bn_defaults(entries: Sequence[Entry]) -> dict[str, Any]:
    """The BatchNorm settings most of the model's batch norms share, when they are not
    torch's own (GoogLeNet's eps 0.001): written once under ``defaults:``."""
    seen = Counter(tuple(sorted(e.args.items())) for e in entries if e.op == "batchnorm")
    if not seen:
        return {}
    common = dict(seen.most_common(1)[0][0])
    fields = get_op("batchnorm").Args.model_fields
    return {k: v for k, v in common.items() if fields[k].default != v}


def arrange(entries: list[Entry], output: str) -> Imported:
    """Fold the shorthand and rename what it absorbed (see the module docstring)."""
    readers = Counter(i for e in entries for i in e.ins)
    readers[output] += 1
    shared = _bn_defaults(entries)
    defaults = {"batchnorm": shared} if shared else {}
    bn_default = {**{k: f.default for k, f in get_op("batchnorm").Args.model_fields.items()},
                  **defaults.get("batchnorm", {})}
    rows: list[Row] = []
    alias: dict[str, str] = {}
    tensors: dict[str, dict[str, str]] = {}
    i = 0
    while i < len(entries):
        entry = entries[i]
        entry.ins = [alias.get(x, x) for x in entry.ins]
        row = Row(entry)
        i = _absorb_shorthand(row, entries, i + 1, readers, bn_default)
        for absorbed in (row.bn, row.act):
            if absorbed is not None:
                alias[absorbed.id] = entry.id
        row.args = _written_args(entry.op, entry.args, {})
        rows.append(row)
        tensors[entry.id] = dict(entry.tensors)
        if row.bn is not None:
            tensors[f"{entry.id}.bn"] = dict(row.bn.tensors)
    return Imported(rows, alias.get(output, output), defaults, tensors)


def _absorb_shorthand(row: Row, entries: Sequence[Entry], i: int, readers: Counter[str],
                      bn_default: dict[str, Any]) -> int:
    """Take the batch norm (with the shared settings) and then the argument-free activation
    that follow ``row``'s layer at ``entries[i]`` into its ``bn``/``act`` shorthand, where
    nothing else reads what they read; the index of the next entry."""
    entry = row.entry
    if entry.op not in SHORTHAND_OWNERS or entry.args.get("axis", -1) != -1:
        return i
    last = entry.id
    if i < len(entries) and _follows(entries[i], last, readers) and \
            entries[i].op == "batchnorm" and entries[i].args == \
            {k: bn_default[k] for k in entries[i].args}:
        row.bn = entries[i]
        last = entries[i].id
        i += 1
    if i < len(entries) and _follows(entries[i], last, readers) and \
            entries[i].op in ACT_SHORTHAND and not entries[i].args:
        row.act = entries[i]
        i += 1
    return i


def _follows(entry: Entry, previous: str, readers: Counter[str]) -> bool:
    """``entry`` reads only ``previous``, and nothing else reads ``previous``."""
    return entry.ins == [previous] and readers[previous] == 1


# ---------------------------------------------------------------------- writing
def _value(value: Any) -> str:
    """A YAML flow value (JSON is YAML; floats keep their repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "inf" in text) else text + ".0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and value not in (
            "true", "false", "null", "yes", "no", "on", "off", "y", "n") else json.dumps(value)
    return str(value)


def _flow(items: Iterable[tuple[str, Any]]) -> str:
    return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in items) + "}"


def _layer_line(row: Row, previous: str, ids: dict[str, str]) -> str:
    items: list[tuple[str, Any]] = [("id", ids.get(row.id, row.id)), ("op", row.entry.op)]
    items += list(row.args.items())
    if row.bn is not None:
        items.append(("bn", True))
    if row.act is not None:
        items.append(("act", row.act.op))
    ins = [ids.get(x, x) for x in row.ins]
    if ins != [previous]:
        items.insert(2, ("in", ins[0] if len(ins) == 1 else ins))
    return _flow(items)


def write(imported: Imported, input_shape: Sequence[int], name: str,
          description: str | None = None) -> str:
    """The spec's YAML text."""
    lines = ["cnncalc: 1", f"name: {json.dumps(name)}"]
    if description:
        lines.append(f"description: {json.dumps(description)}")
    lines.append(f"input: {_value(list(input_shape))}")
    if imported.defaults:
        lines.append("defaults:")
        for op, values in imported.defaults.items():
            lines.append(f"  {op}: {_flow(values.items())}")
    blocks, body, _ = fold(imported.rows)
    if blocks:
        lines.append("blocks:")
        for block in blocks:
            lines += block
    lines.append("layers:")
    lines += body
    last = imported.rows[-1].id if imported.rows else "input"
    if imported.output != last:
        lines.append(f"output: {imported.output}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- folding
@dataclass
class _Group:
    """Consecutive rows under one module path (``layer1.1``) reading one outside input."""

    prefix: str
    rows: list[Row]
    input: str
    signature: tuple[Any, ...]


def _local(row_id: str, local: str) -> str:
    """A row's id inside its block: without the block's prefix, and a name (``0_conv`` ->
    ``m0_conv``, as module paths starting with a digit are written)."""
    name = row_id[len(local):]
    return "input_" if name == "input" else as_name(name)  # input: the block's input


def _id_prefix(module_path: str) -> str:
    return as_name(module_path) + "_"


def _groups(rows: list[Row]) -> list[_Group | Row]:
    """Split ``rows`` into groups of numbered sub-modules (``features.3``, ``layer1.1``)
    where each reads one outside input and only its last row is read outside."""
    out: list[_Group | Row] = []
    i = 0
    while i < len(rows):
        scope = rows[i].entry.scope or ""
        prefix = _indexed_prefix(scope)
        if prefix is None:
            out.append(rows[i])
            i += 1
            continue
        j = i
        while j < len(rows) and _indexed_prefix(rows[j].entry.scope or "", prefix) == prefix:
            j += 1
        group = _make_group(prefix, rows[i:j], rows[j:])
        if group is None:
            out.extend(rows[i:j])
        else:
            out.append(group)
        i = j
    return out


def _indexed_prefix(scope: str, want: str | None = None) -> str | None:
    """The first ``a.b.N`` (N a number) prefix of a module path, or ``want`` if the path
    lies under it."""
    if want is not None:
        return want if scope == want or scope.startswith(want + ".") else None
    parts = scope.split(".")
    for k in range(1, len(parts)):
        if parts[k].isdigit() and k + 1 < len(parts):
            return ".".join(parts[:k + 1])
    return None


def _make_group(prefix: str, rows: list[Row], after: list[Row]) -> _Group | None:
    ids = {r.id for r in rows}
    outside = {x for r in rows for x in r.ins if x not in ids}
    if len(outside) != 1 or len(rows) < 2:
        return None
    if any(x in ids and x != rows[-1].id for r in after for x in r.ins):
        return None
    local = _id_prefix(prefix)
    if not all(r.id.startswith(local) for r in rows):
        return None
    (source,) = outside
    sig = tuple((r.entry.op, tuple(sorted((k, _hashable(v)) for k, v in r.args.items())),
                 r.bn is not None, r.act.op if r.act else None, _local(r.id, local),
                 tuple("input" if x == source else _local(x, local) for x in r.ins))
                for r in rows)
    return _Group(prefix, rows, source, sig)


def fold_ids(rows: list[Row]) -> dict[str, str]:
    """Each row's id (and its ``.bn`` row's) in the written spec, where folding renamed
    it (``layer1_1_conv1`` -> ``layer1_1_to_2[0].conv1``)."""
    return fold(rows)[2]


def _hashable(value: Any) -> Any:
    """``value`` with its lists as tuples (a signature is a dict key)."""
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _numeric(value: Any) -> bool:
    """A value a block argument can stand for: a number or a list of numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(_numeric(v) for v in value)


def _shape_sig(group: _Group) -> tuple[Any, ...]:
    """The group's structure with its numbers left out (ResNet's stages share one)."""
    return tuple((op, tuple((k, "#" if _numeric(v) else v) for k, v in args), *rest)
                 for op, args, *rest in group.signature)


def _values(group: _Group) -> dict[tuple[str, str], Any]:
    """(row's local id, argument) -> value, for every numeric argument of the group."""
    local = _id_prefix(group.prefix)
    return {(_local(r.id, local), k): v for r in group.rows for k, v in r.args.items()
            if _numeric(v)}


@dataclass
class _Block:
    """A block definition: its name, the arguments its calls give, by position."""

    name: str
    group: _Group
    #: argument name -> the (local id, op argument) positions it stands for
    args: dict[str, list[tuple[str, str]]]


def _define(name: str, groups: Sequence[_Group]) -> _Block:
    """A block for ``groups`` (one structure): the numbers that differ between them become
    arguments; numbers that always differ together share one (``out`` of a block's
    convolutions)."""
    values = [_values(g) for g in groups]
    columns: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for key in values[0]:
        column = tuple(repr(v[key]) for v in values)
        if len(set(column)) > 1:
            columns.setdefault(column, []).append(key)
    args: dict[str, list[tuple[str, str]]] = {}
    for keys in columns.values():
        names = {arg for _, arg in keys}
        arg = names.pop() if len(names) == 1 and len(keys) > 1 else _arg_name(*keys[0])
        if arg in args or arg in RESERVED_ARG_NAMES:
            arg = _arg_name(*keys[0])
        while arg in args:
            arg += "_"
        args[arg] = keys
    return _Block(name, groups[0], args)


#: names a block argument cannot take: a layer entry's keys, and the input-shape names that
#: expressions read (``in_channels``)
RESERVED_ARG_NAMES = (*META_NAMES, "input", "in_channels", "in_shape", "input_channels",
                      "input_shape")


def _arg_name(local_id: str, arg: str) -> str:
    """``conv3`` + ``out`` -> ``conv3_out``; a name never starts with a digit
    (``0_block_0`` + ``out`` -> ``m0_block_0_out``, as ids are written)."""
    return as_name(f"{local_id}_{arg}")


def fold(rows: list[Row]) -> tuple[list[list[str]], list[str], dict[str, str]]:
    """Block definitions, the ``layers:`` lines and the renamed ids.  Groups of one
    structure (ResNet's residual blocks, MobileNet's inverted residuals) share a block whose
    arguments are the numbers that differ; a run of identical consecutive groups is one
    call with ``repeat``.  A structure seen once stays written out."""
    folder = _Folder([_copy_row(r) for r in rows])
    i = 0
    while i < len(folder.items):
        i = folder.write_item(i)
    return folder.block_lines, folder.body, folder.renamed


def _copy_row(row: Row) -> Row:
    """``row`` with its own entry (folding rewrites the entries' inputs)."""
    e = row.entry
    return Row(Entry(e.id, e.op, e.args, list(e.ins), e.source, e.tensors, e.scope, e.classes),
               row.bn, row.act, row.args)


def _by_shape(items: Sequence[_Group | Row]) -> dict[tuple[Any, ...], list[_Group]]:
    """The groups of each structure (:func:`_shape_sig`), in order."""
    by_shape: dict[tuple[Any, ...], list[_Group]] = {}
    for item in items:
        if isinstance(item, _Group):
            by_shape.setdefault(_shape_sig(item), []).append(item)
    return by_shape


def _run_from(first: _Group, rest: Sequence[_Group | Row]) -> list[_Group]:
    """``first`` and the groups of ``rest`` after it that repeat it exactly, each reading
    the one before."""
    run: list[_Group] = [first]
    for nxt in rest:
        if not (isinstance(nxt, _Group) and nxt.signature == first.signature
                and nxt.input == run[-1].rows[-1].id):
            break
        run.append(nxt)
    return run


class _Folder:
    """The state of one :func:`fold`: the items still to write, the blocks defined, the
    lines written, the ids renamed, and the id the next line reads by default."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.items = _groups(rows)
        self.by_shape = _by_shape(self.items)
        self.blocks: dict[tuple[Any, ...], _Block] = {}
        self.block_lines: list[list[str]] = []
        self.body: list[str] = []
        self.renamed: dict[str, str] = {}
        self.previous = "input"

    def write_item(self, i: int) -> int:
        """Write ``items[i]`` (and the run it starts); the index of the next item."""
        item = self.items[i]
        if isinstance(item, Row):
            self.write_row(item)
            return i + 1
        run = _run_from(item, self.items[i + 1:])
        if len(run) == 1 and len(self.by_shape[_shape_sig(item)]) == 1:
            for row in item.rows:  # a structure seen once: written out
                self.write_row(row)
            return i + 1
        self.write_call(run, i + len(run))
        return i + len(run)

    def write_row(self, row: Row) -> None:
        self.body.append("  - " + _layer_line(row, self.previous, {}))
        self.previous = row.id

    def write_call(self, run: list[_Group], after: int) -> None:
        """One call of the run's block (defined on first use), ``repeat`` for a run."""
        item = run[0]
        block = self.block_of(item)
        call_id = _call_id(run, self.rows) if len(run) > 1 else _id_prefix(item.prefix)[:-1]
        given = _values(item)
        items: list[tuple[str, Any]] = [("id", call_id), ("op", block.name)]
        items += [(arg, given[keys[0]]) for arg, keys in block.args.items()]
        if len(run) > 1:
            items.append(("repeat", len(run)))
        if item.input != self.previous:
            items.insert(2, ("in", item.input))
        self.body.append("  - " + _flow(items))
        self.rename(run, call_id)
        self.reroute(run[-1].rows[-1].id, call_id, after)
        self.previous = call_id

    def block_of(self, group: _Group) -> _Block:
        """The block of the group's structure, defined (and its lines written) once."""
        shape = _shape_sig(group)
        block = self.blocks.get(shape)
        if block is None:
            name = _block_name(group, {k: b.name for k, b in self.blocks.items()})
            block = _define(name, self.by_shape[shape])
            self.blocks[shape] = block
            self.block_lines.append(_block_lines(block))
        return block

    def rename(self, run: list[_Group], call_id: str) -> None:
        """Each folded row's id (and its ``.bn`` row's) inside the call."""
        for k, group in enumerate(run):
            local = _id_prefix(group.prefix)
            copy = f"{call_id}[{k}]" if len(run) > 1 else call_id
            for row in group.rows:
                self.renamed[row.id] = f"{copy}.{_local(row.id, local)}"
                if row.bn is not None:
                    self.renamed[f"{row.id}.bn"] = f"{self.renamed[row.id]}.bn"

    def reroute(self, out_id: str, call_id: str, after: int) -> None:
        """Later items read the call where they read the run's last row."""
        for later in self.items[after:]:
            if isinstance(later, _Group) and later.input == out_id:
                later.input = call_id
            for row in (later.rows if isinstance(later, _Group) else [later]):
                row.entry.ins = [call_id if x == out_id else x for x in row.entry.ins]


def _call_id(run: Sequence[_Group], rows: Sequence[Row]) -> str:
    """The id of a folded run: its parent module's (``layer1``) when the run is all of
    that container, else ``layer1_1_to_2`` (its first and last copies)."""
    parent, _, first = run[0].prefix.rpartition(".")
    inside = {id(r) for g in run for r in g.rows}
    whole = first == "0" and not any(
        id(r) not in inside and (r.entry.scope or "").startswith(parent + ".") for r in rows)
    if whole:
        return _id_prefix(parent)[:-1]
    return _id_prefix(run[0].prefix) + f"to_{run[-1].prefix.rsplit('.', 1)[-1]}"


def _block_name(group: _Group, taken: dict[tuple[Any, ...], str]) -> str:
    """The block's name: its torch class's, in snake case (``Bottleneck`` ->
    ``bottleneck``, ``InvertedResidual`` -> ``inverted_residual``), numbered when one class
    folds into several structures (widths differ per stage)."""
    cls = group.rows[0].entry.classes.get(group.prefix, "")
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls).lower()
    base = re.sub(r"\W", "_", snake) if snake and snake[0].isalpha() else \
        "block_" + re.sub(r"\W", "_", group.prefix.rsplit(".", 1)[0].replace(".", "_"))
    from ..ops import REGISTRY

    if base in ("input", *META_NAMES) or base in REGISTRY:
        base = f"{base}_block"
    name, n = base, 1
    while name in taken.values():
        n += 1
        name = f"{base}_{n}"
    return name


def _block_lines(block: _Block) -> list[str]:
    group = block.group
    local = _id_prefix(group.prefix)
    ids = {r.id: _local(r.id, local) for r in group.rows} | {group.input: "input"}
    by_position = {key: arg for arg, keys in block.args.items() for key in keys}
    lines = [f"  {block.name}:"]
    if block.args:
        lines.append("    args: [" + ", ".join(block.args) + "]")
    lines.append("    layers:")
    previous = "input"
    for row in group.rows:
        own = ids[row.id]
        args = {k: (f"${by_position[(own, k)]}" if (own, k) in by_position else v)
                for k, v in row.args.items()}
        written = Row(row.entry, row.bn, row.act, args)
        lines.append("      - " + _layer_line(written, previous, ids))
        previous = own
    return lines
