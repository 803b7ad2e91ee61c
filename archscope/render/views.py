"""One view per record: the rows and notes a person reads, whatever the format (render.writers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from archscope.analysis.records import LayerRecord, Summary
from archscope.render.rf_sentences import STAGE_COLUMNS, field_sentence, map_sentence, parts_sentence
from archscope.render.units import UNITS
from archscope.render.blocks import Column, Note, Pairs, Table, View, csv_columns
from archscope.text.fields import axes_text, rf_cell
from archscope.text.numbers import human_bytes, human_count, shape_text

if TYPE_CHECKING:  # for annotations only: the modules that define them build the records (and import torch)
    from archscope.analysis.compare import Comparison
    from archscope.analysis.rf.field_report import ReceptiveFieldReport
    from archscope.lessons import LessonSet
    from archscope.zoo import ZooListing

# --- summary ---------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "-"
    if not part:
        return "0"
    share = 100 * part / whole
    return f"{share:.1f}%" if share >= 0.1 or share == 0 else "<0.1%"


def _kernel(layer: LayerRecord, summary: Summary | None = None) -> str:
    if layer.kernel is None:
        return "-"
    text = axes_text(layer.kernel)
    return text + (f"/{axes_text(layer.stride)}" if layer.stride and any(s != 1 for s in layer.stride) else "")


# key -> (column, cell). The table shows them in this order.
SUMMARY_COLUMNS: dict[str, tuple[Column, Any]] = {
    "layer": (Column("Layer", shrink=True), None),
    "type": (Column("Type", drop=2, shrink=True), lambda x, s: x.type),
    "input": (Column("Input shape", drop=7, wrap=True), lambda x, s: shape_text(x.input_shape)),
    "output": (Column("Output shape", drop=3, wrap=True), lambda x, s: shape_text(x.output_shape)),
    "kernel": (Column("Kernel", drop=6), _kernel),
    "rf": (Column("RF", numeric=True, drop=1), lambda x, s: rf_cell(x.receptive_field)),
    "params": (Column("Params", numeric=True), lambda x, s: human_count(x.params)),
    "params%": (Column("% params", numeric=True, drop=5), lambda x, s: _percent(x.params, s.totals.params)),
    "macs": (Column("MACs", numeric=True), lambda x, s: human_count(x.macs)),
    "macs%": (Column("% MACs", numeric=True, drop=4), lambda x, s: _percent(x.macs, s.totals.macs)),
    "flops": (Column("FLOPs", numeric=True, drop=3), lambda x, s: human_count(x.flops)),
    # A training analysis (summary --train): the backward work of the autograd nodes the call made.
    "bwd-macs": (Column("Bwd MACs", numeric=True), lambda x, s: human_count(x.backward_macs)),
    "bwd-flops": (Column("Bwd FLOPs", numeric=True, drop=3), lambda x, s: human_count(x.backward_flops)),
}  # fmt: skip
DEFAULT_SUMMARY_COLUMNS = ("layer", "type", "output", "rf", "params", "params%", "macs", "macs%", "flops")
TRAINING_COLUMNS = ("bwd-macs", "bwd-flops")  # added to the default when the summary has a backward pass
# The CSV contract: one row per layer call, exact integers, whatever columns the table shows.
CSV_SUMMARY_HEADERS = csv_columns("summary", ["name", "type", "depth", "leaf", "input_shape", "output_shape", "params",
                                              "macs", "flops", "receptive_field"])  # fmt: skip


def _csv_row(x: LayerRecord) -> list[Any]:
    return [x.name, x.type, x.depth, str(x.leaf).lower(), shape_text(x.input_shape), shape_text(x.output_shape),
            x.params, x.macs, x.flops, rf_cell(x.receptive_field)]  # fmt: skip


def default_columns(summary: Summary) -> list[str]:
    """The table's columns when none are chosen: the backward pass's too after --train."""
    return [*DEFAULT_SUMMARY_COLUMNS, *(TRAINING_COLUMNS if summary.totals.backward_macs is not None else ())]


def parse_columns(text: str | None) -> list[str] | None:
    """'layer,kernel,macs' -> the keys, checked; the layer name always comes first. None: the default."""
    if text is None:
        return None
    keys = [k.strip().lower() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SUMMARY_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; choose from: {', '.join(SUMMARY_COLUMNS)}")
    return ["layer", *(k for k in keys if k != "layer")]


# The Layer cell of the model's own row (Summary.own): its parameters and the operators its
# forward runs outside every child, so the rows' params and MACs add up to the totals.
OWN_ROW = "(model)"


def visible_layers(summary: Summary, depth: int | None) -> list[LayerRecord]:
    """The model's own row (if it has one), then the records down to ``depth`` (1 = the model's direct children); all for None."""
    own = [summary.own] if summary.own is not None else []
    return own + [layer for layer in summary.layers if depth is None or layer.depth <= depth]


def totals_items(summary: Summary) -> list[tuple[str, str, str]]:
    """(label, text, style) lines under the layer table, in every format."""
    t = summary.totals
    uncounted = ", ".join(f"{u.op} x{u.count}" for u in summary.uncounted) or "none"
    items = [
        ("Params", f"{human_count(t.params)} ({t.params:,}; trainable {t.trainable_params:,})", ""),
        ("MACs", f"{human_count(t.macs)} ({t.macs:,})", ""),
        ("FLOPs", f"{human_count(t.flops)} ({t.flops:,})", ""),
        ("Parameter memory", human_bytes(t.param_bytes), ""),
        ("Activation memory", human_bytes(t.activation_bytes), ""),
        ("Uncounted operators", uncounted, "warn" if summary.uncounted else ""),
    ]
    if summary.receptive_field is not None:
        where = map_sentence(summary.receptive_field_map)
        items.append(("Receptive field", f"{field_sentence(summary.receptive_field)} at {where}", ""))
    if summary.unused_modules:
        items.append(("Not run", ", ".join(summary.unused_modules) + " (parameters counted, cost not)", ""))
    if summary.data_dependent is not None:
        d = summary.data_dependent
        where = f" in {d.layer}" if d.layer else ""
        items.append((
            "Data-dependent",
            f"{d.op}{where} needs real values, so this ran on the CPU with a random input; "
            "shapes and counts after it hold for this input only",
            "warn",
        ))  # fmt: skip
    return items + training_items(summary)


def training_items(summary: Summary) -> list[tuple[str, str, str]]:
    """What a training step costs (summary --train, --fit): the backward pass, the optimizer step, memory."""
    t, items = summary.totals, []
    if t.backward_macs is not None:
        items.append(("Backward MACs", f"{human_count(t.backward_macs)} ({t.backward_macs:,}): the first layer's input gradient is not needed", ""))
        items.append(("Backward FLOPs", f"{human_count(t.backward_flops)} ({t.backward_flops:,})", ""))
    m = t.training_memory
    if m is not None:
        name = "SGD with momentum" if m.optimizer_name == "sgd" else "Adam"
        items.append(("Optimizer step", f"{human_count(t.optimizer_flops)} FLOPs ({name})", ""))
        items.append((
            "Training memory",
            f"{human_bytes(m.peak)} at the peak ({m.peak_phase}); parameters {human_bytes(m.params)}, gradients "
            f"{human_bytes(m.grads)}, optimizer state {human_bytes(m.optimizer)}, saved activations "
            f"{human_bytes(m.saved_activations)} ({human_bytes(m.backward_start)} held as backward starts)",
            "",
        ))  # fmt: skip
    f = summary.fit
    if f is not None:
        # Both peaks are measured; the line is the one the search solved on last, through
        # batches near the answer (the peak grows a little faster than the batch at first).
        if not f.batch_size:
            text = f"not even batch 1, which needs {human_bytes(f.peak)}"
        else:
            # The two differences tell the peaks apart where a rounded size would print them alike.
            after = (
                f"; batch {f.batch_size + 1:,} would need {human_bytes(f.next_peak)}, {human_bytes(f.next_peak - f.budget)} too much"
                if f.next_peak is not None
                else ", the largest batch archscope tries"
            )  # fmt: skip
            text = (
                f"batch {f.batch_size:,} needs {human_bytes(f.peak)}, {human_bytes(f.budget - f.peak)} to spare{after} "
                f"({human_bytes(f.fixed)} + {human_bytes(f.per_sample)} per sample near here)"
            )
        items.append((f"Fits in {human_bytes(f.budget)}", text, "" if f.batch_size else "warn"))
    return items


def _indented(x: LayerRecord, name: str) -> str:
    return OWN_ROW if x.depth == 0 else "  " * (x.depth - 1) + name


def summary_view(
    summary: Summary, depth: int | None = 3, columns: Sequence[str] | None = None, width: int | None = None
) -> View:
    """The header, one row per layer call down to ``depth``, and the totals.

    Where qualified names ("inception3a.branch1.0") would not fit ``width``, the layer column
    shows the tree of their last parts instead.
    """
    keys = list(columns or default_columns(summary))
    shown = visible_layers(summary, depth)
    short_names = False
    if width is not None:
        from archscope.render.writers import natural_width

        full = [[_indented(x, x.name), *(SUMMARY_COLUMNS[k][1](x, summary) for k in keys if k != "layer")] for x in shown]
        short_names = natural_width([SUMMARY_COLUMNS[k][0] for k in keys], full) > width

    def name(x: LayerRecord) -> str:
        return _indented(x, x.name.rsplit(".", 1)[-1] if short_names else x.name)

    rows = [[name(x) if k == "layer" else SUMMARY_COLUMNS[k][1](x, summary) for k in keys] for x in shown]
    table = Table([SUMMARY_COLUMNS[k][0] for k in keys], rows, [_csv_row(x) for x in shown], CSV_SUMMARY_HEADERS,
                  left_out_hint="--columns chooses which to show, and a wider terminal or -f csv shows them all")  # fmt: skip
    subtitle = [summary.source] if summary.source else []
    title = f"{summary.model}  input {shape_text(summary.input_shape)} -> output {shape_text(summary.output_shape)}"
    notes = [Note(UNITS, "dim")]
    depth_note = _depth_sentence(summary, depth)
    if depth_note:
        notes.append(Note(depth_note, "dim"))
    return View(title, subtitle, [table, Pairs(totals_items(summary)), *notes])


def _depth_sentence(summary: Summary, depth: int | None) -> str | None:
    """How to see fewer or more rows: the table's last line when layers nest."""
    deepest = max((x.depth for x in summary.layers), default=0)
    if deepest <= 1:
        return None
    top = sum(1 for x in summary.layers if x.depth == 1)
    shown = len(visible_layers(summary, depth)) - (summary.own is not None)
    if depth is None or depth >= deepest:
        return f"All {shown:,} layer calls, {deepest} levels deep; --depth 1 shows the {top:,} top-level ones."
    every = len(summary.layers)
    fewer = f"--depth 1 shows the {top:,} top-level ones, " if depth > 1 else ""
    return f"{shown:,} of {every:,} layer calls, to depth {depth} of {deepest}; {fewer}--depth {deepest} every one."


