"""The command map (:data:`cnncalc.cli.COMMANDS`: which module of ``cnncalc/cli/`` defines
which command, in help order), derived from the command modules themselves.

``main`` imports only the module of the command it runs, so it must know that module
without importing them all: it reads the map from :mod:`cnncalc.cli.commands`, a file
GENERATED from this module by ``python -m cnncalc.cli.command_map`` (``--check``: only say
whether it is stale; tests/test_startup.py runs that check).  Adding a command is then
writing it, and regenerating.

A command belongs to the module its function is defined in (a group, ``solve``, to the
module of its commands).  Modules keep the order the current map gives them (the help
order); a module new to the map comes after them, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..generated import write_or_check

if TYPE_CHECKING:  # pragma: no cover
    from typer.models import CommandInfo, TyperInfo

#: the generated module (beside this one)
GENERATED = Path(__file__).with_name("commands.py")
#: the modules of the package that define no command
NOT_COMMANDS = frozenset({"base", "common", "shapes", "command_map", "commands"})
#: lines of the generated file
WIDTH = 100

HEADER = '''"""The command map of :mod:`cnncalc.cli`, GENERATED from the command modules by
``python -m cnncalc.cli.command_map``: do not edit (a test says when it is stale)."""

#: command modules, in help order, and the commands each defines
COMMANDS: dict[str, tuple[str, ...]] = {
'''


def derive(order: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Import every module of ``cnncalc.cli`` and map each command module to the commands
    it defines, in definition order; modules in ``order`` first, as ordered there."""
    from . import __path__ as package_path
    from .base import app

    names = sorted(m.name for m in pkgutil.iter_modules(package_path)
                   if m.name not in NOT_COMMANDS)
    for name in names:
        importlib.import_module(f"{__package__}.{name}")
    found: dict[str, list[str]] = {}
    for command in app.registered_commands:
        found.setdefault(_module(command), []).append(_command_name(command))
    for group in app.registered_groups:
        found.setdefault(_group_module(group), []).append(str(group.name))
    modules = [m for m in order if m in found] + sorted(m for m in found if m not in order)
    return {module: tuple(found[module]) for module in modules}


def _module(command: CommandInfo) -> str:
    callback = command.callback
    return str(getattr(callback, "__module__", "")).rpartition(".")[2]


def _command_name(command: CommandInfo) -> str:
    """The name typer gives a registered command (``my_cmd`` -> ``my-cmd``)."""
    if command.name:
        return command.name
    return str(getattr(command.callback, "__name__", "")).lower().replace("_", "-")


def _group_module(group: TyperInfo) -> str:
    sub = group.typer_instance
    commands = sub.registered_commands if sub is not None else []
    if commands:
        return _module(commands[0])
    return str(getattr(group.callback, "__module__", "")).rpartition(".")[2]


def text(commands: dict[str, tuple[str, ...]]) -> str:
    """The generated module's source."""
    lines = [HEADER.rstrip("\n")]
    for module, names in commands.items():
        line = f"    {module!r}: ({', '.join(map(repr, names))}{',' if len(names) == 1 else ''}),"
        if len(line) <= WIDTH:
            lines.append(line.replace("'", '"'))
        else:
            lines.append(f'    "{module}": (')
            lines.extend(f'        "{name}",' for name in names)
            lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def current() -> dict[str, tuple[str, ...]]:
    """The map as derived now, modules in the committed map's order."""
    from .commands import COMMANDS

    return derive(tuple(COMMANDS))


def main(argv: list[str] | None = None) -> int:
    """``python -m cnncalc.cli.command_map [--check]``: write the map (or say if stale)."""
    args = sys.argv[1:] if argv is None else argv
    return write_or_check({GENERATED: text(current())}, "python -m cnncalc.cli.command_map",
                          args)


if __name__ == "__main__":
    raise SystemExit(main())
