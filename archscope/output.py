"""Writing reports to the user's files without ever leaving a half-written one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from archscope.errors import ArchscopeError


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX and Windows, so a failure at any point leaves the old file
    (if any) as it was.
    """
    target = Path(path)
    if target.is_dir():
        raise ArchscopeError(f"cannot write {target}: it is a directory")
    directory = target.parent if str(target.parent) else Path(".")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise ArchscopeError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as handle:
            handle.write(data)
        if target.exists():
            # Keep the permissions of the file being replaced.
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ArchscopeError(f"cannot write {target}: {error.strerror or error}") from error
        raise
    return target
