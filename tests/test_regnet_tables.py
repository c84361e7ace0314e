"""specs/regnet.yaml's stage tables, recomputed from torchvision (the oracle).

torchvision builds each RegNet from five numbers (depth, w_0, w_a, w_m, group_width) with a
float generator, ``BlockParams.from_init_params``; the spec language cannot run that
generator per layer, so the spec holds its result per variant (``stageN: [depth, width,
group_width]``, ``bottleneck_multiplier``, ``se_ratio``).  These tests call torchvision's own
builder for every variant (``regnet_y_400mf()`` ...), capture the ``BlockParams`` it hands to
the model, and hold the spec's tables to it, so a wrong number in the spec fails here rather
than only as a figure elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from torchvision_oracle import torchvision_models

SPEC = Path(__file__).resolve().parent.parent / "specs" / "regnet.yaml"
STAGES = ("stage1", "stage2", "stage3", "stage4")


def _spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def spec_variants() -> dict[str, dict[str, Any]]:
    """Each variant's arguments as the spec gives them: its own over the file's defaults."""
    spec = _spec()
    return {name: {**spec["args"], **(v.get("args") or {})}
            for name, v in spec["variants"].items()}


def block_params(name: str) -> Any:
    """The BlockParams torchvision's builder ``name`` computes (the model is not built)."""
    models = torchvision_models()
    regnet = models.regnet
    captured: list[Any] = []

    def capture(params: Any, weights: Any, progress: bool, **kwargs: Any) -> None:
        captured.append(params)

    real = regnet._regnet
    regnet._regnet = capture
    try:
        getattr(regnet, name)()
    finally:
        regnet._regnet = real
    (params,) = captured
    return params


def torchvision_regnets() -> list[str]:
    return sorted(n for n in torchvision_models().regnet.__all__ if n.startswith("regnet_"))


def test_every_torchvision_regnet_is_a_variant() -> None:
    assert sorted(spec_variants()) == torchvision_regnets()


@pytest.mark.parametrize("name", sorted(spec_variants()))
def test_stage_table_is_torchvisions(name: str) -> None:
    args = spec_variants()[name]
    bp = block_params(name)
    assert bp.strides == [2, 2, 2, 2]  # the spec's stage block puts stride 2 on every stage
    expected = [list(row) for row in zip(bp.depths, bp.widths, bp.group_widths)]
    assert [args[s] for s in STAGES] == expected, f"{name}: stageN: [depth, width, group_width]"
    assert all(m == args["bottleneck_multiplier"] for m in bp.bottleneck_multipliers)
    assert args["se_ratio"] == (bp.se_ratio or 0)

