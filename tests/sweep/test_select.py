"""Budgets, sorting, the top N and the Pareto frontier, on hand-made candidates."""

import math

import pytest

from archscope.errors import ArchscopeError
from archscope.sweep.records import SweepRow
from archscope.sweep.select import Budget, parse_count, pareto_front, select


def test_the_pareto_frontier_of_hand_made_points():
    # (params, MACs): c and a are beaten by b on both; e ties d's x but is higher; f equals g.
    points = {"a": (10, 50), "b": (5, 20), "c": (12, 25), "d": (20, 5), "e": (20, 9), "f": (3, 40), "g": (3, 40), "h": (40, 1)}
    names = list(points)
    front = [names[i] for i in pareto_front(list(points.values()))]
    assert front == ["f", "g", "b", "d", "h"]  # in order of the first axis; equal points both stay


def test_a_point_that_is_lower_on_only_one_axis_is_on_the_frontier_and_nan_is_not():
    assert pareto_front([(1, 10), (10, 1)]) == [0, 1]
    assert pareto_front([(1, 1), (2, 2)]) == [0]
    assert pareto_front([(math.nan, 1), (2, 2)]) == [1]
    assert pareto_front([]) == []


def rows():
    def row(name, params, macs, act=0):
        return SweepRow(name, params=params, macs=macs, param_bytes=4 * params, activation_bytes=act)

    return [row("big", 60_000_000, 11_000_000_000), row("mid", 25_000_000, 4_000_000_000, 10**8),
            row("small", 5_000_000, 600_000_000), row("wide", 20_000_000, 9_000_000_000), row("tiny", 1_000_000, 50_000_000)]


def test_a_budget_keeps_what_is_within_every_limit_and_says_what_each_dropped_one_is_over():
    chosen = select(rows(), Budget(max_params=30_000_000, max_macs=5_000_000_000))
    assert [r.model for r in chosen.kept] == ["mid", "small", "tiny"]
    assert [(r.model, over) for r, over in chosen.dropped] == [("big", ["params", "macs"]), ("wide", ["macs"])]
    assert chosen.dropped_by() == {"params": 1, "macs": 2}


def test_memory_is_parameters_plus_activations():
    # mid: 100 MB of weights + 100 MB of activations = 200 MB, over 150 MB; small: 20 MB.
    chosen = select(rows(), Budget(max_memory=150_000_000))
    assert "mid" not in [r.model for r in chosen.kept] and "small" in [r.model for r in chosen.kept]


def test_sort_ascending_then_top():
    chosen = select(rows(), sort="macs", top=3)
    assert [r.model for r in chosen.kept] == ["tiny", "small", "mid"] and chosen.cut == 2
    assert [r.model for r in select(rows(), sort="name").kept] == ["big", "mid", "small", "tiny", "wide"]


def test_a_candidate_without_the_figure_sorts_last_and_is_over_any_limit():
    failed = SweepRow("failed", error="boom")
    chosen = select([failed, *rows()], Budget(max_params=10**9), sort="params")
    assert chosen.dropped[0][0] is failed and chosen.kept[0].model == "tiny"
    assert select([failed, *rows()], sort="params").kept[-1] is failed


@pytest.mark.parametrize("text, value", [("30M", 30_000_000), ("5G", 5_000_000_000), ("1.5g", 1_500_000_000),
                                         ("250k", 250_000), ("1000", 1000), (" 2 T ", 2 * 10**12)])  # fmt: skip
def test_counts_read_as_the_papers_write_them(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["30MiB", "lots", "-5G", "0"])
def test_a_count_that_is_not_one_is_refused(text):
    with pytest.raises(ArchscopeError):
        parse_count(text, "--max-params")


def test_bad_sort_keys_and_top_are_refused():
    with pytest.raises(ArchscopeError, match="cannot sort by 'speed'"):
        select(rows(), sort="speed")
    with pytest.raises(ArchscopeError, match="--top must be at least 1"):
        select(rows(), top=0)
