"""The registry's mapping: op name -> op class, each op's module imported when the op is
first looked up.

A run that reads a ResNet needs 8 of the 31 op modules; importing all of them (each op's
pydantic argument model, its dataclasses) cost more than the analysis itself.  The names
are known without importing anything, because an op lives in the file named after it
(``cnncalc/ops/<family>/<op name>.py``, held by tests/test_ops_layout.py); a module that
holds a table of ops (the simple activations) is imported whenever one of its names may
be asked for.  Iteration is in registration order (the order of :data:`OP_MODULES
<cnncalc.ops.OP_MODULES>`), importing as it goes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .base import Op


class Registry(Mapping[str, "type[Op[Any]]"]):
    """Op name -> op class; :meth:`declare` says where the ops live, :meth:`add` (by
    :func:`cnncalc.ops.base.register`) records one as its module is imported."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Op[Any]]] = {}
        self._package = ""
        self._modules: tuple[str, ...] = ()
        #: op name -> the module named after it
        self._named: dict[str, str] = {}
        self._single: set[str] = set()
        #: the modules that register several ops, not yet imported
        self._tables: list[str] = []

    def declare(self, package: str, modules: Sequence[str], tables: Sequence[str]) -> None:
        """The op modules below ``package``, in registration order; ``tables`` among them
        register several ops each, the others the op of their file name."""
        self._package, self._modules = package, tuple(modules)
        self._named = {m.rpartition(".")[2]: m for m in modules if m not in tables}
        self._single = set(self._named.values())
        self._tables = [m for m in modules if m in tables]

    def add(self, cls: type[Op[Any]]) -> None:
        """Record ``cls`` (:func:`~cnncalc.ops.base.register` has checked its name is free)."""
        self._classes[cls.name] = cls

    def registered(self, name: str) -> bool:
        """Whether ``name``'s class is registered already (nothing is imported)."""
        return name in self._classes

    def __getitem__(self, name: str) -> type[Op[Any]]:
        cls = self._classes.get(name)
        if cls is None:
            self._load(name)
            cls = self._classes[name]  # a KeyError: no op of that name
        return cls

    def __contains__(self, name: object) -> bool:
        if name in self._classes or name in self._named:
            return True
        self._import_tables()
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        self._import_tables()
        listed = set()
        for module in self._modules:
            if module in self._single:
                names = [module.rpartition(".")[2]]
            else:
                full = f"{self._package}.{module}"
                names = [n for n, c in self._classes.items() if c.__module__ == full]
            listed.update(names)
            yield from names
        yield from [n for n in self._classes if n not in listed]  # registered elsewhere

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _load(self, name: str) -> None:
        module = self._named.get(name)
        if module is not None:
            importlib.import_module(f".{module}", self._package)
        else:
            self._import_tables()

    def _import_tables(self) -> None:
        while self._tables:
            importlib.import_module(f".{self._tables[0]}", self._package)
            self._tables.pop(0)
