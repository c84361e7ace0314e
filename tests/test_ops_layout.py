"""An op is one class in one file: ``cnncalc/ops/FAMILY/NAME.py`` holds the op ``NAME`` and
no other (the simple activations, one generated class per row of a table, excepted), and
``cnncalc.ops.OP_MODULES`` lists every op's module in registration order."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

import cnncalc.ops
from cnncalc.ops import OP_MODULES, REGISTRY

OPS = Path(cnncalc.ops.__file__).resolve().parent
#: the module whose ops are generated, one class per row of its table
TABLE = "activation.table"


def layout_problems(ops: Iterable[tuple[str, str]]) -> list[str]:
    """What breaks the rule among ``(op name, module below cnncalc.ops)`` pairs: an op
    outside a file named after it, a file with two ops."""
    problems, seen = [], {}
    for name, module in ops:
        if module != TABLE and module.rpartition(".")[2] != name:
            problems.append(f"op {name!r} lives in {module}, not in a file named after it")
        if module != TABLE and module in seen:
            problems.append(f"{module} holds {seen[module]!r} and {name!r}")
        seen.setdefault(module, name)
    return problems


def _module(cls: type) -> str:
    return cls.__module__.removeprefix("cnncalc.ops.")


def test_each_op_has_a_file_named_after_it() -> None:
    assert layout_problems((n, _module(c)) for n, c in REGISTRY.items()) == []


@pytest.mark.parametrize(("ops", "found"), [
    ([("conv", "conv.conv"), ("local", "conv.conv")], "holds 'conv' and 'local'"),
    ([("maxpool", "pool.pools")], "not in a file named after it"),
])
def test_the_layout_check_can_fail(ops: list[tuple[str, str]], found: str) -> None:
    problems = layout_problems(ops)
    assert any(found in p for p in problems), problems


def test_ops_register_in_the_order_of_op_modules() -> None:
    """docs/ops.md and `cnncalc ops` list the ops in registration order; it is the order
    of OP_MODULES, every listed module registering at least one op."""
    modules = list(dict.fromkeys(_module(c) for c in REGISTRY.values()))
    assert modules == list(OP_MODULES)


def test_every_file_that_registers_an_op_is_listed() -> None:
    """A file with ``@register`` left out of OP_MODULES would silently register nothing."""
    found = set()
    for path in OPS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if "register" in uses and path.parent != OPS:
            found.add(".".join(path.relative_to(OPS).with_suffix("").parts))
    assert found == set(OP_MODULES)


def test_the_generated_activations_come_from_the_table() -> None:
    generated = [n for n, c in REGISTRY.items() if _module(c) == TABLE]
    assert "relu" in generated and "leaky_relu" not in generated
