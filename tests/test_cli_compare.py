"""`archscope compare` as a person runs it (the lessons command: tests/cli/test_lessons.py)."""

import csv
import io
import json

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
