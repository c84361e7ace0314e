"""Listings: ``cnncalc ops`` (the op registry, one op's details) and ``cnncalc zoo``.

They render plain dicts (``cnncalc.ops.op_info`` and the zoo entries the CLI builds),
so the JSON of these commands is those dicts as they are.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import units
from .text import csv_text, markdown_table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Group
    from rich.table import Table


def default_text(value: Any) -> str:
    """A default as it would be written in YAML: ``1``, ``false``, ``none``, ``[1, 1]``."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def args_brief(info: dict[str, Any]) -> str:
    """``out, k, stride=1, pad=0, ...``: required arguments first, then defaults."""
    req = [a["name"] for a in info["args"] if a["required"]]
    opt = [f"{a['name']}={default_text(a['default'])}" for a in info["args"] if not a["required"]]
    return ", ".join(req + opt)


def plain_cells(row: list[str]) -> list[Any]:
    """Cells as rich Text, so that ``list[int]`` is not read as console markup."""
    from rich.text import Text

    from ..safe import safe_text

    return [Text(safe_text(str(c))) for c in row]


# ------------------------------------------------------------------------ ops
def ops_rows(infos: list[dict[str, Any]]) -> list[list[str]]:
    return [[i["name"], i["family"], i["summary"], args_brief(i)] for i in infos]


OPS_HEADER = ["op", "family", "summary", "arguments"]


def ops_table(infos: list[dict[str, Any]]) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("op", style="cyan", no_wrap=True)
    table.add_column("family", no_wrap=True)
    table.add_column("summary", ratio=3)
    table.add_column("arguments", ratio=2, style="dim")
    for row in ops_rows(infos):
        table.add_row(*plain_cells(row))
    return table


def ops_markdown(infos: list[dict[str, Any]]) -> str:
    rows = [[f"`{r[0]}`", r[1], r[2], r[3]] for r in ops_rows(infos)]
    return markdown_table(OPS_HEADER, rows) + "\n"


def ops_csv(infos: list[dict[str, Any]]) -> str:
    return csv_text(OPS_HEADER, ops_rows(infos))


def arg_rows(info: dict[str, Any]) -> list[list[str]]:
    return [[a["name"], a["type"], "required" if a["required"] else default_text(a["default"])]
            for a in info["args"]]


ARG_HEADER = ["argument", "type", "default"]


def op_detail(info: dict[str, Any]) -> Group:
    """One op: its summary, arity, argument table and formulas."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text.assemble((info["name"], "bold cyan"), f"  ({info['family']})  ", info["summary"])
    parts: list[Any] = [head, Text(_arity(info), style="dim")]
    args = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for h in ARG_HEADER:
        args.add_column(h, style="cyan" if h == "argument" else None)
    for row in arg_rows(info):
        args.add_row(*plain_cells(row))
    parts.append(args if info["args"] else Text("no arguments", style="dim"))
    if info.get("formulas"):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for key, text in info["formulas"].items():
            grid.add_row(*plain_cells([key, text]))
        parts += [Text("formulas", style="bold underline"), grid]
    return Group(*parts)


def _arity(info: dict[str, Any]) -> str:
    lo, hi = info.get("arity", (1, 1))
    if hi is None:
        return f"inputs: {lo} or more"
    return f"inputs: {lo}" if lo == hi else f"inputs: {lo} to {hi}"


def op_markdown(info: dict[str, Any]) -> str:
    lines = [f"### `{info['name']}` ({info['family']})", "", info["summary"], "",
             _arity(info), "", markdown_table(ARG_HEADER, arg_rows(info))]
    if info.get("formulas"):
        lines += ["", markdown_table(["figure", "formula"], list(info["formulas"].items()))]
    return "\n".join(lines) + "\n"


def op_csv(info: dict[str, Any]) -> str:
    return csv_text(ARG_HEADER, arg_rows(info))


# ------------------------------------------------------------------------ zoo
ZOO_HEADER = ["name", "family", "title", "input", "output", "params", "MACs"]


def zoo_rows(entries: list[dict[str, Any]], exact: bool) -> list[list[str]]:
    rows = []
    for e in entries:
        family = e.get("family") or ""
        if e.get("error"):
            rows.append([e["name"], family, e.get("title") or "", "", "", "error", e["error"]])
            continue
        rows.append([e["name"], family, e["title"], units.shape_str(e["input_shape"]),
                     units.shape_str(e["output_shape"]), units.human(e["params"], exact),
                     units.human(e["macs"], exact)])
    return rows


def zoo_table(entries: list[dict[str, Any]], exact: bool = False) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    for h in ZOO_HEADER:
        table.add_column(h, justify="right" if h in ("params", "MACs") else "left",
                         style="cyan" if h == "name" else None, no_wrap=h != "title")
    for row in zoo_rows(entries, exact):
        table.add_row(*plain_cells(row))
    return table


def zoo_markdown(entries: list[dict[str, Any]], exact: bool = False) -> str:
    right = [False, False, False, False, False, True, True]
    return markdown_table(ZOO_HEADER, zoo_rows(entries, exact), right) + "\n"


def zoo_csv(entries: list[dict[str, Any]]) -> str:
    header = ["name", "family", "title", "input_shape", "output_shape", "params",
              "trainable_params", "macs", "error"]
    rows = [[e["name"], e.get("family") or "", e.get("title") or "",
             units.shape_str(e.get("input_shape") or []),
             units.shape_str(e.get("output_shape") or []), e.get("params", ""),
             e.get("trainable_params", ""), e.get("macs", ""), e.get("error") or ""]
            for e in entries]
    return csv_text(header, rows)
