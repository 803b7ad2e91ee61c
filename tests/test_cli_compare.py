"""`archscope compare` as a person runs it (the lessons command: tests/cli/test_lessons.py)."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archscope.cli import app


def run(*args, columns=120):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_compare_shows_metrics_as_rows_and_ratios_to_the_first_model():
    result = run("compare", "googlenet-naive", "googlenet")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Compared: googlenet-naive, googlenet"
    assert any("googlenet-naive (baseline)" in line for line in lines[:4])
    macs = next(line for line in lines if line.startswith("MACs"))
    assert "12.6 G" in macs and "1.58 G (x0.13)" in macs
    assert next(line for line in lines if line.startswith("Weighted depth")).split()[-2:] == ["22", "(x1.69)"]


def test_compare_json_keeps_the_order_given_with_exact_integers():
    data = json.loads(run("compare", "inception-5x5-naive", "inception-5x5-reduced", "-f", "json").output)
    assert data["schema"] == "archscope.compare/1" and data["baseline"] == "inception-5x5-naive"
    assert [m["model"] for m in data["models"]] == ["inception-5x5-naive", "inception-5x5-reduced"]
    assert [m["totals"]["macs"] for m in data["models"]] == [112_896_000, 5_268_480]
    assert data["models"][1]["ratios"]["macs"] == pytest.approx(5_268_480 / 112_896_000)
    assert data["models"][0]["input_shape"] == [1, 480, 14, 14]


def test_compare_many_models_switches_to_a_row_per_model():
    out = run("compare", "vgg11", "vgg13", "vgg16", "vgg19", "vgg-c", columns=200).output
    assert next(line for line in out.splitlines() if line.startswith("Model")).split()[:2] == ["Model", "Input"]
    rows = list(csv.DictReader(io.StringIO(run("compare", "vgg11", "vgg16", "-f", "csv").output)))
    assert [r["model"] for r in rows] == ["vgg11", "vgg16"]
    assert rows[1]["macs"] == "15470264320" and rows[1]["receptive_field"] == "212"


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "vgg16"], "compare needs at least two models"),
        (["compare", "vgg16", "vgg61"], "unknown model 'vgg61'; did you mean"),
        (["compare", "lenet5", "vgg16", "-i", "3x32x32"], "lenet5 cannot take input 1x3x32x32"),
    ],
)
def test_compare_errors_are_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1


# --- many models: patterns, budgets, sorting, the Pareto chart ---------------------------------


def _totals(name):
    import archscope

    return archscope.summarize(name).totals


def test_a_budget_keeps_what_fits_sorted_and_says_what_it_dropped():
    names = ["vgg11", "resnet18", "resnet50", "googlenet", "alexnet"]
    result = CliRunner().invoke(app, ["compare", *names, "--max-params", "30M", "--sort", "macs", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    within = [n for n in names if _totals(n).params <= 30_000_000]
    assert [m["model"] for m in data["models"]] == sorted(within, key=lambda n: _totals(n).macs)
    assert data["baseline"] == data["models"][0]["model"]  # ratios are to the first of the sorted list
    assert [d["model"] for d in data["dropped"]] == [n for n in names if n not in within]
    assert all(d["over"] == ["params"] for d in data["dropped"])
    assert f"kept {len(within)} of 5 models within the budget; dropped {5 - len(within)} ({5 - len(within)} over --max-params 30M)" in result.stderr


def test_patterns_go_through_the_pool_and_top_cuts_after_sorting(tmp_path):
    plot = tmp_path / "pareto.png"
    failing = str(Path(__file__).parent / "sweep" / "models.py") + ":raises"
    args = ["compare", "cifar-plain*", "head-*", failing, "--max-macs", "50M", "--sort", "params", "--top", "2",
            "--plot", str(plot), "-f", "csv"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # one model failed: said, left out, the rest compared
    assert "models.py:raises failed: " in result.stderr and "1 model failed and is not compared" in result.stderr
    import archscope

    names = archscope.list_models("cifar-plain*") + archscope.list_models("head-*")
    assert len(names) > 5  # more than a handful: the sweep's worker pool
    within = sorted((n for n in names if _totals(n).macs <= 50_000_000), key=lambda n: _totals(n).params)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["model"] for r in rows] == within[:2]
    assert [int(r["params"]) for r in rows] == [_totals(n).params for n in within[:2]]
    assert f"--top 2: {len(within) - 2} more within the budget left out" in result.stderr
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_compare_from_a_sweeps_results_draws_without_building_a_model(tmp_path, monkeypatch):
    import archscope.render.pareto_plot as pareto_plot

    charts, draw = [], pareto_plot.pareto_png
    monkeypatch.setattr(pareto_plot, "pareto_png", lambda chart: charts.append(chart) or draw(chart))
    from archscope.render.sweep_rows import FORMATS
    from archscope.sweep.records import BenchFigures, SweepRow, columns_for

    def row(name, params, macs, ms):
        return SweepRow(name, options="batch=1", input_shape=[1, 3, 32, 32], params=params, macs=macs, flops=2 * macs,
                        param_bytes=4 * params, activation_bytes=1000, weighted_depth=3, receptive_field=11,
                        bench=[BenchFigures(1, "float32", ms, ms * 0.9, ms * 1.2, 1000 / ms)])  # fmt: skip

    # Models no library has: reading them back must not try to build one.
    rows = [row("nowhere:a", 5_000_000, 2_000_000_000, 9.0), row("nowhere:b", 1_000_000, 300_000_000, 2.0),
            row("nowhere:c", 2_000_000, 900_000_000, 1.5), SweepRow("nowhere:d", error="boom")]  # fmt: skip
    path = tmp_path / "r.jsonl"
    path.write_text("".join(FORMATS["jsonl"].line(r, columns_for(False, False, [(1, "float32")])) for r in rows))
    plot = tmp_path / "latency.png"
    result = CliRunner().invoke(app, ["compare", "--from", str(path), "--bench", "--sort", "latency", "--plot", str(plot), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(m["model"], m["latency_ms"]) for m in data["models"]] == [("nowhere:c", 1.5), ("nowhere:b", 2.0), ("nowhere:a", 9.0)]
    assert data["models"][2]["ratios"]["latency_ms"] == pytest.approx(6.0)
    assert data["models"][0]["receptive_field"] == {"size": [11, 11], "stride": [1, 1], "padding": [0, 0]}
    assert "1 of the 4 rows in" in result.stderr and plot.read_bytes().startswith(b"\x89PNG")
    # Every label would start 'nowhere:': the chart names the models without it and says so once.
    (chart,) = charts
    assert sorted(chart.names) == ["a", "b", "c"] and "every model is nowhere:NAME" in chart.notes


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "vgg11", "vgg13", "--sort", "speed"], "cannot sort by 'speed'"),
        (["compare", "vgg11", "vgg13", "--max-params", "30MiB"], "cannot read '30MiB' as --max-params"),
        (["compare", "vgg11", "vgg13", "--sort", "latency"], "--sort latency needs --bench"),
        (["compare", "vgg11", "vgg13", "--max-params", "1M"], "no model is within the budget: dropped 2 (2 over --max-params 1M)"),
        (["compare", "vgg9*"], "no model matches 'vgg9*'"),
        (["compare", "--from", "nowhere.csv"], "no such file: nowhere.csv"),
        (["compare", "vgg11", "vgg13", "--plot", "p.svg"], "must be named *.png"),
    ],
)
def test_compare_budget_and_plot_errors_are_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
