"""Real file systems for the tests that must not lose a file: a small tmpfs, an immutable flag,
a read-only bind mount. Each needs root (or the capability) on Linux; where the mechanism is not
available the test is skipped with the reason, never run against a mock."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True)


@contextlib.contextmanager
def small_tmpfs(size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB, mounted on a fresh directory for the block."""
    mount_point = Path(tempfile.mkdtemp(prefix="archscope-tmpfs-"))
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=1777", "tmpfs", str(mount_point))
    if done.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root on Linux")
    try:
        yield mount_point
    finally:
        _run("umount", "-l", str(mount_point))
        mount_point.rmdir()


def fill(directory: Path, leave_bytes: int = 0) -> None:
    """Fill ``directory``'s file system until at most ``leave_bytes`` are free."""
    with open(directory / "filler", "wb") as f:
        chunk = b"\0" * 4096
        while True:
            free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
            if free <= leave_bytes:
                break
            try:
                f.write(chunk[: max(1, min(len(chunk), free - leave_bytes))])
                f.flush()
            except OSError:
                break


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """``path`` with the immutable flag (chattr +i) for the block."""
    done = _run("chattr", "+i", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot set the immutable flag here ({done.stderr.strip() or 'chattr failed'})")
    try:
        yield path
    finally:
        _run("chattr", "-i", str(path))


@contextlib.contextmanager
def read_only_bind(directory: Path) -> Iterator[Path]:
    """``directory`` bind-mounted read-only onto itself for the block."""
    done = _run("mount", "--bind", str(directory), str(directory))
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({done.stderr.strip() or 'mount failed'}): needs root on Linux")
    try:
        again = _run("mount", "-o", "remount,bind,ro", str(directory))
        if again.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({again.stderr.strip()})")
        yield directory
    finally:
        _run("umount", "-l", str(directory))
