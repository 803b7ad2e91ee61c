"""``archscope rf``: receptive fields by stride stage, checked by gradients."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.cli.application import app, check_outputs, fail, guarded, output_format, show, stderr, write
from archscope.cli.options import PNG, ArgOption, FormatOption, InputSizeOption, ModelArgument, OutputOption, picture_option
from archscope.errors import ArchscopeError


@app.command(short_help='Receptive fields by stride stage, checked by gradients.')
@guarded
def rf(
    model: ModelArgument,
    input_size: InputSizeOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    plot: Annotated[Optional[str], picture_option("the growth chart (field size against layer, log scale)")] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Also measure the field by gradients through a linearised copy of the network, and compare.",
        ),
    ] = False,
    effective: Annotated[
        Optional[str],
        picture_option(
            "the effective receptive field (Luo et al. 2016: gradient magnitude of the centre output with random "
            "weights) as a heat map"
        ),
    ] = None,
    arg: ArgOption = None,
) -> None:
    """Receptive field at the end of each stride stage, and of the last spatial feature map.

    Computed exactly through the network's real graph (residual adds, concatenations,
    functional calls), per Araujo et al., "Computing Receptive Fields of CNNs" (Distill 2019).
    A concatenated output keeps each branch's field: GoogLeNet's inception 5b sees 587, 651,
    715 and 651 pixels at once.
    """
    from archscope.analysis.rf.field_report import receptive_fields
    from archscope.analysis.rf.stages import growth
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.views import rf_view

    chosen = output_format(fmt, output)
    check_outputs([model], output=(output, ()), plot=(plot, PNG), effective=(effective, PNG))
    spec = resolve_model(model, parse_kwargs(arg or []))  # the user's file runs once per command
    if effective and not verify:
        report = receptive_fields(spec, input_size)
    else:
        with stderr().status("measuring the receptive field by gradients..." if verify else "analysing..."):
            report = receptive_fields(spec, input_size, verify=verify)
    result = report.summary
    if plot:
        from archscope.render.plots import rf_growth_png

        write(plot, rf_growth_png(result, growth(result)), [model], PNG,
              "the --plot picture")  # fmt: skip
    if effective:
        from archscope.analysis.rf.effective import effective_receptive_field
        from archscope.analysis.rf.target import centre_field_box, target_of
        from archscope.render.plots import effective_rf_png

        if isinstance(result.input_shape[0], list):
            raise ArchscopeError("--effective measures models with a single input")
        with stderr().status("computing the effective receptive field..."):
            gradient = effective_receptive_field(spec.real_model(), result)
        target = target_of(result)
        picture = effective_rf_png(result.model, gradient, centre_field_box(target), target.name)
        write(effective, picture, [model], PNG, "the --effective picture")

    show(
        chosen, lambda: rf_view(report), output, [model],
        record=report,
    )  # fmt: skip
    check = report.check
    if check is not None and not check.agree:
        differ = "; ".join(f"{name} {list(m)} by gradients, {list(a)} by analysis" for name, a, m in check.facts if a != m)
        raise fail(f"the measured receptive field of {check.layer} differs from the analytic one: {differ}", 1)
