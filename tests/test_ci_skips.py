"""tests/ci_skips.py: with CI=true a skipped torch, peers or plot test fails the run; a
skip for a GPU or Graphviz's dot stays a skip; without CI nothing changes.

Each case is a tiny test file run by pytest's own ``pytester`` (in process), with the
hooks as its conftest.
"""

from __future__ import annotations

import pytest

import ci_skips

pytest_plugins = ("pytester",)

CONFTEST = "from ci_skips import pytest_make_collect_report, pytest_runtest_makereport\n"

#: tests that skip for something CI installs: each must fail in CI
REFUSED = '''
import pytest

def test_importorskip_onnx(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)
    pytest.importorskip("onnx")

def test_importorskip_torch(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)   # torch "not installed"
    pytest.importorskip("torch")

def test_importorskip_peer(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "fvcore", None)
    monkeypatch.setitem(sys.modules, "fvcore.nn", None)   # imported by an earlier test
    pytest.importorskip("fvcore.nn")

def test_importorskip_matplotlib(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    pytest.importorskip("matplotlib")

@pytest.mark.skipif(True, reason="needs torch")
def test_skipif_torch():
    pass

@pytest.mark.skip(reason="PyTorch is not installed")
def test_skip_mark_pytorch():
    pass

def test_skip_call_peers():
    pytest.skip("the peers extra is not installed (pip install 'cnncalc[peers]')")

def test_skip_call_plot():
    pytest.skip("install cnncalc[plot] for this")

def test_skip_no_torch_module():
    pytest.skip("an op of this example has no torch module yet")
'''

#: tests that skip for what CI cannot have, or for a case that does not apply: they stay
ALLOWED = '''
import pytest

@pytest.mark.skipif(True, reason="CUDA is not available")
def test_cuda():
    pass

def test_torch_cuda():
    pytest.skip("torch.cuda.is_available() is False: no GPU")

@pytest.mark.skipif(True, reason="Graphviz `dot` is not installed")
def test_dot():
    pass

def test_dot_plain():
    pytest.skip("dot not installed")

def test_case_does_not_apply():
    pytest.skip("also a --help example: run there")

def test_unrelated_module():
    pytest.importorskip("some_optional_thing_cnncalc_never_declared")

@pytest.mark.xfail(reason="torch rounds differently", run=False)
def test_xfail_torch():
    pass
'''


#: an oracle module whose first line is ``torch = pytest.importorskip("torch")``, with
#: torch hidden (and put back: the run is in this process)
MODULE_SKIP = '''
import sys

import pytest

saved = sys.modules.get("torch")
sys.modules["torch"] = None
try:
    torch = pytest.importorskip("torch")
finally:
    if saved is None:
        del sys.modules["torch"]
    else:
        sys.modules["torch"] = saved

def test_oracle():
    pass
'''


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str,
         ci: str | None) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cases=source)
    return pytester.runpytest("-p", "no:cacheprovider", "-rA")


def test_without_ci_every_skip_stays_a_skip(pytester: pytest.Pytester,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, REFUSED, None)
    result.assert_outcomes(skipped=9)
    assert result.ret == 0


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_in_ci_a_skip_for_what_ci_installs_fails(pytester: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 ci: str) -> None:
    result = _run(pytester, monkeypatch, REFUSED, ci)
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) == 0, result.stdout.str()
    assert outcomes.get("failed", 0) + outcomes.get("errors", outcomes.get("error", 0)) == 9
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped in CI, which is a failure here*"])
    result.stdout.fnmatch_lines(["*the module 'torch' does not import*"])


def test_in_ci_a_skip_for_a_gpu_or_dot_stays_a_skip(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, ALLOWED, "true")
    result.assert_outcomes(skipped=6, xfailed=1)
    assert result.ret == 0


def test_ci_false_is_not_ci(pytester: pytest.Pytester,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, REFUSED, "false")
    result.assert_outcomes(skipped=9)


def test_in_ci_a_module_level_importorskip_fails_the_run(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """``torch = pytest.importorskip("torch")`` at the top of an oracle module skips the
    whole module at collection: in CI that is an error, and the run fails."""
    module = MODULE_SKIP
    result = _run(pytester, monkeypatch, module, "true")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI, which is a failure here*torch*"])
    outside = _run(pytester, monkeypatch, module, None)
    outside.assert_outcomes(skipped=1)


@pytest.mark.parametrize("reason", [
    "could not import 'torch': No module named 'torch'",
    "could not import 'fvcore.nn': No module named 'fvcore'",
    "could not import 'matplotlib': No module named 'matplotlib'",
    "cnncalc.pytorch.build is not there yet",
    "needs PyTorch",
    "ptflops not installed",
    "the plot extra is missing",
    "could not import 'torchvision': No module named 'torchvision'",
    "torchvision is not installed (the peers extra: pip install torchvision==0.28.0)",
])
def test_refused_reasons(reason: str) -> None:
    assert ci_skips.refused_in_ci(reason) is not None


@pytest.mark.parametrize("reason", [
    "CUDA is not available", "a GPU is present", "no GPUs", "torch has no MPS here",
    "Graphviz `dot` is not installed", "dot is missing",
    "git not installed", "no /dev/full", "no FIFOs here",
    "1,000 weights do not fit in memory", "a dot product", "plotting 1-D nets is not done",
])
def test_allowed_reasons(reason: str) -> None:
    assert ci_skips.refused_in_ci(reason) is None
