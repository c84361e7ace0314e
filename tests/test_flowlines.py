"""The one-line mapping shortcut (cnncalc/spec/flowlines.py) against the event reader.

The oracle is the reader itself with the shortcut off: every document, however its
one-line layers are written and wherever they stand, reads to the same tree (values,
types, every location) or fails with the same error at the same place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.spec import flowlines, yamlio
from cnncalc.spec.yamlio import Limits, MDict, MList, load_yaml_text

ROOT = Path(__file__).resolve().parent.parent


def _tree(value: Any) -> Any:
    """Everything a tree holds, locations included, as plain comparable data."""
    if isinstance(value, MDict):
        return ("map", type(value).__name__, [(repr(k), _tree(v)) for k, v in value.items()],
                {k: (v if k not in ("key_loc", "val_loc") else sorted(
                    (repr(a), b) for a, b in v.items())) for k, v in value.__dict__.items()})
    if isinstance(value, MList):
        return ("list", [_tree(v) for v in value], dict(value.__dict__))
    return (type(value).__name__, repr(value))


def _read(text: str, shortcut: bool, limits: Limits = yamlio.DEFAULT_LIMITS) -> Any:
    """The tree of ``text``, read with the shortcut on for any number of lines (off: the
    events alone)."""
    saved, least = flowlines.shortcut, flowlines.MIN_LINES
    flowlines.MIN_LINES = 1
    if not shortcut:
        flowlines.shortcut = lambda text: None  # type: ignore[assignment]
    try:
        return _tree(load_yaml_text(text, "x.yaml", limits))
    except CnncalcError as exc:
        return ("error", type(exc).__name__, str(exc))
    finally:
        flowlines.shortcut, flowlines.MIN_LINES = saved, least


def _same(text: str, limits: Limits = yamlio.DEFAULT_LIMITS) -> None:
    assert _read(text, True, limits) == _read(text, False, limits)


def _spec_files() -> list[Path]:
    return sorted([*ROOT.glob("specs/**/*.yaml"), *ROOT.glob("examples/**/*.yaml")])


def test_the_shortcut_is_taken_for_a_chain() -> None:
    """Not vacuous: a long chain's lines are replaced and read from the placeholders (a
    short one's are not: the patterns would cost more than they save)."""
    def chain(n: int) -> str:
        return "cnncalc: 1\ninput: [8, 32, 32]\nlayers:\n" + (
            "  - {op: conv, out: 8, k: 3, pad: 1}\n  - {op: relu}\n" * n)

    assert flowlines.shortcut(chain(flowlines.MIN_LINES // 2 - 1)) is None
    text = chain(flowlines.MIN_LINES // 2)
    short = flowlines.shortcut(text)
    assert short is not None and len(short.lines) == flowlines.MIN_LINES
    reader = yamlio._Reader(yamlio.Positions(text, "x.yaml"), yamlio.DEFAULT_LIMITS, short)
    tree = reader.read(short.text, yamlio._Loader)  # no Miss: every placeholder placed
    assert reader.lines == {}
    assert _tree(tree) == _read(text, False)


@pytest.mark.parametrize("path", _spec_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_reads_alike(path: Path) -> None:
    _same(path.read_text(encoding="utf-8"))


CONTEXTS = {
    "a block list": "layers:\n{lines}",
    "the root list": "{lines}",
    "a list in a list": "layers:\n  -\n{lines}",
    "after an anchor and alias": "x: &a {{op: conv}}\nlayers:\n  - *a\n{lines}",
    "a literal block scalar": "notes: |\n{lines}b: 1\n",
    "a folded block scalar": "notes: >\n{lines}",
    "a plain scalar going on": "name: abc\n{lines}",
    "a flow list opened before": "layers: [\n{lines}]\n",
    "a double-quoted scalar": "notes: \"x\n{lines}\"\n",
    "after a tab": "layers:\n\t- {{op: relu}}\n{lines}",
    "two documents": "layers:\n{lines}---\n- 1\n",
    "a line less indented after": "layers:\n{lines} - {{op: relu}}\n",
    "an odd line break": "name: \"a\u2028b\"\nlayers:\n{lines}",
}

PLAIN = ["conv", "relu", "3", "64", "-1", "+2", ".5", "1.", "1e5", "1.0e-3", "0x1F", "0o17",
         "1_000", "yes", "No", "on", "OFF", "true", "null", "a-b", "a.b", "u0", ".inf",
         "-.inf", ".NaN", "_x", "x_", "a+b"]
#: values that are refused or read otherwise in a flow mapping
TRICKY = ["2001-12-14", "1234567890123456789012345678901234567890", "12:30", "-", "~"]
KEYS = ["op", "out", "k", "pad", "id", "in", "x1", "_k", "Op"]
ODD_KEYS = ["yes", "null", "on", "1", "op"]


def _value(draw: Any) -> str:
    return draw(st.sampled_from(TRICKY if draw(st.integers(0, 19)) == 7 else PLAIN))


@st.composite
def _mapping_line(draw: Any) -> str:
    """A list item holding a flow mapping, written in one of many ways (unindented)."""
    dash = "-" + " " * draw(st.integers(1, 3))
    pairs = []
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=5, unique=True))
    if draw(st.integers(0, 19)) == 7:  # a key given twice, or one that is not a string
        keys.append(draw(st.sampled_from(ODD_KEYS)))
    for key in keys:
        if draw(st.integers(0, 4)) == 0:
            items = [_value(draw) for _ in range(draw(st.integers(1, 3)))]
            inner = draw(st.sampled_from([", ", ",", " , "]))
            value = "[" + draw(st.sampled_from(["", " "])) + inner.join(items) + "]"
        else:
            value = _value(draw)
        pairs.append(f"{key}:{' ' * draw(st.integers(1, 2))}{value}")
    sep = draw(st.sampled_from([", ", ", ", ", ", ",", " ,  "]))
    inside = draw(st.sampled_from(["", "", " "]))
    tail = draw(st.sampled_from(["", "", "  ", "  # a note"]))
    return f"{dash}{{{inside}{sep.join(pairs)}{inside}}}{tail}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_mapping_line(), min_size=1, max_size=6), indent=st.integers(0, 4),
       context=st.one_of(st.just("a block list"), st.sampled_from(sorted(CONTEXTS))),
       crlf=st.booleans())
def test_mapping_lines_read_alike_anywhere(lines: list[str], indent: int, context: str,
                                          crlf: bool) -> None:
    text = CONTEXTS[context].format(lines="".join(" " * indent + line + "\n" for line in lines))
    _same(text.replace("\n", "\r\n") if crlf else text)


@pytest.mark.parametrize("text", [
    "layers:\n  - {op: conv, op: relu}\n",         # a key twice
    "layers:\n  - {in: [a, b], in: [c]}\n",
    "layers:\n  - {yes: 1, on: 2}\n",               # two keys Python cannot tell apart
    "layers:\n  - {op: conv, when: 2001-12-14}\n",  # a date
    "layers:\n  - {op: conv, k: 1234567890123456789012345678901234567890}\n",
    "layers:\n  - {op: conv}\n  - \"cnncalc:one-line-mapping\"\n",  # the placeholder itself
    "layers:\n  - {op: conv}: 3\n",
    "? - {op: conv}\n: 1\n",
])
def test_refusals_read_alike(text: str) -> None:
    assert _read(text, True)[0] == "error" or "cnncalc:one-line-mapping" in text
    _same(text)


def test_limits_are_reached_at_the_same_value() -> None:
    """The node count and the depth reached inside a one-line mapping: refused where
    the events would refuse them (each limit tried from too low to enough)."""
    text = "layers:\n" + "".join(f"  - {{op: conv, out: {i}, in: [a, b]}}\n" for i in range(30))
    kinds = set()
    for max_nodes in range(250, 340, 3):  # 3 + 30 x 9 values
        limits = Limits(max_nodes=max_nodes)
        kinds.add(_read(text, True, limits)[0])
        _same(text, limits)
    assert kinds == {"error", "map"}
    nested = "a:\n" + "".join("  " * i + "-\n" for i in range(1, 4)) + "        - {in: [x]}\n"
    kinds = set()
    for max_depth in range(2, 9):
        limits = Limits(max_depth=max_depth)
        kinds.add(_read(nested, True, limits)[0])
        _same(nested, limits)
    assert kinds == {"error", "map"}
