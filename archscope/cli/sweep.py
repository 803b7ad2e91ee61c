"""``archscope sweep``: many models, one row each, in worker processes (or on a Ray cluster), resumable."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Optional, Sequence

import typer

from archscope.bench.dtypes import RUN_DTYPES
from archscope.cli.application import APP, app, choices, guarded, say, stderr, stdout
from archscope.cli.options import ArgOption, DeviceOption, FitOption, InputSizeOption, OptimizerOption
from archscope.errors import ArchscopeError

SweepFormat = choices("SweepFormat", ("table", "csv", "jsonl", "markdown", "parquet"))


def parse_dtypes(text: str) -> tuple[str, ...]:
    """'float32,bfloat16' -> ('float32', 'bfloat16')."""
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [n for n in names if n not in RUN_DTYPES]
    if not names or unknown:
        raise ArchscopeError(f"--dtype takes {', '.join(RUN_DTYPES)} (comma-separated), not {text!r}")
    return names


def sweep_options(
    input_size: Optional[str], batch_sizes: list[int], train: bool, optimizer: str, fit: Optional[str],
    arg: Sequence[str], bench: bool, device: str, dtypes: str, warmup: int, min_time: float,
) -> Any:
    """The options every task of the sweep shares, checked (a bad one is one line, exit 2)."""
    from archscope.models import parse_kwargs
    from archscope.sweep import BenchOptions, SweepOptions

    budget = None
    if fit is not None or train:
        from archscope.analysis.training import check_optimizer, parse_bytes

        check_optimizer(optimizer)
        budget = parse_bytes(fit) if fit is not None else None
    dtype_names = parse_dtypes(dtypes)  # checked even without --bench: a typo is said, not ignored
    bench_options = None
    if bench:
        from archscope.bench.runner import check_options

        check_options(["lenet5"], batch_sizes, warmup, min_time, None)
        bench_options = BenchOptions(device.strip().lower(), tuple(batch_sizes), dtype_names, "inference", warmup, min_time)
    return SweepOptions(input_size, batch_sizes[0], train, optimizer, budget, tuple(parse_kwargs(list(arg)).items()), bench_options)


def output_format(output: Optional[str], fmt: Optional[SweepFormat]) -> str:
    """The results format: ``--format``, else the output's extension, else a table on standard output."""
    from archscope.cli.results_file import format_of

    named = format_of(output) if output not in (None, "-") else None
    if fmt is not None:
        if named is not None and named != fmt.value:
            raise ArchscopeError(f"--format {fmt.value} contradicts the name {output} (a {named} file); drop one of them")
        chosen = fmt.value
    elif output in (None, "-"):
        chosen = "table"
    elif named is None:
        raise ArchscopeError(f"cannot tell the format of {output}: name a .csv, .jsonl, .md or .parquet file, or give --format")
    else:
        chosen = named
    if chosen == "table" and output not in (None, "-"):
        raise ArchscopeError("--format table is for the terminal; a file takes csv, jsonl, markdown or parquet")
    if chosen == "parquet" and output in (None, "-"):
        raise ArchscopeError("Parquet is a file format: give -o results.parquet")
    return chosen


