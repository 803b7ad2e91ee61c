"""``archscope compare``: networks side by side, as ratios to the first."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from archscope.analysis.input_size import check_batch_size
from archscope.cli.application import app, check_outputs, guarded, output_format, show
from archscope.cli.options import ArgOption, FormatOption, OutputOption, BatchSizeOption, InputSizeOption


class Layout(str, Enum):
    auto = "auto"
    columns = "columns"
    rows = "rows"


@app.command(short_help='Networks side by side, as ratios to the first.')
@guarded
def compare(
    models: Annotated[
        list[str], typer.Argument(metavar="MODEL", help="Two or more models (zoo names or file.py:Factory ...); the first is the baseline.")
    ],
    input_size: InputSizeOption = None,
    batch_size: BatchSizeOption = 1,
    fmt: FormatOption = None,
    output: OutputOption = None,
    layout: Annotated[
        Layout,
        typer.Option(help="columns: one column per model; rows: one row per model; auto: rows past 4 models."),
    ] = Layout.auto,
    arg: ArgOption = None,
) -> None:
    """Networks side by side: params, MACs, FLOPs, depth, receptive field and memory, as ratios to the first.

    Example: 'archscope compare googlenet-naive googlenet' shows what GoogLeNet's 1x1
    reductions buy; 'archscope lessons' walks through the classic comparisons.
    """
    from archscope.analysis.compare import compare as compare_models
    from archscope.render.views import compare_view

    from archscope.models import parse_kwargs

    chosen = output_format(fmt, output)
    check_outputs(models, output=(output, ()))
    check_batch_size(batch_size)
    comparison = compare_models(models, input_size, batch_size, model_kwargs=parse_kwargs(arg or []))
    by_rows = layout is Layout.rows or (layout is Layout.auto and len(comparison.summaries) > 4)
    show(
        chosen, lambda: compare_view(comparison, by_rows), output, models,
        record=comparison,
    )  # fmt: skip
