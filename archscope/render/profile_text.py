"""``archscope profile`` as a view (render.view) for every writer, and as CSV (its JSON is ``ProfileReport.to_dict()``)."""

from __future__ import annotations

from typing import Any

from archscope.bench.profile_records import ProfileReport
from archscope.render.view import Column, Note, Pairs, Table, View, csv_columns
from archscope.text.numbers import decimal_bytes, human_count, milliseconds, shape_text


# key -> (column, cell). A narrow terminal drops the highest ranks first: the table keeps the
# time, the two shares, the traffic and where the layer sits under the roof.
_COLUMNS: dict[str, tuple[Column, Any]] = {
    "layer": (Column("Layer", shrink=True), lambda x: x.name),
    "type": (Column("Type", drop=5, shrink=True), lambda x: x.type),
    "ms": (Column("ms", numeric=True), lambda x: milliseconds(x.time_ms)),
    "split": (Column("fwd+bwd ms", numeric=True, drop=4),
              lambda x: f"{milliseconds(x.forward_ms)}+{milliseconds(x.backward_ms)}" if x.forward_ms is not None else "-"),
    "spread": (Column("p10-p90", numeric=True, drop=3), lambda x: f"{milliseconds(x.p10_ms)}-{milliseconds(x.p90_ms)}"),
    "share": (Column("% time", numeric=True), lambda x: f"{x.share:.1%}"),
    "mac_share": (Column("% MACs", numeric=True), lambda x: f"{x.mac_share:.1%}"),
    "macs": (Column("MACs", numeric=True, drop=6), lambda x: human_count(x.macs)),
    "flops": (Column("FLOPs", numeric=True, drop=8), lambda x: human_count(x.flops)),
    "bytes": (Column("Bytes", numeric=True, drop=2), lambda x: decimal_bytes(x.bytes) if x.bytes else "0"),
    "intensity": (Column("FLOP/B", numeric=True), lambda x: f"{x.intensity:.3g}" if x.intensity is not None else "-"),
    "achieved": (Column("FLOP/s", numeric=True, drop=1), lambda x: human_count(x.achieved_flops)),
    "bandwidth": (Column("Bytes/s", numeric=True, drop=7),
                  lambda x: decimal_bytes(x.achieved_bytes_per_s) if x.achieved_bytes_per_s else "-"),
    "roof": (Column("% roof", numeric=True), lambda x: f"{x.roofline_fraction:.0%}" if x.roofline_fraction is not None else "-"),
    "bound": (Column("Bound"), lambda x: x.bound or "-"),
}  # fmt: skip

CSV_COLUMNS = csv_columns("profile", [
    "name", "type", "depth", "time_ms", "p10_ms", "p90_ms", "forward_ms", "backward_ms", "share", "mac_share", "macs",
    "flops", "bytes", "intensity", "achieved_flops", "achieved_bytes_per_s", "roofline_flops", "roofline_fraction", "bound",
])  # fmt: skip

NOTES = [
    "Bytes: the least traffic, each operator's inputs read and its outputs written once. A layer whose data a "
    "cache keeps can pass the memory roof (% roof above 100).",
    "% roof: achieved FLOP/s against min(peak, FLOP/B x bandwidth), the roofline (Williams et al. 2009); for a "
    "layer with no FLOPs, bytes/s against the bandwidth. % time and % MACs are shares of the rows' totals.",
]


def _keys(report: ProfileReport) -> list[str]:
    keys = list(_COLUMNS)
    if report.mode != "train":
        keys.remove("split")
    return keys


def title(report: ProfileReport) -> str:
    return f"{report.model}  input {shape_text(report.input_shape)}, {report.mode}, depth {report.depth}"


def device_line(report: ProfileReport) -> str:
    d = report.device
    threads = f"{d.threads} CPU thread{'s' if d.threads != 1 else ''}"
    layout = ", channels_last" if report.channels_last else ""
    return f"{d.device} ({d.name}), {threads}, {d.dtype}{layout}, torch {report.torch_version}"


def timing_items(report: ProfileReport) -> list[tuple[str, str, str]]:
    """The whole step beside the sum of the rows (the instrumentation's cost shows), then the two roofs."""
    d = report.device
    parts = "the layers" if report.optimizer_ms is None else f"the layers and the optimizer step, {milliseconds(report.optimizer_ms)} ms"
    items = [
        ("Whole model", f"{milliseconds(report.total_ms)} ms median (p10-p90 {milliseconds(report.total_p10_ms)}-{milliseconds(report.total_p90_ms)}, "
                        f"{report.runs} runs), timed without instrumentation as bench times a step", ""),
        ("Sum of rows", f"{milliseconds(report.timed_ms)} ms ({parts}), {report.coverage:.1%} of the whole; an instrumented "
                        f"step took {milliseconds(report.instrumented_ms)} ms", "warn" if abs(report.coverage - 1) > 0.1 else ""),
        ("Timed by", report.timing_source, ""),
        ("Peak compute", f"{human_count(d.peak_flops)}FLOP/s: {d.peak_source}" if d.peak_flops else "not measured", ""),
        ("Bandwidth", f"{human_count(d.bandwidth_bytes_per_s)}B/s: {d.bandwidth_source}" if d.bandwidth_bytes_per_s
         else "not measured", ""),
    ]  # fmt: skip
    if d.ridge_intensity is not None:
        items.append(("Ridge point", f"{d.ridge_intensity:.3g} FLOP/B: below it a layer is memory-bound, above it compute-bound", ""))
    return items


def profile_view(report: ProfileReport) -> View:
    """One row per layer call at the chosen depth, then the timing and the device's two ceilings."""
    keys = _keys(report)
    rows = [[_COLUMNS[k][1](x) for k in keys] for x in report.layers]
    table = Table([_COLUMNS[k][0] for k in keys], rows, _csv_rows(report), CSV_COLUMNS)
    blocks: list = [table, Pairs(timing_items(report)), *(Note(n, "dim") for n in NOTES)]
    blocks += [Note(text, "warn") for text in unsteady_notes(report)]
    return View(title(report), [device_line(report)], blocks)


def unsteady_notes(report: ProfileReport) -> list[str]:
    """What says these times are not the model's alone: a busy machine (bench's check), identical layers that disagree."""
    from archscope.render.bench_text import busy_note

    notes = [busy_note(report.machine)] if busy_note(report.machine) else []
    for fast, slow in report.disagreeing_twins():
        notes.append(
            f"note: {fast.name} and {slow.name} ({fast.type}) do the same work but took {milliseconds(fast.time_ms)} "
            f"and {milliseconds(slow.time_ms)} ms ({fast.share:.1%} and {slow.share:.1%} of the time; p10-p90 "
            f"{milliseconds(fast.p10_ms)}-{milliseconds(fast.p90_ms)} and {milliseconds(slow.p10_ms)}-"
            f"{milliseconds(slow.p90_ms)}), beyond their spread: the machine was busy or its clock changed during "
            "the run, so the shares are unreliable; run again on a quiet machine or with a longer --min-time"
        )
    return notes


def _csv_rows(report: ProfileReport) -> list[list[Any]]:
    return [["" if getattr(x, c) is None else getattr(x, c) for c in CSV_COLUMNS] for x in report.layers]


def profile_csv(report: ProfileReport) -> str:
    """One row per layer: exact integers and full-precision floats (the view's table data)."""
    from archscope.render.writers import csv_text

    return csv_text(profile_view(report))
