"""Resource limits and exactness at the extremes.

Hostile or absurd input is refused with a LimitError (exit 2) before it costs time or
memory: alias bombs, deep nesting, huge repeats, huge files, huge integers.  Genuinely
huge networks (10^9 x 10^9 images, 10^6-cube volumes, 10^5 layers) are analysed exactly
with Python integers; every expected figure is computed here from the textbook formulas.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.errors import CnncalcError, LimitError
from cnncalc.spec import Limits, read_source

HEAD = "cnncalc: 1\ninput: [3, 8, 8]\n"


def refused(text: str | bytes, limits: Limits | None = None) -> LimitError:
    """Load ``text``; it must be refused with a LimitError, using under 64 MB of memory."""
    data = text if isinstance(text, bytes) else text.encode()
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as info:
            cnncalc.analyze(cnncalc.spec.parse_network(data, "x.yaml", limits or Limits()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20 + 2 * len(data), f"peak {peak:,} bytes"
    assert info.value.loc is not None and info.value.loc.file == "x.yaml"
    return info.value


# ------------------------------------------------------------------------- YAML limits
def billion_laughs(levels: int = 9) -> str:
    lines = ["tables:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return HEAD + "\n".join(lines) + "\nlayers: [relu]\n"


def test_alias_bomb_is_refused_before_expansion() -> None:
    err = refused(billion_laughs())
    assert "alias bomb" in err.message and "1,000,000 YAML values" in err.message


def test_alias_bomb_in_a_merge_key_is_refused() -> None:
    lines = ["tables:", "  m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 0}"]
    for i in range(1, 9):
        lines.append(f"  m{i}: &m{i} [" + ", ".join([f"*m{i - 1}"] * 10) + "]")
    lines.append("  x: {<<: *m8}")
    refused(HEAD + "\n".join(lines) + "\nlayers: [relu]\n")


def test_small_aliases_are_fine() -> None:
    net = cnncalc.loads(HEAD + "tables:\n  c: &c [[0, 1], [1, 2]]\n  d: *c\n"
                        "layers:\n  - &l {op: conv, out: 4, k: 3}\n  - {<<: *l, out: 8}\n")
    assert cnncalc.analyze(net).output_shape == (8, 4, 4)


@pytest.mark.parametrize("depth", [65, 10_000, 100_000])
def test_deep_flow_nesting_is_refused(depth: int) -> None:
    err = refused(HEAD + "tables:\n  t: " + "[" * depth + "]" * depth + "\nlayers: [relu]\n")
    assert "nested deeper than 64 levels" in err.message
    assert err.loc.line == 4


def test_deep_block_nesting_is_refused() -> None:
    text = HEAD + "tables:\n" + "".join(" " * (2 + i) + f"k{i}:\n" for i in range(3000))
    assert "nested deeper" in refused(text).message


def test_compact_nested_sequences_are_refused() -> None:
    assert "nested deeper" in refused(HEAD + "tables:\n  t:\n    " + "- " * 50_000 + "x\n").message


def test_a_million_brackets_do_not_crash_the_interpreter() -> None:
    """libyaml's composer recurses in C: unchecked, this input is a segfault, not an error.
    Run in a child process so a regression fails this test instead of killing pytest."""
    code = ("import cnncalc, sys\n"
            "try:\n"
            "    cnncalc.loads('cnncalc: 1\\ninput: [3]\\nlayers: ' + '[' * 10**6 + ']' * 10**6)\n"
            "except cnncalc.errors.LimitError as e:\n"
            "    print(e.message); sys.exit(0)\n"
            "sys.exit(5)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])
    assert "nested deeper than 64 levels" in proc.stdout


def test_a_raised_depth_limit_is_honoured() -> None:
    text = HEAD + "tables:\n  t: " + "[" * 80 + "]" * 80 + "\nlayers: [relu]\n"
    refused(text)
    cnncalc.loads(text, limits=Limits(max_depth=100))


def test_huge_integer_literal_is_refused_without_converting_it() -> None:
    # 10^6 digits: int() of it would take seconds (and raise past 4,300 digits)
    err = refused(HEAD + "layers: [{op: conv, out: 1" + "0" * 1_000_000 + ", k: 3}]\n")
    assert "more than 30 digits" in err.message
    assert (err.loc.line, err.loc.col) == (3, 26)


def test_expression_values_are_bounded() -> None:
    big = "999999999999999999999999999999"  # 30 digits: allowed as a literal
    refused(HEAD + "tables: {w: " + big + "}\nlayers: [{op: conv, out: '${w * w * w}', k: 1}]\n")


# ------------------------------------------------------------------- expansion limits
def test_repeat_of_a_billion_is_refused() -> None:
    err = refused(HEAD + "layers:\n  - {op: relu, repeat: 1000000000}\n")
    assert "more than 100,000 layers" in err.message and "1,000,000,000" in err.message
    assert (err.loc.line, err.loc.col) == (4, 24)


def test_nested_repeats_whose_product_is_huge_are_refused_up_front() -> None:
    text = HEAD + ("blocks:\n"
                   "  a: {layers: [{op: relu, repeat: 1000}]}\n"
                   "  b: {layers: [{op: a, repeat: 1000}]}\n"
                   "  c: {layers: [{op: b, repeat: 1000}]}\n"
                   "layers:\n  - {op: c, repeat: 1000}\n")
    err = refused(text)
    assert "at least 1,000,000,000,000" in err.message


def test_repeat_counts_from_block_arguments_are_bounded_too() -> None:
    text = HEAD + ("blocks:\n"
                   "  a: {args: {n: int}, layers: [{op: relu, repeat: $n}]}\n"
                   "layers:\n  - {op: a, n: 1000000000}\n")
    err = refused(text)
    assert "at least 1,000,000,000 by this entry (repeats and blocks multiply)" in err.message
    assert (err.loc.line, err.loc.col) == (6, 5)
    nested = HEAD + ("blocks:\n"
                     "  a: {args: {n: int}, layers: [{op: relu, repeat: $n}]}\n"
                     "  b: {args: {n: int}, layers: [{op: a, n: $n, repeat: $n}]}\n"
                     "layers:\n  - {op: b, n: 400}\n")
    assert "at least 160,000" in refused(nested).message
    # first/last overrides count for their own copy only: 399 * 250 + 1 + 1 layers is fine
    ok = nested.replace("{op: b, n: 400}", "{op: a, n: 25, repeat: {n: 40, first: {n: 1}}}")
    assert len(cnncalc.loads(ok, limits=Limits(max_layers=990))) == 39 * 25 + 1
    opaque = HEAD + ("blocks:\n"
                     "  a: {args: {n: int}, layers: [{op: relu, repeat: '${n + 0}'}]}\n"
                     "  b: {args: [n], layers: [{op: a, n: $n, repeat: $n}]}\n"
                     "layers:\n  - {op: b, args: [400]}\n")  # positional: not followed up front
    assert "more than 2,000 layers" in refused(opaque, Limits(max_layers=2_000)).message


def test_layer_limit_can_be_raised_and_lowered() -> None:
    text = HEAD + "layers:\n  - {op: relu, repeat: 50}\n"
    refused(text, Limits(max_layers=49))
    assert len(cnncalc.loads(text, limits=Limits(max_layers=50))) == 50


def test_shorthand_rows_count_against_the_layer_limit() -> None:
    text = HEAD + "layers:\n  - {op: conv, out: 3, k: 1, bn: true, act: relu, repeat: 10}\n"
    refused(text, Limits(max_layers=29))
    assert len(cnncalc.loads(text, limits=Limits(max_layers=30))) == 30


# ------------------------------------------------------------------------- file size
def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:  # 300 MB, sparse: costs no disk and no time to make
        f.write(HEAD.encode())
        f.truncate(300 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as info:
            cnncalc.load(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20
    assert "314,572,800 bytes, over the limit of 16,777,216" in info.value.message
    assert "--max-bytes" in info.value.format()


def test_endless_device_is_never_opened() -> None:
    """A device (or a FIFO) is refused after ``stat``, before ``open()`` could block."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(cnncalc.errors.UsageError, match="not a regular file"):
        cnncalc.load("/dev/zero", limits=Limits(max_bytes=1000))


