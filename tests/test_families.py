"""Families: a spec's top-level ``args:`` and ``variants:``, the zoo index that finds a
variant by name, ``FILE.yaml:VARIANT`` targets, ``cnncalc.load(variant=, args=)``,
``cnncalc check`` per variant and ``cnncalc zoo`` listing families.

Oracles: the plain-torch ResNets of tests/reference_nets.py (torchvision's construction)
for the figures of args the zoo has no variant for; the published figures are held by
each variant's own ``expect:`` (tests/test_zoo.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import SpecError, UsageError
from cnncalc.spec import split_target
from cnncalc.spec.zoo import build_index, index_path, index_text, listing, variant_names

ROOT = Path(__file__).resolve().parent.parent
RESNET = ROOT / "specs" / "resnet.yaml"
runner = CliRunner()

FAMILY = """\
cnncalc: 1
name: tiny family
input: [3, 16, 16]
args:
  width: 8
  wide: "${2 * width}"
  classes: 10
variants:
  tiny_a: {}
  tiny_b:
    args: {width: 4}
    input: [3, 8, 8]
    description: a narrower one
  tiny_c:
    name: Tiny C
    args: {width: 16, classes: 5}
    expect: {params: 1}
layers:
  - {id: c1, op: conv, out: $width, k: 3, pad: 1}
  - {id: c2, op: conv, out: $wide, k: 3, pad: 1}
  - {op: avgpool, global: true}
  - flatten
  - {id: fc, op: linear, out: $classes}
