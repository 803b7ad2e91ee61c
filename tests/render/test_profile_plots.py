"""The profile's pictures, read from the figure matplotlib was given (tests/bench/fake_reports.py's reports)."""

from __future__ import annotations

import archscope.render.profile_plots as profile_plots
from tests.bench.fake_reports import layer, report


def _drawn_figure(monkeypatch, draw, profile):
    figures = []
    real = profile_plots._png
    monkeypatch.setattr(profile_plots, "_png", lambda plt, figure: (figures.append(figure), real(plt, figure))[1])
    assert draw(profile).startswith(b"\x89PNG")
    return figures[0]


def test_the_rooflines_key_draws_each_colour_at_one_small_size_whatever_the_points_areas(monkeypatch):
    # One layer with nearly all the time (a disc of area 20 + 1500 x 0.99) and one with almost none.
    rows = [layer("big", 99.0, 98.0, 100.0), layer("small", 1.0, 0.9, 1.1)]
    for row, bound, rate in zip(rows, ("compute", "memory"), (5e9, 1e8)):
        row.intensity, row.achieved_flops, row.bound = 0.2, rate, bound
    figure = _drawn_figure(monkeypatch, profile_plots.roofline_png, report(rows))
    (ax,) = figure.axes
    key = ax.get_legend()
    assert [t.get_text() for t in key.get_texts()] == ["memory-bound", "compute-bound"]
    handles = getattr(key, "legend_handles", None) or key.legendHandles
    assert [list(h.get_sizes()) for h in handles] == [[30], [30]]
    # The points themselves keep their areas: the time they stand for.
    areas = sorted(float(c.get_sizes()[0]) for c in ax.collections)
    assert areas == [20 + 1500 * 0.01, 20 + 1500 * 0.99]
