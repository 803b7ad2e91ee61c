"""Rich tables for the terminal. Only the CLI and this package import rich."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from archscope.analysis.fvcore_counter import FvcoreCount
from archscope.analysis.records import LayerRecord, Summary
from archscope.render.numbers import human_count, shape_text
from archscope.render.summary_text import fvcore_rows, totals_rows, visible_layers
from archscope.render.text_table import Column, fixed_width_table, natural_width
from archscope.zoo import ModelEntry

LAYER_COLUMNS = (
    Column("Layer", shrinks=True),
    Column("Type", shrinks=True),
    Column("Output shape", shrinks=True),
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
            human_count(layer.params),
            human_count(layer.macs),
            human_count(layer.flops),
        )
        for layer in layers
    ]


def summary_table(summary: Summary, depth: int | None, fvcore: FvcoreCount | None = None, width: int = 160) -> Group:
    """Header line, one row per layer call down to ``depth``, the totals, and fvcore's view if given."""
    title = Text.assemble((summary.model, "bold"), f"  input {shape_text(summary.input_shape)}")
    title.append(f" -> output {shape_text(summary.output_shape)}")
    parts: list = [title]
    if summary.source:
        parts.append(Text(summary.source, style="dim"))

    shown = visible_layers(summary, depth)
    rows = _layer_rows(shown, full_names=True)
    if natural_width(LAYER_COLUMNS, rows) > width:
        # Qualified names ("inception3a.branch1.0") would be cut: show the tree of last parts.
        rows = _layer_rows(shown, full_names=False)
    parts += [Text(), fixed_width_table(LAYER_COLUMNS, rows, width), Text()]

    label_width = max(len(label) for label, _ in totals_rows(summary)) + 2
    for label, text in totals_rows(summary):
        style = "yellow" if label == "Uncounted operators" and summary.uncounted else ""
        parts.append(Text.assemble((label.ljust(label_width), "bold"), (text, style)))
    if fvcore is not None:
        fv = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), header_style="bold",
                   title="fvcore's count (one multiply-add = 1)", title_justify="left")
        fv.add_column("Operator", no_wrap=True)
        fv.add_column("Count", overflow="fold")
        for op, text in fvcore_rows(fvcore, summary):
            fv.add_row(op, text)
        parts.append(fv)
    return Group(*parts)


def zoo_table(entries: list[ModelEntry]) -> Table:
    """``archscope list``: the reference figures each network is tested against."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("Name", no_wrap=True)
    table.add_column("Family", no_wrap=True)
    table.add_column("Input", no_wrap=True)
    table.add_column("Params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("Source", overflow="fold", ratio=1)
    for e in entries:
        table.add_row(
            e.name,
            e.family,
            shape_text(list(e.input_size)),
            human_count(e.reference.params),
            human_count(e.reference.macs),
            e.source,
        )
    return table