"""


def write(folder: Path, text: str, name: str = "fam.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def conv_params(c_in: int, c_out: int, k: int = 3) -> int:
    return c_out * c_in * k * k + c_out


def family_params(width: int, classes: int) -> int:
    return conv_params(3, width) + conv_params(width, 2 * width) + 2 * width * classes + classes


# ------------------------------------------------------------------ binding args
def test_a_file_loads_with_its_defaults_and_defaults_see_earlier_args(tmp_path: Path) -> None:
    net = cnncalc.load(write(tmp_path, FAMILY))
    assert (net.name, net.variant, dict(net.args)) == ("tiny family", None,
                                                        {"width": 8, "wide": 16, "classes": 10})
    assert cnncalc.analyze(net).totals.params == family_params(8, 10)


def test_a_variant_sets_args_input_and_name(tmp_path: Path) -> None:
    path = write(tmp_path, FAMILY)
    b = cnncalc.load(path, variant="tiny_b")
    assert (b.name, b.input_shape, b.args["wide"]) == ("tiny_b", (3, 8, 8), 8)  # wide follows
    assert cnncalc.analyze(b).totals.params == family_params(4, 10)
    c = cnncalc.load(path, variant="tiny_c")
    assert (c.name, c.input_shape, c.source) == ("Tiny C", (3, 16, 16), f"{path}:tiny_c")
    assert cnncalc.analyze(c).output_shape == (5,)


def test_api_args_override_the_variants_values(tmp_path: Path) -> None:
    path = write(tmp_path, FAMILY)
    net = cnncalc.load(path, variant="tiny_c", args={"classes": 3})
    assert (net.args["width"], net.args["classes"]) == (16, 3)
    assert cnncalc.analyze(net).totals.params == family_params(16, 3)
    assert cnncalc.load(path, args={"width": "${3 * 2}"}).args["wide"] == 12


def test_loads_takes_a_variant_and_args_too() -> None:
    net = cnncalc.loads(FAMILY, "fam.yaml", variant="tiny_b", args={"classes": 7})
    assert (net.source, net.input_shape, cnncalc.analyze(net).output_shape) == \
        ("fam.yaml:tiny_b", (3, 8, 8), (7,))


def test_spec_args_are_names_inside_blocks(tmp_path: Path) -> None:
    net = cnncalc.load(write(tmp_path, """\
        cnncalc: 1
        input: [3, 8, 8]
        args: {growth: 6}
        blocks:
          unit:
            args: {extra: 1}
            layers: [{id: c, op: conv, out: "${growth + extra}", k: 1}]
        layers: [{id: u, op: unit, repeat: $growth}]
    """), args={"growth": 2})
    assert [n.id for n in net.nodes] == ["u[0].c", "u[1].c"]
    assert cnncalc.analyze(net).layer("u[1].c").output_shape == (3, 8, 8)


# ------------------------------------------------------------- the ResNet family
def _torch_resnet_params(bottleneck: bool, counts: list[int], classes: int = 1000) -> int:
    pytest.importorskip("torch")
    import torch

    from reference_nets import BasicBlock, Bottleneck, ResNet

    with torch.device("meta"):
        model = ResNet(Bottleneck if bottleneck else BasicBlock, counts, classes)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name, bottleneck, counts", [
    ("resnet18", False, [2, 2, 2, 2]), ("resnet34", False, [3, 4, 6, 3]),
    ("resnet50", True, [3, 4, 6, 3]), ("resnet101", True, [3, 4, 23, 3]),
    ("resnet152", True, [3, 8, 36, 3])])
def test_every_resnet_variant_is_torchs(name: str, bottleneck: bool, counts: list[int]) -> None:
    net = cnncalc.load(name)
    assert (net.variant, net.source) == (name, f"resnet.yaml:{name}")
    assert cnncalc.analyze(net).totals.params == _torch_resnet_params(bottleneck, counts)


def test_resnet_args_beyond_the_variants_match_torch() -> None:
    net = cnncalc.load(RESNET, args={"block": "basic", "depth1": 1, "depth2": 1, "depth3": 1,
                                     "depth4": 1, "num_classes": 10})
    assert cnncalc.analyze(net).totals.params == _torch_resnet_params(False, [1, 1, 1, 1], 10)


def test_the_family_keeps_resnet50s_layer_ids() -> None:
    ids = [row.id for row in cnncalc.analyze(cnncalc.load("resnet50")).layers]
    golden = json.loads((ROOT / "tests" / "golden" / "resnet50_summary.json").read_text())
    assert ids == [layer["id"] for layer in golden["layers"]]
    assert ids[:3] == ["conv1", "conv1.bn", "conv1.act"] and "layer4[2].conv3" in ids


# ------------------------------------------------------------------ targets
def test_file_colon_variant_works_in_commands(tmp_path: Path) -> None:
    result = run("summary", f"{RESNET}:resnet34", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["name"], data["source"]) == ("ResNet-34", f"{RESNET}:resnet34")
    shapes = run("shapes", f"{RESNET}:resnet18", "--input", "64")
    assert shapes.exit_code == 0 and "layer4[1].relu1" in shapes.stdout
    assert run("params", "resnet152", "-f", "json").exit_code == 0


@pytest.mark.parametrize("command", [
    ["shapes"], ["params"], ["flops"], ["rf"], ["summary", "-f", "csv"],
    ["explain", "--layer", "fc"], ["sizes", "--range", "8:9", "-f", "json"],
    ["graph", "--format", "dot"], ["compare", "lenet5"], ["diff", "lenet5"], ["check"]])
def test_every_command_that_takes_a_spec_takes_file_colon_variant(tmp_path: Path,
                                                                  command: list[str]) -> None:
    path = write(tmp_path, FAMILY)
    result = run(command[0], f"{path}:tiny_b", *command[1:])
    assert result.exit_code == 0, result.output
    if command[0] == "check":
        assert f"PASS  {path}:tiny_b (tiny_b)" in result.stdout
    else:  # the variant's figures, not the defaults'
        assert result.stdout != run(command[0], str(path), *command[1:]).stdout


def test_a_file_whose_name_has_a_colon_is_read_as_it_is(tmp_path: Path) -> None:
    odd = write(tmp_path, FAMILY, "odd.yaml:tiny_b")
    assert split_target(str(odd)) == (str(odd), None)
    assert cnncalc.load(odd).variant is None
    assert split_target(f"{tmp_path / 'fam.yaml'}:tiny_b") == (str(tmp_path / "fam.yaml"),
                                                               "tiny_b")
    assert split_target("C:model") == ("C:model", None)  # no such file: not split
    assert split_target("resnet:resnet34") == ("resnet", "resnet34")  # a zoo file's variant
    assert split_target("-:tiny_b") == ("-", "tiny_b")  # stdin's


def test_stdin_with_a_variant(tmp_path: Path) -> None:
    result = runner.invoke(app, ["summary", "-f", "json", "--", "-:tiny_b"], input=FAMILY)
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["source"], json.loads(result.stdout)["input_shape"]) \
        == ("<stdin>:tiny_b", [3, 8, 8])


def test_an_unknown_variant_lists_the_files_variants_closest_first(tmp_path: Path) -> None:
    path = write(tmp_path, FAMILY)
    result = run("summary", f"{path}:tiny_bb")
    assert result.exit_code == 2
    assert f"error: {path} has no variant 'tiny_bb'; its variants: tiny_b, " in result.stderr
    with pytest.raises(UsageError, match="has no variant 'resnet51'; its variants: resnet50"):
        cnncalc.load(RESNET, variant="resnet51")
    plain = run("summary", f"{ROOT / 'specs' / 'lenet5.yaml'}:x")
    assert plain.exit_code == 2 and "has no variants" in plain.stderr


def test_a_typo_of_a_variant_name_suggests_it() -> None:
    result = run("summary", "resnet15")
    assert result.exit_code == 2 and "did you mean the built-in 'resnet152'" in result.stderr


def test_two_variants_asked_for_is_an_error() -> None:
    with pytest.raises(UsageError, match="names the variant 'resnet18'"):
        cnncalc.load(f"{RESNET}:resnet18", variant="resnet34")
    assert cnncalc.load(f"{RESNET}:resnet18", variant="resnet18").variant == "resnet18"


# ------------------------------------------------------------------- errors
def _error(tmp_path: Path, text: str) -> tuple[str, int, int]:
    path = write(tmp_path, text)
    result = run("summary", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    with pytest.raises(SpecError) as info:
        cnncalc.load(path)
    loc = info.value.loc
    assert loc is not None and loc.file == str(path)
    assert result.stderr.startswith(f"{loc}: error: ")
    return info.value.message, loc.line, loc.col


BASE = "cnncalc: 1\ninput: [3, 8, 8]\nlayers: [{op: conv, out: $w, k: 3}]\n"


@pytest.mark.parametrize("extra, message, line, col", [
    ("args: {w: 4, depth: 1}\nvariants:\n  v1: {args: {dpth: 2}}\n",
     "variant 'v1': unknown argument 'dpth'; did you mean 'depth'? (the spec's args: w, depth)",
     6, 15),
    ("args: {w: int}\n", "args: w: int reads as a type, but spec args need defaults", 4, 11),
    ("args: [w]\n", "args: 'w' has no default; spec args need defaults", 4, 8),
    ("args: {w: 4}\ntables: {w: 5}\n", "args: 'w' is also a table", 4, 8),
    ("args: {w: 4, 2x: 1}\n", "args: '2x' is not a name", 4, 14),
    ("args: {w: 4, in_channels: 3}\n", "args: 'in_channels' is reserved: it names the input "
     "shape", 4, 14),
    ("args: {w: 4}\nvariants:\n  1v: {}\n", "variant '1v' is not a name", 6, 3),
    ("args: {w: 4}\nvariants:\n  v: {input: [3, 0, 8]}\n", "input", 6, 18),
    ("args: {w: 4}\nvariants:\n  v: {expect: {parms: 3}}\n", "parms", 6, 16),
    ("args: {w: 4}\nvariants:\n  v: {size: 3}\n", "size", 6, 7),
    ("args: {w: \"${2 * q}\"}\n", "unknown name 'q'", 4, 11),
    ("args: {w: \"${in_channels * 2}\"}\n", "in_channels is not known yet: spec args are "
     "bound before any layer", 4, 11),
])
def test_family_errors_are_located(tmp_path: Path, extra: str, message: str, line: int,
                                   col: int) -> None:
    got, at_line, at_col = _error(tmp_path, BASE + extra)
    assert message in got
    assert (at_line, at_col) == (line, col)


def test_the_variants_of_a_file_are_bounded(tmp_path: Path) -> None:
    from cnncalc.errors import LimitError
    from cnncalc.spec.family import MAX_VARIANTS

    many = "".join(f"  v{i}: {{}}\n" for i in range(MAX_VARIANTS + 1))
    path = write(tmp_path, BASE + "args: {w: 4}\nvariants:\n" + many)
    with pytest.raises(LimitError, match="1,001 variants, over the limit of 1,000") as info:
        cnncalc.load(path)
    assert (info.value.loc.line, info.value.loc.col) == (5, 1)
    result = run("check", str(path))
    assert result.exit_code == 2 and result.stdout.count("ERROR") == 1


def test_a_bad_variant_is_an_error_whichever_variant_is_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "args: {w: 4}\nvariants:\n  good: {}\n  bad: {args: {x: 1}}\n")
    with pytest.raises(SpecError, match="variant 'bad': unknown argument 'x'"):
        cnncalc.load(path, variant="good")


def test_api_args_that_the_spec_lacks_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no argument 'widht'; did you mean 'width'"):
        cnncalc.load(write(tmp_path, FAMILY), args={"widht": 3})


# -------------------------------------------------------------------- check
def test_check_holds_every_variant_to_its_expect(tmp_path: Path) -> None:
    path = write(tmp_path, FAMILY.replace("tiny_a: {}", "tiny_a: {expect: {output_shape: [10]}}")
                 + "expect: {output_shape: [10]}\n")
    result = run("check", str(path))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"PASS  {path} (tiny family): 1 expectation met")
    assert lines[1].startswith(f"PASS  {path}:tiny_a (tiny_a): 1 expectation met")
    assert lines[2].startswith(f"PASS  {path}:tiny_b (tiny_b)")
    assert lines[3].startswith(f"FAIL  {path}:tiny_c (Tiny C): 1 of 1 expectation")
    assert f"params: expected 1, got {family_params(16, 5):,}" in result.stdout
    assert lines[-1].startswith("4 specs: 3 passed, 1 failed")


def test_check_of_one_variant_checks_only_it(tmp_path: Path) -> None:
    path = write(tmp_path, FAMILY)
    result = run("check", f"{path}:tiny_b", "resnet50", "--format", "json")
    files = [s["file"] for s in json.loads(result.stdout)["specs"]]
    assert files == [f"{path}:tiny_b", "resnet.yaml:resnet50"] and result.exit_code == 0


def test_check_annotations_and_junit_point_at_the_file_itself(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    path = write(tmp_path, FAMILY)
    github = run("check", f"{path}:nope", "--format", "github").stdout
    assert github.startswith(f"::error file={path},title=") and "has no variant 'nope'" in github
    junit = ET.fromstring(run("check", str(path), "--format", "junit").stdout)
    cases = [(c.get("name"), c.get("file")) for c in junit.iter("testcase")]
    assert cases == [(f"{path}:{v}", str(path)) for v in ("tiny_a", "tiny_b", "tiny_c")]


def test_check_of_the_zoo_folder_names_each_variant() -> None:
    result = run("check", str(ROOT / "specs"))
    assert result.exit_code == 0, result.output
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        assert f"PASS  {ROOT / 'specs' / 'resnet.yaml'}:{name} (ResNet-" in result.stdout


# ---------------------------------------------------------------------- zoo
def test_zoo_lists_each_variant_with_its_family() -> None:
    result = run("zoo", "--format", "json")
    assert result.exit_code == 0
    rows = {e["name"]: e for e in json.loads(result.stdout)}
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        row = rows[name]
        assert set(row) == {"name", "family", "title", "input_shape", "output_shape", "params",
                            "trainable_params", "macs"}
        report = cnncalc.analyze(cnncalc.load(name))
        assert (row["family"], row["title"], row["params"], row["macs"], row["input_shape"]) \
            == ("resnet", report.name, report.totals.params, report.totals.macs, [3, 224, 224])
    assert rows["lenet5"]["family"] is None and "resnet" not in rows
    text = run("zoo", "--no-color").stdout
    line = next(ln for ln in text.splitlines() if ln.startswith("resnet101 "))
    assert line.split()[:3] == ["resnet101", "resnet", "ResNet-101"] and "44.55 M" in line


def test_the_zoo_index_is_current() -> None:
    """The committed index holds each zoo entry's figures and which file has which variant:
    a changed spec, a new one or a change in how a figure is counted makes it stale."""
    assert index_path().read_text(encoding="utf-8") == index_text(build_index()), \
        "specs/zoo.json is stale: regenerate it with `python -m cnncalc.spec.zoo`"
    assert set(variant_names()) >= {"resnet18", "resnet50", "resnet152"}
    assert listing() == [row for part in build_index()["files"].values()
                         for row in part["entries"]]


def test_the_index_refuses_a_name_meaning_two_specs(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.spec.zoo as zoo

    write(tmp_path, FAMILY, "a.yaml")
    write(tmp_path, FAMILY, "b.yaml")
    monkeypatch.setattr(zoo, "zoo_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"'tiny_a' is declared by both a\.yaml and b\.yaml"):
        build_index()
    (tmp_path / "b.yaml").unlink()
    write(tmp_path, "cnncalc: 1\ninput: [3]\nlayers: [relu]\n", "tiny_b.yaml")
    with pytest.raises(ValueError, match=r"'tiny_b' of a\.yaml has the name of the zoo file"):
        build_index()


def test_the_index_generator_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.spec.zoo as zoo

    write(tmp_path, FAMILY, "fam.yaml")
    monkeypatch.setattr(zoo, "zoo_dir", lambda: tmp_path)
    assert zoo.main(["--check"]) == 1  # no index yet
    assert zoo.main([]) == 0
    assert zoo.main(["--check"]) == 0
    index = json.loads((tmp_path / "zoo.json").read_text())
    assert index["variants"] == {"tiny_a": "fam", "tiny_b": "fam", "tiny_c": "fam"}
    assert index["files"]["fam"]["variants"] == ["tiny_a", "tiny_b", "tiny_c"]


# ------------------------------------------------------------------ start-up
OPENED = """\
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0]))
                 if event == "open" and isinstance(args[0], str) else None)
