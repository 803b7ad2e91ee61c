"""``archscope bench``: latency, throughput, memory and achieved FLOP/s."""

from __future__ import annotations

from typing import Annotated, Any, Callable, Optional, Sequence

import typer

from archscope.input_size import check_batch_size
from archscope.cli.application import (
    app, check_outputs, choices, file_text, guarded, output_format, say, show, sources, stderr, write,
)
from archscope.cli.options import PNG, ArgOption, DType, DeviceOption, FormatOption, InputSizeOption, OutputOption, ThreadsOption, picture_option
from archscope.errors import ArchscopeError
from archscope.text.safety import clean


Mode = choices("Mode", ("inference", "train"))


MAX_BATCH_SIZES = 32  # a sweep of more rows per model is a typo or a script gone wrong, and would run for hours


def parse_batch_sizes(text: str) -> list[int]:
    """'1,8,32' -> [1, 8, 32]: at most MAX_BATCH_SIZES different sizes."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    parts = [part for part in text.replace(" ", "").split(",") if part]
    if len(parts) > MAX_BATCH_SIZES:
        raise ArchscopeError(
            f"--batch-size lists {len(parts):,} sizes; a sweep takes at most {MAX_BATCH_SIZES} (e.g. 1,2,4,...,256)"
        )
    huge = next((part for part in parts if len(part.lstrip("+-")) > 18 and part.lstrip("+-").isdigit()), None)
    if huge is not None:  # checked before int(): thousands of digits are slow to convert and to print
        raise ArchscopeError(f"batch size {huge[:12]}... ({len(huge):,} digits) is larger than any analysis can hold")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise ArchscopeError(f"malformed --batch-size {shown!r}: expected numbers separated by commas, e.g. 1,8,32") from None
    if not sizes:
        raise ArchscopeError("--batch-size needs at least one number, e.g. 1 or 1,8,32")
    repeated = next((size for i, size in enumerate(sizes) if size in sizes[:i]), None)
    if repeated is not None:
        raise ArchscopeError(f"--batch-size lists {repeated} twice; give each size once")
    return [check_batch_size(size) for size in sizes]


@app.command(short_help='Latency, throughput, memory and achieved FLOP/s.')
@guarded
def bench(
    models: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="MODEL", help="Zoo names or file.py:Factory ... Default: one network from each family of the zoo."),
    ] = None,
    device: DeviceOption = "cpu",
    batch_size: Annotated[
        str, typer.Option("--batch-size", "-b", metavar="N", help="One batch size or a sweep, e.g. 1,8,32.")
    ] = "1",
    input_size: InputSizeOption = None,
    dtype: Annotated[DType, typer.Option(help="float16 and bfloat16 run under autocast.")] = DType.float32,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory layout for model and input.")] = False,
    compile_model: Annotated[bool, typer.Option("--compile", help="torch.compile the model first.")] = False,
    mode: Annotated[Mode, typer.Option(help="inference, or train: forward + backward + SGD step.")] = Mode.inference,
    warmup: Annotated[int, typer.Option(metavar="N", help="Untimed runs before measuring.")] = 3,
    min_time: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds of timed runs per row (at least 5 runs).")] = 1.0,
    threads: ThreadsOption = None,
    auto_batch: Annotated[
        bool, typer.Option("--auto-batch", help="On out-of-memory, halve the batch until it fits.")
    ] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
    plot: Annotated[Optional[str], picture_option("latency and throughput against batch size")] = None,
    arg: ArgOption = None,
) -> None:
    """Latency (median, p10, p90), throughput, peak vs analytic memory, and achieved vs peak FLOP/s.

    Warm-up first, then repeated timed runs (CUDA timed with events and synchronisation); the
    peak FLOP/s is calibrated once per run with a large matrix multiply of the same dtype.
    Out of memory at a batch size is reported in its row and the sweep goes on. Ctrl-C stops
    cleanly and prints what finished.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from archscope.bench import DEFAULT_MODELS, benchmark
    from archscope.bench.device import resolve_device
    from archscope.bench.runner import check_options
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.views import bench_view

    names = list(models or DEFAULT_MODELS)
    chosen = output_format(fmt, output)
    check_outputs(names, output=(output, ()), plot=(plot, PNG))
    sizes = parse_batch_sizes(batch_size)
    check_options(names, sizes, warmup, min_time, threads)  # before the progress bar starts
    kwargs = parse_kwargs(arg or [])
    resolve_device(device)  # fail on a missing GPU before building anything
    specs = [resolve_model(name, kwargs) for name in names]  # a typo fails now, not after an hour
    console = stderr()
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,  # a log file gets no blank line
    )  # fmt: skip
    with progress:
        task = progress.add_task("calibrating peak FLOP/s", total=None)

        def on_progress(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=f"benchmarking {label}")

        report = benchmark(
            specs, sizes, input_size, device=device, dtype=dtype.value, channels_last=channels_last,
            compile=compile_model, mode=mode.value, warmup=warmup, min_time=min_time, threads=threads,
            auto_batch=auto_batch, on_progress=on_progress,
        )  # fmt: skip

    failed = [r for r in report.results if r.error is not None]
    if report.results and len(failed) == len(report.results) and not report.interrupted:
        # Nothing was measured: no file is written (an earlier result stays) and the exit code says so.
        first = failed[0]
        more = f" ({len(failed) - 1} more failed rows)" if len(failed) > 1 else ""
        raise ArchscopeError(f"every benchmark row failed: {first.model} batch {first.batch_size}: {first.error}{more}")

    def picture() -> bytes:
        from archscope.render.plots import bench_png

        return bench_png(report)

    def view() -> Any:
        return bench_view(report)

    parts = {"record": report}

    def results() -> str:
        return file_text(chosen, view, **parts)

    if not report.interrupted:
        if output is None:
            show(chosen, view, None, **parts)
        else:
            # The results first: a picture that cannot be written must not cost the figures.
            keeping_results(lambda: show(chosen, view, output, names, **parts), chosen, view, parts)
        if plot:
            write(plot, picture(), names, PNG, "the --plot picture")
        return

    # Ctrl-C: the rows that finished are shown, but they replace no file the user already has.
    if output is None:
        show(chosen, view, None, **parts)
    else:
        keeping_results(lambda: keep_partial(output, results, names, (), len(report.results)), chosen, view, parts)
    if plot is not None:
        keep_partial(plot, picture, names, PNG, len(report.results))
    say("interrupted: only the rows shown finished")
    raise typer.Exit(130)


