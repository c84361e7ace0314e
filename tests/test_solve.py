"""Solvers: `cnncalc solve pad|stride|kernel` and `cnncalc sizes`.

Oracles: brute force over the sliding-window formula (every total padding, stride and
kernel tried) and ``Window.truncation`` for dropped rows; ResNet's stem (224, k 7,
stride 2 -> 112 with pad 3, torchvision); `same` for an even kernel as the course
notes pad it (k 4: 2 rows before, 1 after); LeNet-5's and VGG-16's valid input sizes
derived by hand (LeNet: n - 4 and (n - 4)/2 - 4 even and C5 still fits, so n = 0 mod 4
and n >= 32; VGG: five stride-2 pools, so n = 0 mod 32).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.ops.base import Window, resolve_padding, window_out
from cnncalc.solve import (input_sizes, parse_range, solve_kernel, solve_pad, solve_stride,
                           split)
from cnncalc.errors import UsageError

runner = CliRunner()


def test_resnet_stem_padding() -> None:
    sol = solve_pad(224, 7, 2, 112)
    assert sol.totals == (5, 6)
    assert [(p.before, p.after) for p in sol.paddings] == [(3, 2), (3, 3)]
    assert sol.symmetric == 3
    assert all(p.dropped == 0 for p in sol.paddings)
    assert sol.same == (3, 2) and sol.same_output == 112


def test_same_even_kernel_leads() -> None:
    sol = solve_pad(6, 4, 1, 6)
    assert sol.same == (2, 1)
    assert [(p.before, p.after) for p in sol.paddings] == [(2, 1)]
    assert sol.symmetric is None
    assert solve_pad(5, 3, 1, 5).same == (1, 1)


def test_no_padding_can_shrink() -> None:
    sol = solve_pad(10, 5, 1, 2)
    assert sol.paddings == () and sol.smallest == 6
    assert sol.strides == (3, 4, 5)  # floor((10-5)/s)+1 = 2


@given(n=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 5), d=st.integers(1, 3),
       out=st.integers(1, 70))
def test_pad_matches_brute_force(n: int, k: int, s: int, d: int, out: int) -> None:
    sol = solve_pad(n, k, s, out, d)
    k_eff = d * (k - 1) + 1
    brute = tuple(p for p in range(0, 3 * (n + k_eff + s * out))
                  if n + p >= k_eff and window_out(n, k_eff, s, *split(p)) == out)
    assert sol.totals == brute
    for p in sol.paddings:
        w = Window((n,), (k,), (d,), (s,), ((p.before, p.after),))
        assert bool(p.dropped) == bool(w.truncation("conv"))
    ((b, a),) = resolve_padding("same", (n,), (k_eff,), (s,))
    assert sol.same == (b, a) and sol.same_output == -(-n // s)
    if not brute:
        assert out < sol.smallest


@given(n=st.integers(1, 40), k=st.integers(1, 7), b=st.integers(0, 3), a=st.integers(0, 3),
       out=st.integers(1, 40))
def test_stride_and_kernel_match_brute_force(n: int, k: int, b: int, a: int, out: int) -> None:
    strides = [c.value for c in solve_stride(n, k, (b, a), out)]
    found = [s for s in range(1, 200) if n + b + a >= k and window_out(n, k, s, b, a) == out]
    if out == 1 and found:  # every stride past n + pad - k + 1 gives 1: listed up to there
        assert found[-1] == 199 and strides == [s for s in found if s <= n + b + a - k + 1]
    else:
        assert strides == found
    kernels = [c.value for c in solve_kernel(n, 1, (b, a), out)]
    assert kernels == [kk for kk in range(1, 200) if n + b + a >= kk
                       and window_out(n, kk, 1, b, a) == out]


def test_parse_range() -> None:
    assert parse_range("200:300") == range(200, 301)
    assert parse_range("8:16:4") == range(8, 17, 4)
    assert parse_range("224") == range(224, 225)
    for bad in ("a:b", "10:5", "0:4", "1:4:0", "1:2:3:4"):
        with pytest.raises(UsageError):
            parse_range(bad)


def test_lenet_sizes() -> None:
    results = input_sizes(cnncalc.load("lenet5"), range(20, 61))
    ok = [r.size for r in results if r.ok]
    assert ok == [n for n in range(20, 61) if n % 4 == 0 and n >= 32]
    by = {r.size: r for r in results}
    assert by[32].output_shape == (10,)
    assert by[28].output_shape is None and "C5" in by[28].problems[0]
    assert any("S2" in p for p in by[33].problems)


def test_vgg16_sizes() -> None:
    results = input_sizes(cnncalc.load("vgg16"), range(200, 301))
    assert [r.size for r in results if r.ok] == [224, 256, 288]


def test_sizes_one_axis() -> None:
    results = input_sizes(cnncalc.load("vgg16"), range(220, 260), axis=1)
    assert [r.size for r in results if r.ok] == [224, 256]
    assert results[0].input_shape == (3, 224, 220)


# ---------------------------------------------------------------------- CLI
def test_cli_solve_pad() -> None:
    result = runner.invoke(app, ["solve", "pad", "--input", "224", "--k", "7", "--stride", "2",
                                 "--output", "112"])
    assert result.exit_code == 0, result.stderr
    assert "total padding P = 5..6" in result.stdout
    assert "P = 6: pad 3 each side" in result.stdout
    assert "floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112" in result.stdout
    assert "symmetric: pad 3" in result.stdout
    assert "same: [3, 2] before/after" in result.stdout


def test_cli_solve_pad_json_and_impossible() -> None:
    data = json.loads(runner.invoke(app, ["solve", "pad", "-i", "6", "--k", "4", "-o", "6",
                                          "-f", "json"]).stdout)
    assert data["same"] == [2, 1] and data["totals"] == [3]
    result = runner.invoke(app, ["solve", "pad", "-i", "10", "--k", "5", "-o", "2"])
    assert result.exit_code == 0
    assert "no padding gives 2" in result.stdout and "nearest achievable: 6" in result.stdout


def test_cli_solve_stride_kernel_and_bad_usage() -> None:
    result = runner.invoke(app, ["solve", "stride", "-i", "224", "--k", "7", "--pad", "3",
                                 "-o", "112"])
    assert result.exit_code == 0 and "stride 2" in result.stdout
    result = runner.invoke(app, ["solve", "kernel", "-i", "32", "-o", "28"])
    assert result.exit_code == 0 and "kernel 5" in result.stdout
    result = runner.invoke(app, ["solve", "pad", "-i", "0", "--k", "3", "-o", "2"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["solve", "stride", "-i", "9", "--k", "3", "--pad", "x",
                                 "-o", "2"])
    assert result.exit_code == 2


def test_cli_sizes() -> None:
    result = runner.invoke(app, ["sizes", "lenet5", "--range", "28:40", "--no-color"])
    assert result.exit_code == 0, result.stderr
    assert "3 of 13 sizes tiled exactly by every layer: 32, 36, 40" in result.stdout
    data = json.loads(runner.invoke(app, ["sizes", "lenet5", "-r", "30:33", "-f",
                                          "json"]).stdout)
    assert [(s["size"], s["ok"], s["output_shape"]) for s in data["sizes"]] == [
        (30, False, None), (31, False, None), (32, True, [10]), (33, False, [10])]
    bad = runner.invoke(app, ["sizes", "lenet5", "-r", "30:20"])
    assert bad.exit_code == 2
