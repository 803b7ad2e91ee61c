"""Writing to the paths the user names, so that nothing they already have is lost.

Every writer (``-o``, ``--plot``, ``--effective``, ``report``) goes through ``write_output``:

- ``-`` is standard output.
- A regular file is replaced atomically: the data goes to a temporary file with a short name
  in the same directory, is flushed to disk (fsync), takes the old file's mode (and owner,
  where allowed), and is renamed over the old one. A failure or Ctrl-C at any point leaves the
  old file as it was and no temporary file behind. (Another hard link to the old file keeps
  the old content.) Only where no temporary file can be made beside it (a read-only
  directory) or the old owner cannot be kept is the file written in place, as the shell's
  ``>`` would, with Ctrl-C held off until the write is done.
- A device node or a FIFO is opened and written to, never replaced; a FIFO nobody reads is
  refused rather than waited on.
- A symbolic link is followed: its target is written.
- A read-only file is refused (even for root, as a careful shell user would expect), as is a
  directory, a path ending in '/', a missing directory, a name longer than the file system
  allows, the file the model was loaded from (``protect``), and a picture whose name does not
  end in its format's extension (``suffixes``).

``check_output`` runs the same refusals without writing, so a command can fail before its
work (an hour of benchmarks) rather than after it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import stat
import threading
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from archscope.errors import ArchscopeError

STDOUT = "-"
_TEMP_PREFIX = ".as-"  # with mkstemp's 8 characters and ".tmp": 16, whatever the target's name
_TEMP_SUFFIX = ".tmp"


def _shown(path: object) -> str:
    """The path as typed, safe for one line of terminal output (a name may hold control characters)."""
    from archscope.text.safety import clean

    text = clean(os.fspath(path) if isinstance(path, os.PathLike) else path)
    return text if len(text) <= 120 else text[:58] + "..." + text[-58:]


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


@dataclass(frozen=True)
class Target:
    """Where an output will go and how it will be written."""

    text: str  # as the user gave it
    kind: str  # "stdout", "stream" (device node, FIFO), "file" (an existing regular file) or "new"
    path: Path | None  # the real path (symbolic links followed); None for stdout
    status: os.stat_result | None = None  # of the existing file

    @property
    def shown(self) -> str:
        return "standard output" if self.kind == "stdout" else _shown(self.text)

    @property
    def replaces_a_file(self) -> bool:
        """True where writing would change a file on disk (not a stream): what an interrupted run must keep."""
        return self.kind in ("file", "new")


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(
    path: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    suffixes: Sequence[str] = (),
    what: str = "",
) -> Target:
    """Where writing ``path`` would go, or the ArchscopeError that says why archscope will not write it.

    ``protect`` are files that must never be written (the model's own source); ``suffixes`` the
    extensions a new or regular file must have (``(".png",)`` for a picture), named ``what``.
    """
    text = os.fspath(path)
    if text == STDOUT:
        return Target(text, "stdout", None)
    shown = _shown(text)
    if not text:
        raise ArchscopeError("the output file name is empty")
    if "\0" in text:
        raise ArchscopeError(f"cannot write {shown}: a file name cannot contain a NUL character")
    if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
        raise ArchscopeError(f"cannot write {shown}: it ends in '/', so it names a directory; give a file name")
    given = Path(text)
    real = Path(os.path.realpath(given))
    try:
        status = os.stat(given)  # follows symbolic links: the target is what gets written
    except FileNotFoundError:
        status = None
    except OSError as error:  # a loop of links, a name too long, a file used as a directory
        raise ArchscopeError(f"cannot write {shown}: {_reason(error)}") from None

    for protected in protect:
        if _same_file(real, Path(protected)):
            raise ArchscopeError(
                f"will not write {shown}: it is the file the model was loaded from ({_shown(protected)}); "
                "choose another output file"
            )

    if status is not None and not stat.S_ISREG(status.st_mode):
        mode = status.st_mode
        if stat.S_ISDIR(mode):
            raise ArchscopeError(f"cannot write {shown}: it is a directory; give a file name inside it")
        if not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
            raise ArchscopeError(f"cannot write {shown}: it is not a regular file, a device or a FIFO")
        if not os.access(real, os.W_OK):
            raise ArchscopeError(f"cannot write {shown}: permission denied")
        return Target(text, "stream", real, status)

    if suffixes and not given.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise ArchscopeError(f"{what or 'this file'} must be named *{suffixes[0]}, not {shown}")

    if status is not None:
        # The shell's '>' refuses a file without write permission; so does archscope, even for
        # root, who could (a 444 file is somebody's way of saying "keep this").
        if not status.st_mode & 0o222 or not os.access(real, os.W_OK):
            raise ArchscopeError(
                f"will not overwrite {shown}: it is read-only (mode {stat.S_IMODE(status.st_mode):o}); "
                "remove it or make it writable first"
            )
        return Target(text, "file", real, status)

    directory = real.parent
    if not directory.is_dir():
        raise ArchscopeError(f"cannot write {shown}: there is no directory {_shown(given.parent)}")
    limit = _name_max(directory)
    if len(os.fsencode(real.name)) > limit:
        raise ArchscopeError(
            f"cannot write {shown}: the name is {len(os.fsencode(real.name))} bytes long; "
            f"this file system allows {limit}"
        )
    return Target(text, "new", real, None)


def write_output(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    suffixes: Sequence[str] = (),
    what: str = "",
) -> Target:
    """Write ``data`` (text as UTF-8) to ``path`` as the module docstring describes; return where it went."""
    target = check_output(path, protect=protect, suffixes=suffixes, what=what)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        if target.kind == "stdout":
            _write_stdout(data)
        elif target.kind == "stream":
            _write_stream(target, payload)
        else:
            _write_file(target, payload)
    except OSError as error:
        raise ArchscopeError(f"cannot write {target.shown}: {_reason(error)}") from error
    return target


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Kept for callers of the earlier API: ``write_output`` and the path written."""
    target = write_output(path, data)
    return target.path or Path(STDOUT)


def _write_stdout(data: str | bytes) -> None:
    stream = sys.stdout
    if stream is None or getattr(stream, "archscope_closed", False):
        raise ArchscopeError("cannot write to standard output: it is closed; give a file with -o")
    if isinstance(data, bytes):
        if stream.isatty():
            raise ArchscopeError("will not write a picture to the terminal; redirect it (> file.png) or name a file")
        stream.flush()
        stream.buffer.write(data)
        stream.buffer.flush()
    else:
        stream.write(data)
        stream.flush()


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def _write_stream(target: Target, payload: bytes) -> None:
    """A device node or FIFO: written to, as the shell's '>' would, never replaced."""
    assert target.path is not None
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if target.status is not None and stat.S_ISFIFO(target.status.st_mode):
        try:
            # Non-blocking first: opening a FIFO nobody reads would wait forever.
            fd = os.open(target.path, flags | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ENXIO:
                raise ArchscopeError(f"cannot write {target.shown}: it is a FIFO and nothing is reading it") from None
            raise
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    else:
        fd = os.open(target.path, flags)
    try:
        _write_all(fd, payload)
    finally:
        os.close(fd)


def _new_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    """So the rename itself survives a crash; not every system can (or needs to) do it."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _ctrl_c_held():
    """Ctrl-C during the block is raised after it: a truncated file must get its content first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


def _write_in_place(target: Target, payload: bytes) -> None:
    """Truncate and write the existing file (keeps its inode and owner), as the shell's '>' does."""
    assert target.path is not None
    with _ctrl_c_held():
        fd = os.open(target.path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(target: Target, payload: bytes) -> None:
    assert target.path is not None
    old = target.status
    directory = target.path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
    except PermissionError:
        if old is None:
            raise
        _write_in_place(target, payload)  # the file is writable but its directory is not
        return
    try:
        try:
            _write_all(fd, payload)
            os.fchmod(fd, stat.S_IMODE(old.st_mode) if old is not None else _new_file_mode())
            owner_kept = True
            if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, old.st_uid, old.st_gid)
                except PermissionError:
                    owner_kept = False
            os.fsync(fd)
        finally:
            os.close(fd)
        if not owner_kept:
            # Replacing somebody else's file would make it ours: write it in place, as '>' would.
            os.unlink(tmp)
            _write_in_place(target, payload)
            return
        if old is None:
            try:
                # link() does not replace: a file that appeared meanwhile is not overwritten.
                os.link(tmp, target.path)
            except FileExistsError:
                raise ArchscopeError(f"{target.shown} appeared while archscope was writing it; left as it is") from None
            except OSError:
                os.replace(tmp, target.path)  # a file system without hard links
            else:
                os.unlink(tmp)
        else:
            os.replace(tmp, target.path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def partial_path(path: str | os.PathLike[str]) -> Path:
    """A name beside ``path`` for partial results that no existing file has: bench.partial.json, bench.partial-2.json ..."""
    given = Path(os.fspath(path))
    stem, suffix = (given.stem, given.suffix) if given.suffix else (given.name, "")
    for i in range(1, 1000):
        candidate = given.with_name(f"{stem}.partial{'' if i == 1 else f'-{i}'}{suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise ArchscopeError(f"no free name for partial results beside {_shown(path)}")
