"""``cnncalc import``: a PyTorch model as a spec (needs torch).

The model is traced symbolically with torch.fx (never run on data) and each graph node
is mapped to a cnncalc op (:mod:`cnncalc.pytorch.capture`); the spec's shapes come from
cnncalc's own analysis.  The target is the user's code, named on the command line:
``package.module:callable`` or ``path/to/file.py:callable``, called with ``--arg``
keyword arguments.  The spec goes to stdout, or to ``-o FILE``; messages to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .base import app
from .common import example_epilog, parse_input, write


@app.command("import", epilog=example_epilog(
    "cnncalc import examples/torch/tinynet.py:TinyNet --input 3x32x32",
    "cnncalc import examples/torch/tinynet.py:TinyNet --arg width=16 --input 3x32x32 -o tiny.yaml",
    "cnncalc import torch.nn:Identity --input 3x8x8"))
def import_(
    target: Annotated[str, typer.Argument(
        metavar="TARGET", help="package.module:callable or path/to/file.py:callable: a class "
        "or function returning an nn.Module, called with no arguments (or --arg ones).")],
    input: Annotated[str, typer.Option(
        "--input", "-i", metavar="SHAPE", help="One sample's shape, no batch axis: 3x224x224.")],
    arg: Annotated[list[str] | None, typer.Option(
        "--arg", metavar="NAME=VALUE", help="A keyword argument for the callable; the value is "
        "read as YAML (3, 0.5, true, null, [1, 2], text). Repeatable.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Write the spec to FILE instead of stdout.")] = None,
    name: Annotated[str | None, typer.Option(
        help="The spec's name: [default: the callable's name].")] = None,
) -> None:
    """Import a PyTorch model as a cnncalc spec (needs torch): torch.fx traces it, each
    layer becomes a cnncalc op, and the spec (loadable as it is) is printed. A package's
    model works the same way: torchvision.models:resnet50 --arg weights=null."""
    from ..pytorch import require_torch

    require_torch()
    from ..pytorch.importer import from_torch, load_target, parse_arg

    shape = parse_input(input)
    kwargs = dict(parse_arg(a) for a in arg or [])
    model = load_target(target, kwargs)
    text = from_torch(model, shape, name or target.rpartition(":")[2])
    if output is None:
        write(text)
        return
    from ..outputs import write_output

    write_output(output, text)
    sys.stderr.write(f"wrote {output}\n")
