"""The Pareto chart of ``compare --plot``: every model a point, the frontier drawn and named, the budget shaded.

The frontier is given (``sweep.select.pareto_front``); this module only draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from archscope.render.plots import _figure, _label, _png

AXES = {
    "params": "parameters",
    "macs": "MACs (multiply-accumulates)",
    "latency": "median latency (ms)",
}
NAMES = {"params": "parameters", "macs": "MACs", "latency": "latency"}


@dataclass
class ParetoChart:
    """What the chart shows: a point per model, which are on the frontier, which are within the budget."""

    names: Sequence[str]
    xs: Sequence[float]
    ys: Sequence[float]
    x_key: str  # "params", "macs" or "latency"
    y_key: str
    frontier: Sequence[int]  # indices, in order of x
    within: Sequence[bool]  # within every limit of the budget
    x_limit: float | None = None  # the budget on each axis, if any
    y_limit: float | None = None
    budget_text: str = ""
    title: str = ""
    notes: list[str] = field(default_factory=list)


def _plain(value: float) -> str:
    """A tick: '10 M', '2 G', '500 K', '5' (no '10.0 M', no '1e7')."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:g} {suffix}"
    return f"{value:g}"


def _tick_text(key: str):  # noqa: ANN202 - a tick formatter function
    return lambda value, _pos: _plain(value)


def pareto_png(chart: ParetoChart) -> bytes:
    """The chart as PNG bytes: log axes with plain tick labels ('10 M', '1 G'; '5', '50' ms)."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plt, fig = _figure(9.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    inside = [i for i, w in enumerate(chart.within) if w]
    outside = [i for i, w in enumerate(chart.within) if not w]
    ax.scatter([chart.xs[i] for i in inside], [chart.ys[i] for i in inside], s=22, color="tab:blue", alpha=0.75,
               label="within the budget" if outside or chart.budget_text else "a model", zorder=3)  # fmt: skip
    if outside:
        ax.scatter([chart.xs[i] for i in outside], [chart.ys[i] for i in outside], s=22, facecolors="none",
                   edgecolors="grey", alpha=0.8, label="over the budget", zorder=3)  # fmt: skip
    front = list(chart.frontier)
    if front:
        fx, fy = [chart.xs[i] for i in front], [chart.ys[i] for i in front]
        ax.step(fx, fy, where="post", color="tab:red", linewidth=1.4, zorder=2,
                label=f"Pareto frontier ({len(front)}: no other model is lower on both)")  # fmt: skip
        ax.scatter(fx, fy, s=40, color="tab:red", zorder=4)
        for n, i in enumerate(front):
            # Alternate above and below the line so neighbouring names do not sit on each other.
            offset = (6, 6) if n % 2 == 0 else (6, -12)
            ax.annotate(_label(chart.names[i]), (chart.xs[i], chart.ys[i]), xytext=offset, textcoords="offset points",
                        fontsize=7.5, color="darkred", zorder=5)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(0.08)
    for axis, key, values in ((ax.xaxis, chart.x_key, chart.xs), (ax.yaxis, chart.y_key, chart.ys)):
        # 1, 2, 5 in each decade where there are few decades to show; the decades alone where
        # there are many, so the labels never run into each other.
        decades = math.log10(max(values) / min(values)) if values and min(values) > 0 else 0
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0), numticks=12))
        axis.set_major_formatter(FuncFormatter(_tick_text(key)))
        axis.set_minor_formatter(NullFormatter())
    if chart.x_limit is not None or chart.y_limit is not None:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        right = chart.x_limit if chart.x_limit is not None else x1
        top = chart.y_limit if chart.y_limit is not None else y1
        ax.add_patch(Rectangle((x0, y0), right - x0, top - y0, color="tab:green", alpha=0.10, zorder=1,
                               label=f"budget: {chart.budget_text}"))  # fmt: skip
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_xlabel(AXES.get(chart.x_key, chart.x_key) + " (log scale)")
    ax.set_ylabel(AXES.get(chart.y_key, chart.y_key) + " (log scale)")
    ax.set_title(_label(chart.title), fontsize=10)
    ax.grid(True, which="major", alpha=0.25)
    ax.legend(loc="lower right", fontsize=8)
    for n, note in enumerate(chart.notes):
        fig.text(0.01, 0.005 + 0.025 * n, _label(note), fontsize=7, color="grey")
    return _png(plt, fig)
