"""Sweep rows written as CSV, JSON Lines, Markdown and Parquet read back as the same rows."""

import importlib.util

import pytest

from archscope.render.sweep_rows import FORMATS, cells, parquet_bytes, read_parquet, sweep_view
from archscope.render.writers import plain_text
from archscope.sweep.records import BenchFigures, SweepRow, columns_for


def rows():
    full = SweepRow(
        "torchvision:raft_small", "", "batch=1 train optimizer=sgd bench device=cpu batch=1,8 dtype=float32",
        source="torchvision.models", input_shape=[[1, 3, 224, 224], [1, 3, 224, 224]], output_shape=[1, 2, 224, 224],
        params=990_162, trainable_params=990_162, macs=8_789_129_216, flops=17_683_157_633, param_bytes=3_960_648,
        activation_bytes=278_395_904, weighted_depth=70, receptive_field="unknown",
        uncounted=[("aten::grid_sampler_2d", 12), ("aten::foo", 1)], data_dependent="aten::nonzero in rpn",
        backward_macs=17_000_000_000, training_memory=900_000_000,
        bench=[BenchFigures(1, "float32", 45.25, 44.0, 46.5, 22.1), BenchFigures(8, "float32", error="out of memory at batch 8 on cpu")],
        seconds=1.5,
    )  # fmt: skip
    window = SweepRow("lenet5", "32", "batch=1 train optimizer=sgd bench device=cpu batch=1,8 dtype=float32",
                      input_shape=[1, 1, 32, 32], output_shape=[1, 10], params=61_706, macs=416_520,
                      receptive_field=16, receptive_field_stride=4, receptive_field_padding=0)  # fmt: skip
    # Text a spreadsheet would run, a Markdown cell break, HTML: each comes back as it was.
    hostile = SweepRow("=cmd|' /C calc'!A0 <b>", "", "batch=1 train optimizer=sgd bench device=cpu batch=1,8 dtype=float32",
                       error="ValueError: a | b `c` [d] *e* & <f>")  # fmt: skip
    return [full, window, hostile]


COLUMNS = columns_for(train=True, fit=False, bench=[(1, "float32"), (8, "float32")])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_line_format_reads_back_the_rows_it_wrote(fmt):
    text = FORMATS[fmt].header(COLUMNS) + "".join(FORMATS[fmt].line(r, COLUMNS) for r in rows())
    assert text.endswith("\n") and text.count("\n") == len(rows()) + {"csv": 1, "jsonl": 0, "markdown": 2}[fmt]
    header, back, bad = FORMATS[fmt].read(text.split("\n")[:-1])
    assert bad == 0
    expected = rows()
    if fmt != "jsonl":  # a tabular file keeps the columns it has: no fit column here, figures to 6 digits
        assert header == [c.key for c in COLUMNS]
    assert back == expected


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed")
def test_parquet_reads_back_the_rows_it_wrote(tmp_path):
    path = tmp_path / "r.parquet"
    path.write_bytes(parquet_bytes(rows(), COLUMNS))
    header, back = read_parquet(str(path))
    assert header == [c.key for c in COLUMNS] and back == rows()
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert str(schema.field("macs").type) == "int64" and str(schema.field("bench_latency_ms_median_b1_float32").type) == "double"


def test_cells_are_exact_values():
    full = rows()[0]
    by_key = dict(zip([c.key for c in COLUMNS], cells(full, COLUMNS)))
    assert by_key["macs"] == 8_789_129_216 and by_key["input_shape"] == "1x3x224x224, 1x3x224x224"
    assert by_key["uncounted"] == "aten::grid_sampler_2d x12, aten::foo x1"
    assert by_key["bench_latency_ms_median_b1_float32"] == 45.25 and by_key["bench_error_b8_float32"].startswith("out of memory")
    assert "fit_batch" not in by_key  # no --fit, no column


def test_a_cut_line_is_counted_not_read():
    text = FORMATS["csv"].header(COLUMNS) + FORMATS["csv"].line(rows()[1], COLUMNS)
    cut = text + FORMATS["csv"].line(rows()[0], COLUMNS)[:40]
    _, back, bad = FORMATS["csv"].read(cut.split("\n"))
    assert [r.model for r in back] == ["lenet5"] and bad == 1


def test_the_table_rounds_and_says_what_failed():
    text = plain_text(sweep_view(rows()), None)
    assert "8.79 G" in text and "61.7 K" in text and "45.2" in text
    assert "torchvision:raft_small batch 8 float32: out of memory" in text
    assert "ran on the CPU from aten::nonzero in rpn" in text and "3 models, 1 failed." in text
    assert "ms: median latency" in text  # the rows were timed: there is an ms column to explain


def test_an_untimed_table_explains_no_ms_column():
    text = plain_text(sweep_view([rows()[1]]), None)
    assert "ms b1" not in text and "ms: median latency" not in text and "RF: the last spatial map's largest side." in text
