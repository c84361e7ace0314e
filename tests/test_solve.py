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
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import UsageError
from cnncalc.ops.base import Window, resolve_padding, window_out
from cnncalc.solve import (
    MAX_LISTED,
    MAX_SIZE_WORK,
    MAX_SIZES,
    input_sizes,
    parse_range,
    size_count,
    solve_kernel,
    solve_pad,
    solve_stride,
    split,
    unusual_padding,
)

from helpers import hang_guard

runner = CliRunner()


def test_resnet_stem_padding() -> None:
    sol = solve_pad(224, 7, 2, 112)
    assert sol.totals == (5, 6) and sol.count == 2
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
    assert sol.paddings == () and sol.smallest == 6 and not sol.solved
    assert (sol.strides.first, sol.strides.last) == (3, 5)  # floor((10-5)/s)+1 = 2


def brute_pads(n: int, k_eff: int, s: int, out: int, op: str = "conv") -> list[int]:
    """Every total padding that gives ``out`` (a pool: even totals, p <= k // 2 is
    checked by the caller), tried one by one up to beyond any that can work."""
    return [p for p in range(n + k_eff + s * (out + 1) + 2)
            if n + p >= k_eff and window_out(n, k_eff, s, *split(p)) == out
            and (op == "conv" or p % 2 == 0)]


@given(n=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 6), d=st.integers(1, 3),
       out=st.integers(1, 70))
