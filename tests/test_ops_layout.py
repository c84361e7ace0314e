"""An op is one class in one file: ``cnncalc/ops/FAMILY/NAME.py`` holds the op ``NAME`` and
no other (the simple activations, one generated class per row of a table, excepted).  The
files are found, not listed (``cnncalc.ops.discovery``): a new op is one new file, and the
registry lists the ops family by family (``FAMILIES``), then by module name, whatever order
the file system lists the files in."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

import cnncalc.ops
from cnncalc.ops import FAMILIES, OP_MODULES, OP_TABLES, REGISTRY, discovery

OPS = Path(cnncalc.ops.__file__).resolve().parent
PACKAGE = OPS.parent
FOLDERS = discovery.family_folders(str(OPS))
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


def test_each_op_lives_in_the_folder_of_its_family() -> None:
    """The folder is the family: docs/ops.md's section and the discovery order follow it."""
    wrong = {n: (c.family, _module(c)) for n, c in REGISTRY.items()
             if _module(c).partition(".")[0] != c.family}
    assert wrong == {}


def test_every_family_folder_has_a_title() -> None:
    assert list(FOLDERS) == list(FAMILIES)


# ------------------------------------------------------------------ the order
def _ranked(modules: Iterable[str]) -> list[str]:
    return sorted(modules, key=lambda m: (discovery.family_rank(m.partition(".")[0]), m))


def test_the_registry_lists_families_in_order_then_modules_by_name() -> None:
    """docs/ops.md and `cnncalc ops` list the registry as it is: the order of OP_MODULES
    (tests/test_startup.py), which is FAMILIES', then the modules' names."""
    assert list(OP_MODULES) == _ranked(OP_MODULES)
    families = list(dict.fromkeys(c.family for c in REGISTRY.values()))
    assert families == list(FAMILIES)
    assert list(REGISTRY)[:3] == ["conv", "conv_transpose", "local"]


def test_the_discovery_order_is_not_the_file_systems(monkeypatch) -> None:
    """``os.scandir`` lists in no promised order: reversed, the modules come out the same."""
    listed = discovery._names
    monkeypatch.setattr(discovery, "_names", lambda folder: listed(folder)[::-1])
    assert discovery.op_modules(str(OPS), OP_TABLES) == OP_MODULES
    assert list(discovery.family_modules(str(OPS))) == _ranked(discovery.family_modules(str(OPS)))


