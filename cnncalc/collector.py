"""The cyclic garbage collector, paused while many acyclic objects are built.

At 10^5 layers a load or an analysis makes millions of small objects (values, locations,
nodes, rows) that form no cycles and live on; the collector's passes over everything alive
would cost a third of the time and free nothing.  Reference counting still frees what dies.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection within the block (as it was after it: enabled again only if
    it was)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
