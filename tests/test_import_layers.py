"""The import structure reads one way: working (text) <- ops <- graph / analysis <-
explain and the torch build.  No op imports what is built on the ops, not even inside a
function (that is how the old ops -> explain -> analysis -> ops circle was held together)."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnncalc"

#: the modules of cnncalc (first component below the package) in layers, lowest first: a
#: module imports only modules of lower layers, at any depth of code (the README's
#: "Imports run one way"). ``__init__`` is the public facade (the package root, which
#: Python runs before any submodule): a command may read a name from it.
LAYERS: tuple[frozenset[str], ...] = tuple(frozenset(layer.split()) for layer in (
    "safe suggest working generated collector",  # plain text: escaping, suggestions,
                                        # formula pieces; the generated files' writer; the
                                        # collector paused while many objects are built
    "errors units",                     # located errors; every number, shape and axis text
    "ops",                              # the op registry
    "graph report outputs",             # the layer graph; the report's records; output files
    "footprint",                        # a step's memory from bound layers (report.memory)
    "analysis peers diff",              # figures; what peers count; report differences
    "spec memory explain solve",        # loading specs; training memory; worked arithmetic
    "check schema_export",              # the CI gate; the JSON Schema
    "pytorch",                          # build, verify, export, profile, import
    "render",                           # every renderer
    "cli",                              # typer commands
    "__main__",
))
FACADE = "__init__"


def layer_of(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if module in layer)


def _imports(path: Path) -> set[str]:
    """The cnncalc modules ``path`` imports anywhere (top level, functions, TYPE_CHECKING),
    as their first component below cnncalc (``ops``, ``explain``, ...)."""
    found: set[str] = set()
    own = path.relative_to(PACKAGE).with_suffix("").parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(own[:len(own) - node.level])
            parts = base + (node.module.split(".") if node.module else [])
            if parts:
                found.add(parts[0])
            else:  # `from . import x` at the package root
                found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            found.update(n.split(".")[1] for n in names if n.startswith("cnncalc."))
    return found


@functools.cache
def _top_modules() -> dict[str, set[str]]:
    """Each first-level module of cnncalc -> the cnncalc modules its files import."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        found.setdefault(top, set()).update(_imports(path) - {top})
    return found


def test_every_module_has_a_layer() -> None:
    modules = set(_top_modules()) - {FACADE}
    placed = set().union(*LAYERS)
    assert modules == placed, (sorted(modules - placed), sorted(placed - modules))


@pytest.mark.parametrize("module", sorted(set(_top_modules()) - {FACADE}))
def test_each_module_imports_only_below_it(module: str) -> None:
    """No import runs against the layers' order, not even inside a function: that is how
    the old ops -> explain -> analysis -> ops circle was held together."""
    modules = set(_top_modules())
    above = sorted(m for m in _top_modules()[module]
                   if m in modules and m != FACADE and layer_of(m) >= layer_of(module))
    assert not above, f"cnncalc.{module} imports {above} (same layer or above)"


def test_the_ops_load_nothing_built_on_them() -> None:
    code = ("import sys, cnncalc.ops; print(sorted(m for m in sys.modules "
            "if m.startswith('cnncalc.') or m == 'torch'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120).stdout
    for module in ("cnncalc.explain", "cnncalc.analysis", "cnncalc.pytorch", "'torch'"):
        assert module not in loaded, loaded


def test_a_function_local_import_is_seen() -> None:
    """The checker reads imports inside functions too (it must be able to fail)."""
    source = PACKAGE / "ops" / "base.py"
    assert "working" in _imports(source)
    tree = ast.parse("def f():\n    from ..explain import Step\n")
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert nodes and nodes[0].module == "explain" and nodes[0].level == 2
