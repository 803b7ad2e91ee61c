"""``archscope compare`` as table cells and exact CSV rows (its JSON is ``Comparison.to_dict()``)."""

from __future__ import annotations

from typing import Any

from archscope.analysis.compare import METRICS, Comparison, Metric
from archscope.analysis.records import Summary
from archscope.render.view import csv_columns
from archscope.text.numbers import human_bytes, human_count, shape_text


def ratio_text(r: float | None) -> str:
    """x13.9, x1.75, x0.047."""
    if r is None:
        return ""
    if r >= 10:
        return f"x{r:.1f}"
    if r >= 1:
        return f"x{r:.2f}"
    return f"x{r:.2g}"


def value_text(metric: Metric, value: Any) -> str:
    if value is None:
        return "-"
    if metric.key == "latency_ms":
        return f"{value:.3g}" if value < 100 else f"{value:.0f}"
    if metric.key in ("input_shape", "output_shape"):
        return shape_text(value)
    if metric.key.endswith("bytes"):
        return human_bytes(value)
    if metric.key in ("weighted_depth", "receptive_field"):
        return str(value)
    return human_count(value)


def cell(metric: Metric, summary: Summary, comparison: Comparison) -> str:
    text = value_text(metric, metric.value(summary))
    if metric.numeric and summary is not comparison.baseline:
        r = ratio_text(comparison.ratios(summary)[metric.key])
        return f"{text} ({r})" if r else text
    return text


def compare_grid(comparison: Comparison, by_model_rows: bool) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: metrics as rows and models as columns, or one row per model."""
    summaries, base = comparison.summaries, comparison.baseline
    metrics = comparison.metrics()
    if by_model_rows:
        headers = ["Model", *(m.label for m in metrics)]
        rows = [[s.model, *(cell(m, s, comparison) for m in metrics)] for s in summaries]
    else:
        headers = ["", *(s.model + (" (baseline)" if s is base else "") for s in summaries)]
        rows = [[m.label, *(cell(m, s, comparison) for s in summaries)] for m in metrics]
    return headers, rows


NUMERIC = [m for m in METRICS if m.numeric]
CSV_HEADERS = csv_columns("compare", ["model", *(m.key for m in METRICS), *(f"{m.key}_ratio" for m in NUMERIC)])


def csv_headers(comparison: Comparison) -> list[str]:
    """CSV_HEADERS, with the latency's two columns when the models were timed."""
    metrics = comparison.metrics()
    numeric = [m for m in metrics if m.numeric]
    return ["model", *(m.key for m in metrics), *(f"{m.key}_ratio" for m in numeric)]


def compare_data(comparison: Comparison) -> list[list[Any]]:
    """One row per model (``csv_headers``): exact integers, then each numeric metric's ratio to the first."""
    metrics = comparison.metrics()
    numeric = [m for m in metrics if m.numeric]
    rows = []
    for s in comparison.summaries:
        values = [shape_text(m.value(s)) if not m.numeric else m.value(s) for m in metrics]
        ratios = [comparison.ratios(s)[m.key] for m in numeric]
        rows.append([s.model, *("" if v is None else v for v in values), *("" if r is None else f"{r:.6g}" for r in ratios)])
    return rows
