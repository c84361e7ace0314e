"""Everything that needs PyTorch: building a spec as an ``nn.Module``, verifying the
analysis against it and exporting it.  Nothing here is imported on the analysis path;
torch itself is imported only once :func:`require_torch` says it is there.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import EnvironmentUnavailable

#: a bare ``pip install torch`` pulls a multi-GB CUDA build: the README says what to pin
INSTALL_HINT = ("see the README's Installation section: install torch==2.13.0 (CPU) first, "
                "then pip install 'cnncalc[torch]'")


def require_torch() -> ModuleType:
    """Import and return ``torch``; EnvironmentUnavailable (exit 3) with a hint if missing."""
    try:
        import torch
    except ImportError:
        raise EnvironmentUnavailable(
            "PyTorch is not installed: building, verifying or exporting a module needs it",
            hints=(INSTALL_HINT,),
        ) from None
    return torch
