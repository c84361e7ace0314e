"""No code execution: nothing in a spec is ever constructed, imported, called or evaluated.

Every attack tries to create a sentinel file; each must be refused with a located
SpecError, and the sentinel must not exist afterwards.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
HEAD = "cnncalc: 1\ninput: [3, 8, 8]\n"


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a spec ran code"


def attempt(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        cnncalc.analyze(cnncalc.loads(text, name="evil.yaml"))
    err = info.value
    assert err.loc is not None and err.loc.file == "evil.yaml" and err.loc.line >= 1
    return err


YAML_TAGS = [
    "!!python/object/apply:os.system ['touch {s}']",
    "!!python/object/apply:subprocess.check_call [['touch', '{s}']]",
    "!!python/object/new:subprocess.Popen [['touch', '{s}']]",
    "!!python/object/apply:builtins.exec ['open(\"{s}\", \"w\").close()']",
    "!!python/object/apply:builtins.eval ['__import__(\"os\").system(\"touch {s}\")']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:argparse.Namespace {{a: 1}}",
    "!!python/tuple [1, 2]",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {s}']",
    "!custom {{x: 1}}",
]


@pytest.mark.parametrize("tagged", YAML_TAGS)
@pytest.mark.parametrize("where", ["op", "value", "top"])
def test_python_yaml_tags_are_refused(tagged: str, where: str, sentinel: Path) -> None:
    value = tagged.format(s=sentinel)
    if where == "op":
        text = HEAD + f"layers:\n  - op: {value}\n"
    elif where == "value":
        text = HEAD + f"layers:\n  - {{op: conv, out: {value}, k: 3}}\n"
    else:
        text = HEAD + f"name: {value}\nlayers: [relu]\n"
    err = attempt(text)
    assert "is not allowed" in err.message and "YAML tag" in err.message


def test_tag_directive_shorthand_is_refused(sentinel: Path) -> None:
    text = ("%TAG !p! tag:yaml.org,2002:python/\n---\n" + HEAD
            + f"layers:\n  - {{op: !p!object/apply:os.system ['touch {sentinel}']}}\n")
    err = attempt(text)
    assert "!!python/object/apply:os.system is not allowed" in err.message
    assert (err.loc.line, err.loc.col) == (6, 10)


def test_tagged_mapping_key_is_refused(sentinel: Path) -> None:
    text = HEAD + f"layers:\n  - {{? !!python/object/apply:os.system ['touch {sentinel}'] : 1}}\n"
    attempt(text)


EXPRESSIONS = {
    "${__import__('os').system('touch {s}')}": "calling __import__('os').system()",
    "${__import__}": "names starting with __",
    "$__builtins__": "names starting with __",
    "${w.__class__}": "attribute access",
    "${w.real}": "attribute access",
    "${(lambda: 1)()}": "lambda",
    "${[x for x in (1, 2)]}": "comprehension",
    "${{x for x in (1,)}}": "comprehension",
    "${sum(x for x in (1,))}": "calling sum()",
    "${(1, 2)[0]}": "indexing",
    "${'abc'}": "string literal",
    "${b'x'}": "bytes literal",
    "${f'{w}'}": "f-string",
    "${(y := 3)}": "assignment",
    "${open('{s}', 'w')}": "calling open()",
    "${eval('1')}": "calling eval()",
    "${exec('1')}": "calling exec()",
    "${getattr(w, 'real')}": "calling getattr()",
    "${min(w, key=abs)}": "min() without arguments or with keywords",
    "${2 ** 1000}": "more than 60 digits",
    "${w if w else 1}": "the condition of if-else must be true or false, got an integer (4)",
    "${w < 2}": "out must be an integer, got boolean false",
    "${1.5}": "out must be an integer, got float 1.5",
    "${w @ w}": "the operator @",
    "${~w}": "the operator ~",
    "${w in w}": "the comparison 'in'",
    "${w.bit_length()}": "calling w.bit_length()",
    "${len(w)}": "len() takes one of in_shape, input_shape",
    "${1e999}": "too large for a float",
    "${[1]}": "a list display",
}


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
def test_expressions_outside_the_whitelist_are_refused(expr: str, sentinel: Path) -> None:
    value = expr.replace("{s}", str(sentinel)).replace("'", "''")
    text = HEAD + ("blocks:\n  b:\n    args: {w: int}\n    layers:\n"
                   f"      - {{op: conv, out: '{value}', k: 1}}\n"
                   "layers:\n  - {op: b, w: 4}\n")
    err = attempt(text)
    assert EXPRESSIONS[expr] in err.message, err.format()
    assert (err.loc.line, err.loc.col) == (7, 25)  # the expression itself
    assert "in block 'b' instantiated at evil.yaml:9:5" in err.format()


def test_nothing_is_evaluated_while_loading_and_analysing(monkeypatch: pytest.MonkeyPatch) -> None:
    """eval and exec are never called on the analysis path, whatever the spec holds.  The
    same work runs once first: Python's imports (cnncalc imports its ops' modules on first
    use) and dataclass creation run code through exec, and that is not the spec's text."""
    text = HEAD + ("tables: {w: 4}\nblocks:\n  b:\n    args: {w: int, k: 3}\n    layers:\n"
                   "      - {op: conv, out: '${max(w * 2, 1) // 1 + w % 3 - -1}', k: $k, pad: 1}\n"
                   "layers:\n  - {op: b, w: 4}\n  - {op: conv, out: $w, k: 1}\n")
    specs = sorted((ROOT / "specs").glob("*.yaml"))[:6]

    def work() -> None:
        assert cnncalc.analyze(cnncalc.loads(text)).output_shape == (4, 8, 8)
        for spec in specs:
            cnncalc.analyze(cnncalc.load(spec))

    work()

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"eval/exec called with {str(args)[:300]}")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    work()


