"""The Python API: ``archscope.sweep.sweep`` gives one row per model, in the order the specs name them."""

from pathlib import Path

from archscope.analysis import summarize
from archscope.sweep import SweepOptions, plan, sweep
from archscope.sweep.records import SweepRow

MODELS = Path(__file__).with_name("models.py")


def test_sweep_returns_a_row_per_model_in_order_with_summarys_figures():
    seen = []
    rows = sweep(["conv3x3-x*", f"{MODELS}:tiny"], jobs=1, model_kwargs=None, on_row=lambda r: seen.append(r.model))
    assert [r.model for r in rows] == ["conv3x3-x3", "conv3x3-x2", f"{MODELS}:tiny"]
    assert sorted(seen) == sorted(r.model for r in rows)
    for row in rows:
        assert (row.params, row.macs) == (summarize(row.model).totals.params, summarize(row.model).totals.macs)


def test_a_plan_skips_the_keys_already_done_and_retries_failures_only_when_asked():
    options = SweepOptions()
    done = {("lenet5", "", "batch=1"): SweepRow("lenet5", "", "batch=1", params=1),
            ("vgg11", "", "batch=1"): SweepRow("vgg11", "", "batch=1", error="boom"),
            ("vgg13", "", "batch=2"): SweepRow("vgg13", "", "batch=2", params=1)}  # fmt: skip
    work = plan(["lenet5", "vgg11", "vgg13"], options, done)
    assert [t.spec for t in work.tasks] == ["vgg13"]  # another batch is another key
    assert [r.model for r in work.skipped] == ["lenet5", "vgg11"] and work.skipped_failed == 1
    again = plan(["lenet5", "vgg11", "vgg13"], options, done, retry_failed=True)
    assert [t.spec for t in again.tasks] == ["vgg11", "vgg13"]


def test_the_options_key_names_what_changes_a_figure():
    assert SweepOptions().key() == "batch=1"
    assert SweepOptions(batch_size=8, fit=2**30, model_kwargs=(("width", 32),)).key() == (
        "batch=8 train optimizer=sgd fit=1073741824 arg width=32")
    assert SweepOptions(input_size=" 3x32X32 ").input_key() == "3x32x32"
