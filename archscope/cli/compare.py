"""``archscope compare``: networks side by side, as ratios to the first; patterns, budgets and a Pareto chart."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from archscope.input_size import check_batch_size
from archscope.cli.application import APP, app, check_outputs, choices, guarded, output_format, say, show, write
from archscope.cli.options import PNG, ArgOption, BatchSizeOption, DeviceOption, FormatOption, InputSizeOption, OutputOption, picture_option
from archscope.errors import ArchscopeError


Layout = choices("Layout", ("auto", "columns", "rows"))


OPTION_OF = {"params": "--max-params", "macs": "--max-macs", "memory": "--max-memory"}


@app.command(short_help='Networks side by side, as ratios to the first.')
@guarded
def compare(
    models: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="MODEL", help="Two or more models or patterns ('resnet*', 'torchvision:efficientnet_b*', "
                       "file.py:Factory ...); the first is the baseline. With --from: patterns that pick rows."),
    ] = None,
    input_size: InputSizeOption = None,
    batch_size: BatchSizeOption = 1,
    fmt: FormatOption = None,
    output: OutputOption = None,
    layout: Annotated[
        Layout,
        typer.Option(help="columns: one column per model; rows: one row per model; auto: rows past 4 models."),
    ] = Layout.auto,
    arg: ArgOption = None,
    sort: Annotated[
        Optional[str], typer.Option(metavar="KEY", help="Smallest first by params, macs, flops, memory, depth, rf, latency or name.")
    ] = None,
    top: Annotated[Optional[int], typer.Option(metavar="N", help="Only the first N (after the budget and --sort).")] = None,
    max_params: Annotated[Optional[str], typer.Option(metavar="COUNT", help="Keep models with at most this many parameters (30M).")] = None,
    max_macs: Annotated[Optional[str], typer.Option(metavar="COUNT", help="Keep models with at most this many MACs (5G).")] = None,
    max_memory: Annotated[
        Optional[str], typer.Option(metavar="SIZE", help="Keep models whose parameters + activations fit SIZE (2GiB), as --fit reads it.")
    ] = None,
    plot: Annotated[
        Optional[str],
        picture_option("MACs against params (latency against MACs with --bench), the Pareto frontier named, the budget shaded,"),
    ] = None,
    bench: Annotated[
        bool, typer.Option("--bench", help="Time each model within the budget (one at a time per device), as 'bench' does.")
    ] = False,
    device: DeviceOption = "cpu",
    from_file: Annotated[
        Optional[str], typer.Option("--from", metavar="FILE", help="Read the models from a sweep's results (.csv, .jsonl, .md, "
                                    ".parquet) instead of computing them.")
    ] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(metavar="PATTERN", help="Leave out the models this matches.")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", metavar="N", help="Worker processes when there are many models.")] = None,
) -> None:
    """Networks side by side: params, MACs, FLOPs, depth, receptive field and memory, as ratios to the first.

    Example: 'archscope compare googlenet-naive googlenet' shows what GoogLeNet's 1x1
    reductions buy; 'archscope compare 'torchvision:*' --max-params 30M --max-macs 5G
    --sort macs --plot pareto.png' finds what fits a budget; 'archscope lessons' walks
    through the classic comparisons.
    """
    from archscope.models import parse_kwargs
    from archscope.sweep import SweepOptions, expand, is_pattern
    from archscope.sweep import candidates as gather
    from archscope.sweep.select import Budget, check_sort, parse_count

    names = list(models or [])
    chosen = output_format(fmt, output)
    check_outputs(names if from_file is None else [], output=(output, ()), plot=(plot, PNG))
    check_batch_size(batch_size)
    if sort is not None:
        check_sort(sort)
        if sort == "latency" and not bench:
            raise ArchscopeError("--sort latency needs --bench (with --from: a sweep run with --bench)")
    budget = None
    if max_params or max_macs or max_memory:
        from archscope.analysis.training import parse_bytes

        budget = Budget(parse_count(max_params, "--max-params") if max_params else None,
                        parse_count(max_macs, "--max-macs") if max_macs else None,
                        parse_bytes(max_memory) if max_memory else None)  # fmt: skip
    options = SweepOptions(input_size, batch_size, model_kwargs=tuple(parse_kwargs(arg or []).items()))
    failed: list = []
    if from_file is not None:
        candidates = _from_results(from_file, names, exclude or [], bench)
    else:
        if not names:
            raise ArchscopeError("compare needs at least two models, e.g. 'archscope compare googlenet-naive googlenet'")
        patterns = any(is_pattern(n) for n in names) or bool(exclude)
        if patterns:
            names = expand(names, exclude or [])
        elif len(names) < 2:
            raise ArchscopeError("compare needs at least two models, e.g. 'archscope compare googlenet-naive googlenet'")
        if len(names) > gather.HANDFUL:
            candidates, failed = _through_pool(names, options, jobs)
        else:
            candidates = gather.in_process(names, options)
    within = gather.choose(candidates, budget, None, None)
    if bench and from_file is None and within.kept:
        failed += _time(within.kept, options, device)
        if failed and any(c.latency is None for c in within.kept):
            within.kept = [c for c in within.kept if c.latency is not None]
    selection = gather.choose(within.kept, None, sort, top)
    budget_line = _budget_line(len(candidates), within, budget, max_params, max_macs, max_memory) if budget else ""
    if not selection.kept:
        if budget is not None and not within.kept:
            raise ArchscopeError(f"no model is within the budget: {budget_line.partition('; ')[2]}")
        raise ArchscopeError("no model is left to compare")
    if budget is not None:
        say(budget_line)
    if selection.cut:
        say(f"--top {top}: {selection.cut} more within the budget left out" if budget else f"--top {top}: {selection.cut} more left out")

    from archscope.analysis.compare import Comparison

    timed = bench or None
    comparison = Comparison(
        [c.summary for c in selection.kept],
        latencies=[c.latency for c in selection.kept] if timed else None,
        dropped=[(c.model, over) for c, over in within.dropped] if budget is not None else None,
    )
    if plot:
        write(plot, _pareto(candidates, within, budget, bool(timed), (max_params, max_macs, max_memory)), names, PNG,
              "the --plot picture")  # fmt: skip
    from archscope.render.views import compare_view

    by_rows = layout is Layout.rows or (layout is Layout.auto and len(comparison.summaries) > 4)
    show(chosen, lambda: compare_view(comparison, by_rows), output, names if from_file is None else [], record=comparison)
    if failed:
        for row in failed:
            say(f"{row.model} failed: {row.error or 'no timing'}")
        say("1 model failed and is not compared" if len(failed) == 1 else f"{len(failed)} models failed and are not compared")
        raise typer.Exit(1)


def _from_results(path: str, patterns: list[str], exclude: list[str], timed: bool) -> list[Any]:
    """The candidates a sweep's results file holds (each model's latest row), filtered by ``patterns``."""
    import fnmatch

    from archscope.cli.results_file import latest, read_results
    from archscope.sweep import candidates as gather

    _, _, rows, unreadable = read_results(path)
    rows = list(latest(rows).values())
    if unreadable:
        say(f"{path}: {unreadable} unreadable line(s) skipped")

    def matches(model: str, pattern: str) -> bool:
        return fnmatch.fnmatchcase(model.lower(), pattern.lower()) or model.lower() == pattern.lower()

    if patterns:
        rows = [r for r in rows if any(matches(r.model, p) for p in patterns)]
    rows = [r for r in rows if not any(matches(r.model, p) or matches(r.model.rpartition(":")[2], p) for p in exclude)]
    failed = sum(1 for r in rows if not r.ok)
    if failed:
        say(f"{failed} of the {len(rows)} rows in {path} failed and are left out")
    candidates = gather.from_rows(rows)
    if not candidates:
        raise ArchscopeError(f"{path} has no row that worked" + (" and matches " + ", ".join(patterns) if patterns else ""))
    if timed and all(c.latency is None for c in candidates):
        raise ArchscopeError(f"--bench with --from: {path} holds no timings (run the sweep with --bench)")
    return candidates


def _through_pool(names: list[str], options: Any, jobs: Optional[int]) -> tuple[list, list]:
    from archscope.cli.sweep import Progress
    from archscope.sweep import candidates as gather
    from archscope.sweep import make_pool

    pool = make_pool(jobs=jobs, show_worker_output=APP.debug)
    with Progress(len(names), quiet=False, lines=False) as progress:
        return gather.through_pool(pool, names, options, lambda result: progress.row(result.row))


def _time(kept: list, options: Any, device: str) -> list:
    from archscope.cli.sweep import Progress
    from archscope.sweep import BenchOptions, make_pool
    from archscope.sweep import candidates as gather

    bench = BenchOptions(device.strip().lower())
    pool = make_pool(bench=bench, show_worker_output=APP.debug)
    with Progress(len(kept), quiet=False, lines=False) as progress:
        return gather.time_all(pool, kept, options, bench, lambda result: progress.row(result.row))


def _budget_line(total: int, within: Any, budget: Any, *texts: Optional[str]) -> str:
    given = dict(zip(("params", "macs", "memory"), texts))
    if not within.dropped:
        return f"all {total} models are within the budget"
    reasons = ", ".join(f"{n} over {OPTION_OF[k]} {given[k]}" for k, n in within.dropped_by().items())
    return f"kept {len(within.kept)} of {total} models within the budget; dropped {len(within.dropped)} ({reasons})"


def _pareto(candidates: list, within: Any, budget: Any, timed: bool, texts: tuple) -> bytes:
    from archscope.render.pareto_plot import NAMES, ParetoChart, pareto_png
    from archscope.sweep import candidates as gather

    shown = within.kept if timed else candidates  # untimed models have no latency to place
    front = gather.frontier(shown, timed)
    kept = {id(c) for c in within.kept}
    limits = budget.limits() if budget is not None else {}
    given = dict(zip(("params", "macs", "memory"), texts))
    budget_text = ", ".join(f"{OPTION_OF[k]} {given[k]}" for k in limits)
    memory_note = [f"{OPTION_OF['memory']} {given['memory']}: points over it are hollow; it has no axis here"] if "memory" in limits else []
    left_out = len(shown) - len(front.candidates)
    notes = memory_note + ([f"{left_out} models with no {front.x_key} or {front.y_key} are not drawn"] if left_out else [])
    names = [c.model for c in front.candidates]
    prefixes = {n.partition(":")[0] for n in names if ":" in n}
    if len(prefixes) == 1 and all(":" in n for n in names):  # 'torchvision:' on every label says nothing
        names = [n.partition(":")[2] for n in names]
        notes.append(f"every model is {prefixes.pop()}:NAME")
    chart = ParetoChart(
        names=names, xs=front.xs, ys=front.ys, x_key=front.x_key, y_key=front.y_key,
        frontier=front.front, within=[id(c) in kept for c in front.candidates],
        x_limit=limits.get(front.x_key), y_limit=limits.get(front.y_key), budget_text=budget_text,
        title=f"{len(front.candidates)} models: {NAMES[front.y_key]} against {NAMES[front.x_key]}, the Pareto frontier named",
        notes=notes,
    )  # fmt: skip
    return pareto_png(chart)