def test_pad_matches_brute_force(n: int, k: int, s: int, d: int, out: int) -> None:
    sol = solve_pad(n, k, s, out, d)
    k_eff = d * (k - 1) + 1
    brute = brute_pads(n, k_eff, s, out)
    assert sol.count == len(brute) and sol.solved == bool(brute)
    assert sol.totals == ((brute[0], brute[-1]) if brute else None)
    assert [p.total for p in sol.paddings] == brute[:MAX_LISTED]
    for p in sol.paddings:
        w = Window((n,), (k,), (d,), (s,), ((p.before, p.after),))
        assert bool(p.dropped) == bool(w.truncation("conv"))
        assert p.unusual == unusual_padding(n, k_eff, s, p.before, p.after)
    sym = [t // 2 for t in brute if t % 2 == 0
           and not Window((n,), (k,), (d,), (s,), ((t // 2, t // 2),)).truncation("conv")]
    assert sol.symmetric == (sym[0] if sym else None)
    ((b, a),) = resolve_padding("same", (n,), (k_eff,), (s,))
    assert sol.same == (b, a) and sol.same_output == -(-n // s)
    assert sol.same_upper == resolve_padding("same_upper", (n,), (k_eff,), (s,))[0]
    if not brute:
        assert out < sol.smallest
        strides = [st_ for st_ in range(1, n + 2) if n >= k_eff
                   and window_out(n, k_eff, st_, 0, 0) == out]
        assert (sol.strides.first, sol.strides.last if out > 1 else None) == (
            (strides[0], strides[-1] if out > 1 else None) if strides else (None, None))


@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), out=st.integers(1, 40),
       op=st.sampled_from(["maxpool", "avgpool"]), d=st.integers(1, 3))
def test_pool_pad_matches_brute_force(n: int, k: int, s: int, out: int, op: str, d: int) -> None:
    """A pool pads p on both sides with p <= k // 2 (torch's rule, as cnncalc's pool ops
    enforce it): only those are offered, and each one really builds."""
    d = 1 if op == "avgpool" else d
    k_eff = d * (k - 1) + 1
    sol = solve_pad(n, k, s, out, d, op)
    brute = [p for p in brute_pads(n, k_eff, s, out, op) if p // 2 <= k // 2]
    assert [p.total for p in sol.paddings] == brute and sol.count == len(brute)
    assert all(p.before == p.after <= k // 2 for p in sol.paddings)
    for p in sol.paddings:
        spec = (f"cnncalc: 1\ninput: [1, {n}]\nlayers:\n  - {{op: {op}, k: {k}, stride: {s}, "
                f"pad: {p.before}" + (f", dilation: {d}" if op == "maxpool" else "") + "}\n")
        assert cnncalc.analyze(cnncalc.loads(spec)).output_shape == (1, out)
    if not brute and brute_pads(n, k_eff, s, out, "conv"):
        assert sol.refused is not None


@given(n=st.integers(1, 40), k=st.integers(1, 7), b=st.integers(0, 3), a=st.integers(0, 3),
       out=st.integers(1, 40), d=st.integers(1, 3), s=st.integers(1, 4))
def test_stride_and_kernel_match_brute_force(n: int, k: int, b: int, a: int, out: int, d: int,
                                             s: int) -> None:
    """The closed forms give exactly the brute-force sets (strides tried up to far past
    any that can give more than 1; every larger stride gives 1)."""
    k_eff = d * (k - 1) + 1
    strides = solve_stride(n, k, (b, a), out, d)
    found = [st_ for st_ in range(1, 200) if n + b + a >= k_eff
             and window_out(n, k_eff, st_, b, a) == out]
    if out == 1 and found:
        assert found == list(range(found[0], 200))
        assert strides.first == found[0] and strides.last is None and strides.count is None
        assert strides.values() == [found[0]]
    else:
        assert strides.count == len(found) and strides.values() == found[:MAX_LISTED]
        assert (strides.first, strides.last) == ((found[0], found[-1]) if found else (None, None))
        assert bool(strides.reason) == (not found)
    for c in strides.listed:
        assert c.dropped == max((n + b + a - k_eff) % c.value - a, 0)
    kernels = solve_kernel(n, s, (b, a), out, d)
    brute = [kk for kk in range(1, 200) if n + b + a >= d * (kk - 1) + 1
             and window_out(n, d * (kk - 1) + 1, s, b, a) == out]
    assert kernels.values() == brute and kernels.count == len(brute)
    assert bool(kernels.reason) == (not brute)
    if b == a:  # a pool also needs k >= 2p
        pooled = solve_kernel(n, s, (b, b), out, d, "maxpool")
        assert pooled.values() == [kk for kk in brute if b <= kk // 2]


HUGE = [10**18, 10**30,
        12345678901234567890123456789012345678901234567890123456789012345678901234567]


@pytest.mark.parametrize("n", HUGE, ids=["1e18", "1e30", "77 digits"])
def test_huge_inputs_cost_o1(n: int) -> None:
    """Work is bounded by MAX_LISTED, whatever the size of the numbers."""
    with hang_guard():
        c = solve_stride(n, 3, (0, 0), 2)
        assert (c.first, c.last) == ((n - 3) // 2 + 1, n - 3) and len(c.listed) == MAX_LISTED
        assert all(window_out(n, 3, v.value, 0, 0) == 2 for v in c.listed)
        assert solve_stride(n, 3, (1, 1), 1).first == n  # L = n + 2 - 3, every s > L
        c = solve_kernel(n, 1, (0, 0), 2)
        assert c.values() == [n - 1]
        c = solve_kernel(n, 2, (0, 0), n // 4)
        assert c.count == 2 and all(window_out(n, v, 2, 0, 0) == n // 4 for v in c.values())
        sol = solve_pad(n, 3, 1, n)
        assert sol.totals == (2, 2) and sol.symmetric == 1
        sol = solve_pad(n, 3, n, 3)  # a stride of n: n totals work, MAX_LISTED listed
        assert sol.count == n and len(sol.paddings) == MAX_LISTED
        assert not solve_pad(n, 3, 1, 2).solved
        sol = solve_pad(10, 3, 1, n)
        assert sol.totals == (n - 8, n - 8) and sol.paddings[0].unusual


BIGGEST = "9" * 30  # the largest integer an option (like a spec) may hold


@pytest.mark.parametrize("args", [
    ["solve", "stride", "--input", str(10**18), "--k", "3", "--output-size", "2"],
    ["solve", "kernel", "--input", str(10**15), "--output-size", "2"],
    ["solve", "kernel", "--input", BIGGEST, "--output-size", "7", "--stride", "3"],
    ["solve", "pad", "--input", BIGGEST, "--k", "3", "--output-size", "2"],
    ["solve", "pad", "--input", "10", "--k", "3", "--stride", BIGGEST, "--output-size", "2"],
    ["solve", "stride", "--input", BIGGEST, "--k", "5", "--output-size", "1", "-f", "json"],
], ids=lambda a: " ".join(x[:8] for x in a[:4]))
def test_cli_huge_inputs_do_not_hang(args: list[str]) -> None:
    with hang_guard():
        result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert len(result.stdout.splitlines()) <= MAX_LISTED + 12


@pytest.mark.parametrize("option", ["--input", "--stride", "--k"])
def test_cli_integers_past_the_option_limit_are_refused(option: str) -> None:
    """The library solves any size (above); the CLI holds options to 30 digits, as specs."""
    args = {"--input": "10", "--k": "3", "--stride": "1", "--output-size": "2"}
    args[option] = "9" * 77
    result = runner.invoke(app, ["solve", "pad", *[x for kv in args.items() for x in kv]])
    assert result.exit_code == 2 and "over the limit of 30" in result.output


@pytest.mark.parametrize("text", [f"1:{10**30}", f"5:{10**77}:3", f"{10**40}"])
def test_sizes_range_past_30_digits_is_refused_at_once(text: str) -> None:
    with hang_guard():
        result = runner.invoke(app, ["sizes", "lenet5", "--range", text])
    assert result.exit_code == 2 and "at most 30 digits" in result.stderr


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
                                 "--output-size", "112"])
    assert result.exit_code == 0, result.stderr
    assert "total padding P = 5..6" in result.stdout
    assert "P = 6: pad 3 each side" in result.stdout
    assert "floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112" in result.stdout
    assert "symmetric: pad 3" in result.stdout
    assert "same: [3, 2] before/after" in result.stdout
    assert "same_upper: [2, 3] before/after (the extra one trailing" in result.stdout


def test_cli_solve_pad_json_and_impossible() -> None:
    data = json.loads(runner.invoke(app, ["solve", "pad", "-i", "6", "--k", "4", "-s", "6",
                                          "-f", "json"]).stdout)
    assert data["same"] == [2, 1] and data["same_upper"] == [1, 2] and data["totals"] == [3]
    result = runner.invoke(app, ["solve", "pad", "-i", "10", "--k", "5", "-s", "2"])
    assert result.exit_code == 1  # no solution: like a failed check, not a usage error
    assert "no padding gives 2" in result.stdout and "nearest achievable: 6" in result.stdout
    assert "without padding, stride 3 to 5 gives 2" in result.stdout


@pytest.mark.parametrize("args, says", [
    (["pad", "-i", "10", "--k", "5", "-s", "2"], "no padding gives 2"),
    (["pad", "-i", "112", "--k", "3", "-s", "120", "--op", "maxpool"],
     "at most k // 2 = 1 each side"),
    (["pad", "-i", "11", "--k", "4", "-s", "11", "--op", "avgpool"], "so the total is even"),
    (["stride", "-i", "10", "--k", "3", "-s", "5"], "stride 1 gives 8 and stride 2 gives 4"),
    (["stride", "-i", "10", "--k", "3", "-s", "20"], "stride 1 gives the largest output, 8"),
    (["stride", "-i", "2", "--k", "3", "-s", "1"], "smaller than the kernel 3"),
    (["kernel", "-i", "10", "-s", "20"], "kernel 1 gives the largest output, 10"),
    (["kernel", "-i", "10", "-s", "3", "--stride", "2", "--dilation", "3"],
     "kernel 2 gives 4 and kernel 3 gives 2"),
    (["kernel", "-i", "10", "-s", "13", "--pad", "2", "--op", "maxpool"],
     "needs a pooling kernel of at least 4"),
])
def test_cli_no_solution_exits_1_and_says_why(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["solve", *args])
    assert result.exit_code == 1, result.output
    assert says in result.stdout and result.stderr == ""
    data = runner.invoke(app, ["solve", *args, "-f", "json"])
    assert data.exit_code == 1
    parsed = json.loads(data.stdout)
    assert parsed.get("solved") is False or parsed.get("count") == 0


def test_cli_pool_padding_is_what_torch_accepts() -> None:
    """maxpool/avgpool: p each side with p <= k // 2; conv offers any padding but says
    when even the smallest one is unusual (wider than the input, windows of padding)."""
    result = runner.invoke(app, ["solve", "pad", "-i", "112", "--k", "3", "--stride", "2",
                                 "-s", "56", "--op", "maxpool"])
    assert result.exit_code == 0
    assert "P = 2: pad 1 each side" in result.stdout and "same:" not in result.stdout
    data = json.loads(runner.invoke(app, ["solve", "pad", "-i", "20", "--k", "5", "--stride", "3",
                                          "-s", "7", "--op", "avgpool", "-f", "json"]).stdout)
    assert data["totals"] == [4] and data["max_pad"] == 2  # P = 3..5, even, p <= 2
    result = runner.invoke(app, ["solve", "pad", "-i", "4", "--k", "3", "-s", "20"])
    assert result.exit_code == 0
    assert "P = 18: pad 9 each side" in result.stdout and "(unusual)" in result.stdout
    assert ("note: even the smallest padding is unusual:\n  9 padding rows each side, more "
            "than the input 4\n  7 outputs each side read only padding\n") in result.stdout
    ordinary = runner.invoke(app, ["solve", "pad", "-i", "224", "--k", "7", "--stride", "2",
                                   "-s", "112"])
    assert "unusual" not in ordinary.stdout
    bad = runner.invoke(app, ["solve", "stride", "-i", "10", "--k", "3", "--pad", "2",
                              "-s", "3", "--op", "maxpool"])
    assert bad.exit_code == 2 and "at most k // 2 = 1" in bad.stderr
    bad = runner.invoke(app, ["solve", "kernel", "-i", "10", "--pad", "1,2", "-s", "3",
                              "--op", "avgpool"])
    assert bad.exit_code == 2 and "same on both sides" in bad.stderr


def test_unusual_padding_counts_windows_of_padding() -> None:
    for n, k_eff, s, b, a in [(4, 3, 1, 9, 9), (10, 3, 2, 5, 1), (5, 2, 3, 0, 7), (8, 3, 1, 2, 2)]:
        out = window_out(n, k_eff, s, b, a)
        starts = [i * s for i in range(out)]
        lead = sum(1 for x in starts if x + k_eff <= b)
        trail = sum(1 for x in starts if x >= b + n)
        text = " ".join(unusual_padding(n, k_eff, s, b, a))
        if lead or trail:
            assert (f"{lead} outputs each side" if lead == trail else
                    f"{lead} leading and {trail} trailing outputs") in text
        else:
            assert "read only padding" not in text


def test_cli_solve_stride_kernel_and_bad_usage() -> None:
    result = runner.invoke(app, ["solve", "stride", "-i", "224", "--k", "7", "--pad", "3",
                                 "-s", "112"])
    assert result.exit_code == 0 and "stride 2" in result.stdout
    result = runner.invoke(app, ["solve", "kernel", "-i", "32", "-s", "28"])
    assert result.exit_code == 0 and "kernel 5" in result.stdout
    result = runner.invoke(app, ["solve", "pad", "-i", "0", "--k", "3", "-s", "2"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["solve", "stride", "-i", "9", "--k", "3", "--pad", "x",
                                 "-s", "2"])
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


@pytest.mark.parametrize("text", ["1:1000000000000", f"1:{10**29}", f"5:{9 * 10**29}:3",
                                  f"1:{MAX_SIZES + 1}"])
def test_sizes_range_above_the_limit_is_refused_at_once(text: str) -> None:
    with hang_guard():
        result = runner.invoke(app, ["sizes", "lenet5", "--range", text])
    assert result.exit_code == 2
    assert f"at most {MAX_SIZES:,}" in result.stderr and "hint: narrow the range" in result.stderr
    step = result.stderr.rsplit(":", 1)[1].strip()
    assert len(parse_range(result.stderr.split("--range ")[-1].strip())) <= MAX_SIZES, step
    with pytest.raises(UsageError):
        input_sizes(cnncalc.load("lenet5"), range(1, MAX_SIZES + 2))


def test_sizes_work_is_bounded_by_sizes_times_layers(tmp_path: Path) -> None:
    """A long network gets fewer sizes: sizes x layers <= MAX_SIZE_WORK, refused before
    any analysis, with a step that fits."""
    layers = MAX_SIZE_WORK // 100 + 1  # 100 sizes would be just over the budget
    spec = tmp_path / "long.yaml"
    spec.write_text("cnncalc: 1\ninput: [1, 8, 8]\nlayers:\n"
                    f"  - {{op: relu, repeat: {layers}}}\n")
    with hang_guard():
        result = runner.invoke(app, ["sizes", str(spec), "--range", "1:100"])
    assert result.exit_code == 2, result.output
    assert f"100 sizes x {layers:,} layers is {100 * layers:,} layer analyses" in result.stderr
    hint = result.stderr.split("--range ")[-1].strip()
    assert size_count(parse_range(hint)) * layers <= MAX_SIZE_WORK
    ok = runner.invoke(app, ["sizes", str(spec), "--range", hint, "-f", "json"])
    assert ok.exit_code == 0, ok.output


def test_sizes_range_at_the_limit_runs() -> None:
    assert len(parse_range(f"1:{MAX_SIZES}")) == MAX_SIZES
    assert len(parse_range(f"1:{10**18}:{10**18 // (MAX_SIZES - 1)}")) <= MAX_SIZES


def _rows_never_read(n: int, k_eff: int, s: int, b: int, a: int) -> int:
    """The oracle: slide every floor-mode window over the padded axis and count the input
    rows at the end that no window covers."""
    last_start = ((n + b + a - k_eff) // s) * s - b  # in input coordinates
    return max(n - (last_start + k_eff), 0)


@pytest.mark.parametrize("n", [1, 5, 7, 8, 31, 224])
@pytest.mark.parametrize(("k", "s"), [(1, 1), (2, 2), (3, 2), (7, 2), (3, 4), (2, 5)])
@pytest.mark.parametrize(("b", "a"), [(0, 0), (1, 1), (3, 3), (0, 2), (2, 0)])
def test_one_leftover_behind_warning_working_and_solver(n: int, k: int, s: int, b: int,
                                                        a: int) -> None:
    """The truncation warning, the explained tiling and the solver's dropped rows are one
    computation (ops.base.leftover), checked against the windows themselves."""
    from cnncalc.ops.base import leftover, truncation
    from cnncalc.solve import dropped_rows

    if n + b + a < k:
        pytest.skip("no window fits")
    w = Window((n,), (k,), (1,), (s,), ((b, a),))
    want = _rows_never_read(n, k, s, b, a)
    assert leftover(n, k, s, b, a).dropped == want == dropped_rows(n, k, s, b, a)
    assert bool(w.truncation("conv")) == (want > 0)
    steps = truncation(w)
    assert any(st.kind == "truncation" for st in steps) == (want > 0)
    if want:
        assert f"the last {want} input" in w.truncation("conv")[0]
    ceil = Window((n,), (k,), (1,), (s,), ((b, a),), ceil_mode=True)
    assert not ceil.truncation("conv") and not truncation(ceil)