def keeping_results(deliver: Callable[[], None], chosen: Any, view: Callable[[], Any], parts: dict) -> None:
    """Run ``deliver`` (which writes the results to a file); if the file cannot be written after all
    (the disk filled during the run, the folder was made read-only), the results go to standard
    output rather than being lost, and the error says so."""
    try:
        deliver()
    except ArchscopeError as error:
        show(chosen, view, None, **parts)
        raise ArchscopeError(f"{error}; the results are on standard output instead") from None


def keep_partial(
    path: str, content: Callable[[], str | bytes], models: Sequence[str], suffixes: Sequence[str], rows: int
) -> None:
    """After Ctrl-C: a stream (stdout, a device, a FIFO) gets the finished rows; a file is left as it
    was and the rows go to a new file beside it, whose name is said."""
    from archscope.output import check_output, partial_path

    target = check_output(path, protect=sources(models), suffixes=suffixes)
    if not target.replaces_a_file:
        write(path, content(), models, suffixes)
        return
    state = "left as it was" if target.kind == "file" else "not written"
    if rows == 0:
        say(f"{target.shown} {state}: no row finished")
        return
    from archscope.output import write_output

    partial = partial_path(path)
    write_output(partial, content(), protect=sources(models), suffixes=suffixes)
    finished = "the 1 finished row is" if rows == 1 else f"the {rows} finished rows are"
    say(f"{target.shown} {state}; {finished} in {clean(str(partial))}")