class Progress:
    """What the user sees while the sweep runs: a bar on a terminal, a line per model in a log."""

    def __init__(self, total: int, quiet: bool, lines: bool = True) -> None:
        self.total, self.quiet, self.lines = total, quiet, lines
        self.done = self.failed = 0
        self.console = stderr()
        self.bar: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal and self.total:
            from rich.progress import BarColumn, Progress as Bar, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Bar(
                TextColumn("sweep"), BarColumn(), TextColumn("{task.fields[counts]}"), TextColumn("ETA"),
                TimeRemainingColumn(), TimeElapsedColumn(), console=self.console, transient=True,
            )  # fmt: skip
            self.bar.__enter__()
            self.task = self.bar.add_task("sweep", total=self.total, counts=self._counts())
        return self

    def _counts(self) -> str:
        return f"{self.done} done, {self.failed} failed, {self.total - self.done} to go"

    def row(self, row: Any) -> None:
        from archscope.text.numbers import human_count
        from archscope.text.safety import clean

        self.done += 1
        self.failed += row.error is not None
        if self.quiet:
            return
        what = f"failed: {row.error}" if row.error else f"{human_count(row.macs)} MACs, {human_count(row.params)} params"
        seconds = f" ({row.seconds:.1f} s)" if row.seconds is not None else ""
        line = f"[{self.done:>{len(str(self.total))}}/{self.total}] {row.model}: {what}{seconds}"
        if self.bar is not None:
            if row.error:
                self.bar.console.print(clean(line), markup=False, highlight=False, soft_wrap=True)
            self.bar.update(self.task, completed=self.done, counts=self._counts())
        elif self.lines:
            say(line)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _models(n: int) -> str:
    return f"{n} model" if n == 1 else f"{n} models"


