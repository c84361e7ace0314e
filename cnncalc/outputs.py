"""Files the user names for output (``--output``, ``export -o``): the folder is made when
missing, and an OSError becomes one clear error with the path, its exit code chosen by
what went wrong (the path itself: exit 2; the environment, such as a full disk or no
permission: exit 3).  One place, so every command treats an output path alike."""

from __future__ import annotations

import errno
from pathlib import Path

from .errors import CnncalcError, EnvironmentUnavailable, UsageError

#: errors of a path the user gave that say the path itself is wrong (exit 2, not 3)
#: (EEXIST: a folder to create is already a file)
USAGE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG,
                          errno.EEXIST, errno.EINVAL, errno.ELOOP})


def path_error(path: Path | str, exc: OSError, what: str = "cannot write") -> CnncalcError:
    """The error for a path the user gave that could not be used.

    >>> import errno
    >>> path_error("x/y.json", OSError(errno.ENOSPC, "No space left on device")).exit_code
    3
    >>> path_error("x/y.json", OSError(errno.ENOTDIR, "Not a directory")).exit_code
    2
    """
    kind = UsageError if exc.errno in USAGE_ERRNOS else EnvironmentUnavailable
    return kind(f"{path}: {what}: {exc.strerror or exc}")


def prepare_output(path: Path) -> None:
    """Check an output path before anything is computed for it, creating its folder."""
    if path.is_dir():
        raise UsageError(f"--output {path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise path_error(path.parent, exc, "cannot create the folder") from None


def write_output(path: Path, data: str | bytes) -> None:
    """Write an output file (see the module's docstring)."""
    prepare_output(path)
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise path_error(path, exc) from None