SOURCES = [*sorted(p for sub in ("spec", "ops") for p in (ROOT / "cnncalc" / sub).rglob("*.py")),
           ROOT / "cnncalc" / "analysis.py", ROOT / "cnncalc" / "graph.py"]
#: the one import by name the analysis makes: the op registry importing an op's module, a
#: name found among the package's own files (cnncalc/ops/discovery.py), relative to it
REGISTRY_IMPORT = re.compile(r'^import importlib$|importlib\.import_module\(f"\.\{[\w.\[\]]+\}", '
                             r'self\._package\)', re.M)
UNSAFE = re.compile(r"\b(eval|exec)\(|yaml\.(unsafe_)?load\(|FullLoader|UnsafeLoader|"
                    r"yaml\.Loader\b|importlib|__import__\(|pickle")


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_analysis_sources_never_evaluate(path: Path) -> None:
    """A tripwire: the loading and analysis code holds no eval/exec/unsafe YAML loader."""
    code = "\n".join(line.split("#")[0] for line in path.read_text().splitlines())
    code = re.sub(r'""".*?"""', "", code, flags=re.S)
    if path.name == "registry.py":
        assert len(REGISTRY_IMPORT.findall(code)) == 3
        code = REGISTRY_IMPORT.sub("", code)
    assert not UNSAFE.search(code), UNSAFE.search(code)


LOOK_ALIKES = {
    # Python's parser reads identifiers in NFKC form: these would be __import__, eval, w...
    "${__\uff49mport__('os').system('touch {s}')}": "U+FF49",
    "${\uff45val('1')}": "U+FF45",
    "${\u1d49val('1')}": "U+1D49",
    "${\ufe4d\ufe4dimport\ufe4d\ufe4d}": "U+FE4D",   # dashed low lines: NFKC "_"
    "${\uff57}": "U+FF57",
}


@pytest.mark.parametrize("expr", LOOK_ALIKES, ids=range(len(LOOK_ALIKES)))
def test_look_alike_names_are_refused_before_parsing(expr: str, sentinel: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import ast

    parsed: list[str] = []
    real = ast.parse
    monkeypatch.setattr(ast, "parse",
                        lambda text, *a, **k: parsed.append(text) or real(text, *a, **k))
    value = expr.replace("{s}", str(sentinel)).replace("'", "''")
    err = attempt(HEAD + f"tables: {{w: 4}}\nlayers:\n  - {{op: conv, out: '{value}', k: 1}}\n")
    assert "expressions are written in ASCII" in err.message and LOOK_ALIKES[expr] in err.message
    assert (err.loc.line, err.loc.col) == (5, 21)
    assert parsed == []


def test_a_python_file_given_as_a_spec_is_never_run(tmp_path: Path, sentinel: Path) -> None:
    for name in ("evil.py", "evil.yaml", "evil"):
        path = tmp_path / name
        path.write_text(f"import os\nos.system('touch {sentinel}')\n")
        with pytest.raises(SpecError) as info:
            cnncalc.load(path)
        assert "this looks like Python source" in info.value.message
        assert (info.value.loc.line, info.value.loc.col) == (1, 1)
