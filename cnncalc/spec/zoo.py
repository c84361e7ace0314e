"""The built-in zoo: spec files shipped with the package (``cnncalc zoo`` lists them)."""

from __future__ import annotations

import itertools
from pathlib import Path


def zoo_dir() -> Path:
    """Where the zoo's YAML files are: inside the wheel, or ``specs/`` in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "specs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "specs"


def zoo_names() -> list[str]:
    """Every built-in spec name, sorted."""
    folder = zoo_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def zoo_path(name: str) -> Path | None:
    """The file of built-in spec ``name``, or None."""
    path = zoo_dir() / f"{name}.yaml"
    return path if _is_file(path) else None


#: spec-file suffixes looked for beside an unknown name, and what to say about each
_NEARBY = ((".yaml", ""), (".yml", ""),
           (".py", " (a Python file: cnncalc reads YAML specs, see docs/spec-format.md)"))


def suggest(name: str, folder: Path | None = None) -> str:
    """What ``name`` (neither a file nor a built-in) may have meant: first files in
    ``folder`` (default: the current one) whose stem is ``name``, then a close zoo name.

    The text starts with ``; `` so it can follow a sentence, or is empty."""
    from ..suggest import close_matches

    here = Path.cwd() if folder is None else folder
    files = [f"{name}{suffix}{note}" for suffix, note in _NEARBY
             if _is_file(here / f"{name}{suffix}")]
    if files:
        return "; did you mean " + " or ".join(f"the file {f}" for f in files) + "?"
    near = close_matches(name, zoo_names(), n=1)
    return f"; did you mean the built-in '{near[0]}'?" if near else ""


def suggest_file(path: Path) -> str:
    """What a missing spec file may have meant: a file beside it with the same stem and
    another spec suffix (``net.yml`` for ``net.yaml``), else a close spec-file name.
    Starts with ``; `` like :func:`suggest`, or is empty."""
    from ..suggest import close_matches

    folder = path.parent
    same = [f"{path.stem}{suffix}{note}" for suffix, note in _NEARBY
            if suffix != path.suffix and _is_file(folder / f"{path.stem}{suffix}")]
    if same:
        shown = [str(folder / s) if str(folder) != "." else s for s in same]
        return "; did you mean " + " or ".join(shown) + "?"
    try:
        names = sorted(itertools.islice((p.name for p in folder.iterdir()
                                         if p.suffix in (".yaml", ".yml")), 10_000))
    except OSError:
        return ""
    near = close_matches(path.name, names, n=1, cutoff=0.8)
    if not near:
        return ""
    return f"; did you mean {folder / near[0] if str(folder) != '.' else near[0]}?"


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False
