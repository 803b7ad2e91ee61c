"""``archscope draw``: the architecture as its paper draws it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from archscope.input_size import check_depth
from archscope.cli.application import app, check_outputs, choices, guarded, stderr, write
from archscope.cli.options import ArgOption, ModelArgument, InputSizeOption
from archscope.errors import ArchscopeError
from archscope.text.safety import clean

DRAW_SUFFIXES = (".svg", ".png", ".pdf")


DrawStyle = choices("DrawStyle", ("graph", "layers"))


DrawWeight = choices("DrawWeight", ("macs", "params", "time"))


@app.command()
@guarded
def draw(
    model: ModelArgument,
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="net.svg, net.png or net.pdf: the extension picks the format.")
    ],
    depth: Annotated[
        Optional[int],
        typer.Option(metavar="N", help="How deep to draw (1 = the model's children). Default: every layer; shallower while over 100 boxes."),
    ] = None,
    style: Annotated[
        DrawStyle, typer.Option(help="graph: the dataflow with branches and skips; layers: volumes for a chain (LeNet, VGG).")
    ] = DrawStyle.graph,
    unfold: Annotated[
        bool, typer.Option("--unfold", help="Draw every layer: fold neither conv-BN-ReLU chains nor repeated blocks (xN).")
    ] = False,
    weight: Annotated[
        DrawWeight, typer.Option(help="What shades the boxes (log scale); time runs 'profile' on the CPU first.")
    ] = DrawWeight.macs,
    input_size: InputSizeOption = None,
    arg: ArgOption = None,
) -> None:
    """The architecture as its paper draws it, with each layer's shape, params, MACs and receptive field.

    Parallel branches side by side, residual skips as arcs, conv-BN-ReLU chains and identical
    consecutive blocks folded (ResNet-50's stages read x3, x4, x6, x3). Drawn from the same single
    pass as 'summary'; no graphviz needed.
    """
    from archscope.draw import layer_times, picture, trace
    from archscope.models import parse_kwargs, resolve_model

    suffix = Path(output).suffix.lower()
    if suffix not in DRAW_SUFFIXES:
        raise ArchscopeError(f"cannot tell the picture's format from {clean(output)!r}: name it net.svg, net.png or net.pdf")
    if depth is not None:
        check_depth(depth)  # before anything is built
    check_outputs([model], output=(output, DRAW_SUFFIXES))
    spec = resolve_model(model, parse_kwargs(arg or []))  # the user's file runs once per command
    summary_record, flow = trace(spec, input_size)
    times = None
    if weight is DrawWeight.time and style is DrawStyle.graph:
        with stderr().status("timing each layer on the CPU (profile)..."):
            times = layer_times(spec, summary_record, input_size)
    data = picture(
        summary_record, flow, suffix[1:], style=style.value, depth=depth, unfold=unfold, weight=weight.value,
        times=times,
    )  # fmt: skip
    write(output, data, [model], DRAW_SUFFIXES, "the drawing")
