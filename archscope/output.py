"""Writing to the paths the user names, so that nothing they already have is lost.

Every writer (``-o``, ``--plot``, ``--effective``, ``report``) goes through ``write_output``:

- ``-`` is standard output, and so are ``/dev/stdout``, ``/dev/fd/1`` and ``/proc/self/fd/1``.
- A regular file is replaced atomically: the data goes to a temporary file with a short name
  in the same directory, is flushed to disk (fsync), takes the old file's mode (and owner),
  and is renamed over the old one. A failure, Ctrl-C, SIGTERM or SIGHUP at any point leaves
  the old file as it was and no temporary file behind. (Another hard link to the old file
  keeps the old content.) A file that cannot be replaced so (no temporary file can be made
  beside it: a read-only or immutable directory, a full disk; or its owner could not be
  kept) is refused, never truncated and written in place.
- A device node or a FIFO is opened and written to, never replaced; a FIFO nobody reads is
  refused rather than waited on, and one whose reader stops reading is given up on after
  ``STREAM_TIMEOUT_S`` seconds without progress.
- A symbolic link is followed: its target is written.
- A file that is not writable is refused, saying why (read-only mode, an immutable or
  append-only flag, a read-only file system), even for root, as a careful shell user would
  expect; so are a directory, a path ending in '/', a missing directory, a name longer than
  the file system allows, the file the model was loaded from (``protect``), the source of
  any Python module this process has imported (a helper module the model's file imports),
  any other existing Python source file or notebook (no output is Python), and a picture
  whose name does not end in its format's extension (``suffixes``).

``check_output`` runs the same refusals without writing (it makes and removes one empty
temporary file, to know the directory takes new files), so a command can fail before its
work (an hour of benchmarks) rather than after it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import stat
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from archscope.errors import ArchscopeError

STDOUT = "-"
# Other names of standard output: written as '-' is, to the stream already open (a pipe, a file
# opened with >> by the shell), never replaced or reopened.
STDOUT_ALIASES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
SOURCE_SUFFIXES = (".py", ".pyw", ".pyi", ".ipynb")  # an existing file of these is the user's code: never an output
STREAM_TIMEOUT_S = 30.0  # a FIFO whose reader takes nothing for this long is given up on
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


def _loaded_module(status: os.stat_result) -> str | None:
    """The name of an imported module whose file ``status`` is (its source or its compiled file), else None.

    The model's file imports its helpers (``helper_mod.py``, ``pkg/__init__.py``): after the
    import they are in ``sys.modules``, and none of them may become an output.
    """
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        try:
            other = os.stat(file)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
            return name
    return None


# Linux's inode flags (linux/fs.h), read with the FS_IOC_GETFLAGS ioctl, to say why root cannot write a file.
_FS_IOC_GETFLAGS = 0x80086601 if struct.calcsize("l") == 8 else 0x80046601
_FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x10, 0x20


def _inode_flags(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return 0
    try:
        buffer = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0))
        return struct.unpack("l", buffer)[0]
    except (OSError, struct.error):
        return 0  # not Linux, or a file system without flags
    finally:
        os.close(fd)


def why_not_writable(path: Path) -> tuple[str, str]:
    """Why ``path`` (a file or a directory) cannot be written, truthfully (the mode, a flag, the file
    system), and what would let it be: ("it is immutable (chattr +i)", "lift the flag with chattr -i")."""
    try:
        status = os.stat(path)
    except OSError as error:
        return _reason(error), "choose another output file"
    flags = _inode_flags(path)
    if flags & _FS_IMMUTABLE_FL:
        return "it is immutable (chattr +i)", "lift the flag (chattr -i) or choose another output file"
    if flags & _FS_APPEND_FL:
        return "it is append-only (chattr +a)", "lift the flag (chattr -a) or choose another output file"
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system", "choose another output file"
    except (OSError, AttributeError):
        pass
    if not status.st_mode & 0o222:
        return f"it is read-only (mode {stat.S_IMODE(status.st_mode):o})", "remove it or make it writable first"
    return (
        f"permission denied (mode {stat.S_IMODE(status.st_mode):o}, owner uid {status.st_uid})",
        "choose another output file",
    )


def _can_keep_owner(status: os.stat_result) -> bool:
    """Whether a replacement can be given the old file's owner and group (root, or they are ours)."""
    if os.geteuid() == 0:
        return True
    return status.st_uid == os.geteuid() and (status.st_gid == os.getegid() or status.st_gid in os.getgroups())


