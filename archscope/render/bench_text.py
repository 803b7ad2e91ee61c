"""``archscope bench`` rows as table cells and as exact CSV figures (its JSON is ``BenchReport.to_dict()``)."""

from __future__ import annotations

from typing import Any

from archscope.bench.records import BenchReport, BenchResult, Machine
from archscope.render.view import csv_columns
from archscope.text.numbers import human_bytes, human_count, milliseconds, shape_text

# Named so that no two read alike: the memory columns both say memory, the compute ones FLOP/s.
HEADERS = [
    "Model", "Batch", "Median ms", "p10-p90 ms", "Runs", "Samples/s", "Memory peak", "Memory est.",
    "FLOP/s", "% of peak FLOP/s",
]  # fmt: skip


def busy_note(machine: Machine) -> str | None:
    """Bench's and profile's warning when other processes kept every CPU busy as the run began."""
    if not (machine.busy and machine.device == "cpu"):
        return None
    return (
        f"note: the machine was busy as the run began (1-minute load average {machine.load_average:g} on "
        f"{machine.cpu_count} CPUs): other processes competed for the CPU, so these times may be slower than "
        "this model runs; run again on a quiet machine or with --threads 1"
    )


def environment_line(report: BenchReport) -> str:
    e = report.environment
    peak = f"; matmul peak {human_count(e.peak_flops)}FLOP/s" if e.peak_flops else ""
    return (
        f"{e.device} ({e.device_name}), {e.cpu_threads} CPU threads, {e.dtype}, {e.mode}, "
        f"compile {'on' if e.compile else 'off'}, channels_last {'on' if e.channels_last else 'off'}, "
        f"torch {e.torch_version}{peak}"
    )


def result_cells(r: BenchResult) -> list[str]:
    if r.error is not None:
        return [r.model, str(r.batch_size), "error: " + r.error, "", "", "", "", "", "", ""]
    lat = r.latency_ms
    return [
        r.model,
        str(r.batch_size),
        milliseconds(lat.median),
        f"{milliseconds(lat.p10)}-{milliseconds(lat.p90)}",
        str(lat.runs),
        f"{r.throughput:,.1f}",
        human_bytes(r.peak_memory_bytes),
        human_bytes(r.analytic_memory_bytes),
        human_count(r.achieved_flops),
        f"{r.peak_fraction:.0%}" if r.peak_fraction is not None else "-",
    ]




CSV_COLUMNS = csv_columns("bench", [
    "model", "batch_size", "input_shape", "dtype", "mode", "median_ms", "p10_ms", "p90_ms", "mean_ms", "runs",
    "throughput", "peak_memory_bytes", "memory_source", "analytic_memory_bytes", "flops", "achieved_flops",
    "peak_fraction", "error",
])  # fmt: skip


def result_data(r: BenchResult) -> list[Any]:
    """A row's exact figures for CSV (CSV_COLUMNS): milliseconds, bytes and FLOP/s unrounded."""
    lat = r.latency_ms
    return [r.model, r.batch_size, shape_text(r.input_shape), r.dtype, r.mode,
            *(("", "", "", "", "") if lat is None else (lat.median, lat.p10, lat.p90, lat.mean, lat.runs)),
            r.throughput, r.peak_memory_bytes, r.memory_source, r.analytic_memory_bytes, r.flops,
            r.achieved_flops, r.peak_fraction, r.error or ""]  # fmt: skip
