"""``archscope bench`` rows as table cells and as exact CSV figures (its JSON is ``BenchReport.to_dict()``)."""

from __future__ import annotations

from typing import Any

from archscope.bench.records import BenchReport, BenchResult
from archscope.text.numbers import human_bytes, human_count, shape_text

# Named so that no two read alike: the memory columns both say memory, the compute ones FLOP/s.
HEADERS = [
    "Model", "Batch", "Median ms", "p10-p90 ms", "Runs", "Samples/s", "Memory peak", "Memory est.",
    "FLOP/s", "% of peak FLOP/s",
]  # fmt: skip


def ms_text(ms: float) -> str:
    """Milliseconds with three significant digits and never an exponent: 2,580 / 25.8 / 2.58 / 0.412."""
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


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
        ms_text(lat.median),
        f"{ms_text(lat.p10)}-{ms_text(lat.p90)}",
        str(lat.runs),
        f"{r.throughput:,.1f}",
        human_bytes(r.peak_memory_bytes),
        human_bytes(r.analytic_memory_bytes),
        human_count(r.achieved_flops),
        f"{r.peak_fraction:.0%}" if r.peak_fraction is not None else "-",
    ]




CSV_COLUMNS = [
    "model", "batch_size", "input_shape", "dtype", "mode", "median_ms", "p10_ms", "p90_ms", "mean_ms", "runs",
    "throughput", "peak_memory_bytes", "memory_source", "analytic_memory_bytes", "flops", "achieved_flops",
    "peak_fraction", "error",
]  # fmt: skip


def result_data(r: BenchResult) -> list[Any]:
    """A row's exact figures for CSV (CSV_COLUMNS): milliseconds, bytes and FLOP/s unrounded."""
    lat = r.latency_ms
    return [r.model, r.batch_size, shape_text(r.input_shape), r.dtype, r.mode,
            *(("", "", "", "", "") if lat is None else (lat.median, lat.p10, lat.p90, lat.mean, lat.runs)),
            r.throughput, r.peak_memory_bytes, r.memory_source, r.analytic_memory_bytes, r.flops,
            r.achieved_flops, r.peak_fraction, r.error or ""]  # fmt: skip
