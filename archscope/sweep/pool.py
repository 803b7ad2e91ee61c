"""The local pool: a few worker processes, reused from model to model, each one replaceable.

Each worker (``sweep.worker``) imports torch once and then runs task after task, so a sweep of
a hundred models pays for ``import torch`` once per worker, not once per model. A model that
raises becomes a row with its error (``task.run_task``). A worker that dies under a model
(a segfault, ``os.abort()``, the kernel's out-of-memory killer), or runs past the timeout and
is killed, leaves that model a row saying so; a new worker takes its place and the sweep goes
on. Results come back as each model finishes, in the order they finish.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Iterable, Iterator, Sequence

from archscope.errors import ArchscopeError
from archscope.sweep.records import SweepRow
from archscope.sweep.task import Task, TaskResult
from archscope.sweep.worker import WorkerConfig

# A worker that has not said it is ready after this long (importing torch takes seconds) is stuck.
START_TIMEOUT = 300.0
# Workers that die before they are ready, in a row, before the sweep gives up: the environment is broken.
MAX_START_FAILURES = 3

_SIGNALS = {
    signal.SIGSEGV: "crashed with a segmentation fault (SIGSEGV)",
    signal.SIGABRT: "aborted (SIGABRT)",
    signal.SIGBUS: "crashed with a bus error (SIGBUS)",
    signal.SIGFPE: "crashed with a floating-point exception (SIGFPE)",
    signal.SIGILL: "crashed on an illegal instruction (SIGILL)",
    signal.SIGKILL: "was killed (SIGKILL), most likely by the kernel's out-of-memory killer",
}


def death_text(returncode: int | None) -> str:
    """Why a worker died, from its exit status, as a row's error says it."""
    if returncode is not None and returncode < 0:
        number = -returncode
        try:
            what = _SIGNALS.get(signal.Signals(number), f"was killed by {signal.Signals(number).name}")
        except ValueError:
            what = f"was killed by signal {number}"
        return f"the worker process {what} while running this model"
    return f"the worker process exited (code {returncode}) while running this model"


def error_row(task: Task, error: str, seconds: float | None = None) -> SweepRow:
    """The row of a model that gave no result of its own: its key, and why."""
    options = task.options
    return SweepRow(task.spec, options.input_key(), options.key(), error=error,
                    seconds=round(seconds, 3) if seconds is not None else None)  # fmt: skip


@dataclass
class _Worker:
    process: subprocess.Popen
    reader: Connection
    writer: Connection
    device: str | None
    started: float
    ready: bool = False
    task: Task | None = None
    task_started: float = 0.0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for end in (self.reader, self.writer):
            try:
                end.close()
            except OSError:
                pass


def _package_root() -> str:
    import archscope

    return os.path.dirname(os.path.dirname(os.path.abspath(archscope.__file__)))


