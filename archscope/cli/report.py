"""``archscope report``: one page with the summary, charts, receptive fields and timings."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.cli.application import app, check_outputs, guarded, stderr, write
from archscope.cli.options import PNG, ArgOption, ModelArgument, check_batch, largest_side
from archscope.errors import ArchscopeError
from archscope.render.safe import clean

REPORT_SUFFIXES = ("html", "htm", "md", "markdown")


@app.command(short_help='One page: summary, charts, receptive fields, timings.')
@guarded
def report(
    model: ModelArgument,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="report.html or report.md: one self-contained page.")],
    input_size: Annotated[
        Optional[str], typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N. Default: the network's own.")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")] = 1,
    depth: Annotated[int, typer.Option(metavar="N", help="How deep the layer table nests.")] = 3,
    with_bench: Annotated[bool, typer.Option("--bench", help="Also benchmark the model on the CPU (a few seconds).")] = False,
    with_profile: Annotated[
        bool, typer.Option("--profile", help="Also profile it layer by layer on the CPU: times against the roofline, with pictures.")
    ] = False,
    arg: ArgOption = None,
) -> None:
    """One page with the summary, per-layer charts, the receptive-field growth and (--bench) timings."""
    from archscope.analysis.rf_stages import growth, stages
    from archscope.draw import picture, trace
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.plots import bench_png, layers_png, rf_growth_png
    from archscope.render.report import report_html, report_markdown

    suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if suffix not in REPORT_SUFFIXES:
        raise ArchscopeError(f"cannot tell the report's format from {clean(output)!r}: name it report.html or report.md")
    if depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    html = suffix in ("html", "htm")
    from archscope.render.report import picture_files

    # Markdown links its pictures, written beside it (report.md -> report.layers.png, report.svg).
    beside = picture_files(output) if not html and output != "-" else {}
    check_outputs([model], output=(output, ()), **{
        f"picture_{key}": (path, (".svg",) if key == "drawing" else PNG) for key, path in beside.items()
    })  # fmt: skip
    check_batch(batch_size)
    kwargs = parse_kwargs(arg or [])
    with stderr().status("analysing..."):
        spec = resolve_model(model, kwargs)  # the user's file runs once per command
        result, flow = trace(spec, input_size, batch_size)  # the drawing comes from the same pass
        stage_list = stages(result)
        pictures: dict[str, bytes | str] = {"drawing": picture(result, flow, "svg"), "layers": layers_png(result, depth)}
        if stage_list:
            pictures["growth"] = rf_growth_png(result.model, growth(result), largest_side(result.input_shape))
    bench_report = None
    if with_bench:
        from archscope.bench import benchmark

        with stderr().status("benchmarking on the CPU..."):
            bench_report = benchmark([spec], [batch_size], input_size)
        pictures["bench"] = bench_png(bench_report)
    profile_report = None
    if with_profile:
        from archscope.bench.profile import profile as run_profile
        from archscope.render.profile_plots import roofline_png, time_vs_macs_png

        with stderr().status("profiling on the CPU..."):
            profile_report = run_profile(spec, input_size, batch_size=batch_size, depth=min(depth, 2))
        pictures["roofline"], pictures["time_vs_macs"] = roofline_png(profile_report), time_vs_macs_png(profile_report)
    if html:
        write(output, report_html(result, stage_list, pictures, bench_report, depth, profile=profile_report), [model])
        return
    page, files = report_markdown(result, stage_list, pictures, output, bench_report, depth, profile=profile_report)
    for path, content in files.items():
        write(path, content, [model], (".svg",) if path.endswith(".svg") else PNG, "a picture of the report")
    write(output, page, [model])
