"""Measuring models: latency, throughput, memory and achieved vs peak compute. No rich, no typer.

The names below are imported on first use (PEP 562), as in ``archscope.analysis``: a light
module of this package (``dtypes``, ``records``) can be imported without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archscope.lazy_exports import lazy_getattr

_EXPORTS = {
    "archscope.bench.records": ("BenchEnvironment", "BenchReport", "BenchResult", "LatencyStats"),
    "archscope.bench.runner": ("DEFAULT_MODELS", "benchmark"),
}

if TYPE_CHECKING:
    from archscope.bench.records import BenchEnvironment, BenchReport, BenchResult, LatencyStats
    from archscope.bench.runner import DEFAULT_MODELS, benchmark


__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