class _Endless(io.RawIOBase):
    """A stdin that never ends; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        buffer[:n] = b"#" * n
        self.read_bytes += n
        return n


def test_stdin_is_read_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw)))
    limits = Limits(max_bytes=100_000)
    data, name = read_source("-", limits)
    assert (len(data), name) == (100_001, "<stdin>")
    assert raw.read_bytes < 200_000
    with pytest.raises(LimitError, match="more than 100,000 bytes"):
        cnncalc.spec.parse_network(data, name, limits)


def test_byte_limit_can_be_raised(tmp_path: Path) -> None:
    spec = tmp_path / "padded.yaml"
    spec.write_text(HEAD + "layers: [relu]\n" + "# padding\n" * 3000)
    with pytest.raises(LimitError):
        cnncalc.load(spec, limits=Limits(max_bytes=10_000))
    assert cnncalc.load(spec, limits=Limits(max_bytes=40_000)).input_shape == (3, 8, 8)


def test_cli_limit_flags(tmp_path: Path) -> None:
    typer_testing = pytest.importorskip("typer.testing")
    from cnncalc.cli import app

    spec = tmp_path / "ten.yaml"
    spec.write_text(HEAD + "layers:\n  - {op: relu, repeat: 10}\n")
    run = typer_testing.CliRunner().invoke
    result = run(app, ["shapes", str(spec), "--max-layers", "9"])
    if result.exit_code == 2 and "No such option" in result.stderr:
        pytest.skip("the CLI has no --max-layers yet")
    assert result.exit_code == 2 and "more than 9 layers" in result.stderr
    assert run(app, ["shapes", str(spec), "--max-layers", "10"]).exit_code == 0
    result = run(app, ["shapes", str(spec), "--max-bytes", "20"])
    assert result.exit_code == 2 and "over the limit of 20" in result.stderr


# --------------------------------------------------------------- exactness at extremes
def conv_out(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def test_gigapixel_squared_image_is_exact() -> None:
    n = 10**9
    net = cnncalc.loads(f"""
        cnncalc: 1
        input: [3, {n}, {n}]
        layers:
          - {{id: c1, op: conv, out: 64, k: 7, stride: 2, pad: 3}}
          - {{id: p1, op: maxpool, k: 3, stride: 2, pad: 1}}
          - {{id: c2, op: conv, out: 128, k: 3, pad: 1, groups: 2, bias: false}}
          - {{id: gap, op: avgpool, global: true}}
          - flatten
          - {{id: fc, op: linear, out: 1000}}
    """.replace("\n        ", "\n"))
    r = cnncalc.analyze(net, dtype="float64")
    h1 = conv_out(n, 7, 2, 3)
    h2 = conv_out(h1, 3, 2, 1)
    assert h1 == 500_000_000 and h2 == 250_000_000
    c1, p1, c2 = r.layer("c1"), r.layer("p1"), r.layer("c2")
    assert c1.output_shape == (64, h1, h1)
    assert c1.macs == 64 * 3 * 7 * 7 * h1 * h1 == 2_352_000_000_000_000_000_000
    assert c1.flops == 2 * c1.macs + 64 * h1 * h1
    assert c1.activation_bytes == 64 * h1 * h1 * 8
    assert p1.output_shape == (64, h2, h2)
    assert p1.flops == (9 - 1) * 64 * h2 * h2
    assert c2.params == 128 * (64 // 2) * 9
    assert c2.macs == 128 * 32 * 9 * h2 * h2
    assert r.output_shape == (1000,)
    assert r.totals.params == 64 * 3 * 49 + 64 + 128 * 32 * 9 + 128 * 1000 + 1000
    assert r.totals.macs == c1.macs + c2.macs + 128 * 1000
    assert r.totals.macs > 2**64  # past any fixed-width integer, still exact
    assert r.layer("c2").receptive_field.size == (7 + 2 * 2 + 2 * 4, 7 + 2 * 2 + 2 * 4)
    assert r.receptive_field.jump == (4, 4)


def test_megavoxel_cube_volume_is_exact() -> None:
    n = 10**6
    net = cnncalc.loads(f"cnncalc: 1\ninput: [2, {n}, {n}, {n}]\nlayers:\n"
                        "  - {id: c, op: conv, out: 8, k: 3, stride: 2}\n"
                        "  - {id: t, op: conv_transpose, out: 4, k: 2, stride: 2}\n")
    r = cnncalc.analyze(net, batch=16)
    m = conv_out(n, 3, 2)
    assert m == 499_999
    c, t = r.layer("c"), r.layer("t")
    assert c.output_shape == (8, m, m, m)
    assert c.macs == 16 * 8 * 2 * 27 * m**3
    assert c.params == 8 * 2 * 27 + 8
    assert any("dropped" in w or "never read" in w for w in c.warnings)  # (10^6 - 3) % 2 == 1
    assert t.output_shape == (4, 2 * m, 2 * m, 2 * m)
    assert t.macs == 16 * 8 * 4 * 8 * m**3  # per input element, not per output position
    assert r.totals.activation_bytes == 16 * 4 * (8 * m**3 + 4 * (2 * m) ** 3)
    # input and c live together, then c and t (the input is freed once c is computed)
    assert r.totals.peak_activation_bytes == 16 * 4 * max(2 * n**3 + 8 * m**3,
                                                          8 * m**3 + 4 * (2 * m) ** 3)


def test_hundred_thousand_layers_are_exact() -> None:
    convs, relus = 10_000, 90_000
    net = cnncalc.loads(f"""cnncalc: 1