sys.argv = ["cnncalc", *json.loads(sys.argv[1])]
from cnncalc.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nOPENED " + json.dumps(opened) + "\\n")
"""


def _specs_opened(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", OPENED, json.dumps(args)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    opened = json.loads(proc.stderr.rpartition("\nOPENED ")[2])
    specs = (ROOT / "specs").resolve()
    return sorted({Path(p).name for p in opened
                   if Path(p).suffix in (".yaml", ".json") and Path(p).resolve().parent == specs})


def test_zoo_and_a_variant_by_name_do_not_read_every_spec() -> None:
    assert _specs_opened("zoo") == ["zoo.json"]
    assert _specs_opened("summary", "resnet50") == ["resnet.yaml", "zoo.json"]
    assert _specs_opened("summary", "lenet5") == ["lenet5.yaml"]  # a file: no index needed


# ------------------------------------------------------------------ the docs
def test_the_spec_format_docs_family_example_checks(tmp_path: Path) -> None:
    import re

    doc = (ROOT / "docs" / "spec-format.md").read_text()
    text = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "name: plain net" in b)
    path = write(tmp_path, text, "plain.yaml")
    result = run("check", str(path))
    assert result.exit_code == 0, result.output
    assert f"PASS  {path}:plain_l (Plain-L): 2 expectations met" in result.stdout
    sizes = {v: cnncalc.load(path, variant=v).input_shape for v in ("plain_s", "plain_l")}
    assert sizes == {"plain_s": (3, 32, 32), "plain_l": (3, 64, 64)}


def test_diff_of_a_variant_against_a_git_revision(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    path = write(tmp_path, FAMILY)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=tmp_path, check=True)
    path.write_text(FAMILY.replace("args: {width: 4}", "args: {width: 6}"))
    result = run("diff", f"{path}:tiny_b", "--rev", "HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    text = json.dumps(data)
    assert f"{path}@HEAD:tiny_b" in text
    old, new = family_params(4, 10), family_params(6, 10)
    assert str(old) in text and str(new) in text
