"""`cnncalc build` and `cnncalc export` from the command line."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from cnncalc.cli import app  # noqa: E402


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_build_prints_the_module_tree_named_by_spec_ids() -> None:
    result = run("build", "lenet5")
    assert result.exit_code == 0
    assert "(C3): Unit(\n    (conv): ConnectConv(" in result.stdout
    assert "(OUTPUT): RBF(" in result.stdout
    assert "60,840 parameters" in result.stderr


def test_export_torchscript_loads_back_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "lenet5.pt"
    result = run("export", "lenet5", "--torchscript", str(out))
    assert result.exit_code == 0, result.output
    model = torch.jit.load(str(out))
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_export_needs_a_target() -> None:
    result = run("export", "lenet5")
    assert result.exit_code == 2 and "--onnx" in result.output


@pytest.mark.parametrize("args", [["build", "lenet5"],
                                  ["export", "lenet5", "--torchscript", "x.pt"]])
def test_without_torch_says_how_to_install_and_exits_3(args: list[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = run(*args)
    assert result.exit_code == 3 and "pip install 'cnncalc[torch]'" in result.output
    # never a bare `pip install torch` (a multi-GB CUDA build): the pinned CPU one, via README
    assert "torch==2.13.0" in result.output and "README's Installation section" in result.output
    assert not re.search(r"pip install torch(?!=)", result.output)


def test_the_readme_has_the_installation_section_the_hint_names() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Installation", 1)[1].split("\n## ", 1)[0]
    assert "torch==2.13.0" in section and "cnncalc[torch]" in section


# ------------------------------------------------------------------ every --help example runs
def _examples(command: str) -> list[list[str]]:
    """The example command lines of ``cnncalc COMMAND --help`` (its epilog)."""
    from typer.main import get_command

    epilog = get_command(app).commands[command].epilog or ""
    lines = re.findall(r"\[bold\](cnncalc [^\[]+)\[/bold\]", epilog)
    assert lines, f"cnncalc {command} --help shows no example"
    return [shlex.split(line)[1:] for line in lines]


EXAMPLES = [(c, args) for c in ("build", "export", "profile") for args in _examples(c)]


@pytest.mark.parametrize("command,args", EXAMPLES, ids=[" ".join(a) for _, a in EXAMPLES])
def test_every_help_example_runs(command: str, args: list[str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, one_torch_thread) -> None:
    if "--onnx" in args:
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)  # examples write their files here
    result = run(*args)
    needs_cuda = "cuda" in args and not torch.cuda.is_available()
    assert result.exit_code == (3 if needs_cuda else 0), result.output
    if needs_cuda:
        assert "--device cuda is not available" in result.output
    for flag in ("--onnx", "--torchscript"):
        if flag in args:
            assert (tmp_path / args[args.index(flag) + 1]).stat().st_size > 0


def test_help_documents_the_batch_spelling_and_max_memory() -> None:
    text = run("profile", "--help").output
    assert "--batch-size" in text and "--batch" in text and "--max-memory" in text
    for command in ("build", "export"):
        assert "--max-memory" in run(command, "--help").output


# ------------------------------------------------------------------ bounds before allocating
def test_build_and_export_refuse_what_does_not_fit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("cnncalc: 1\ninput: [64, 20000, 20000]\n"
                   "layers:\n  - {id: p, op: maxpool, k: 2}\n")
    result = run("export", str(big), "--torchscript", str(tmp_path / "x.pt"))
    assert result.exit_code == 3, result.output
    assert "exporting (one traced forward pass at batch 1) needs ~" in result.output
    assert "GiB available" in result.output and not (tmp_path / "x.pt").exists()
    result = run("export", "lenet5", "--torchscript", str(tmp_path / "y.pt"),
                 "--max-memory", "1KiB")
    assert result.exit_code == 3 and "1.0 KiB --max-memory" in result.output
    result = run("build", "lenet5", "--max-memory", "100kB")
    assert result.exit_code == 3 and "building the module needs ~237.7 KiB" in result.output
    assert run("build", "lenet5", "--max-memory", "1MB").exit_code == 0
    result = run("build", "lenet5", "--input", "1x99999999999x99999999999")
    assert result.exit_code == 2 and "int64" in result.output


def test_build_mode_training_refuses_what_torch_cannot_train(tmp_path: Path) -> None:
    spec = tmp_path / "n.yaml"
    spec.write_text("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n  - {id: c, op: conv, out: 4, k: 8}\n"
                    "  - {id: n, op: instancenorm, track_running_stats: true}\n")
    assert run("build", str(spec)).exit_code == 0  # eval mode uses the running statistics
    result = run("build", str(spec), "--mode", "training")
    assert result.exit_code == 2
    assert f"{spec}:5:5: error: n: instancenorm in training mode" in result.stderr
    assert "Traceback" not in result.output


def test_ids_torch_renames_build_and_export(tmp_path: Path) -> None:
    spec = tmp_path / "ids.yaml"
    spec.write_text("cnncalc: 1\ninput: [3, 8, 8]\nlayers:\n"
                    + "".join(f"  - {{id: {i}, op: conv, out: 3, k: 1}}\n"
                              for i in ("forward", "forward_", "training", "parameters", "cuda_")))
    result = run("build", str(spec))
    assert result.exit_code == 0, result.output
    assert "(forward_): Conv2d" in result.stdout and "(forward__): Conv2d" in result.stdout
    result = run("export", str(spec), "--torchscript", str(tmp_path / "ids.pt"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("flag", ["--torchscript", "--onnx"])
def test_export_to_a_folder_or_an_unwritable_path_is_exit_2(flag: str, tmp_path: Path) -> None:
    if flag == "--onnx":
        pytest.importorskip("onnx")
    result = run("export", "lenet5", flag, str(tmp_path))
    assert result.exit_code == 2 and "is a folder" in result.output
    result = run("export", "lenet5", flag, "/proc/cnncalc-test.out")
    assert result.exit_code == 2 and "cannot write: No such file or directory" in result.output
    assert "internal error" not in result.output
    target = tmp_path / "ok.out"
    assert run("export", "lenet5", flag, str(target)).exit_code == 0 and target.stat().st_size


def test_export_to_a_file_named_only_by_its_extension(tmp_path: Path) -> None:
    """`-o .pt` is a path a user may type: written, not an internal error (torch's archive
    writer refuses a file name that is empty without its extension)."""
    target = tmp_path / ".pt"
    result = run("export", "lenet5", "--torchscript", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and sorted(p.name for p in tmp_path.iterdir()) == [".pt"]
