"""Timing one step of a model: warm-up, then repeats until the time budget is spent.

The CPU and CUDA paths share every line but the clock. On CUDA, kernels run asynchronously,
so each step is bracketed by CUDA events and the host waits for the end event before
reading it (torch.cuda.Event, "Timing" in the PyTorch CUDA semantics notes).
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Callable

import torch

from archscope.bench.records import LatencyStats


class Clock:
    """Milliseconds taken by one call of a function, on the given device."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.device = device

    def synchronize(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def time_ms(self, fn: Callable[[], object]) -> float:
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        begin = time.perf_counter()
        fn()
        return (time.perf_counter() - begin) * 1e3


def time_step(
    step: Callable[[], object],
    clock: Clock,
    warmup: int = 3,
    min_time: float = 1.0,
    min_runs: int = 5,
    max_runs: int = 100_000,
) -> list[float]:
    """Per-run milliseconds: ``warmup`` untimed runs, then at least ``min_runs`` timed runs and
    at least ``min_time`` seconds of them."""
    for _ in range(warmup):
        step()
    clock.synchronize()
    times: list[float] = []
    while len(times) < max_runs and (len(times) < min_runs or sum(times) < min_time * 1e3):
        times.append(clock.time_ms(step))
    return times


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_stats(times_ms: list[float]) -> LatencyStats:
    ordered = sorted(times_ms)
    return LatencyStats(
        median=statistics.median(ordered),
        p10=percentile(ordered, 0.10),
        p90=percentile(ordered, 0.90),
        mean=statistics.fmean(ordered),
        runs=len(ordered),
    )
