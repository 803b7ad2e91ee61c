"""Timing logic with a fake clock: warm-up, repeats until the budget is spent, statistics, the host clock's arithmetic.

Nothing here measures time (the machine is noisy): the clock is replaced by one that says how
long each step took. How archscope's median compares with torch.utils.benchmark's on a real
model is measured by benchmarks/bench_vs_torch_benchmark.py, which prints the ratio.
"""

from __future__ import annotations

import pytest
import torch

import archscope.bench.profile as profile_module
from archscope.bench.timing import Clock, latency_stats, percentile, time_step


class FakeClock:
    """Runs each step and says it took the next of ``durations`` milliseconds (the last one repeats)."""

    def __init__(self, *durations: float) -> None:
        self.durations = list(durations)
        self.timed = 0
        self.synchronized = 0

    def synchronize(self) -> None:
        self.synchronized += 1

    def time_ms(self, fn) -> float:
        fn()
        self.timed += 1
        return self.durations[min(self.timed - 1, len(self.durations) - 1)]


def test_warmup_runs_are_not_timed_and_min_runs_hold():
    calls, clock = [], FakeClock(1.0)
    times = time_step(lambda: calls.append(1), clock, warmup=4, min_time=1e-12, min_runs=7)
    assert len(times) == 7 and clock.timed == 7 and len(calls) == 4 + 7
    assert clock.synchronized == 1  # once, after the warm-up, before the first timed run


def test_runs_continue_until_min_time_is_spent():
    times = time_step(lambda: None, FakeClock(10.0), warmup=0, min_time=0.1, min_runs=1)
    assert times == [10.0] * 10  # 100 ms of 10 ms steps
    assert len(time_step(lambda: None, FakeClock(10.0), warmup=0, min_time=0.1, min_runs=12)) == 12
    assert len(time_step(lambda: None, FakeClock(10.0), warmup=0, min_time=60.0, min_runs=1, max_runs=25)) == 25


def test_a_slow_first_run_still_counts_toward_the_budget():
    assert time_step(lambda: None, FakeClock(250.0, 1.0), warmup=0, min_time=0.2, min_runs=1) == [250.0]


def test_statistics_of_known_times():
    stats = latency_stats([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (stats.median, stats.mean, stats.runs) == (3.0, 3.0, 5)
    assert stats.p10 == pytest.approx(1.4) and stats.p90 == pytest.approx(4.6)
    assert percentile([1.0, 2.0], 0.5) == 1.5


def test_the_host_clock_is_the_difference_of_perf_counter_readings(monkeypatch):
    readings = iter([10.0, 10.25])
    monkeypatch.setattr("archscope.bench.timing.time.perf_counter", lambda: next(readings))
    ran = []
    assert Clock(torch.device("cpu")).time_ms(lambda: ran.append(1)) == pytest.approx(250.0) and ran == [1]


def test_profile_alternates_plain_and_instrumented_steps_until_the_plain_ones_fill_the_budget(monkeypatch):
    order = []

    class Instruments:
        def run(self, marked, device):
            order.append("instrumented")
            return "run"

    monkeypatch.setattr(profile_module, "Clock", lambda device: FakeClock(20.0))
    plain_times, runs = profile_module._time(lambda: order.append("plain"), None, Instruments(), torch.device("cpu"),
                                             warmup=2, min_time=0.1)  # fmt: skip
    # Warm-up: each kind twice, untimed; then pairs until 100 ms of 20 ms plain steps (and at least MIN_RUNS).
    assert order[:4] == ["plain", "instrumented"] * 2
    assert order[4:] == ["plain", "instrumented"] * max(5, profile_module.MIN_RUNS)
    assert plain_times == [20.0] * 5 and runs == ["run"] * 5
