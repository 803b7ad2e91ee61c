"""Plain records of a benchmark run; ``BenchReport.to_dict()`` is the ``archscope.bench/1`` JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar



@dataclass
class LatencyStats:
    """Per-step wall time in milliseconds over the measured runs."""

    median: float
    p10: float
    p90: float
    mean: float
    runs: int


@dataclass
class BenchResult:
    model: str
    batch_size: int
    input_shape: list[int]
    dtype: str
    mode: str  # "inference" or "train" (forward + backward + optimizer step)
    latency_ms: LatencyStats | None = None
    throughput: float | None = None  # samples per second, at the median latency
    peak_memory_bytes: int | None = None
    memory_source: str | None = None
    analytic_memory_bytes: int | None = None
    flops: int | None = None  # per step: the summary's FLOPs, x3 for a training step
    achieved_flops: float | None = None  # FLOP/s at the median latency
    peak_fraction: float | None = None  # achieved / the device's calibrated matmul peak
    error: str | None = None  # set instead of the figures when the row failed (e.g. out of memory)
    note: str | None = None  # e.g. "batch halved from 64 by --auto-batch"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.error is not None:
            # A failed row carries its error instead of figures.
            keep = ("model", "batch_size", "input_shape", "dtype", "mode", "error", "note")
            return {k: data[k] for k in keep}
        return data


@dataclass
class Machine:
    """Where a measurement ran, as it began: one record for bench's environment and profile's report."""

    torch_version: str
    device: str  # "cpu", "cuda:0"
    device_name: str
    cpu_threads: int  # the threads torch uses
    # The machine's 1-minute load average as the run began, and its CPU count (None where the
    # system does not say): a load at or above the CPU count means other work competed for it.
    load_average: float | None
    cpu_count: int | None

    @property
    def busy(self) -> bool:
        """Whether other processes kept every CPU busy as the run began (timings then run slow)."""
        return self.load_average is not None and self.cpu_count is not None and self.load_average >= self.cpu_count


@dataclass
class BenchEnvironment(Machine):
    """The machine, and how bench ran on it."""

    dtype: str
    compile: bool
    channels_last: bool
    mode: str
    warmup: int
    min_time_s: float
    peak_flops: float | None = None  # calibrated dense-matmul FLOP/s of this device and dtype
    peak_source: str | None = None


@dataclass
class BenchReport:
    SCHEMA: ClassVar[str] = "archscope.bench/1"

    environment: BenchEnvironment
    results: list[BenchResult] = field(default_factory=list)
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "environment": asdict(self.environment),
            "results": [r.to_dict() for r in self.results],
            "interrupted": self.interrupted,
        }
