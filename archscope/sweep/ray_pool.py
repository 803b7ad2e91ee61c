"""The same tasks on a Ray cluster (``archscope sweep --ray ADDRESS``; the 'cluster' extra).

Each model is one Ray task running ``task.run_task``, the function the local pool's workers
run. Counting tasks ask for one CPU each; bench tasks for one GPU each (``num_gpus=1``: Ray
then gives each task a GPU of its own, so no two models are timed on one device at once; on
the CPU a bench task asks for a whole node's CPUs). Ray keeps its worker processes from task
to task, so torch is imported once per worker there too.

A task whose worker or node dies is retried once by Ray (``max_retries=1``); if it dies again
the model gets a row saying so, and the sweep goes on. A task past the timeout is cancelled
(its worker killed) and gets a row saying so. No more tasks are in flight than the cluster
can run at once, so a task's time is counted from when it can start.

    local       start a Ray instance on this machine, bound to 127.0.0.1, for this sweep alone
    auto        join the cluster in RAY_ADDRESS (or the one running on this machine)
    HOST:PORT   join the cluster whose head is there
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterable, Iterator

from archscope.errors import ArchscopeError
from archscope.sweep.pool import error_row
from archscope.sweep.task import Task, TaskResult, run_task

INSTALL = "--ray needs Ray: pip install 'archscope[cluster]'"


def _ray(local: bool = False) -> Any:
    """The ray module, or one line saying how to install it.

    ``local``: Ray on this machine alone. Ray otherwise replaces 127.0.0.1 by the machine's
    network address (``services.resolve_ip_for_localhost``) and listens there; with clusters
    turned off (the variable is read when ray is imported) it keeps every port on loopback.
    """
    if local:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise ArchscopeError(INSTALL) from None
    if local:
        constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
        if constants is not None and hasattr(constants, "ENABLE_RAY_CLUSTER"):
            constants.ENABLE_RAY_CLUSTER = False  # ray was imported before the variable was set
    return ray


def _quiet(ray: Any, show: bool) -> None:
    """Ray's own messages off standard output, where they would land among the rows (``-o - -f csv``).

    Ray's driver prints the raylet's error messages ("a worker died ...") to stdout from a
    thread of its own; each such failure is in its model's row already. They go to stderr
    with --debug, else nowhere; Ray's log warnings (token authentication, ...) likewise.
    """
    import logging
    import sys

    worker = getattr(getattr(ray, "_private", None), "worker", None)
    if worker is not None and hasattr(worker, "print_to_stdstream"):
        def to_stderr(data: dict, ignore_prefix: bool) -> None:
            if show:
                for line in data.get("lines", []):
                    print(f"(ray {data.get('pid', '')}) {line}", file=sys.stderr)

        worker.print_to_stdstream = to_stderr
    if not show:
        logging.getLogger("ray").setLevel(logging.ERROR)


def ray_task(task: Task, memory_limit: int | None, threads: int | None) -> TaskResult:
    """``run_task`` inside a Ray worker, with the pool's thread count and memory limit for its duration."""
    import resource

    from archscope.bench.device import torch_threads
    from archscope.sweep.worker import limit_memory

    with torch_threads(threads):
        previous_limit = limit_memory(memory_limit) if memory_limit else None
        try:
            result = run_task(task)
        finally:
            if previous_limit is not None:
                resource.setrlimit(resource.RLIMIT_AS, previous_limit)
    result.worker = os.getpid()
    return result


class RayPool:
    """Tasks as Ray tasks; ``run`` yields each result as it finishes, as ``LocalPool.run`` does."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float | None = 600.0,
        memory_limit: int | None = None,
        bench_device: str | None = None,
        jobs: int | None = None,
        local_cpus: int | None = None,
        show_worker_output: bool = False,
    ) -> None:
        self.ray = _ray(local=address == "local")
        _quiet(self.ray, show_worker_output)
        self.address = address
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.bench_device = bench_device
        self.jobs = jobs
        self._started = False
        self._connect(local_cpus)

    def _connect(self, local_cpus: int | None) -> None:
        ray = self.ray
        quiet: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        try:
            if self.address == "local":
                # Ray on this machine alone: every port on the loopback address (see _ray), no dashboard.
                ray.init(address="local", num_cpus=local_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
                self._started = True
            elif self.address == "auto":
                ray.init(address="auto", **quiet)
            else:
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ArchscopeError(f"cannot reach a Ray cluster at {self.address!r}: {text}") from None

    def _capacity(self, resource_name: str) -> int:
        total = self.ray.cluster_resources().get(resource_name, 0)
        return max(1, int(total))

    def _options(self) -> tuple[dict[str, Any], int]:
        """The resources each task asks for, and how many can run at once."""
        device = self.bench_device
        if device is None:
            return {"num_cpus": 1}, self._capacity("CPU")
        if device.startswith("cuda"):
            if self.ray.cluster_resources().get("GPU", 0) < 1:
                raise ArchscopeError("--bench --device cuda on Ray: the cluster has no GPU")
            return {"num_gpus": 1}, self._capacity("GPU")
        # Timing on the CPU needs the node's CPUs to itself: ask for as many as the largest node has.
        cpus = max((n["Resources"].get("CPU", 0) for n in self.ray.nodes() if n.get("Alive")), default=1)
        return {"num_cpus": cpus}, max(1, int(self.ray.cluster_resources().get("CPU", 0) // max(cpus, 1)))

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        ray = self.ray
        queue = list(tasks)
        queue.reverse()  # pop() from the end takes them in order
        if not queue:
            return
        resources, capacity = self._options()
        if self.jobs:
            capacity = min(capacity, self.jobs)
        threads = 1 if self.bench_device is None else None
        remote = ray.remote(ray_task).options(max_retries=1, retry_exceptions=False, **resources)
        in_flight: dict[Any, tuple[Task, float]] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < capacity:
                    task = queue.pop()
                    ref = remote.remote(task, self.memory_limit, threads)
                    in_flight[ref] = (task, time.monotonic())
                deadlines = [t + self.timeout for _, t in in_flight.values()] if self.timeout else []
                wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=wait_for)
                for ref in done:
                    task, started = in_flight.pop(ref)
                    yield self._result(ref, task, started)
                now = time.monotonic()
                for ref, (task, started) in list(in_flight.items()):
                    if self.timeout is not None and now - started >= self.timeout:
                        ray.cancel(ref, force=True)
                        del in_flight[ref]
                        text = f"timed out after {self.timeout:g} s (--timeout); the Ray task was cancelled"
                        yield TaskResult(task.index, error_row(task, text, now - started))
        finally:
            for ref in in_flight:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - already finished or gone with its node
                    pass

    def _result(self, ref: Any, task: Task, started: float) -> TaskResult:
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayError as error:
            elapsed = time.monotonic() - started
            return TaskResult(task.index, error_row(task, _ray_failure(error), elapsed))

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
            self._started = False

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ray_failure(error: BaseException) -> str:
    """A row's error for a task Ray could not finish (after its one retry)."""
    name = type(error).__name__
    if "NodeDied" in name:
        return "the Ray node running this model died (the task was retried once)"
    if "WorkerCrashed" in name or "ActorDied" in name:
        return "the Ray worker running this model died (the task was retried once)"
    if "OutOfMemory" in name:
        return "Ray stopped the task: its node ran out of memory"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"Ray could not run this model: {name}" + (f": {text}" if text else "")
