"""Measuring models: latency, throughput, memory and achieved vs peak compute. No rich, no typer."""

from archscope.bench.records import BenchEnvironment, BenchReport, BenchResult, LatencyStats
from archscope.bench.runner import DEFAULT_MODELS, benchmark

__all__ = ["DEFAULT_MODELS", "BenchEnvironment", "BenchReport", "BenchResult", "LatencyStats", "benchmark"]
