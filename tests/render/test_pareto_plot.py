"""The Pareto chart draws with one point or many, a budget on one axis or both, and odd names."""

import pytest

from archscope.render.pareto_plot import ParetoChart, _plain, pareto_png


@pytest.mark.parametrize("limits", [(None, None), (30e6, None), (None, 5e9), (30e6, 5e9)])
def test_the_chart_is_a_png_with_or_without_a_budget(limits):
    chart = ParetoChart(["$a$", "b\x1b[31m", "c"], [1e6, 2e7, 1e8], [1e8, 5e8, 2e10], "params", "macs",
                        frontier=[0], within=[True, True, False], x_limit=limits[0], y_limit=limits[1],
                        budget_text="--max-params 30M", title="t")  # fmt: skip
    assert pareto_png(chart).startswith(b"\x89PNG")


def test_one_point_is_enough():
    assert pareto_png(ParetoChart(["a"], [5.0], [2e9], "macs", "latency", [0], [True])).startswith(b"\x89PNG")


@pytest.mark.parametrize("value, text", [(1e7, "10 M"), (2e9, "2 G"), (500_000, "500 K"), (5, "5"), (0.5, "0.5")])
def test_ticks_are_plain_numbers(value, text):
    assert _plain(value) == text