# ------------------------------------------------------- nothing outside discovery
def _registers(path: Path) -> bool:
    """The file uses ``register`` (as ``@register``, or called as the table does)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(n, ast.Name) and n.id == "register" for n in ast.walk(tree))


def test_ops_are_registered_only_from_family_folders() -> None:
    """Every file of cnncalc that registers an op is a discovered op module, and every
    registered op comes from one: nothing registers an op the discovery does not see."""
    files = [p for p in PACKAGE.rglob("*.py") if _registers(p)]
    outside = sorted(str(p.relative_to(PACKAGE)) for p in files if p.parent.parent != OPS)
    assert outside == []
    registering = {".".join(p.relative_to(OPS).with_suffix("").parts) for p in files}
    assert registering == {_module(c) for c in REGISTRY.values()} == set(OP_MODULES)


def test_the_text_check_agrees_with_the_syntax_tree() -> None:
    """Discovery reads ``@register`` from a file's text (no import): for every file of the
    family folders it says what the parsed file says (a decorator written otherwise, with
    a comment or indented, would be missed: write it on a line of its own)."""
    for path in OPS.glob("*/*.py"):
        module = ".".join(path.relative_to(OPS).with_suffix("").parts)
        if module not in OP_TABLES:
            assert discovery.registers_an_op(str(path)) == _registers(path), module


def test_the_register_check_can_fail(tmp_path) -> None:
    op = tmp_path / "op.py"
    op.write_text("@register\nclass Toy(Op):\n    name = 'toy'\n", encoding="utf-8")
    plain = tmp_path / "plain.py"
    plain.write_text("from .base import register\n\nclass Toy:\n    pass\n", encoding="utf-8")
    called = tmp_path / "called.py"
    called.write_text("def make(cls):\n    return register(cls)\n", encoding="utf-8")
    assert _registers(op) and _registers(called) and not _registers(plain)


def _family_imports(path: Path) -> set[str]:
    """The other families a module of a family folder imports from."""
    family = path.parent.name
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
            found.add(node.module.partition(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[:2] == ["cnncalc", "ops"] and len(parts) > 2:
                found.add(parts[2])
    return (found & set(FOLDERS)) - {family}


def test_no_family_imports_another() -> None:
    """A family reads what it shares with another from below (ops/base.py, ops/types.py,
    ops/batch_stats.py, cnncalc/working.py), never from the other's folder: a folder can
    be read, moved or dropped on its own."""
    sideways = {str(p.relative_to(OPS)): sorted(_family_imports(p))
                for p in OPS.glob("*/*.py") if _family_imports(p)}
    assert sideways == {}


def test_the_sideways_check_can_fail(tmp_path) -> None:
    folder = tmp_path / "reshape"
    folder.mkdir()
    module = folder / "slice.py"
    module.write_text("from ..merge.broadcast import x\nfrom cnncalc.ops.norm import y\n"
                      "from ..base import z\nfrom .moves import w\n", encoding="utf-8")
    assert _family_imports(module) == {"merge", "norm"}


# ------------------------------------------------------------------ a new op
def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_discovery_finds_a_new_file_and_a_new_family(tmp_path) -> None:
    op = "from ..base import register\n\n\n@register\nclass Op:\n    pass\n"
    root = _tree(tmp_path, {
        "__init__.py": "", "base.py": op,
        "pool/__init__.py": "", "pool/maxpool.py": op, "pool/a_new_op.py": op,
        "pool/window_pool.py": "class Shared:\n    pass\n",
        "conv/__init__.py": "", "conv/conv.py": op.replace("\n", "\r\n"), "conv/notes.txt": "",
        "conv/.#conv.py": op, "conv/conv copy.py": op,
        "zeta/__init__.py": "", "zeta/zed.py": op, "alpha/__init__.py": "", "alpha/a.py": op,
        "alpha/rows.py": "def make(cls):\n    return register(cls)\n",
        "not_a_package/x.py": op,
    })
    (root / "conv" / "sub").mkdir()
    assert discovery.family_folders(str(root)) == ["conv", "pool", "alpha", "zeta"]
    assert discovery.family_modules(str(root)) == (
        "conv.conv", "pool.a_new_op", "pool.maxpool", "pool.window_pool", "alpha.a",
        "alpha.rows", "zeta.zed")
    assert discovery.op_modules(str(root), ("alpha.rows",)) == (
        "conv.conv", "pool.a_new_op", "pool.maxpool", "alpha.a", "alpha.rows", "zeta.zed")


TOY = "toy_passthrough"


def _toy_package(tmp_path: Path) -> Path:
    """A copy of cnncalc with one new op file, ``reshape/toy_passthrough.py`` (identity's,
    renamed), and no other edit."""
    copy = tmp_path / "cnncalc"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = (OPS / "reshape" / "identity.py").read_text(encoding="utf-8")
    toy = source.replace('"identity"', f'"{TOY}"').replace("class Identity", "class Toy")
    (copy / "ops" / "reshape" / f"{TOY}.py").write_text(toy, encoding="utf-8")
    return tmp_path


def test_a_new_op_file_is_registered_and_documented_with_no_other_edit(tmp_path) -> None:
    """The issue's promise, walked for real: drop a file into a family folder of a copy of
    the package; the registry (by name, before importing it), `cnncalc ops` order and
    docs/ops.md pick the op up."""
    code = (
        "import sys; import cnncalc.ops as ops; from cnncalc.ops import docs\n"
        f"assert ops.__file__.startswith({str(tmp_path)!r}), ops.__file__\n"
        f"assert '{TOY}' in ops.REGISTRY and 'cnncalc.ops.reshape.{TOY}' not in sys.modules\n"
        f"names = [n for n, c in ops.REGISTRY.items() if c.family == 'reshape']\n"
        "print(names)\n"
        f"print('### `{TOY}`' in docs.render(), ops.op_info('{TOY}')['family'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=_toy_package(tmp_path), timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    names, documented = done.stdout.splitlines()
    reshape = sorted([n for n, c in REGISTRY.items() if c.family == "reshape"] + [TOY])
    assert names == repr(reshape)
    assert documented == "True reshape"
