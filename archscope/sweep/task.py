"""One model's work in a sweep, as a worker runs it: resolve the spec, summarise it (and train,
fit and time it, as asked) through the same functions ``summary`` and ``bench`` call, and
turn the result into a ``SweepRow``. Every failure becomes the row's error; nothing raises.

This is the only code a worker runs, whether the worker is a process of the local pool
(``sweep.pool``) or a Ray task (``sweep.ray_pool``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from archscope.errors import ArchscopeError
from archscope.sweep.records import BenchFigures, SweepRow


@dataclass(frozen=True)
class BenchOptions:
    """What ``--bench`` times: every batch size in every dtype, on one device, as ``archscope bench`` would."""

    device: str = "cpu"
    batch_sizes: tuple[int, ...] = (1,)
    dtypes: tuple[str, ...] = ("float32",)
    mode: str = "inference"
    warmup: int = 3
    min_time: float = 1.0

    def key(self) -> str:
        return (
            f"bench device={self.device} batch={','.join(map(str, self.batch_sizes))} dtype={','.join(self.dtypes)} "
            f"mode={self.mode} warmup={self.warmup} min_time={self.min_time:g}"
        )

    def configurations(self) -> list[tuple[int, str]]:
        return [(b, d) for d in self.dtypes for b in self.batch_sizes]


@dataclass(frozen=True)
class SweepOptions:
    """The options of a sweep that change a figure; ``key()`` is their canonical text (a row's ``options``)."""

    input_size: str | None = None
    batch_size: int = 1
    train: bool = False
    optimizer: str = "sgd"
    fit: int | None = None  # bytes: the largest batch whose training memory fits
    model_kwargs: tuple[tuple[str, Any], ...] = ()
    bench: BenchOptions | None = None

    @property
    def trains(self) -> bool:
        return self.train or self.fit is not None

    def key(self) -> str:
        parts = [f"batch={self.batch_size}"]
        if self.trains:
            parts.append(f"train optimizer={self.optimizer}")
        if self.fit is not None:
            parts.append(f"fit={self.fit}")
        parts += [f"arg {k}={v!r}" for k, v in self.model_kwargs]
        if self.bench is not None:
            parts.append(self.bench.key())
        return " ".join(parts)

    def input_key(self) -> str:
        return (self.input_size or "").strip().lower()


@dataclass(frozen=True)
class Task:
    """One model to run; ``index`` is its place in the sweep's order."""

    index: int
    spec: str
    options: SweepOptions
    keep_summary: bool = False  # compare: send back the summary too (without its layers)
    device: str | None = None  # the device this worker times on (the pool's choice), else options.bench.device


@dataclass
class TaskResult:
    index: int
    row: SweepRow
    summary: Any = None  # a Summary without its layers, when the task asked for it
    spent: bool = False  # the worker should be replaced (it ran out of memory)
    worker: int | None = None  # the worker's process id
    extra: dict[str, Any] = field(default_factory=dict)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def describe_error(error: BaseException) -> tuple[str, bool]:
    """The row's error text, and whether it was an out-of-memory error (the worker is then replaced)."""
    from archscope.analysis.compat import is_out_of_memory

    if isinstance(error, MemoryError) or is_out_of_memory(error):
        return f"out of memory: {_first_line(error) or type(error).__name__}", True
    if isinstance(error, ArchscopeError):
        return _first_line(error), False
    detail = _first_line(error)
    return (f"{type(error).__name__}: {detail}" if detail else type(error).__name__), False


def _field_cells(row: SweepRow, rf: Any) -> None:
    if rf is None:
        return
    if not rf.is_window:
        row.receptive_field = rf.kind
        return
    side = max(range(len(rf.size)), key=lambda i: rf.size[i])
    row.receptive_field = rf.size[side]
    row.receptive_field_stride = rf.stride[side] if rf.stride else None
    row.receptive_field_padding = rf.padding[side] if rf.padding else None


def fill_from_summary(row: SweepRow, summary: Any) -> None:
    """The summary's figures into the row: the same numbers ``archscope summary -f json`` prints."""
    t = summary.totals
    row.source = summary.source
    row.input_shape = summary.input_shape
    row.output_shape = summary.output_shape
    row.params, row.trainable_params = t.params, t.trainable_params
    row.macs, row.flops = t.macs, t.flops
    row.param_bytes, row.activation_bytes = t.param_bytes, t.activation_bytes
    row.weighted_depth = summary.weighted_depth
    _field_cells(row, summary.receptive_field)
    row.uncounted = [(u.op, u.count) for u in summary.uncounted]
    if summary.data_dependent is not None:
        dd = summary.data_dependent
        row.data_dependent = f"{dd.op} in {dd.layer}" if dd.layer else dd.op
    if t.backward_macs is not None:
        row.backward_macs = t.backward_macs
    if t.training_memory is not None:
        row.training_memory = t.training_memory.peak


def _bench(spec: Any, options: SweepOptions, device: str) -> list[BenchFigures]:
    """``archscope bench``'s rows for this model, each dtype in turn (the same ``benchmark`` call)."""
    from archscope.bench import benchmark

    bench = options.bench
    assert bench is not None
    figures = []
    for dtype in bench.dtypes:
        report = benchmark(
            [spec], list(bench.batch_sizes), options.input_size, device=device, dtype=dtype, mode=bench.mode,
            warmup=bench.warmup, min_time=bench.min_time, calibrate=False,
        )  # fmt: skip
        if report.interrupted:
            raise KeyboardInterrupt
        for r in report.results:
            stats = r.latency_ms
            figures.append(
                BenchFigures(
                    r.batch_size, r.dtype,
                    stats.median if stats else None, stats.p10 if stats else None, stats.p90 if stats else None,
                    r.throughput, r.error,
                )  # fmt: skip
            )
    return figures


def warm_up() -> None:
    """Import what every task uses and run one tiny analysis, so a worker's first model pays only for itself.

    A worker calls this before it says it is ready: ``import torch`` and the analysis's own
    lazy imports take seconds, which must not count against the first model's ``--timeout``.
    """
    import torch.nn as nn

    import archscope.bench.runner  # noqa: F401 - what describe_error needs
    import archscope.zoo  # noqa: F401
    from archscope.analysis import summarize

    summarize(nn.Sequential(nn.Conv2d(1, 1, 1), nn.Flatten(), nn.Linear(4, 1)), input_size=(1, 2, 2))


def run_task(task: Task) -> TaskResult:
    """Run one model; every failure becomes the row's error."""
    options = task.options
    row = SweepRow(task.spec, options.input_key(), options.key())
    result = TaskResult(task.index, row)
    start = time.perf_counter()
    try:
        from archscope.analysis import summarize
        from archscope.models import resolve_model

        spec = resolve_model(task.spec, dict(options.model_kwargs))
        summary = summarize(
            spec, options.input_size, options.batch_size, train=options.trains, optimizer=options.optimizer
        )
        fill_from_summary(row, summary)
        if options.fit is not None:
            from archscope.analysis.summary import fit_batch

            row.fit_batch = fit_batch(spec, options.fit, options.input_size, optimizer=options.optimizer).batch_size
        if options.bench is not None:
            row.bench = _bench(spec, options, task.device or options.bench.device)
        if task.keep_summary:
            result.summary = dataclasses.replace(summary, layers=[])
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - the model's failure is its row, the sweep goes on
        row.error, result.spent = describe_error(error)
    row.seconds = round(time.perf_counter() - start, 3)
    return result
