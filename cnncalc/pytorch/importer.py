"""``cnncalc import`` and ``cnncalc.from_torch``: an ``nn.Module`` as a spec, and
``cnncalc.copy_weights``, which gives the module built from that spec the original's
parameters and buffers.

>>> import torch, cnncalc
>>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
...                           torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
...                           torch.nn.Flatten(), torch.nn.Linear(8, 10))
>>> print(cnncalc.from_torch(net, (3, 32, 32)))  # doctest: +NORMALIZE_WHITESPACE
cnncalc: 1
name: "Sequential"
description: "imported from Sequential: A sequential container."
input: [3, 32, 32]
layers:
  - {id: m0, op: conv, out: 8, k: 3, pad: 1, bn: true, act: relu}
  - {id: m3, op: avgpool, global: true}
  - {id: m4, op: flatten}
  - {id: m5, op: linear, out: 10}
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ..errors import EnvironmentUnavailable, UsageError
from .capture import capture
from .spec_writer import Imported, arrange, fold_ids, write


def imported(model: nn.Module, input_shape: Sequence[int]) -> Imported:
    """The captured, arranged model (rows, output, the source tensors of every row)."""
    entries, output = capture(model, tuple(int(d) for d in input_shape))
    return arrange(entries, output)


def from_torch(model: nn.Module, input_shape: Sequence[int], name: str | None = None) -> str:
    """The YAML text of a spec computing ``model`` on one sample of ``input_shape``
    (no batch axis); ``cnncalc.loads(text)`` loads it."""
    if not isinstance(model, nn.Module):
        raise UsageError(f"from_torch needs an nn.Module, got {type(model).__name__}")
    cls = type(model)
    doc = (cls.__doc__ or "").strip().splitlines() if cls.__doc__ != nn.Module.__doc__ else []
    about = f"imported from {cls.__qualname__}" + (f": {doc[0].strip()}" if doc else "")
    return write(imported(model, input_shape), input_shape, name or cls.__name__, about)


def copy_weights(source: nn.Module, built: nn.Module) -> nn.Module:
    """Copy ``source``'s parameters and buffers into ``built``, the module
    ``cnncalc.build_torch`` made from ``from_torch(source, ...)``; returns ``built``.
    Every tensor of ``built`` is filled (an error names one that has no source)."""
    import torch

    from .model import SpecNet

    if not isinstance(built, SpecNet):
        raise UsageError("copy_weights copies into a module built by cnncalc.build_torch")
    plan = imported(source, built.input_shape)
    names = fold_ids(plan.rows)  # flat row ids -> the written spec's (folding renames)
    filled = set()
    with torch.no_grad():
        for row_id, tensors in plan.tensors.items():
            target = names.get(row_id, row_id)
            if target not in built.ids:
                continue
            module = built.layer(target)
            for name, path in tensors.items():
                dest = module.get_parameter(name) if name in dict(module.named_parameters()) \
                    else module.get_buffer(name)
                src = _source_tensor(source, path)
                dest.copy_(src.reshape(dest.shape))
                filled.add(id(dest))
    missing = [n for n, t in [*built.named_parameters(), *built.named_buffers()]
               if id(t) not in filled]
    if missing:
        raise UsageError(f"copy_weights: no source tensor for {', '.join(missing[:5])}"
                         + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    return built


def _source_tensor(root: nn.Module, path: str) -> Any:
    owner, _, name = path.rpartition(".")
    return getattr(root.get_submodule(owner) if owner else root, name)


# ---------------------------------------------------------------------- targets
def load_target(target: str, kwargs: dict[str, Any]) -> nn.Module:
    """``package.module:callable`` or ``path/to/file.py:callable``, called with ``kwargs``.
    Running the user's own code is what importing a model means: the target is named
    explicitly on the command line, never read from a spec."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"import target {target!r} must be package.module:callable or "
                         "path/to/file.py:callable")
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise UsageError(f"import target: no such file {path}")
        spec = importlib.util.spec_from_file_location(f"_cnncalc_import_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise UsageError(f"import target: cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001  (the user's file raised: say what)
            raise UsageError(f"import target: {path} raised {type(exc).__name__}: {exc}") \
                from None
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UsageError(f"import target: cannot import {module_name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001  (the package is there but broken here)
            raise EnvironmentUnavailable(
                f"import target: importing {module_name} raised {type(exc).__name__}: {exc}",
                hints=("the package does not load beside this torch; install matching "
                       "versions (torchvision pins its torch)",)) from None
    try:
        factory = getattr(module, attr)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        from ..suggest import did_you_mean

        raise UsageError(f"import target: {module_name} has no {attr!r}"
                         f"{did_you_mean(attr, names)}") from None
    try:
        model = factory(**kwargs)
    except Exception as exc:  # noqa: BLE001  (a wrong --arg, or the user's constructor)
        raise UsageError(f"import target: calling {attr}({_kw(kwargs)}) raised "
                         f"{type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise UsageError(f"import target: {attr}({_kw(kwargs)}) returned "
                         f"{type(model).__name__}, not an nn.Module")
    return model


def _kw(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def parse_arg(text: str) -> tuple[str, Any]:
    """``name=value`` with value read as YAML (``3``, ``0.5``, ``true``, ``[1, 2]``, text)."""
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UsageError(f"--arg {text!r} must be name=value")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    return name, parsed