input: [4, 64, 64]
blocks:
  unit:
    layers:
      - {{op: conv, out: 4, k: 3, pad: 1}}
      - {{op: relu, repeat: 9}}
layers:
  - {{id: body, op: unit, repeat: {convs}}}
""")
    assert len(net) == convs + relus == 100_000
    r = cnncalc.analyze(net)
    per_conv = 4 * 4 * 9 + 4
    assert r.totals.params == convs * per_conv
    assert r.totals.macs == convs * 4 * 4 * 9 * 64 * 64
    assert r.totals.flops == convs * (2 * 4 * 4 * 9 * 64 * 64 + 4 * 64 * 64) + relus * 4 * 64 * 64
    assert r.output_shape == (4, 64, 64)
    last = r.layers[-1]
    assert last.id == f"body[{convs - 1}].relu1[8]"
    assert last.receptive_field.size == (1 + 2 * convs, 1 + 2 * convs)
    assert r.totals.activation_bytes == 100_000 * 4 * 64 * 64 * 4


def test_errors_at_the_extremes_show_exact_numbers() -> None:
    with pytest.raises(CnncalcError) as info:
        cnncalc.analyze(cnncalc.loads(
            "cnncalc: 1\ninput: [1, 1000000000000]\nlayers: [{op: conv, out: 1, k: 3, "
            "dilation: 600000000000}]\n"))
    n, d = 10**12, 6 * 10**11
    assert f"= {(n - d * 2 - 1) // 1 + 1}" in info.value.message  # -200,000,000,000
    assert f"effective kernel {d * 2 + 1}" in info.value.message


@pytest.mark.parametrize("shape", [(1, 0, 32), (1, -5, 32), (1, 32.0, 32), ("1", 32, 32), (),
                                   (1, 2, 3, 4, 5), (True, 32, 32), "1x32x32"])
def test_api_input_shape_is_validated(shape: Any) -> None:
    with pytest.raises(cnncalc.errors.UsageError, match="1 to 4 positive integers"):
        cnncalc.analyze(cnncalc.load("lenet5"), input_shape=shape)


@pytest.mark.parametrize("batch", [0, -1, 2.5, True])
def test_api_batch_is_validated(batch: Any) -> None:
    with pytest.raises(cnncalc.errors.UsageError, match="batch must be an integer"):
        cnncalc.analyze(cnncalc.load("lenet5"), batch=batch)


def test_adaptive_pool_to_a_huge_size_is_exact_and_quick() -> None:
    """An adaptive pool to 10^17 outputs must not build 10^17 windows (it did: found by
    fuzzing, the process grew past 2 GB)."""
    def windows(n: int, s: int) -> list[int]:  # torch's rule, for small sizes only
        return [-(-(i + 1) * n // s) - (i * n // s) for i in range(s)]

    big = 10**17  # a multiple of 8: every output reads exactly one input position
    r = cnncalc.analyze(cnncalc.loads(
        "cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n"
        f"  - {{id: a, op: adaptive_avgpool, size: [7, {big}]}}\n"))
    a = r.layer("a")
    assert a.output_shape == (3, 7, big)
    assert a.flops == 3 * sum(windows(8, 7)) * big
    assert a.receptive_field.size == (max(windows(8, 7)), 1)


# ------------------------------------------------------------- depth past Python's stack
def block_chain(n: int) -> str:
    """Blocks b1 -> b2 -> ... -> bn, each calling the next (no recursion)."""
    lines = [HEAD.rstrip("\n"), "blocks:"]
    lines += [f"  b{i}: {{layers: [b{i + 1}]}}" for i in range(1, n)]
    lines += [f"  b{n}: {{layers: [relu]}}", "layers: [b1]"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("depth", [33, 250, sys.getrecursionlimit() * 3])
def test_a_deep_chain_of_blocks_is_refused_with_the_chain(depth: int) -> None:
    err = refused(block_chain(depth))
    assert "blocks nest deeper than 32 levels: b1 -> b2 -> b3 -> ... (27 more) -> b31 -> b32 -> " \
           "b33" in err.message
    assert err.loc.line == 3 + 32 and err.loc.col == 18  # the call of b33, inside b32
    assert len(err.format()) < 4000


def test_a_chain_of_32_blocks_is_expanded() -> None:
    net = cnncalc.loads(block_chain(32))
    assert net.nodes[-1].id == ".".join(f"b{i}1" for i in range(1, 33)) + ".relu1"


def test_a_long_chain_of_blocks_in_a_repeat_is_refused_too() -> None:
    text = block_chain(3000).replace("layers: [b1]", "layers: [{op: b1, repeat: 5}]")
    assert "blocks nest deeper than 32" in refused(text).message


@pytest.mark.parametrize("expr", [
    "+".join(["1"] * 10_000), "(" * 10_000 + "1" + ")" * 10_000, "-" * 10_000 + "1",
    "max(" * 5_000 + "1" + ")" * 5_000, "(" * 127 + "w" + ")" * 127, "-" * 254 + "w",
    "+".join(["w"] * 128),
])
def test_deep_or_long_expressions_are_refused_or_evaluated_never_a_crash(expr: str) -> None:
    text = HEAD + f"tables: {{w: 4}}\nlayers: [{{op: conv, out: '${{{expr}}}', k: 1}}]\n"
    try:
        net = cnncalc.loads(text)
    except CnncalcError as exc:
        assert exc.loc is not None and exc.loc.line == 4 and exc.exit_code == 2
        assert "longer than 256" in exc.message or "parse" in exc.message, exc.message
    else:
        assert net.nodes[0].op.args.out in (4, 512)


def test_a_raised_depth_limit_past_the_stack_is_still_an_error() -> None:
    depth = sys.getrecursionlimit() * 2
    text = HEAD + "tables:\n  t: " + "[" * depth + "]" * depth + "\nlayers: [relu]\n"
    with pytest.raises(LimitError, match="nested deeper"):
        cnncalc.loads(text, limits=Limits(max_depth=depth + 10))


# ------------------------------------------------------------------------- memory: names
def test_a_megabyte_id_repeated_is_refused_before_copies_are_made() -> None:
    err = refused(HEAD + "layers:\n  - {id: " + "a" * 1_000_000 + ", op: relu, repeat: 100000}\n")
    assert "is longer than 200 characters" in err.message
    assert "(1,000,000 characters)" in err.message
    assert len(err.format()) < 300 and (err.loc.line, err.loc.col) == (4, 10)


def test_ids_of_200_characters_are_fine() -> None:
    net = cnncalc.loads(HEAD + "layers:\n  - {id: " + "a" * 200 + ", op: relu, repeat: 2}\n")
    assert net.nodes[-1].id == "a" * 200 + "[1]"


def test_expanded_ids_are_bounded() -> None:
    """Nested blocks join their ids: 32 levels of 200-character ids would make each id
    6 KB, for every one of up to max_layers layers."""
    lines = [HEAD.rstrip("\n"), "blocks:"]
    for i in range(1, 10):
        lines.append(f"  b{i}: {{layers: [{{id: {'x' * 190}{i}, op: b{i + 1}}}]}}")
    lines += ["  b10: {layers: [{op: relu, repeat: 50000}]}", "layers: [b1]"]
    err = refused("\n".join(lines) + "\n")
    assert "is longer than 1,000 characters" in err.message


def test_a_long_block_name_is_not_copied_into_every_note() -> None:
    name = "u" * 1_000_000
    text = HEAD + f"blocks:\n  {name}: {{layers: [{{op: conv, out: 4, k: 0}}]}}\n" \
                  f"layers:\n  - {{op: {name}, repeat: 3}}\n"
    with pytest.raises(CnncalcError) as info:
        cnncalc.loads(text)
    assert len(info.value.format()) < 2000
    assert all(len(n) < 400 for n in info.value.notes)


# ---------------------------------------------------------------- memory: shared tables
def test_a_large_table_given_to_every_layer_is_refused_before_it_is_copied() -> None:
    rows = 300  # a 300 x 300 connection table: 90,301 values, validated anew by every layer
    table = "[" + ", ".join("[" + ", ".join(map(str, range(rows))) + "]" for _ in range(rows)) + "]"
    text = (f"cnncalc: 1\ninput: [{rows}, 8, 8]\ntables:\n  t: {table}\nlayers:\n"
            f"  - {{op: conv, out: {rows}, k: 1, connect: $t, repeat: 100000}}\n")
    err = refused(text)
    assert "more than 4,000,000 argument values" in err.message
    assert (err.loc.line, err.loc.col) == (6, 5)


def test_the_argument_value_limit_can_be_raised_and_lowered() -> None:
    text = HEAD + "layers: [{op: conv, out: 4, k: [3, 3], repeat: 10}]\n"
    assert len(cnncalc.loads(text)) == 10
    with pytest.raises(LimitError, match="more than 25 argument values"):
        cnncalc.loads(text, limits=Limits(max_arg_values=25))


def test_a_large_table_set_is_shared_by_block_calls_not_copied() -> None:
    """Every block call sees the tables; copying 100,000 of them for each of 10,000 calls
    would take minutes (a generous timeout only guards against a hang)."""
    code = ("import cnncalc\n"
            "tables = ''.join(f'  t{i}: {i}\\n' for i in range(100_000))\n"
            "text = ('cnncalc: 1\\ninput: [3, 8, 8]\\ntables:\\n' + tables +\n"
            "        'blocks:\\n  b: {layers: [relu]}\\nlayers: [{op: b, repeat: 10000}]\\n')\n"
            "print(len(cnncalc.loads(text)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.strip() == "10000"


def test_long_table_names_and_references_are_refused_before_they_are_walked() -> None:
    name = "t" * 1_000_000
    err = refused(HEAD + f"tables:\n  ? {name}\n  : 4\nlayers: [{{op: conv, out: ${name}, k: 1, "
                         "repeat: 100000}]\n")
    assert "the table name 'ttt" in err.message and "longer than 200 characters" in err.message
    assert (err.loc.line, err.loc.col) == (4, 5)
    with pytest.raises(CnncalcError) as info:
        cnncalc.loads(HEAD + f"layers: [{{op: conv, out: ${name}, k: 1, repeat: 100000}}]\n")
    assert "longer than 256 characters" in info.value.message and len(info.value.format()) < 300


def test_a_long_chain_of_merges_is_not_mistaken_for_deep_nesting() -> None:
    """m1 merges m0, m2 merges m1, ...: each mapping is one level deep."""
    lines = ["tables:", "  m0: &m0 {a0: 0}"]
    lines += [f"  m{i}: &m{i} {{<<: *m{i - 1}, a{i}: {i}}}" for i in range(1, 400)]
    net = cnncalc.loads(HEAD + "\n".join(lines) + "\nlayers: [relu]\n")
    assert net.raw["tables"]["m399"] == {f"a{i}": i for i in range(400)}
