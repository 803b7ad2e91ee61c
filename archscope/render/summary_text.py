"""A Summary as JSON, CSV or Markdown text. Pure functions of the record; no rich here."""

from __future__ import annotations

import csv
import io
import json

from archscope.analysis.fvcore_counter import FvcoreCount
from archscope.analysis.records import LayerRecord, Summary
from archscope.render.markdown import Raw, markdown_table, md_cell
from archscope.render.numbers import human_bytes, human_count, shape_text
from archscope.render.rf_text import field_sentence, rf_cell
from archscope.render.safe import csv_row, md_text


def visible_layers(summary: Summary, depth: int | None) -> list[LayerRecord]:
    """The records down to ``depth`` (1 = the model's direct children); all of them for None."""
    return [layer for layer in summary.layers if depth is None or layer.depth <= depth]


def totals_rows(summary: Summary) -> list[tuple[str, str]]:
    """(label, text) pairs that every human-facing format shows under the layer table."""
    t = summary.totals
    uncounted = ", ".join(f"{u.op} x{u.count}" for u in summary.uncounted) or "none"
    rows = [
        ("Params", f"{human_count(t.params)} ({t.params:,}; trainable {t.trainable_params:,})"),
        ("MACs", f"{human_count(t.macs)} ({t.macs:,})"),
        ("FLOPs", f"{human_count(t.flops)} ({t.flops:,})"),
        ("Parameter memory", human_bytes(t.param_bytes)),
        ("Activation memory", human_bytes(t.activation_bytes)),
        ("Uncounted operators", uncounted),
    ]
    if summary.receptive_field is not None:
        rows.append(("Receptive field", field_sentence(summary.receptive_field) + " at the last spatial map"))
    if summary.unused_modules:
        rows.append(("Not run", ", ".join(summary.unused_modules) + " (parameters counted, cost not)"))
    if summary.data_dependent is not None:
        dependence = summary.data_dependent
        where = f" in {dependence.layer}" if dependence.layer else ""
        rows.append((
            "Data-dependent",
            f"{dependence.op}{where} needs real values, so this ran on the CPU with a random input; "
            "shapes and counts after it hold for this input only",
        ))
    return rows


def summary_json(summary: Summary, depth: int | None = None, extra: dict | None = None) -> str:
    """The ``archscope.summary/1`` document; ``extra`` adds top-level keys (e.g. ``fvcore``)."""
    data = summary.to_dict()
    if depth is not None:
        data["layers"] = [layer for layer in data["layers"] if layer["depth"] <= depth]
    data.update(extra or {})
    return json.dumps(data, indent=2) + "\n"


CSV_COLUMNS = ["name", "type", "depth", "leaf", "input_shape", "output_shape", "params", "macs", "flops", "receptive_field"]


def summary_csv(summary: Summary, depth: int | None = None) -> str:
    """One row per layer call, exact integers; shapes written as 1x64x112x112."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for layer in visible_layers(summary, depth):
        writer.writerow(
            csv_row([
                layer.name,
                layer.type,
                layer.depth,
                str(layer.leaf).lower(),
                shape_text(layer.input_shape),
                shape_text(layer.output_shape),
                layer.params,
                layer.macs,
                layer.flops,
                rf_cell(layer.receptive_field),
            ])
        )
    return buffer.getvalue()


def fvcore_rows(count: FvcoreCount, summary: Summary) -> list[tuple[str, str]]:
    """fvcore's per-operator counts (its unit: one multiply-add), and how they compare with ours."""
    rows = [(op, f"{human_count(n)} ({n:,})") for op, n in sorted(count.by_operator.items(), key=lambda kv: -kv[1])]
    verdict = "equal" if count.macs == summary.totals.macs else f"differ by {count.macs - summary.totals.macs:+,}"
    rows.append(("conv+linear+matmul", f"{count.macs:,}: {verdict} to archscope's MACs ({summary.totals.macs:,})"))
    if count.unsupported:
        rows.append(("skipped by fvcore", ", ".join(f"{op} x{n}" for op, n in sorted(count.unsupported.items()))))
    return rows


def summary_markdown(summary: Summary, depth: int | None = None, fvcore: FvcoreCount | None = None) -> str:
    lines = [f"# {md_text(summary.model)}", ""]
    if summary.source:
        lines += [f"Source: {md_text(summary.source)}", ""]
    lines += [f"Input {md_text(shape_text(summary.input_shape))}, output {md_text(shape_text(summary.output_shape))}.", ""]
    rows = [
        [Raw("&nbsp;&nbsp;" * (layer.depth - 1) + md_cell(layer.name)), layer.type, shape_text(layer.output_shape),
         rf_cell(layer.receptive_field), human_count(layer.params), human_count(layer.macs), human_count(layer.flops)]
        for layer in visible_layers(summary, depth)
    ]  # fmt: skip
    lines += markdown_table(["Layer", "Type", "Output shape", "RF", "Params", "MACs", "FLOPs"], rows, right=(3, 4, 5, 6))
    lines += [""] + markdown_table(["Total", ""], totals_rows(summary))
    if fvcore is not None:
        lines += ["", "## fvcore's count", ""] + markdown_table(["Operator", "Count"], fvcore_rows(fvcore, summary))
    lines += ["", "MACs count multiply-accumulates of conv/linear/matmul; FLOPs = 2 x MACs + other operators."]
    return "\n".join(lines) + "\n"


def fvcore_table(count: FvcoreCount, summary: Summary) -> "Table":  # noqa: F821
    """fvcore's per-operator counts as a table block of the summary's view."""
    from archscope.render.view import Column, Table

    rows = [[op, text] for op, text in fvcore_rows(count, summary)]
    return Table([Column("Operator"), Column("Count", wrap=True)], rows, title="fvcore's count (one multiply-add = 1)")