def _probe_directory(directory: Path) -> OSError | None:
    """Make, write one byte to and remove a temporary file in ``directory``: the error that stops it, if any."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
    except OSError as error:
        return error
    try:
        os.write(fd, b"\n")  # a full disk refuses even one byte (tmpfs, ext4's delayed allocation)
    except OSError as error:
        return error
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return None


def _stdout_alias(text: str) -> bool:
    return os.path.normpath(text) in STDOUT_ALIASES


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
    if text == STDOUT or _stdout_alias(text):
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
        if not os.path.exists(real):
            # A link into /proc or /dev/fd to an anonymous pipe ("pipe:[1234]"): opened by its given
            # name, as the shell's > would.
            return Target(text, "stream", given, status)
        if not os.access(real, os.W_OK):
            raise ArchscopeError(f"cannot write {shown}: permission denied")
        return Target(text, "stream", real, status)

    if suffixes and not given.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise ArchscopeError(f"{what or 'this file'} must be named *{suffixes[0]}, not {shown}")

    if status is not None:
        module = _loaded_module(status)
        if module is not None:
            raise ArchscopeError(
                f"will not write {shown}: it is the source of the Python module {module!r}, which this run "
                "imported (the model's code uses it); choose another output file"
            )
        if real.suffix.lower() in SOURCE_SUFFIXES:
            # No format archscope writes is Python: an existing source file named as the output is a
            # slip (a model file for -o), and overwriting it would lose the user's code.
            raise ArchscopeError(
                f"will not overwrite {shown}: it is Python source, which no archscope output is; "
                f"choose another output file (e.g. {_shown(str(given.with_suffix('.txt')))})"
            )
        # The shell's '>' refuses a file without write permission; so does archscope, even for
        # root, who could (a 444 file is somebody's way of saying "keep this").
        if not status.st_mode & 0o222 or not os.access(real, os.W_OK):
            reason, remedy = why_not_writable(real)
            raise ArchscopeError(f"will not overwrite {shown}: {reason}; {remedy}")
        if not _can_keep_owner(status):
            raise ArchscopeError(
                f"will not overwrite {shown}: it belongs to another user (uid {status.st_uid}, gid {status.st_gid}), "
                "and its replacement would be yours; archscope writes a file only by replacing it whole, "
                "so choose another output file"
            )
        problem = _probe_directory(real.parent)
        if problem is not None:
            reason, remedy = _directory_reason(real.parent, problem)
            raise ArchscopeError(
                f"will not overwrite {shown}: {reason}, so no temporary file can be made beside it and it cannot be "
                f"replaced whole (writing it in place could lose it); {remedy}"
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
    problem = _probe_directory(directory)
    if problem is not None:
        reason, remedy = _directory_reason(directory, problem)
        raise ArchscopeError(f"cannot write {shown}: {reason}, so no file can be made there; {remedy}")
    return Target(text, "new", real, None)


def _directory_reason(directory: Path, error: OSError) -> tuple[str, str]:
    """Why no file can be made in ``directory`` (``error`` from trying), and what would help."""
    if isinstance(error, PermissionError) or error.errno in (errno.EPERM, errno.EROFS):
        reason, remedy = why_not_writable(directory)
        return reason.replace("it is", "the directory is", 1).replace("permission denied", "the directory: permission denied"), remedy
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"its file system is full ({_reason(error)})", "free some space or choose another output file"
    return f"its directory refuses new files ({_reason(error)})", "choose another output file"


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
    except BrokenPipeError:
        if target.kind == "stdout":
            raise  # the reader stopped (| head): the command ends quietly, as when -o is not given
        raise ArchscopeError(f"cannot write {target.shown}: its reader has gone (broken pipe)") from None
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


def _write_with_timeout(fd: int, payload: bytes, target: Target) -> None:
    """Write to a non-blocking FIFO, giving up once its reader has taken nothing for STREAM_TIMEOUT_S."""
    view = memoryview(payload)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        if not poller.poll(STREAM_TIMEOUT_S * 1000):
            done = len(payload) - len(view)
            raise ArchscopeError(
                f"cannot write {target.shown}: its reader has taken nothing for {STREAM_TIMEOUT_S:g} s "
                f"({done:,} of {len(payload):,} bytes written); stopped waiting"
            )
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue  # the reader took less than a whole write's worth: wait again


def _write_stream(target: Target, payload: bytes) -> None:
    """A device node or FIFO: written to, as the shell's '>' would, never replaced."""
    assert target.path is not None
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    named_fifo = target.status is not None and stat.S_ISFIFO(target.status.st_mode) and target.path.exists()
    if named_fifo:
        try:
            # Non-blocking: opening a FIFO nobody reads would wait forever, and so would writing
            # to one whose reader never reads.
            fd = os.open(target.path, flags | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ENXIO:
                raise ArchscopeError(f"cannot write {target.shown}: it is a FIFO and nothing is reading it") from None
            raise
        try:
            _write_with_timeout(fd, payload, target)
        finally:
            os.close(fd)
        return
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


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a file was being written: raised so the temporary is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _termination_cleans_up():
    """Within the block SIGTERM and SIGHUP raise Terminated (as SIGINT raises KeyboardInterrupt),
    so the write's ``except`` removes its temporary file; after it, the signal is delivered again
    with its usual action, so the process ends as the sender asked."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _ENDING_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_DFL:  # a handler someone installed is theirs to keep
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    except Terminated as ended:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        previous.clear()
        os.kill(os.getpid(), ended.signum)
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _write_file(target: Target, payload: bytes) -> None:
    assert target.path is not None
    with _termination_cleans_up():
        _replace(target, payload)


def _replace(target: Target, payload: bytes) -> None:
    """Write a temporary beside the target and rename it over; on any failure remove the temporary."""
    assert target.path is not None
    old = target.status
    directory = target.path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
    except OSError as error:
        # check_output made one a moment ago; something changed since. Never write in place.
        if old is None:
            raise
        raise ArchscopeError(
            f"will not overwrite {target.shown}: no temporary file can be made beside it ({_reason(error)}), "
            "so it cannot be replaced whole"
        ) from None
    try:
        try:
            _write_all(fd, payload)
            os.fchmod(fd, stat.S_IMODE(old.st_mode) if old is not None else _new_file_mode())
            if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, old.st_uid, old.st_gid)
                except PermissionError:
                    # Replacing somebody else's file would make it ours, and writing it in place could
                    # lose it: refused (check_output says so before any work, where it can tell).
                    raise ArchscopeError(
                        f"will not overwrite {target.shown}: its owner (uid {old.st_uid}, gid {old.st_gid}) "
                        "cannot be kept on a replacement; choose another output file"
                    ) from None
            os.fsync(fd)
        finally:
            os.close(fd)
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