# --- list ---------------------------------------------------------------------------------


LIST_CSV = csv_columns("list", ["name", "family", "input_size", "reference_params", "reference_macs", "source"])


def list_view(listing: ZooListing, sources: bool = False) -> View:
    """The zoo, one line per network, families together; ``sources`` adds the paper each follows.

    CSV has every column either way (the exact figures and the source).
    """
    order: dict[str, int] = {}
    for e in listing.entries:
        order.setdefault(e.family, len(order))
    entries = sorted(listing.entries, key=lambda e: order[e.family])  # stable: the zoo's order within a family
    columns = [
        Column("Name"),
        Column("Family", drop=2),
        Column("Input", drop=1),
        Column("Ref. params", numeric=True),
        Column("Ref. MACs", numeric=True),
        *([Column("Source", wrap=True)] if sources else []),
    ]
    rows = [
        [e.name, e.family, shape_text(list(e.input_size)), human_count(e.reference.params), human_count(e.reference.macs),
         *([e.source] if sources else [])]
        for e in entries
    ]  # fmt: skip
    data = [
        [e.name, e.family, shape_text(list(e.input_size)), e.reference.params, int(e.reference.macs), e.source]
        for e in entries
    ]
    table = Table(columns, rows, data, LIST_CSV)
    families = ", ".join(f"{family} {sum(e.family == family for e in entries)}" for family in order)
    notes = [
        Note("Ref.: the published figures each network is held to; 'archscope summary NAME' computes the exact counts.", "dim"),
        *([] if sources else [Note("'archscope list --sources' adds the paper and table each follows.", "dim")]),
    ]
    return View(f"The zoo: {len(entries)} networks ({families})", [], [table, *notes])


