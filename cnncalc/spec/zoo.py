"""The built-in zoo: spec files shipped with the package (``cnncalc zoo`` lists them)."""

from __future__ import annotations

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
    return path if path.is_file() else None
