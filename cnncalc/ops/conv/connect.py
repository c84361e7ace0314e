"""The worked arithmetic of a partial connection table (LeNet-5's C3)."""

from __future__ import annotations

from ...working import Step


def connect_groups(connect: list[list[int]]) -> list[tuple[int, int]]:
    """(output maps, maps each reads) grouped by maps read; LeNet-5's C3 table gives
    ``[(6, 3), (9, 4), (1, 6)]``."""
    counts: dict[int, int] = {}
    for row in connect:
        counts[len(row)] = counts.get(len(row), 0) + 1
    return [(counts[r], r) for r in sorted(counts)]


def _ranges(ids: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2, 5``."""
    out: list[str] = []
    for i in ids:
        if out and int(out[-1].split("-")[-1]) == i - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{i}"
        else:
            out.append(str(i))
    return ", ".join(out)


def connect_working(connect: list[list[int]], k: int, bias: bool, c_in: int,
                    total: int) -> list[Step]:
    """Which maps feed which, and the parameters of a partial connection table:
    ``6x(3x25+1) + 9x(4x25+1) + 1x(6x25+1) = 1,516`` for LeNet-5's C3."""
    groups = connect_groups(connect)
    who = "; ".join(
        f"output map{'s' if n > 1 else ''} "
        f"{_ranges([j for j, row in enumerate(connect) if len(row) == r])} "
        f"read{'' if n > 1 else 's'} {r} of {c_in}" for n, r in groups)
    plus = "+1" if bias else ""
    steps = [Step("connect table", "", who, "", "note"),
             Step("connections", " + ".join(f"{n}x{r}" for n, r in groups),
                  sum(n * r for n, r in groups), "output maps x maps each reads", "params"),
             Step("params", " + ".join(f"{n}x({r}x{k}{plus})" for n, r in groups), total,
                  "sum over output maps of (maps read x k_h x k_w" + (" + 1)" if bias else ")"),
                  "params")]
    gaps, start = [], 0  # spans of unread maps, without listing all c_in of them
    for i in [*sorted({i for row in connect for i in row if i < c_in}), c_in]:
        if i > start:
            gaps.append(f"{start}" if i - 1 == start else f"{start}-{i - 1}")
        start = i + 1
    if gaps:
        steps.append(Step("connect table", "", f"input maps {', '.join(gaps)} are never read",
                          "", "note"))
    return steps
