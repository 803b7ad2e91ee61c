"""``compare`` returns one record: the summaries in order, ratios to the first, its own JSON contract."""

import json

import pytest
from typer.testing import CliRunner

import archscope
from archscope.analysis.compare import Comparison
from archscope.cli import app
from archscope.errors import ArchscopeError


def test_a_comparison_holds_each_summary_in_order_and_ratios_to_the_first(zoo_summary):
    comparison = archscope.compare(["googlenet-naive", "googlenet"])
    naive, reduced = zoo_summary("googlenet-naive"), zoo_summary("googlenet")
    assert isinstance(comparison, Comparison) and comparison.baseline.model == "googlenet-naive"
    assert [s.totals.macs for s in comparison.summaries] == [naive.totals.macs, reduced.totals.macs]
    ratios = comparison.ratios(comparison.summaries[1])
    assert ratios["macs"] == pytest.approx(reduced.totals.macs / naive.totals.macs)
    assert ratios["receptive_field"] == max(reduced.receptive_field.size) / max(naive.receptive_field.size)
    assert comparison.ratios(comparison.baseline)["params"] == 1.0


def test_the_record_is_the_json_the_command_writes():
    comparison = archscope.compare(["lenet5", "alexnet"])
    data = comparison.to_dict()
    assert data["schema"] == Comparison.SCHEMA == "archscope.compare/1"
    assert data["models"][1]["receptive_field"] == comparison.summaries[1].receptive_field.to_dict()
    printed = CliRunner().invoke(app, ["compare", "lenet5", "alexnet", "-f", "json"]).output
    assert json.loads(printed) == json.loads(json.dumps(data))


def test_one_model_is_not_a_comparison():
    with pytest.raises(ArchscopeError, match="at least two models"):
        archscope.compare(["vgg16"])
