"""Rich tables for the terminal. Only the CLI and this package import rich."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from archscope.analysis.fvcore_counter import FvcoreCount
from archscope.analysis.records import LayerRecord, Summary
from archscope.analysis.rf_stages import Stage
from archscope.render.numbers import human_count, shape_text
from archscope.render.rf_text import axes_text, field_sentence, parts_sentence, rf_cell
from archscope.render.safe import clean
from archscope.render.summary_text import fvcore_rows, totals_rows, visible_layers
from archscope.render.text_table import Column, fixed_width_table, natural_width
from archscope.zoo import ModelEntry

LAYER_COLUMNS = (
    Column("Layer", shrinks=True),
    Column("Type", shrinks=True),
    Column("Output shape", shrinks=True),
    Column("RF", right=True),
    Column("Params", right=True),
    Column("MACs", right=True),
    Column("FLOPs", right=True),
)


def _layer_rows(layers: list[LayerRecord], full_names: bool) -> list[tuple[str, ...]]:
    return [
        (
            "  " * (layer.depth - 1) + (layer.name if full_names else layer.name.rsplit(".", 1)[-1]),
            layer.type,
            shape_text(layer.output_shape),
            rf_cell(layer.receptive_field),
            human_count(layer.params),
            human_count(layer.macs),
            human_count(layer.flops),
        )
        for layer in layers
    ]


def summary_table(summary: Summary, depth: int | None, fvcore: FvcoreCount | None = None, width: int = 160) -> Group:
    """Header line, one row per layer call down to ``depth``, the totals, and fvcore's view if given."""
    # Names and messages below come from the user's model: clean() keeps escape sequences out.
    title = Text.assemble((clean(summary.model), "bold"), f"  input {shape_text(summary.input_shape)}")
    title.append(f" -> output {clean(shape_text(summary.output_shape))}")
    parts: list = [title]
    if summary.source:
        parts.append(Text(clean(summary.source), style="dim"))

    shown = visible_layers(summary, depth)
    rows = _layer_rows(shown, full_names=True)
    if natural_width(LAYER_COLUMNS, rows) > width:
        # Qualified names ("inception3a.branch1.0") would be cut: show the tree of last parts.
        rows = _layer_rows(shown, full_names=False)
    parts += [Text(), fixed_width_table(LAYER_COLUMNS, rows, width), Text()]

    label_width = max(len(label) for label, _ in totals_rows(summary)) + 2
    for label, text in totals_rows(summary):
        style = "yellow" if label == "Uncounted operators" and summary.uncounted else ""
        parts.append(Text.assemble((label.ljust(label_width), "bold"), (clean(text), style)))
    if fvcore is not None:
        fv = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), header_style="bold",
                   title="fvcore's count (one multiply-add = 1)", title_justify="left")
        fv.add_column("Operator", no_wrap=True)
        fv.add_column("Count", overflow="fold")
        for op, text in fvcore_rows(fvcore, summary):
            fv.add_row(clean(op), clean(text))
        parts.append(fv)
    return Group(*parts)


