"""``archscope report``: one page with the summary, charts, receptive fields and timings."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from archscope.analysis.input_size import check_batch_size
from archscope.cli.application import app, check_outputs, guarded, stderr, write
from archscope.cli.options import PNG, ArgOption, ModelArgument, BatchSizeOption, InputSizeOption
from archscope.errors import ArchscopeError
from archscope.render.formats import FORMATS
from archscope.text.safety import clean

# The page formats a report can be (render.formats): HTML embeds its pictures, Markdown links them.
REPORT_SUFFIXES = tuple(e.lstrip(".") for name in ("html", "markdown") for e in FORMATS[name].extensions)


@app.command(short_help='One page: summary, charts, receptive fields, timings.')
@guarded
def report(
    model: ModelArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE",
            help="report.html: one self-contained page. report.md: a page whose pictures are files beside it "
            "(report.svg, report.layers.png, report.growth.png; report.bench.png, report.roofline.png, "
            "report.time_vs_macs.png with --bench and --profile); a file of those names is replaced only "
            "when the earlier report.md shows it, else the run is refused before it starts.",
        ),
    ],
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
    replaced = check_pictures_beside(output, beside)
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
        write(path, content, [model], (".svg",) if path.endswith(".svg") else PNG, "a picture of the report",
              note=" (replacing the earlier page's picture)" if path in replaced else "")  # fmt: skip
    write(output, page, [model])


def check_pictures_beside(page: str, pictures: dict[str, str]) -> set[str]:
    """Refuse, before the run, a Markdown report whose picture files would replace something the user
    did not ask for; return the ones that replace the earlier page's own pictures.

    A picture file may replace only a regular file that the page being replaced links (an earlier
    ``archscope report -o`` of the same name made it); any other file of that name, and any
    symbolic link (which would send PNG bytes elsewhere), is left alone and the run refused.
    """
    from urllib.parse import quote

    earlier = ""
    if os.path.isfile(page):
        try:
            with open(page, encoding="utf-8", errors="replace") as f:
                earlier = f.read(1_000_000)
        except OSError:
            earlier = ""
    replaced = set()
    for path in pictures.values():
        if not os.path.lexists(path):
            continue
        name = os.path.basename(path)
        if os.path.islink(path):
            why = f"it is a symbolic link (to {clean(os.readlink(path))})"
        elif not os.path.isfile(path):
            why = "it is not a regular file"
        elif f"]({quote(name)})" not in earlier:
            why = f"a file of that name exists that {clean(os.path.basename(page))} does not show"
        else:
            replaced.add(path)
            continue
        raise ArchscopeError(
            f"will not write {clean(path)} beside {clean(page)}: {why}; move it, or name the report "
            f"otherwise ({_free_name(page, pictures)} has no such files)"
        )
    return replaced


def _free_name(page: str, pictures: dict[str, str]) -> str:
    """report-2.md (or -3, ...): a page name whose picture names no file has."""
    from archscope.render.report import picture_files

    stem, suffix = os.path.splitext(page)
    for i in range(2, 1000):
        candidate = f"{stem}-{i}{suffix}"
        if not any(os.path.lexists(p) for p in [candidate, *picture_files(candidate).values()]):
            return clean(candidate)
    return "another name"