# --- compare --------------------------------------------------------------------------------


def compare_view(comparison: Comparison, by_model_rows: bool = False) -> View:
    """Metrics as rows and models as columns (or one row per model), each figure with its ratio to the first."""
    from archscope.render.compare_cells import compare_data, compare_grid, csv_headers

    summaries = comparison.summaries
    headers, rows = compare_grid(comparison, by_model_rows)
    if by_model_rows:
        columns = [Column(headers[0], shrink=True), *(Column(h, numeric=True, wrap=True) for h in headers[1:])]
    else:
        columns = [Column(headers[0]), *(Column(h, numeric=True, wrap=True) for h in headers[1:])]
    notes = [Note(f"Ratios are to {summaries[0].model}. {UNITS}", "dim")]
    notes += [Note(f"{s.model}: uncounted operators " + ", ".join(u.op for u in s.uncounted), "warn") for s in summaries if s.uncounted]
    table = Table(columns, rows, compare_data(comparison), csv_headers(comparison))  # CSV: one row per model, whatever the layout
    return View("Compared: " + ", ".join(s.model for s in summaries), [], [table, *notes])


# --- rf ---------------------------------------------------------------------------------------


# What a range's check compares, as the table says it.
_FACT_LABELS = {"smallest": "smallest size", "largest": "largest size", "stride": "stride per repeat",
                "padding_smallest": "padding of the smallest", "padding_largest": "padding of the largest"}


