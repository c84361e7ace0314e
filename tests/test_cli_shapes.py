"""Shapes typed on the command line: parsed by the CLI (cnncalc/cli/shapes.py), not by
the renderers."""

from __future__ import annotations

import pytest

from cnncalc.cli.shapes import parse_shape


@pytest.mark.parametrize(("textual", "shape"), [
    ("3x224x224", (3, 224, 224)), ("3X224X224", (3, 224, 224)), ("[3, 32, 32]", (3, 32, 32)),
    ("3,32,32", (3, 32, 32)), ("224", (224,)), ("3×8×8", (3, 8, 8)),
])
def test_parse_shape(textual: str, shape: tuple[int, ...]) -> None:
    assert parse_shape(textual) == shape


@pytest.mark.parametrize("bad", ["", "3x", "axb", "3x-1", "1.5x2"])
def test_parse_shape_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_shape(bad)


@pytest.mark.parametrize("bad", ["3 224", "3x\u0662", "3x\uff12", "+3", "3x224x224x"])
def test_parse_shape_names_the_character(bad: str) -> None:
    with pytest.raises(ValueError, match=r"not allowed|not a shape"):
        parse_shape(bad)


def test_the_renderers_no_longer_parse() -> None:
    from cnncalc import units

    assert not hasattr(units, "parse_shape")