def zoo_table(entries: list[ModelEntry]) -> Table:
    """``archscope list``: the reference figures each network is tested against."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("Name", no_wrap=True)
    table.add_column("Family", no_wrap=True)
    table.add_column("Input", no_wrap=True)
    # The published figures each network is tested against; `summary` computes the exact ones.
    table.add_column("Ref. params", justify="right", no_wrap=True)
    table.add_column("Ref. MACs", justify="right", no_wrap=True)
    table.add_column("Source", overflow="fold", ratio=1)
    for e in entries:
        table.add_row(
            e.name,
            e.family,
            shape_text(list(e.input_size)),
            human_count(e.reference.params),
            human_count(e.reference.macs),
            clean(e.source),
        )
    return table


def rf_table(summary: Summary, stages: list[Stage], width: int, verify_rows: list[tuple[str, str, str]] | None = None) -> Group:
    """``archscope rf``: the field at the end of each stride stage, the final map's field and its parts."""
    parts: list = [
        Text.assemble((clean(summary.model), "bold"), f"  receptive field, input {shape_text(summary.input_shape)}"),
        Text(),
    ]
    rows = [
        (str(s.index), axes_text(s.stride), f"{s.first_layer} .. {s.last_layer}", s.largest_layer,
         shape_text(s.output_shape), axes_text(s.size), axes_text(s.padding))
        for s in stages
    ]  # fmt: skip
    columns = (
        Column("Stage", right=True),
        Column("Stride", right=True),
        Column("Layers", shrinks=True),
        Column("Largest field at", shrinks=True),
        Column("Output shape", shrinks=True),
        Column("Size", right=True),
        Column("Padding", right=True),
    )
    parts += [fixed_width_table(columns, rows, width), Text()]
    parts.append(Text.assemble(("Last spatial feature map  ", "bold"), clean(field_sentence(summary.receptive_field))))
    concatenated = parts_sentence(summary.receptive_field)
    if concatenated:
        parts.append(Text.assemble(("Concatenated parts        ", "bold"), clean(concatenated)))
    parts.append(Text("After it, every output sees the whole input.", style="dim"))
    for issue in summary.receptive_field_issues:
        parts.append(Text(clean(f"note: {issue}"), style="yellow"))
    if verify_rows:
        parts.append(Text())
        verify = [(a, b, c) for a, b, c in verify_rows]
        parts.append(fixed_width_table((Column(""), Column("Analytic"), Column("Measured by gradients")), verify, width))
    return Group(*parts)


def compare_table(summaries: list[Summary], by_model_rows: bool, width: int) -> Group:
    """``archscope compare``: the baseline's figures and each other model's ratio to it."""
    from archscope.render.compare_text import compare_grid

    headers, rows = compare_grid(summaries, by_model_rows)
    columns = [Column(headers[0], shrinks=True), *(Column(h, right=not by_model_rows or i > 0, shrinks=True) for i, h in enumerate(headers[1:]))]
    parts: list = [fixed_width_table(columns, rows, width), Text()]
    parts.append(Text(f"Ratios are to {clean(summaries[0].model)}. MACs count multiply-accumulates (docs/counting.md).", style="dim"))
    for s in summaries:
        if s.uncounted:
            parts.append(Text(clean(f"{s.model}: uncounted operators " + ", ".join(u.op for u in s.uncounted)), style="yellow"))
    return Group(*parts)


def lessons_view(lessons: list, width: int) -> Group:
    """Each lesson: title, the claim, the figures side by side, and what they show."""
    parts: list = []
    for x in lessons:
        parts.append(Text.assemble((f"{x.number}. {x.title}", "bold"), f"  [{x.id}]"))
        parts.append(Text(x.statement, style="dim italic"))
        parts.append(Text())
        rows = [(k, f"{v:,}") for k, v in x.figures.items()] + [(k, f"{v:,.4g}") for k, v in x.measurements.items()]
        parts.append(fixed_width_table((Column("Figure", shrinks=True), Column("Value", right=True)), rows, width))
        parts.append(Text())
        parts.append(Text(x.finding))
        parts.append(Text())
    return Group(*parts)


def bench_table(report, width: int) -> Group:
    """``archscope bench``: one row per model and batch size, after a line on the environment."""
    from archscope.render.bench_text import HEADERS, environment_line, result_cells

    columns = [Column(h, right=i not in (0, 2), shrinks=i == 0) for i, h in enumerate(HEADERS)]
    rows = [result_cells(r) for r in report.results]
    parts: list = [Text(clean(environment_line(report)), style="dim"), Text()]
    parts.append(fixed_width_table(columns, rows, width))
    sources = sorted({r.memory_source for r in report.results if r.memory_source})
    parts += [Text(), Text("Memory peak: " + "; ".join(sources), style="dim")] if sources else []
    parts.append(Text("Memory est.: parameters + every activation the forward creates (x3 parameters when training). "
                      "FLOP/s: the summary's FLOPs (x3 for a training step) / median; % of peak FLOP/s: of the "
                      "calibrated matrix-multiply peak.", style="dim"))
    for r in report.results:
        if r.note:
            parts.append(Text(clean(f"{r.model} batch {r.batch_size}: {r.note}"), style="yellow"))
    if report.interrupted:
        parts.append(Text("interrupted: only the rows above finished", style="yellow"))
    return Group(*parts)
