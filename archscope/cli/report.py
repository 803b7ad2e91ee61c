"""``archscope report``: one page with the summary, charts, receptive fields and timings."""

from __future__ import annotations

from typing import Annotated

import typer

from archscope.analysis.input_size import check_batch_size
from archscope.cli.application import app, check_outputs, guarded, stderr, write
from archscope.cli.options import PNG, ArgOption, ModelArgument, BatchSizeOption, InputSizeOption
from archscope.errors import ArchscopeError
from archscope.text.safety import clean

REPORT_SUFFIXES = ("html", "htm", "md", "markdown")


@app.command(short_help='One page: summary, charts, receptive fields, timings.')
@guarded
def report(
    model: ModelArgument,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="report.html or report.md: one self-contained page.")],
    input_size: InputSizeOption = None,
    batch_size: BatchSizeOption = 1,
    depth: Annotated[int, typer.Option(metavar="N", help="How deep the layer table nests.")] = 3,
    with_bench: Annotated[bool, typer.Option("--bench", help="Also benchmark the model on the CPU (a few seconds).")] = False,
    with_profile: Annotated[
        bool, typer.Option("--profile", help="Also profile it layer by layer on the CPU: times against the roofline, with pictures.")
    ] = False,
    arg: ArgOption = None,
) -> None:
    """One page with the summary, per-layer charts, the receptive-field growth and (--bench) timings."""
    from archscope.models import parse_kwargs
    from archscope.render.report import picture_files, report_html, report_markdown, report_pictures
    from archscope.report import build_report

    suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if suffix not in REPORT_SUFFIXES:
        raise ArchscopeError(f"cannot tell the report's format from {clean(output)!r}: name it report.html or report.md")
    html = suffix in ("html", "htm")
    # Markdown links its pictures, written beside it (report.md -> report.layers.png, report.svg).
    beside = picture_files(output) if not html and output != "-" else {}
    check_outputs([model], output=(output, ()), **{
        f"picture_{key}": (path, (".svg",) if key == "drawing" else PNG) for key, path in beside.items()
    })  # fmt: skip
    check_batch_size(batch_size)
    steps = {"analysing": "analysing...", "benchmarking": "benchmarking on the CPU...", "profiling": "profiling on the CPU..."}
    with stderr().status("analysing...") as status:
        result = build_report(
            model, input_size, batch_size, depth=depth, bench=with_bench, profile=with_profile,
            model_kwargs=parse_kwargs(arg or []), on_step=lambda step: status.update(steps[step]),
        )  # fmt: skip
        status.update("drawing...")
        pictures = report_pictures(result)
    if html:
        write(output, report_html(result, pictures), [model])
        return
    page, files = report_markdown(result, output, pictures)
    for path, content in files.items():
        write(path, content, [model], (".svg",) if path.endswith(".svg") else PNG, "a picture of the report")
    write(output, page, [model])