def rf_view(report: ReceptiveFieldReport) -> View:
    """The stages table, the last map's field and its parts, and (with a check) analytic beside measured."""
    summary, stages, check = report.summary, report.stages, report.check
    columns = [
        Column("Stage", numeric=True),
        Column("Stride", numeric=True),
        Column("Layers", wrap=True, drop=2),
        Column("Largest field at", wrap=True),
        Column("Output shape", wrap=True, drop=1),
        Column("Size", numeric=True),
        Column("Padding", numeric=True),
    ]
    rows = [
        [str(s.index), axes_text(s.stride), f"{s.first_layer} .. {s.last_layer}", s.largest_layer,
         shape_text(s.output_shape), axes_text(s.size), axes_text(s.padding)]
        for s in stages
    ]  # fmt: skip
    rf, where = summary.receptive_field, summary.receptive_field_map
    items = [("Last spatial feature map", field_sentence(rf), ""), ("At", map_sentence(where), "")]
    concatenated = parts_sentence(rf)
    if concatenated:
        items.append(("Concatenated parts", concatenated, ""))
    data = [[s.index, axes_text(s.stride), s.first_layer, s.last_layer, s.largest_layer, shape_text(s.output_shape),
             axes_text(s.size), axes_text(s.padding)] for s in stages]  # fmt: skip
    blocks: list = [Table(columns, rows, data, STAGE_COLUMNS)] if stages else [
        Note("No layer's positions all see one window of the same size: there is no stride stage to show.", "dim")]
    blocks.append(Pairs(items))
    if rf is not None and rf.is_range and stages:
        blocks.append(Note(f"The layers after {stages[-1].last_layer} see windows whose size depends on the "
                           "position (upsampling), so they are in no stride stage.", "dim"))  # fmt: skip
    if where is not None and where.after == "whole_input":
        blocks.append(Note("After it, every output sees the whole input.", "dim"))
    blocks += [Note(f"note: {issue}", "warn") for issue in summary.receptive_field_issues]
    if check is not None:
        checked = "the last spatial map" if check.last_map else (
            "the last layer whose positions see one window (the last map's see the whole input)")
        blocks.append(Pairs([("Checked by gradients", f"{check.layer}, {checked}", "")]))
        ranged = check.positions is not None
        rows = [[f"{check.layer} {_FACT_LABELS.get(name, name) if ranged else name}", axes_text(a), axes_text(m)]
                for name, a, m in check.facts]  # fmt: skip
        if ranged:
            smallest, largest = (axes_text(p) for p in check.positions)
            rows.append(["measured at positions", "", f"{smallest} (smallest), {largest} (largest)"])
        rows.append(["agree", "", "yes" if check.agree else "NO"])
        blocks.append(Table([Column(""), Column("Analytic", wrap=True), Column("Measured by gradients", wrap=True)], rows))
    return View(f"{summary.model}  receptive field, input {shape_text(summary.input_shape)}", [], blocks)


