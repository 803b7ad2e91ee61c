"""A sweep's results file: rows added as each model finishes, and read back by the next run.

What "never truncated, no half-written line" takes:

- A line format (CSV, JSON Lines, Markdown) is only ever appended to (``O_APPEND``): a row is
  one ``write`` of one whole line, made with Ctrl-C (SIGINT, SIGTERM) held off until it is
  done, so an interrupted or killed sweep leaves every finished row and nothing half-written
  (the kernel has the bytes once ``write`` returns; a killed process cannot lose them). A
  file whose last line was cut anyway (a full disk, a crash of the machine) gets a newline
  first, and the cut line is skipped when read, and counted.
- Parquet cannot grow a row at a time (its index is at the end), so the whole file is written
  again after each row, atomically (``archscope.output``: a temporary file renamed over the
  old one): at any moment it holds every row finished so far.
- A second run reads the rows that are there and only adds to them. ``--fresh`` replaces the
  file, atomically, with an empty one; the only way a run removes rows is being asked to.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Iterator, Sequence

from archscope.errors import ArchscopeError
from archscope.output import check_output, write_output
from archscope.render.sweep_rows import EXTENSIONS, FORMATS, UnreadableRows, header_columns, parquet_bytes, read_parquet
from archscope.sweep.records import Column, SweepRow


def format_of(path: str) -> str | None:
    """The results format a file name asks for by its extension, or None."""
    return EXTENSIONS.get(os.path.splitext(path.lower())[1])


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done: a line is written whole or not at all."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _write_whole(fd: int, data: bytes) -> None:
    with _signals_held():
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


def read_results(path: str) -> tuple[str, list[str] | None, list[SweepRow], int]:
    """A results file's format, header, rows (in file order) and the number of lines that could not be read."""
    fmt = format_of(path)
    if fmt is None:
        raise ArchscopeError(f"cannot tell the format of {path}: name a .csv, .jsonl, .md or .parquet file")
    try:
        if fmt == "parquet":
            header, rows = read_parquet(path)
            return fmt, header, rows, 0
        with open(path, encoding="utf-8", newline="") as file:
            text = file.read()
    except FileNotFoundError:
        raise ArchscopeError(f"no such file: {path}") from None
    except ArchscopeError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ArchscopeError(f"cannot read {path}: {error}") from None
    lines = text.split("\n")
    cut = 1 if lines and lines[-1] else 0  # a last line with no newline is half a row
    lines = lines[:-1]
    try:
        header, rows, bad = FORMATS[fmt].read(lines)
    except UnreadableRows as error:
        raise ArchscopeError(f"{path} is not an archscope sweep's results file: {error}") from None
    return fmt, header, rows, bad + cut


def latest(rows: Sequence[SweepRow]) -> dict[tuple[str, str, str], SweepRow]:
    """Each key's last row: a model run again (``--retry-failed``) has its newer row after the old one."""
    out: dict[tuple[str, str, str], SweepRow] = {}
    for row in rows:
        out[row.key] = row
    return out


class ResultsFile:
    """Where a sweep's rows go, a row at a time; opened with ``open()``, which reads what is there."""

    def __init__(self, path: str, fmt: str, columns: Sequence[Column], protect: Sequence[os.PathLike | str] = ()) -> None:
        self.path, self.fmt, self.columns = path, fmt, list(columns)
        self.target = check_output(path, protect=protect)
        self.rows: list[SweepRow] = []  # what the file held before this run
        self.unreadable = 0
        self._fd: int | None = None
        self._parquet: list[SweepRow] = []

    @property
    def shown(self) -> str:
        return self.target.shown

    @property
    def resumable(self) -> bool:
        return self.target.kind in ("file", "new")

    def open(self, fresh: bool = False) -> None:
        """Read the rows already there (unless ``fresh``), check they belong to this sweep, and get ready to add."""
        exists = self.target.kind == "file" and os.path.getsize(self.target.path) > 0
        if self.target.kind == "stream":
            self._fd = os.open(self.target.path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
            self._write(self._header())
            return
        if exists and not fresh:
            _, header, self.rows, self.unreadable = read_results(self.path)
            expected = header_columns(self.fmt, self.columns)
            if header is not None and expected is not None and header != expected:
                raise ArchscopeError(self._other_columns(header, expected))
        if self.fmt == "parquet":
            self._parquet = list(self.rows)
            if fresh or not exists:
                write_output(self.path, parquet_bytes([], self.columns))
            return
        if fresh or not exists:
            write_output(self.path, self._header())  # atomic: an old file is replaced whole, never truncated
        self._fd = os.open(self.target.path or self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        if exists and not fresh and not _ends_with_newline(self.target.path):
            self._write(b"\n")  # the cut line stays on its own (read back as unreadable), never glued to a row

    def _header(self) -> bytes:
        return FORMATS[self.fmt].header(self.columns).encode("utf-8")

    def _other_columns(self, header: list[str], expected: list[str]) -> str:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        what = []
        if missing:
            what.append("it has no " + ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else ""))
        if extra:
            what.append("it has " + ", ".join(extra[:4]) + (" ..." if len(extra) > 4 else "") + " this sweep does not write")
        return (
            f"{self.shown} holds another sweep's columns ({'; '.join(what) or 'in another order'}); "
            "give another file (a .jsonl file holds rows of any options), or --fresh to replace it"
        )

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            _write_whole(self._fd, data)
        except OSError as error:
            raise ArchscopeError(f"cannot write {self.shown}: {error.strerror or error}") from None

    def append(self, row: SweepRow) -> None:
        """Add one finished row: on disk (or on its way down the stream) when this returns."""
        if self.fmt == "parquet":
            self._parquet.append(row)
            with _signals_held():
                write_output(self.path, parquet_bytes(self._parquet, self.columns))
            return
        self._write(FORMATS[self.fmt].line(row, self.columns).encode("utf-8"))

    def close(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if self.target.kind != "stream":
                os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None


def _ends_with_newline(path: os.PathLike | str | None) -> bool:
    if path is None:
        return True
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() == 0:
            return True
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


class StdoutRows:
    """Rows streamed to standard output a line at a time (``-o - -f csv``, ``| jq`` on JSON Lines)."""

    def __init__(self, fmt: str, columns: Sequence[Column]) -> None:
        self.fmt, self.columns = fmt, list(columns)

    def open(self) -> None:
        header = FORMATS[self.fmt].header(self.columns)
        if header:
            sys.stdout.write(header)
            sys.stdout.flush()

    def append(self, row: SweepRow) -> None:
        sys.stdout.write(FORMATS[self.fmt].line(row, self.columns))
        sys.stdout.flush()

    def close(self) -> None:
        pass
