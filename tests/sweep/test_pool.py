"""The local pool: workers reused from model to model; a model that crashes, hangs or allocates
too much gets an error row, its worker is replaced, and the others finish."""

import os
from pathlib import Path

import pytest

from archscope.analysis import summarize
from archscope.sweep.pool import LocalPool, death_text
from archscope.sweep.task import SweepOptions, Task

MODELS = Path(__file__).with_name("models.py")
TIMEOUT = 8.0
GOOD = ["lenet5", f"{MODELS}:tiny", "conv3x3-x2", "basic-block", "head-gap", "inception-reduced"]
BAD = {"slow": "timed out after 8 s", "crash": "aborted (SIGABRT)", "segfault": "segmentation fault (SIGSEGV)",
       "hog": "out of memory", "raises": "ValueError: bad width"}  # fmt: skip


def _workers_of(parent: int) -> list[int]:
    """Worker processes this process started that are still alive (the worker's argv names its parent)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"archscope.sweep.worker" in argv and str(parent).encode() in argv:
            alive.append(int(entry))
    return alive


@pytest.fixture(scope="module")
def swept():
    specs = [f"{MODELS}:slow", GOOD[0], f"{MODELS}:crash", GOOD[1], f"{MODELS}:segfault", GOOD[2],
             f"{MODELS}:hog", GOOD[3], f"{MODELS}:raises", *GOOD[4:]]  # fmt: skip
    tasks = [Task(i, spec, SweepOptions()) for i, spec in enumerate(specs)]
    with LocalPool(2, timeout=TIMEOUT, memory_limit=2**30) as pool:
        results = list(pool.run(tasks))
    return {r.row.model: r for r in results}, tasks, _workers_of(os.getpid()), results


def test_every_model_gets_exactly_one_row(swept):
    results, tasks, _, _ = swept
    assert sorted(results) == sorted(t.spec for t in tasks)


def test_the_models_that_work_have_the_figures_summary_gives(swept):
    results, _, _, _ = swept
    for spec in GOOD:
        row, s = results[spec].row, summarize(spec)
        assert row.error is None, row.error
        assert (row.params, row.macs, row.flops, row.activation_bytes) == (
            s.totals.params, s.totals.macs, s.totals.flops, s.totals.activation_bytes)
    tiny = results[f"{MODELS}:tiny"].row
    assert (tiny.params, tiny.macs) == (3 * 3 * 3 * 4 + 4, 6 * 6 * 4 * 3 * 3 * 3)  # Conv2d(3, 4, 3) on 8x8


@pytest.mark.parametrize("name", list(BAD))
def test_a_model_that_crashes_hangs_or_allocates_too_much_is_an_error_row(swept, name):
    results, _, _, _ = swept
    row = results[f"{MODELS}:{name}"].row
    assert row.error is not None and BAD[name] in row.error, row.error
    assert row.params is None and row.options == "batch=1"
    if name == "hog":  # the row says which limit it ran into: 2**30 bytes past the worker's start
        assert row.error.endswith("(each worker may take 1 GiB more than it starts with: --memory-limit)")


def test_a_dead_or_stopped_worker_is_replaced_and_live_ones_are_reused(swept):
    results, _, _, in_order = swept
    for name in ("crash", "segfault", "slow"):
        lost = results[f"{MODELS}:{name}"]
        after = in_order[in_order.index(lost) + 1 :]
        assert lost.worker not in {r.worker for r in after}  # no model ran on a worker after it died
    served = [results[spec].worker for spec in GOOD]
    assert len(set(served)) < len(served)  # a worker ran more than one model: torch imported once for them


def test_no_worker_outlives_the_pool(swept):
    assert swept[2] == []


def test_death_texts_name_the_signal():
    assert "SIGSEGV" in death_text(-11) and "out-of-memory killer" in death_text(-9)
    assert "exited (code 3)" in death_text(3)
