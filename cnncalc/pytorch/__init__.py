"""Everything that needs PyTorch: building a spec as an ``nn.Module``, verifying the
analysis against it and exporting it.  Nothing here is imported on the analysis path;
torch itself is imported only once :func:`require_torch` says it is there.
"""

from __future__ import annotations

from types import ModuleType
from typing import Literal

from ..errors import EnvironmentUnavailable
from ..report import Mode as Mode  # what a module is built and run for (--mode)

#: where ``cnncalc profile`` runs (``auto``: cuda, then mps, then cpu)
Device = Literal["auto", "cpu", "cuda", "mps"]
#: the element types ``cnncalc profile`` runs in (float16/bfloat16 under autocast)
ProfileDType = Literal["float32", "float16", "bfloat16"]

#: a bare ``pip install torch`` pulls a multi-GB CUDA build: the README says what to pin
INSTALL_HINT = ("see the README's Installation section: install torch==2.13.0 (CPU) first, "
                "then pip install 'cnncalc[torch]'")


def require_torch() -> ModuleType:
    """Import and return ``torch``; EnvironmentUnavailable (exit 3) with a hint if missing."""
    try:
        import torch
    except ImportError:
        raise EnvironmentUnavailable(
            "PyTorch is not installed: building, verifying, exporting, profiling or importing a "
            "module needs it",
            hints=(INSTALL_HINT,),
        ) from None
    return torch
