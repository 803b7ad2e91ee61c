"""``archscope explain``: every figure of a layer as its formula, with the layer's numbers in it."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.cli.application import app, check_outputs, guarded, output_format, show
from archscope.cli.options import ArgOption, BatchSizeOption, FormatOption, InputSizeOption, ModelArgument, OutputOption


@app.command(short_help="Every figure of a layer as its formula, with the numbers in it.")
@guarded
def explain(
    model: ModelArgument,
    layers: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="LAYER",
            help="Layer names as 'summary' prints them (features.0, layer1.0, inception3a); a block's name "
            "explains the block as the sum of its parts. Default: each of the model's children, then the model.",
        ),
    ] = None,
    input_size: InputSizeOption = None,
    batch_size: BatchSizeOption = 1,
    depth: Annotated[
        Optional[int],
        typer.Option(
            metavar="N",
            help="Without LAYER: explain every layer down to depth N (1 = the model's children). With LAYER: "
            "also the layers up to N levels inside it.",
        ),
    ] = None,
    train: Annotated[
        bool, typer.Option("--train", help="Analyse a training step, and say what autograd saves for backward, layer by layer.")
    ] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
    arg: ArgOption = None,
) -> None:
    """Each figure of a layer as the papers compute it: the formula, the same formula with the
    layer's numbers in it, and the value, from the very rules that count it.

    For each layer: the output size per axis (⌊(H + 2p − d(k−1) − 1)/s⌋ + 1), the parameters
    (k_h·k_w·(C_in/g)·C_out + C_out), the MACs and FLOPs, the memory of its output (with --train,
    what autograd saves), and the receptive field (r_out = r_in + (k − 1)·d·j_in). A block is
    the table of its parts adding up to its total. Example: archscope explain alexnet features.0
    """
    from archscope.analysis.explain import explain as explain_layers
    from archscope.analysis.input_size import check_batch_size, check_depth
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.explain_view import explain_data_view, explain_view

    if depth is not None:
        check_depth(depth)
    check_batch_size(batch_size)
    chosen = output_format(fmt, output)
    check_outputs([model], output=(output, ()))
    spec = resolve_model(model, parse_kwargs(arg or []))  # the user's file runs once per command
    result = explain_layers(spec, layers or None, depth=depth, input_size=input_size, batch_size=batch_size, train=train)
    # A data format gets every formula as one table's rows; the others, the page a person reads.
    made = explain_data_view if chosen.every_layer else explain_view
    show(chosen, lambda: made(result), output, [model], record=result)
