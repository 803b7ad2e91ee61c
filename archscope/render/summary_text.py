"""A Summary's JSON document as ``summary -f json`` writes it (layers to a depth, fvcore's count beside),
its CSV (the view's table), and fvcore's count as a table."""

from __future__ import annotations

from archscope.analysis.fvcore_counter import FvcoreCount
from archscope.analysis.records import Summary
from archscope.render.view import Column, Table
from archscope.render.views import summary_view
from archscope.text.numbers import human_count


def summary_document(summary: Summary, depth: int | None = None, extra: dict | None = None) -> dict:
    """The ``archscope.summary/1`` document, layers to ``depth``; ``extra`` adds top-level keys (``fvcore``)."""
    data = summary.to_dict()
    if depth is not None:
        data["layers"] = [layer for layer in data["layers"] if layer["depth"] <= depth]
    data.update(extra or {})
    return data


def summary_json(summary: Summary, depth: int | None = None, extra: dict | None = None) -> str:
    """``summary_document`` as the text ``summary -f json`` writes."""
    from archscope.render.writers import json_text

    return json_text(summary_document(summary, depth, extra))


def summary_csv(summary: Summary, depth: int | None = None) -> str:
    """One row per layer call, exact integers; shapes written as 1x64x112x112 (the view's table data)."""
    from archscope.render.writers import csv_text

    return csv_text(summary_view(summary, depth))


def fvcore_rows(count: FvcoreCount, summary: Summary) -> list[tuple[str, str]]:
    """fvcore's per-operator counts (its unit: one multiply-add), and how they compare with ours."""
    rows = [(op, f"{human_count(n)} ({n:,})") for op, n in sorted(count.by_operator.items(), key=lambda kv: -kv[1])]
    verdict = "equal" if count.macs == summary.totals.macs else f"differ by {count.macs - summary.totals.macs:+,}"
    rows.append(("conv+linear+matmul", f"{count.macs:,}: {verdict} to archscope's MACs ({summary.totals.macs:,})"))
    if count.unsupported:
        rows.append(("skipped by fvcore", ", ".join(f"{op} x{n}" for op, n in sorted(count.unsupported.items()))))
    return rows



def fvcore_table(count: FvcoreCount, summary: Summary) -> Table:
    """fvcore's per-operator counts as a table block of the summary's view."""
    rows = [[op, text] for op, text in fvcore_rows(count, summary)]
    return Table([Column("Operator"), Column("Count", wrap=True)], rows, title="fvcore's count (one multiply-add = 1)")
