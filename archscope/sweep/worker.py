"""A worker process of the local pool: ``python -m archscope.sweep.worker READ_FD WRITE_FD``.

It imports torch and the analysis once, says it is ready, then runs one task after another
(``task.run_task``) until its pipe closes. It ignores Ctrl-C (the sweep decides what a Ctrl-C
means and stops its workers) and dies with the process that started it, so a killed sweep
leaves no worker behind. Messages are pickled over the pipe, as ``multiprocessing`` does
between its own processes; nothing from a file is ever unpickled.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection

from archscope.system_memory import address_space

PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class WorkerConfig:
    """What the pool tells a new worker: its CPU threads and how much more memory it may take."""

    threads: int | None = None
    memory_limit: int | None = None  # bytes of address space beyond what the worker holds once started


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when the sweep that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the closed pipe still ends the worker once its task is done
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def limit_memory(extra: int) -> tuple[int, int] | None:
    """Let this process map at most ``extra`` bytes more than it has now (RLIMIT_AS); return the old limit.

    The address space rather than the resident size, because the kernel enforces it at the
    allocation itself: a model that asks for too much gets torch's "can't allocate memory"
    (or Python's MemoryError) in its own row, before the machine runs short.
    """
    now = address_space()
    if now is None:
        return None
    previous = resource.getrlimit(resource.RLIMIT_AS)
    soft = now + extra
    if previous[1] != resource.RLIM_INFINITY:
        soft = min(soft, previous[1])
    resource.setrlimit(resource.RLIMIT_AS, (soft, previous[1]))
    return previous


def serve(reader: Connection, writer: Connection) -> None:
    """Answer tasks until the pipe closes."""
    config: WorkerConfig = reader.recv()
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    from archscope.sweep.task import run_task, warm_up

    warm_up()  # torch and the analysis, once for every task to come
    if config.memory_limit:
        limit_memory(config.memory_limit)
    writer.send(("ready", os.getpid()))
    while True:
        try:
            task = reader.recv()
        except EOFError:
            return
        result = run_task(task)
        result.worker = os.getpid()
        if result.spent and config.memory_limit and result.row.error:  # say which limit it ran into
            more = f"{config.memory_limit / 2**30:.3g} GiB"
            result.row.error += f" (each worker may take {more} more than it starts with: --memory-limit)"
        writer.send(result)


def main(argv: list[str]) -> None:
    parent = int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    import faulthandler

    faulthandler.enable()  # a segfault's Python stack goes to the worker's stderr (shown with --debug)
    reader, writer = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    try:
        serve(reader, writer)
    except (EOFError, BrokenPipeError):
        pass  # the sweep went away


if __name__ == "__main__":
    main(sys.argv[1:])