class LocalPool:
    """``jobs`` worker processes on this machine; ``devices`` gives each worker the device it times on."""

    def __init__(
        self,
        jobs: int,
        *,
        timeout: float | None = 600.0,
        memory_limit: int | None = None,
        threads: int | None = None,
        devices: Sequence[str | None] | None = None,
        show_worker_output: bool = False,
    ) -> None:
        if jobs < 1:
            raise ArchscopeError(f"--jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self.timeout = timeout
        self.config = WorkerConfig(threads=threads, memory_limit=memory_limit)
        self.devices = list(devices) if devices else [None]
        self.show_worker_output = show_worker_output
        self._workers: list[_Worker] = []
        self._queue: deque[Task] = deque()
        self._start_failures = 0

    # --- workers -----------------------------------------------------------------------

    def _spawn(self, device: str | None) -> _Worker:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
        if self.config.threads:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(self.config.threads)
        quiet = None if self.show_worker_output else subprocess.DEVNULL
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "archscope.sweep.worker", str(child_read), str(child_write), str(os.getpid())],
                pass_fds=(child_read, child_write), stdin=subprocess.DEVNULL, stdout=quiet, stderr=quiet, env=env,
            )  # fmt: skip
        finally:
            os.close(child_read)
            os.close(child_write)
        worker = _Worker(process, Connection(parent_read, writable=False), Connection(parent_write, readable=False),
                         device, time.monotonic())  # fmt: skip
        worker.writer.send(self.config)
        return worker

    def _renew(self, worker: _Worker) -> None:
        """Kill ``worker``; a new one takes its place while models are still waiting."""
        worker.kill()
        index = self._workers.index(worker)
        if self._queue:
            self._workers[index] = self._spawn(worker.device)
        else:
            del self._workers[index]

    def close(self) -> None:
        """Stop every worker: an idle one ends when its pipe closes; a busy one is killed."""
        for worker in self._workers:
            if worker.task is not None or not worker.ready:
                worker.kill()
            else:
                try:
                    worker.writer.close()
                    worker.process.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
                worker.kill()
        self._workers = []

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the sweep ---------------------------------------------------------------------

    def start(self, count: int) -> None:
        """Start up to ``count`` workers now, so they import torch while the caller does its own work."""
        while len(self._workers) < min(count, self.jobs):
            self._workers.append(self._spawn(self.devices[len(self._workers) % len(self.devices)]))

    def _deadline(self, worker: _Worker) -> float | None:
        if not worker.ready:
            return worker.started + START_TIMEOUT
        if worker.task is not None and self.timeout is not None:
            return worker.task_started + self.timeout
        return None

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        """Each task's result, as it finishes; at most ``jobs`` models at a time."""
        self._queue = queue = deque(tasks)
        if not queue:
            return
        try:
            self.start(len(queue))
            while queue or any(w.task is not None for w in self._workers):
                for worker in self._workers:
                    if worker.ready and worker.task is None and queue:
                        worker.task, worker.task_started = queue.popleft(), time.monotonic()
                        if worker.device is not None:
                            worker.task = _on_device(worker.task, worker.device)
                        worker.writer.send(worker.task)
                deadlines = [d for d in map(self._deadline, self._workers) if d is not None]
                wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = set(wait([w.reader for w in self._workers], wait_for))
                for worker in list(self._workers):
                    if worker.reader in ready:
                        yield from self._receive(worker)
                now = time.monotonic()
                for worker in list(self._workers):
                    deadline = self._deadline(worker)
                    if deadline is not None and now >= deadline and worker in self._workers:
                        yield from self._expire(worker, now)
        finally:
            self.close()

    def _receive(self, worker: _Worker) -> Iterator[TaskResult]:
        try:
            message = worker.reader.recv()
        except (EOFError, OSError):
            yield from self._died(worker)
            return
        if isinstance(message, tuple) and message[0] == "ready":
            worker.ready, self._start_failures = True, 0
            return
        task, worker.task = worker.task, None
        if task is not None:
            yield message
        if message.spent:  # it ran out of memory: what is left of its heap is not worth trusting
            self._renew(worker)

    def _died(self, worker: _Worker) -> Iterator[TaskResult]:
        worker.kill()
        task = worker.task
        if task is None:
            if not worker.ready:
                self._start_failures += 1
                if self._start_failures >= MAX_START_FAILURES:
                    raise ArchscopeError(
                        f"the sweep's worker processes exit as they start (code {worker.process.returncode}); "
                        "run 'archscope --debug sweep ...' to see their errors"
                    )
            self._renew(worker)
            return
        elapsed = time.monotonic() - worker.task_started
        yield TaskResult(task.index, error_row(task, death_text(worker.process.returncode), elapsed),
                         worker=worker.process.pid)  # fmt: skip
        worker.task = None
        self._renew(worker)

    def _expire(self, worker: _Worker, now: float) -> Iterator[TaskResult]:
        task = worker.task
        worker.kill()
        if task is not None and worker.ready:
            text = f"timed out after {self.timeout:g} s (--timeout); the worker was stopped"
            yield TaskResult(task.index, error_row(task, text, now - worker.task_started), worker=worker.process.pid)
        elif not worker.ready:
            raise ArchscopeError(f"a sweep worker did not start within {START_TIMEOUT:g} s")
        worker.task = None
        self._renew(worker)


def _on_device(task: Task, device: str) -> Task:
    from dataclasses import replace

    return replace(task, device=device)
