"""Write a spec's module to a file other tools open: ONNX (Netron, onnxruntime) or
TorchScript (``torch.jit.load`` from Python or C++), for ``cnncalc export``.

Both trace one forward pass on a random input of the spec's shape (batch 1, eval
mode); the graph keeps the spec's ids as module names.  Before anything is allocated,
that pass's memory estimate must fit the budget (``--max-memory``, else the memory
available: exit 3 with the figures) and every layer must be one torch can run in eval
mode at batch 1 (exit 2, located).  ONNX export needs the ``onnx`` package (and
``onnxscript`` for torch's newer exporter); without them :func:`export_onnx` raises
EnvironmentUnavailable (exit 3) saying what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis import analyze
from ..errors import CnncalcError, EnvironmentUnavailable
from ..graph import Network
from ..outputs import path_error, prepare_output
from . import require_torch
from .budget import MemoryBudget, check_fits
from .failures import first_line, torch_errors, translate
from .runnable import check_runnable

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    from torch import Tensor

    from .model import SpecNet

ONNX_HINT = "pip install onnx onnxscript"


def _traced_inputs(network: Network, input_shape: Sequence[int] | None,
                   budget: MemoryBudget) -> tuple[ModuleType, SpecNet, Tensor]:
    """torch, the built module (eval mode) and a seeded batch-1 input, once the forward pass
    is known to fit and to run."""
    torch = require_torch()
    from .build import build

    report = analyze(network, tuple(input_shape) if input_shape is not None else None)
    check_fits(report, budget, what="exporting (one traced forward pass at batch 1)",
               batch_hint=None)
    check_runnable(network, report, 1, "inference")
    with torch_errors():
        model = build(network, input_shape, budget=budget).eval()
        x = torch.randn(1, *model.input_shape, generator=torch.Generator().manual_seed(0))
    return torch, model, x


def _writable(path: str | Path) -> Path:
    """``path``, once it is known that a file can be written there (before the build:
    a typo'd folder must not cost a trace); its folder is made as for every --output."""
    out = Path(path)
    prepare_output(out)
    existed = out.exists()
    try:
        with open(out, "ab"):
            pass
    except OSError as exc:
        raise path_error(out, exc) from None
    if not existed:
        out.unlink(missing_ok=True)
    return out


def export_torchscript(network: Network, path: str | Path,
                       input_shape: Sequence[int] | None = None,
                       budget: MemoryBudget = MemoryBudget()) -> Path:
    """Trace the built module and save it as TorchScript; returns the path written."""
    out = _writable(path)
    torch, model, x = _traced_inputs(network, input_shape, budget)
    with torch_errors(), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notices
        traced = torch.jit.trace(model, x)
        # torch names the archive's root folder after the file name without its extension
        # and refuses an empty one (``-o .pt``): stage such a file under another name
        name = out.name if out.name.rfind(".") != 0 else f"model{out.name}"
        with _staged(out, name) as staged:
            traced.save(str(staged))
    return out


@contextmanager
def _staged(out: Path, name: str | None = None) -> Iterator[Path]:
    """A path of the same name (or ``name``) in a fresh temporary folder for torch to write
    to; on
    success every file written there (the model and any side file of external data) is
    copied beside ``out``.  torch's writers abort the whole process in C++ when the
    disk fills up (``/dev/full``); a copy of ours fails with an OSError, which becomes
    the one clear output error (disk full: exit 3)."""
    with tempfile.TemporaryDirectory(prefix="cnncalc-export-") as folder:
        staged = Path(folder) / (name or out.name)
        yield staged
        for made in sorted(Path(folder).iterdir()):
            target = out if made.name == staged.name else out.parent / made.name
            try:
                shutil.copyfile(made, target)
            except OSError as exc:
                raise path_error(target, exc) from None


def onnx_exporter() -> str:
    """``"dynamo"`` (torch.onnx's default, needs onnx + onnxscript), ``"torchscript"``
    (the legacy exporter, needs onnx); EnvironmentUnavailable if neither can run."""
    have = {name: importlib.util.find_spec(name) is not None for name in ("onnx", "onnxscript")}
    if have["onnx"] and have["onnxscript"]:
        return "dynamo"
    if have["onnx"]:
        return "torchscript"
    raise EnvironmentUnavailable("exporting ONNX needs the onnx package, which is not installed",
                                 hints=(ONNX_HINT,))


def export_onnx(network: Network, path: str | Path, input_shape: Sequence[int] | None = None,
                opset: int | None = None, budget: MemoryBudget = MemoryBudget()) -> Path:
    """Export the built module as ONNX (input ``input``, output ``output``, the batch axis
    dynamic); returns the path written."""
    exporter = onnx_exporter()
    out = _writable(path)
    torch, model, x = _traced_inputs(network, input_shape, budget)
    kwargs: dict = {"input_names": ["input"], "output_names": ["output"], "verbose": False}
    if opset is not None:
        kwargs["opset_version"] = opset
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if exporter == "dynamo":
                batch = torch.export.Dim("batch")
                # one self-contained file (what Netron opens) unless protobuf's 2 GiB cap
                # forces the weights into a side file
                small = sum(p.numel() * p.element_size() for p in model.parameters()) < 2**30
                logging.getLogger("torch.onnx").setLevel(logging.ERROR)
                with _staged(out) as staged:
                    torch.onnx.export(model, (x,), str(staged), dynamo=True,
                                      external_data=not small, dynamic_shapes=({0: batch},),
                                      **kwargs)
            else:
                with _staged(out) as staged:
                    torch.onnx.export(model, (x,), str(staged), dynamo=False,
                                      dynamic_axes={"input": {0: "batch"},
                                                    "output": {0: "batch"}}, **kwargs)
    except CnncalcError:  # the output file's own error (see _staged)
        raise
    # torch.onnx raises many types; say which exporter failed
    except Exception as exc:  # noqa: BLE001 - every failure is mapped or re-raised below
        mapped = translate(exc)
        if mapped is not None:  # out of memory, too large: not the exporter's fault
            raise mapped from None
        first = first_line(exc)
        hints = ("the legacy exporter supports fewer ops: " + ONNX_HINT,) \
            if exporter == "torchscript" else ()
        raise EnvironmentUnavailable(f"torch.onnx ({exporter} exporter) cannot export this "
                                     f"network: {first}", hints=hints) from None
    return out