@app.command(short_help="Many models, one row each: a results file that resumes.")
@guarded
def sweep(
    specs: Annotated[
        list[str],
        typer.Argument(metavar="SPEC", help="Models or patterns: 'vgg*' (the zoo), 'torchvision:*', 'torchvision:resnet*', "
                       "'timm:convnext_*', nets/*.py:build, file.py:Net, package.module:build."),
    ],
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", metavar="FILE",
                                    help="Results file: .csv, .jsonl, .md or .parquet; rows are added as models finish, and "
                                    "running the same command again skips the rows already there. '-' or none: standard output."),
    ] = None,
    fmt: Annotated[
        Optional[SweepFormat], typer.Option("--format", "-f", help="Default: the output's extension; table on standard output.")
    ] = None,
    exclude: Annotated[
        Optional[list[str]], typer.Option(metavar="PATTERN", help="Leave out the models this matches (e.g. '*_fpn*'); repeatable.")
    ] = None,
    input_size: InputSizeOption = None,
    batch_size: Annotated[
        str, typer.Option("--batch-size", "-b", metavar="N", help="The batch counted (the first), and with --bench each one timed: 1,8,32.")
    ] = "1",
    arg: ArgOption = None,
    train: Annotated[bool, typer.Option("--train", help="Add a training step's backward MACs and peak memory.")] = False,
    optimizer: OptimizerOption = "sgd",
    fit: FitOption = None,
    bench: Annotated[
        bool, typer.Option("--bench", help="Time each model as 'archscope bench' does: latency p10/median/p90 and throughput.")
    ] = False,
    device: DeviceOption = "cpu",
    dtype: Annotated[str, typer.Option(metavar="LIST", help="With --bench: float32, float16, bfloat16, comma-separated.")] = "float32",
    warmup: Annotated[int, typer.Option(metavar="N", help="With --bench: untimed runs first.")] = 3,
    min_time: Annotated[float, typer.Option(metavar="SECONDS", help="With --bench: seconds of timed runs per row.")] = 1.0,
    jobs: Annotated[
        Optional[int], typer.Option("--jobs", "-j", metavar="N",
                                    help="Models at a time. Default: one per CPU; with --bench one per device, never more."),
    ] = None,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="A model running longer gets an error row.")] = 600.0,
    memory_limit: Annotated[
        Optional[str], typer.Option(metavar="SIZE", help="A model allocating more than SIZE (4GiB) gets an error row.")
    ] = None,
    ray: Annotated[
        Optional[str], typer.Option(metavar="ADDRESS", help="Run on Ray: local (a Ray on this machine), auto (RAY_ADDRESS) "
                                    "or HOST:PORT. Needs pip install 'archscope[cluster]'."),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start the results file over instead of resuming it.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Run the models whose rows failed again.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Many models through the same analysis as 'summary' (and 'bench'), one row per model.

    Each model runs in a worker process: one that raises, crashes, runs out of memory or
    past --timeout gets a row with its error, and the rest go on. Rows are written as they
    finish; an interrupted sweep resumes where it stopped when run again. Exit code 0 when
    every row worked, 1 when some failed, 2 for a bad input.

    Example: archscope sweep 'torchvision:*' -o tv.csv --jobs 2
    """
    from archscope.cli.application import sources
    from archscope.cli.bench import parse_batch_sizes
    from archscope.cli.results_file import ResultsFile, StdoutRows, latest
    from archscope.sweep import expand, is_pattern, make_pool, plan, run
    from archscope.sweep.records import columns_for

    if ray is not None:
        from archscope.sweep.ray_pool import _ray

        _ray(local=ray == "local")  # without Ray: one line saying what to install, before anything else
    chosen = output_format(output, fmt)
    limit = None
    if memory_limit is not None:
        from archscope.analysis.training import parse_bytes

        limit = parse_bytes(memory_limit)
    sizes = parse_batch_sizes(batch_size)
    pool = None
    resuming = output not in (None, "-") and not fresh and os.path.exists(output)
    if not bench and ray is None and not resuming:
        # The workers import torch while this process imports it to expand the specs (on a
        # resumed run, how many are needed is known only once the file is read).
        pool = make_pool(jobs=jobs, timeout=timeout, memory_limit=limit, show_worker_output=APP.debug)
        pool.start(pool.jobs if any(is_pattern(s) for s in specs) else len(set(specs)))
    try:
        options = sweep_options(input_size, sizes, train, optimizer, fit, arg or [], bench, device, dtype, warmup, min_time)
        names = expand(specs, exclude or [])
        columns = columns_for(options.trains, options.fit is not None, options.bench.configurations() if options.bench else [])
        target: Any = None
        if chosen != "table":
            target = ResultsFile(output, chosen, columns, sources(names)) if output not in (None, "-") else StdoutRows(chosen, columns)
        if isinstance(target, ResultsFile) and not target.resumable and (fresh or retry_failed):
            raise ArchscopeError(f"{target.shown} is a stream: there is nothing to start over or retry")
        if pool is None:
            pool = make_pool(jobs=jobs, timeout=timeout, memory_limit=limit, bench=options.bench, ray=ray,
                             show_worker_output=APP.debug)  # fmt: skip
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    done: dict = {}
    try:
        if isinstance(target, ResultsFile):
            target.open(fresh=fresh)
            done = latest(target.rows)
            if target.unreadable:
                say(f"{target.shown}: {target.unreadable} unreadable line(s) left as they are (a run cut off mid-line?)")
        elif target is not None:
            target.open()
        work = plan(names, options, done, retry_failed)
        if work.skipped:
            failed = f" ({work.skipped_failed} failed; --retry-failed runs them again)" if work.skipped_failed and not retry_failed else ""
            say(f"skipped {len(work.skipped)} of {len(names)} models already in {target.shown}{failed}")
        rows = {}
        with Progress(len(work.tasks), quiet) as progress:
            for result in run(pool, work.tasks):
                if target is not None:
                    target.append(result.row)
                rows[result.index] = result.row
                progress.row(result.row)
    except KeyboardInterrupt:
        if isinstance(target, ResultsFile):
            target.close()
            say(f"interrupted: the finished rows are in {target.shown}; run the same command again to go on")
        raise typer.Exit(130) from None
    finally:
        if target is not None:
            target.close()
        pool.close()

    ordered = {**{r.model: r for r in work.skipped}, **{t.spec: rows[t.index] for t in work.tasks if t.index in rows}}
    all_rows = [ordered[name] for name in names if name in ordered]
    if chosen == "table":
        from archscope.render.sweep_rows import sweep_view
        from archscope.render.writers import terminal

        stdout().print(terminal(sweep_view(all_rows), APP.terminal_width()), soft_wrap=True)
    failed = sum(1 for r in all_rows if r.error)
    where = f"; rows in {target.shown}" if isinstance(target, ResultsFile) else ""
    if failed:
        say(f"{failed} of {_models(len(all_rows))} failed (see their error column){where}")
        raise typer.Exit(1)
    if not quiet:
        say(f"{_models(len(all_rows))}, none failed{where}")