# --- bench --------------------------------------------------------------------------------------


def bench_view(report: Any) -> View:
    from archscope.render.bench_cells import CSV_COLUMNS, HEADERS, busy_note, environment_line, result_cells, result_data

    ranks = {"Runs": 3, "Memory est.": 2, "p10-p90 ms": 1}
    columns = [
        Column(h, numeric=i not in (0,), drop=ranks.get(h), wrap=i == 0) for i, h in enumerate(HEADERS)
    ]
    # A failed row says so in one cell; its message follows the table, where it can wrap.
    rows = [result_cells(r) if r.error is None else [r.model, str(r.batch_size), "error", *[""] * (len(HEADERS) - 3)]
            for r in report.results]  # fmt: skip
    blocks: list = [Table(columns, rows, [result_data(r) for r in report.results], CSV_COLUMNS)]
    blocks += [Note(f"{r.model} batch {r.batch_size}: {r.error}", "warn") for r in report.results if r.error]
    sources = sorted({r.memory_source for r in report.results if r.memory_source})
    if sources:
        blocks.append(Note("Memory peak: " + "; ".join(sources), "dim"))
    blocks.append(Note("Memory est.: parameters + every activation the forward creates; for a training step, the peak "
                       "of 'summary --train' (weights, SGD momentum, saved activations, gradients as backward makes them). "
                       "FLOP/s: the summary's FLOPs (x3 for a training step) / median; % of peak FLOP/s: of the "
                       "calibrated matrix-multiply peak.", "dim"))  # fmt: skip
    blocks += [Note(f"{r.model} batch {r.batch_size}: {r.note}", "warn") for r in report.results if r.note]
    if report.interrupted:
        blocks.append(Note("interrupted: only the rows above finished", "warn"))
    busy = busy_note(report.environment)
    if busy:
        blocks.append(Note(busy, "warn"))
    return View("archscope bench", [environment_line(report)], blocks)


# --- lessons ------------------------------------------------------------------------------


LESSONS_CSV = csv_columns("lessons", ["lesson", "id", "figure", "value"])  # one row per figure of every lesson


def lessons_view(worked: LessonSet) -> View:
    """Each lesson: its title, the claim, the figures side by side, and what they show."""
    blocks: list = []
    for x in worked.lessons:
        blocks.append(Note(f"{x.number}. {x.title}  [{x.id}]", "heading"))
        blocks.append(Note(x.statement, "dim"))
        rows = [[x.label(k), f"{v:,}"] for k, v in x.figures.items()]
        rows += [[x.label(k), f"{v:,.4g}"] for k, v in x.measurements.items()]
        data = [[x.number, x.id, k, v] for k, v in x.figures.items()]
        data += [[x.number, x.id, k, f"{v:.6g}"] for k, v in x.measurements.items()]
        blocks.append(Table([Column("Quantity", wrap=True), Column("Value", numeric=True)], rows, data, LESSONS_CSV))
        for working in x.arithmetic:  # each side worked out in the same notation (lessons.arithmetic)
            blocks.append(Pairs([(step["label"], step["text"], "") for step in working["steps"]]))
        blocks.append(Note(x.finding))
    return View("The classic design comparisons, recomputed", [], blocks)


def lesson_list_view(entries: Sequence[Any]) -> View:
    """``archscope lessons``: what there is to learn, one line each."""
    rows = [[str(e.number), e.id, e.title + (" (measured: takes seconds)" if e.measured else "")] for e in entries]
    table = Table([Column("#", numeric=True), Column("Id"), Column("Lesson", wrap=True)], rows)
    note = Note("Run 'archscope lessons ID' (a number or an id) for one, or 'archscope lessons all'.", "dim")
    return View("The classic design comparisons, recomputed", [], [table, note])
