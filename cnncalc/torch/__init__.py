"""Everything that needs PyTorch: building a spec as an ``nn.Module``, verifying the
analysis against it and exporting it.  Nothing here is imported on the analysis path;
torch itself is imported only once :func:`require_torch` says it is there.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import EnvironmentUnavailable

INSTALL_HINT = ("install torch as the README's 'Installing the torch extra' shows: a CPU build "
                "first (pip install torch==2.13.0), then pip install 'cnncalc[torch]'")


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
