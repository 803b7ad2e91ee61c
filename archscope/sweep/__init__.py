"""Sweeps: many models through the same analysis, each in a worker process, one row per model.

    rows = archscope.sweep.sweep(["vgg*", "torchvision:resnet*"], jobs=2)
    rows[0].model, rows[0].macs, rows[0].error

``specs`` expands wildcards; ``task`` is what a worker does with one model (the same
``summarize``, ``fit_batch`` and ``benchmark`` calls the commands make); ``pool`` runs tasks in
worker processes on this machine, ``ray_pool`` as Ray tasks on a cluster; ``select`` keeps
candidates within budgets and finds the Pareto frontier. Writing results files, progress and
the command line are the CLI's (``archscope sweep``); nothing here imports typer or rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from archscope.errors import ArchscopeError
from archscope.sweep.records import SCHEMA, BenchFigures, SweepRow
from archscope.sweep.specs import expand, is_pattern
from archscope.sweep.task import BenchOptions, SweepOptions, Task, TaskResult

__all__ = [
    "SCHEMA", "BenchFigures", "BenchOptions", "Plan", "SweepOptions", "SweepRow", "Task", "TaskResult",
    "bench_devices", "expand", "is_pattern", "make_pool", "plan", "sweep",
]  # fmt: skip

Key = tuple[str, str, str]


def cpu_count() -> int:
    """The CPUs this process may run on (as ``bench.runner.cpu_count``, without importing torch)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Plan:
    """What a run has to do: the tasks left, and the rows an earlier run already wrote."""

    tasks: list[Task]
    skipped: list[SweepRow]

    @property
    def skipped_failed(self) -> int:
        return sum(1 for r in self.skipped if r.error)


def plan(
    specs: Sequence[str], options: SweepOptions, done: Mapping[Key, SweepRow] | None = None, retry_failed: bool = False
) -> Plan:
    """A task for each spec whose key has no row in ``done`` (nor a failed one, with ``retry_failed``)."""
    done = done or {}
    tasks, skipped = [], []
    for spec in specs:
        row = done.get((spec, options.input_key(), options.key()))
        if row is not None and (row.ok or not retry_failed):
            skipped.append(row)
        else:
            tasks.append(Task(len(tasks), spec, options))
    return Plan(tasks, skipped)


def bench_devices(device: str) -> list[str]:
    """The devices ``--bench`` times on, one worker each: every GPU for 'cuda', else the one named."""
    from archscope.bench.device import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "cuda" and device in ("cuda", "auto"):
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [str(resolved)]


def make_pool(
    *,
    jobs: int | None = None,
    timeout: float | None = 600.0,
    memory_limit: int | None = None,
    bench: BenchOptions | None = None,
    ray: str | None = None,
    show_worker_output: bool = False,
) -> Any:
    """A pool for these options: Ray's when ``ray`` names a cluster, else worker processes here.

    Counting runs ``jobs`` workers (default: one per CPU), each on its share of the CPUs;
    timing runs one worker per device, since two models timed on one device at once would
    each slow the other.
    """
    if jobs is not None and jobs < 1:
        raise ArchscopeError(f"--jobs must be at least 1, not {jobs}")
    if timeout is not None and not timeout > 0:
        raise ArchscopeError(f"--timeout must be a number of seconds above 0, not {timeout}")
    if ray is not None:
        from archscope.sweep.ray_pool import RayPool

        device = bench_devices(bench.device)[0] if bench is not None else None
        return RayPool(ray, timeout=timeout, memory_limit=memory_limit, bench_device=device, jobs=jobs,
                       show_worker_output=show_worker_output)  # fmt: skip
    from archscope.sweep.pool import LocalPool

    if bench is not None:
        devices = bench_devices(bench.device)
        if jobs is not None and jobs > len(devices):
            raise ArchscopeError(
                f"--bench times one model per device at a time, and {bench.device} is {len(devices)} "
                f"device{'s' if len(devices) > 1 else ''}: --jobs {jobs} would time models side by side; "
                f"use --jobs {len(devices)} or fewer"
            )
        return LocalPool(jobs or len(devices), timeout=timeout, memory_limit=memory_limit, devices=devices,
                         show_worker_output=show_worker_output)  # fmt: skip
    workers = jobs or cpu_count()
    threads = max(1, cpu_count() // workers)
    return LocalPool(workers, timeout=timeout, memory_limit=memory_limit, threads=threads,
                     show_worker_output=show_worker_output)  # fmt: skip


def run(pool: Any, tasks: Iterable[Task]) -> Iterator[TaskResult]:
    """Each task's result as it finishes (the pool is closed at the end, or on Ctrl-C)."""
    with pool:
        yield from pool.run(tasks)


def sweep(
    specs: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    input_size: str | None = None,
    batch_size: int = 1,
    train: bool = False,
    optimizer: str = "sgd",
    fit: int | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    bench: BenchOptions | None = None,
    jobs: int | None = None,
    timeout: float | None = 600.0,
    memory_limit: int | None = None,
    ray: str | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
) -> list[SweepRow]:
    """Every model ``specs`` name (wildcards expanded), one row each, in the order the specs give them.

    Each model runs in a worker process (or a Ray task): one that raises, crashes or runs past
    ``timeout`` seconds gets a row with its ``error`` and the rest go on. ``on_row`` sees each
    row as it finishes.
    """
    names = expand(specs, exclude)
    options = SweepOptions(input_size, batch_size, train, optimizer, fit, tuple((model_kwargs or {}).items()), bench)
    tasks = plan(names, options).tasks
    pool = make_pool(jobs=jobs, timeout=timeout, memory_limit=memory_limit, bench=bench, ray=ray)
    rows: dict[int, SweepRow] = {}
    for result in run(pool, tasks):
        rows[result.index] = result.row
        if on_row is not None:
            on_row(result.row)
    return [rows[t.index] for t in tasks]
