"""``archscope summary``: every layer's shape, params, MACs, FLOPs and receptive field."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from archscope.input_size import check_batch_size, check_depth
from archscope.cli.application import APP, app, check_outputs, choices, guarded, output_format, show, stderr, write
from archscope.cli.options import (
    PNG, ArgOption, BatchSizeOption, FitOption, FormatOption, InputSizeOption, ModelArgument, OptimizerOption, OutputOption,
    picture_option,
)
from archscope.errors import ArchscopeError


Counter = choices("Counter", ("archscope", "fvcore"))


@app.command(short_help="Every layer's shape, params, MACs, FLOPs and receptive field.")
@guarded
def summary(
    model: ModelArgument,
    input_size: InputSizeOption = None,
    batch_size: BatchSizeOption = 1,
    depth: Annotated[
        Optional[int],
        typer.Option(metavar="N", help="How deep the layer table nests (1 = the model's children). Default: 3 for table, markdown and html; all for json, csv and tsv."),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    counter: Annotated[
        Counter,
        typer.Option(
            help="archscope counts on the meta device (no weights). fvcore also builds the real network on the CPU "
            "and adds fvcore's per-operator counts."
        ),
    ] = Counter.archscope,
    train: Annotated[
        bool,
        typer.Option(
            "--train",
            help="Analyse a training step: the training-mode graph (auxiliary classifiers run, batch norm computes "
            "statistics), the backward pass per layer, the optimizer step and the training memory.",
        ),
    ] = False,
    optimizer: OptimizerOption = "sgd",
    fit: FitOption = None,
    arg: ArgOption = None,
    plot: Annotated[Optional[str], picture_option("a per-layer chart of parameters and MACs")] = None,
    columns: Annotated[
        Optional[str],
        typer.Option(
            metavar="LIST",
            help="The table's columns, comma-separated, from: layer, type, input, output, kernel, rf, params, "
            "params%, macs, macs%, flops, bwd-macs, bwd-flops (the backward pass, with --train) "
            "(e.g. layer,kernel,macs). Default: all but input and kernel; bwd-* with --train only."
        ),
    ] = None,
) -> None:
    """Every layer's output shape, parameters, MACs and FLOPs, then the totals and memory.

    Runs on the meta device: no weights are allocated and nothing is computed, so even
    VGG-19 at 512x512 takes about as long as importing torch.
    """
    from archscope.analysis import summarize
    from archscope.render.summary_formats import summary_document
    from archscope.render.views import parse_columns, summary_view

    chosen = output_format(fmt, output)
    try:
        keys = parse_columns(columns)
    except ValueError as error:
        raise ArchscopeError(str(error)) from None
    if depth is not None:
        check_depth(depth)
    shown_depth = depth if depth is not None or chosen.every_layer else 3
    from archscope.models import parse_kwargs, resolve_model

    check_outputs([model], output=(output, ()), plot=(plot, PNG))
    check_batch_size(batch_size)
    kwargs = parse_kwargs(arg or [])
    budget = None
    if fit is not None:
        from archscope.analysis.training import check_optimizer, parse_bytes

        budget, train = parse_bytes(fit), True
        check_optimizer(optimizer)
    needs_train = [k for k in keys or () if k.startswith("bwd-")]
    if needs_train and not train:
        raise ArchscopeError(f"column {needs_train[0]} is the backward pass: add --train (or --fit)")
    spec = resolve_model(model, kwargs)  # the user's file runs once per command
    result = summarize(spec, input_size, batch_size, train=train, optimizer=optimizer)
    if budget is not None:
        from archscope.analysis.summary import fit_batch

        with stderr().status("finding the largest batch that fits..."):
            result.fit = fit_batch(spec, budget, input_size, optimizer=optimizer)
    if plot:
        from archscope.render.plots import layers_png

        write(plot, layers_png(result, depth), [model], PNG, "the --plot picture")

    fv = None
    if counter is Counter.fvcore:
        from archscope.analysis.fvcore_counter import fvcore_count

        with stderr().status("building the real network and tracing it with fvcore..."):
            fv = fvcore_count(spec.real_model(), result.input_shape)

    def view() -> Any:
        from archscope.render.summary_formats import fvcore_table

        made = summary_view(result, shown_depth, keys, APP.terminal_width() if output is None else None)
        if fv is not None:
            made.blocks.append(fvcore_table(fv, result))
        return made

    show(
        chosen, view, output, [model],
        document=lambda: summary_document(result, shown_depth, extra={"fvcore": fv.to_dict()} if fv else None),
    )  # fmt: skip
