"""``compare`` over many models: gather their summaries (through the sweep's pool when there are
more than a handful), time them with ``--bench``, or read them back from a sweep's results;
then budgets, sorting and the Pareto frontier (``select``) choose among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from archscope.sweep.records import SweepRow
from archscope.sweep.select import Budget, Selection, figure, pareto_front, select
from archscope.sweep.task import BenchOptions, SweepOptions, Task, TaskResult

# Up to this many models, compare summarises them in its own process (a worker would only add
# its start-up); more go through the sweep's pool.
HANDFUL = 5


@dataclass
class Candidate:
    """One model compare can show: its summary (without layers, from a pool) and, when timed, its latency."""

    summary: Any
    latency: float | None = None

    @property
    def model(self) -> str:
        return self.summary.model


def value_of(candidate: Candidate, key: str) -> Any:
    """A candidate's figure by name (``select.SORT_KEYS``)."""
    return candidate.latency if key == "latency" else figure(candidate.summary, key)


def from_rows(rows: Sequence[SweepRow]) -> list[Candidate]:
    """Candidates from a sweep's rows that worked (``compare --from``): nothing is computed again."""
    return [Candidate(r.to_summary(), r.latency()) for r in rows if r.ok]


def in_process(specs: Sequence[str], options: SweepOptions) -> list[Candidate]:
    """Each model summarised here, as ``compare`` always has: a failure is the command's error."""
    from archscope.analysis import summarize

    return [
        Candidate(summarize(s, options.input_size, options.batch_size, model_kwargs=dict(options.model_kwargs)))
        for s in specs
    ]


def through_pool(
    pool: Any, specs: Sequence[str], options: SweepOptions, on_result: Callable[[TaskResult], None] | None = None
) -> tuple[list[Candidate], list[SweepRow]]:
    """Each model in a worker: the candidates in the order given, and the rows of the models that failed."""
    from archscope.sweep import run

    tasks = [Task(i, spec, options, keep_summary=True) for i, spec in enumerate(specs)]
    results: dict[int, TaskResult] = {}
    for result in run(pool, tasks):
        results[result.index] = result
        if on_result is not None:
            on_result(result)
    ordered = [results[t.index] for t in tasks if t.index in results]
    kept = [Candidate(r.summary, r.row.latency()) for r in ordered if r.row.ok and r.summary is not None]
    return kept, [r.row for r in ordered if not r.row.ok]


def time_all(
    pool: Any, candidates: Sequence[Candidate], options: SweepOptions, bench: BenchOptions,
    on_result: Callable[[TaskResult], None] | None = None,
) -> list[SweepRow]:
    """Time each candidate as ``bench`` would (one model per device at a time); the rows that failed."""
    from dataclasses import replace

    from archscope.sweep import run

    timed = replace(options, bench=bench)
    tasks = [Task(i, c.model, timed) for i, c in enumerate(candidates)]
    failed = []
    for result in run(pool, tasks):
        candidates[result.index].latency = result.row.latency()
        if not result.row.ok or result.row.latency() is None:
            failed.append(result.row)
        if on_result is not None:
            on_result(result)
    return failed


def choose(
    candidates: Sequence[Candidate], budget: Budget | None, sort: str | None, top: int | None
) -> Selection[Candidate]:
    return select(candidates, budget, sort, top, value_of)


@dataclass
class Frontier:
    """The points of a Pareto chart and which of them are on the frontier."""

    x_key: str
    y_key: str
    candidates: list[Candidate]
    xs: list[float]
    ys: list[float]
    front: list[int]


def frontier(candidates: Sequence[Candidate], timed: bool) -> Frontier:
    """MACs against parameters, or (timed) latency against MACs: every candidate with both figures."""
    x_key, y_key = ("macs", "latency") if timed else ("params", "macs")
    points = [(c, value_of(c, x_key), value_of(c, y_key)) for c in candidates]
    # A log axis has no place for 0 (a parameter-free block) or a missing figure.
    points = [(c, x, y) for c, x, y in points if x and y]
    xs, ys = [float(x) for _, x, _ in points], [float(y) for _, _, y in points]
    return Frontier(x_key, y_key, [c for c, _, _ in points], xs, ys, pareto_front(list(zip(xs, ys))))
