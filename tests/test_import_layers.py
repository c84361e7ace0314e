"""The import structure reads one way: working (text) <- ops <- graph / analysis <-
explain and the torch build.  No op imports what is built on the ops, not even inside a
function (that is how the old ops -> explain -> analysis -> ops circle was held together)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnncalc"

#: module (relative to cnncalc) -> the cnncalc modules it may import, at any depth of code
ALLOWED = {
    "working": set(),
    "ops": {"errors", "suggest", "working", "ops"},
    "graph": {"errors", "ops"},
    "analysis": {"errors", "graph", "ops", "report", "working"},
    "memory": {"analysis", "errors", "graph", "ops", "report"},
}


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


def _files(layer: str) -> list[Path]:
    folder = PACKAGE / layer
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{layer}.py"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_below_it(layer: str) -> None:
    for path in _files(layer):
        extra = _imports(path) - ALLOWED[layer]
        assert not extra, f"{path.relative_to(PACKAGE)} imports {sorted(extra)}"


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
