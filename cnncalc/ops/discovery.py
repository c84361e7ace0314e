"""Finding the ops: every module of every family folder, ``cnncalc/ops/FAMILY/*.py``, in an
order of its own (never the file system's listing order), and which of them are op modules,
read from their text without importing any (the registry imports an op's module when the
op is first used).  A new op is a new file in a family folder: nothing lists it.

>>> family_rank("conv") < family_rank("pool") < family_rank("a_new_family")
True
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

#: each family folder -> the title of its section of docs/ops.md, in the order docs/ops.md
#: and ``cnncalc ops`` list the families.  The one place a new family folder is named: a
#: folder missing here is still found (after these, by name), but docs/ops.md refuses it
FAMILIES = {"conv": "Convolutions", "pool": "Pooling", "lenet": "LeNet-5 layers",
            "linear": "Fully connected", "activation": "Activations",
            "norm": "Normalisation", "merge": "Merges", "reshape": "Reshaping and pass-through"}


#: the decorator line of a registered op class
_REGISTER = re.compile(rb"^@register[ \t]*\r?$", re.MULTILINE)


def family_rank(family: str) -> tuple[int, str]:
    """Where ``family`` comes: its place in :data:`FAMILIES`, an unknown one after them."""
    order = list(FAMILIES)
    return (order.index(family) if family in FAMILIES else len(order), family)


def _names(folder: str) -> list[tuple[str, bool]]:
    """(name, is a folder) of each entry of ``folder``, in the file system's order."""
    with os.scandir(folder) as entries:
        return [(entry.name, entry.is_dir()) for entry in entries]


def family_folders(root: str) -> list[str]:
    """The family folders of ``root`` (its sub-packages), in :func:`family_rank` order."""
    found = [name for name, is_dir in _names(root)
             if is_dir and os.path.isfile(os.path.join(root, name, "__init__.py"))]
    return sorted(found, key=family_rank)


def _is_module(name: str) -> bool:
    """A ``.py`` file Python can import by name (not ``__init__``, not an editor's
    ``.#conv.py`` lock or a ``conv copy.py``)."""
    stem = name.removesuffix(".py")
    return name.endswith(".py") and stem.isidentifier() and stem != "__init__"


def family_modules(root: str) -> tuple[str, ...]:
    """Every module below ``root``'s family folders as ``family.module``: the families in
    :func:`family_rank` order, the modules of each by name.  The shared helpers are among
    them: :func:`op_modules` tells the op modules apart.

    >>> from pathlib import Path
    >>> mods = family_modules(str(Path(__file__).parent))
    >>> mods.index("conv.conv") < mods.index("pool.maxpool") < mods.index("reshape.slice")
    True
    """
    modules = []
    for family in family_folders(root):
        names = sorted(name.removesuffix(".py")
                       for name, is_dir in _names(os.path.join(root, family))
                       if not is_dir and _is_module(name))
        modules += [f"{family}.{name}" for name in names]
    return tuple(modules)


def registers_an_op(path: str) -> bool:
    """The file registers a class with ``@register`` (a line of its own above the class):
    what makes a module an op module, read without importing it."""
    with open(path, "rb") as source:
        return _REGISTER.search(source.read()) is not None


def op_modules(root: str, tables: Sequence[str] = ()) -> tuple[str, ...]:
    """The op modules among :func:`family_modules`, in its order: each file that registers
    its op with ``@register`` (the op named after the file), and each of ``tables`` (a
    module registering several ops).  The shared helpers (``pool.window_pool``) register
    none: they are imported by the ops that use them.

    >>> from pathlib import Path
    >>> mods = op_modules(str(Path(__file__).parent), ("activation.table",))
    >>> "pool.maxpool" in mods, "pool.window_pool" in mods, "activation.table" in mods
    (True, False, True)
    """
    return tuple(m for m in family_modules(root)
                 if m in tables or registers_an_op(os.path.join(root, *m.split(".")) + ".py"))
