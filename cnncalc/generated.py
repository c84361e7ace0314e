"""The files the project generates from its own code (docs/ops.md, docs/counting.md's
per-op table, specs/zoo.json, the CLI's command map): one way to write them or, with
``--check``, to say which are stale.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> write_or_check({path: "one\\n"}, "python -m demo", ["--check"])
1
>>> write_or_check({path: "one\\n"}, "python -m demo", []), path.read_text()
(0, 'one\\n')
>>> write_or_check({path: "one\\n"}, "python -m demo", ["--check"])
0
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def write_or_check(outputs: Mapping[Path, str], command: str, args: Sequence[str]) -> int:
    """Write each file's text (exit status 0), or with ``--check`` in ``args`` write
    nothing and name each file whose committed text differs (1 if any does)."""
    if "--check" in args:
        stale = [path for path, text in outputs.items()
                 if not path.is_file() or path.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path} is stale: run {command}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return 0
