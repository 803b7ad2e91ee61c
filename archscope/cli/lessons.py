"""``archscope lessons``: the classic design comparisons, recomputed."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.cli.application import app, check_outputs, guarded, output_format, show, stderr
from archscope.cli.options import FormatOption, OutputOption


@app.command(short_help='The classic design comparisons, recomputed.')
@guarded
def lessons(
    lesson_id: Annotated[
        Optional[str],
        typer.Argument(
            metavar="ID", help="A lesson number or id, e.g. 3 or stacked-3x3, or all. Without one: the list."
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """The classic design comparisons, recomputed: 1x1 reductions, stacked 3x3s, GAP heads, bottlenecks, ...

    Each lesson states the claim, compares zoo entries with the same engine as 'summary',
    and says what the figures show. Lesson 8 measures gradients on real weights, lesson 9 times two inception modules on the CPU (seconds each).
    """
    from archscope.lessons import LESSONS, work_through
    from archscope.render.views import lesson_list_view, lessons_view

    chosen = output_format(fmt, output)
    check_outputs([], output=(output, ()))
    if lesson_id is None and not chosen.every_layer:
        show(chosen, lambda: lesson_list_view(LESSONS), output)  # the list; each lesson on request
        return
    every = lesson_id is None or lesson_id.strip().lower() == "all"
    with stderr().status("") as status:
        worked = work_through(
            None if every else [lesson_id],
            lambda entry: status.update(f"working through lesson {entry.number} of {len(LESSONS)}..."),
        )
    show(chosen, lambda: lessons_view(worked), output, record=worked)
