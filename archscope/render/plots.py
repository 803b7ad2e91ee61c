"""Pictures, drawn with matplotlib (Agg: no display needed). Each returns PNG bytes."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from archscope.analysis.records import Summary
from archscope.quiet import library_noise_silenced
from archscope.text.numbers import largest_side, milliseconds
from archscope.text.safety import LABEL_MOST, shorten

if TYPE_CHECKING:  # the growth chart's points, from the receptive-field stages
    from archscope.analysis.rf.stages import GrowthPoint

TYPE_MOST = 24  # characters of a class name beside a layer's name


def _label(text: object, most: int = LABEL_MOST) -> str:
    """User text as a literal label, cut as the terminal cuts a name (a million-character name would make an
    image too large to allocate); '$' escaped, as matplotlib would read '$...$' as mathtext (and fail on bad TeX)."""
    return shorten(text, most).replace("$", r"\$")


def _figure(width: float = 8.0, height: float = 4.5):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=(width, height), dpi=110)


def _png(plt, figure) -> bytes:
    buffer = io.BytesIO()
    with library_noise_silenced():  # a layer name the font has no glyph for
        figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def rf_growth_png(summary: Summary, points: list[GrowthPoint]) -> bytes:
    """Receptive-field size against layer, log scale, with each change of stride marked, and the
    input's largest spatial side as a line (none for an input without one)."""
    plt, fig = rf_growth_figure(summary, points)
    return _png(plt, fig)


def rf_growth_figure(summary: Summary, points: list[GrowthPoint]):
    """The growth chart as a matplotlib figure (``rf_growth_png`` writes it): every series is in its legend."""
    model, input_size = summary.model, largest_side(summary.input_shape)
    plt, fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    xs = [p.index for p in points]
    # Parallel branches come one after another in call order, so single layers zigzag; the
    # line follows the largest field reached so far, the dots every layer. A dot below the line
    # is a layer on a branch that sees less than the network already has (a projection
    # shortcut, an inception module's 1x1 branch): it has its own entry in the legend.
    for axis, label in ((0, "height"), (-1, "width")):
        if axis == -1 and all(p.size[-1] == p.size[0] for p in points):
            break
        sizes = [p.size[axis] for p in points]
        largest = [max(sizes[: i + 1]) for i in range(len(sizes))]
        (line,) = ax.step(xs, largest, where="post", linewidth=1.6, label=f"largest field so far ({label})")
        on = [(x, s) for x, s, top in zip(xs, sizes, largest) if s >= top]
        below = [(x, s) for x, s, top in zip(xs, sizes, largest) if s < top]
        ax.scatter(*zip(*on), s=8, alpha=0.45, color=line.get_color(), label=f"a layer's field ({label})")
        if below:
            ax.scatter(*zip(*below), s=14, marker="v", color=line.get_color(), alpha=0.8,
                       label=f"a layer on a parallel branch, below the largest ({label})")  # fmt: skip
    if input_size is not None:
        ax.axhline(input_size, color="grey", linestyle=":", linewidth=1, label=f"the input's largest side ({input_size})")
        ax.annotate(f"input {input_size}", (0, input_size), textcoords="offset points", xytext=(2, 3), fontsize=8,
                    color="grey")  # fmt: skip
    for before, after in zip(points, points[1:]):
        if after.stride != before.stride:
            ax.axvline(after.index - 0.5, color="tab:red", alpha=0.35, linewidth=1)
            ax.annotate(
                f"stride {after.stride[0]}",
                (after.index - 0.5, 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -12),
                textcoords="offset points",
                fontsize=7,
                color="tab:red",
                rotation=90,
                va="top",
            )
    from matplotlib.ticker import LogFormatter, MaxNLocator

    ax.set_yscale("log")
    # Sizes and layer numbers are whole: ticks read 3, 4, 6 (not 3 x 10^0) and never 0.25 of a layer.
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (leaf layers with a spatial output, in call order)")
    ax.set_ylabel("receptive field size (input pixels)")
    ax.set_title(f"{_label(model)}: receptive-field growth")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="lower right", fontsize=8)
    return plt, fig


def effective_rf_png(model: str, gradient, box: tuple[int, int, int, int], layer: str) -> bytes:
    """A heat map of |gradient| over the input with the theoretical field (top, left, bottom, right) drawn on it."""
    from matplotlib.patches import Rectangle

    plt, fig = _figure(6.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(gradient.numpy(), cmap="magma", interpolation="nearest")
    top, left, bottom, right = box
    h, w = gradient.shape
    clipped = (max(top, 0), max(left, 0), min(bottom, h - 1), min(right, w - 1))
    ax.add_patch(
        Rectangle(
            (clipped[1] - 0.5, clipped[0] - 0.5),
            clipped[3] - clipped[1] + 1,
            clipped[2] - clipped[0] + 1,
            fill=False,
            edgecolor="cyan",
            linewidth=1.5,
            label="theoretical receptive field" + (" (clipped to the input)" if clipped != box else ""),
        )
    )
    ax.set_title(f"{_label(model)}: effective receptive field of the centre of {_label(layer)}", fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="|d output / d input|")
    return _png(plt, fig)


def bench_png(report) -> bytes:
    """Median latency (p10-p90 shaded) and throughput against batch size, one line per model.

    The batch sizes are the ticks; the title says the device, dtype and mode. With a single
    batch size there is no curve to draw: one bar per model instead.
    """
    from matplotlib.ticker import FixedLocator, LogFormatter, NullLocator, ScalarFormatter

    class PlainLog(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return f"{x:g}" if super().__call__(x, pos) else ""

    results = [r for r in report.results if r.error is None]
    e = report.environment
    title = f"archscope bench: {_label(e.device)} ({_label(e.device_name)}), {e.dtype}, {e.mode}"
    batches = sorted({r.batch_size for r in results})
    models = list(dict.fromkeys(r.model for r in results))
    if len(batches) <= 1:
        plt, fig = _figure(8.0, max(2.5, 0.45 * len(models) + 1.3))
        ax = fig.add_subplot(1, 1, 1)
        rows = [next(r for r in results if r.model == m) for m in models]
        positions = list(range(len(rows)))
        ax.barh(positions, [r.latency_ms.median for r in rows], color="tab:blue",
                xerr=[[r.latency_ms.median - r.latency_ms.p10 for r in rows], [r.latency_ms.p90 - r.latency_ms.median for r in rows]])  # fmt: skip
        for position, r in zip(positions, rows):
            ax.annotate(f"{milliseconds(r.latency_ms.median)} ms, {r.throughput:,.1f} samples/s", (r.latency_ms.median, position),
                        xytext=(4, 6), textcoords="offset points", fontsize=8)  # fmt: skip
        ax.set_yticks(positions)
        ax.set_yticklabels([_label(m) for m in models])
        ax.invert_yaxis()
        ax.set_xlabel(f"median latency (ms) at batch {batches[0] if batches else '-'}, p10-p90 as error bars")
        ax.margins(x=0.35)
        fig.suptitle(title)
        with library_noise_silenced():
            fig.tight_layout()
        return _png(plt, fig)
    plt, fig = _figure(11.0, 4.4)
    latency, throughput = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for model in models:
        rows = sorted((r for r in results if r.model == model), key=lambda r: r.batch_size)
        xs = [r.batch_size for r in rows]
        latency.plot(xs, [r.latency_ms.median for r in rows], marker="o", label=_label(model))
        latency.fill_between(xs, [r.latency_ms.p10 for r in rows], [r.latency_ms.p90 for r in rows], alpha=0.15)
        throughput.plot(xs, [r.throughput for r in rows], marker="o", label=_label(model))
    for ax, label in ((latency, "median latency (ms), p10-p90 shaded"), (throughput, "throughput (samples/s)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(batches))  # the batch sizes measured, written as numbers
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        # Plain numbers on the log y axis ('0.6', '90', not '6e-01' or '9x10^1'); matplotlib still picks which ticks to label.
        ax.yaxis.set_major_formatter(PlainLog(labelOnlyBase=False))
        ax.yaxis.set_minor_formatter(PlainLog(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        ax.tick_params(axis="x", labelrotation=45 if len(batches) > 8 else 0)
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.25)
    throughput.legend(fontsize=8)
    fig.suptitle(title)
    with library_noise_silenced():
        fig.tight_layout()
    return _png(plt, fig)


def layers_png(summary, depth: int | None = None) -> bytes:
    """Parameters and MACs per layer group at one depth, as horizontal bars that add up to the totals.

    Each group holds its module's children (GoogLeNet's inception modules, all four branches);
    what no group holds is the last bar (render.breakdown).
    """
    from archscope.render.breakdown import REST, breakdown

    parts = breakdown(summary, depth)
    groups = parts.groups
    height = min(max(3.0, 0.22 * len(groups) + 1.4), 40.0)
    plt, fig = _figure(11.0, height)
    from matplotlib.ticker import EngFormatter

    params_ax, macs_ax = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    names = [_label(g.name) if g.name == REST else f"{_label(g.name)} ({_label(g.type, TYPE_MOST)})" for g in groups]
    positions = list(range(len(groups)))
    colours = ["tab:grey" if g.name == REST else None for g in groups]
    params_ax.barh(positions, [g.params for g in groups], color=[c or "tab:blue" for c in colours])
    macs_ax.barh(positions, [g.macs for g in groups], color=[c or "tab:orange" for c in colours])
    for ax, title, values, total in (
        (params_ax, "parameters", [g.params for g in groups], summary.totals.params),
        (macs_ax, "MACs", [g.macs for g in groups], summary.totals.macs),
    ):
        ax.set_yticks(positions)
        ax.set_yticklabels(names if ax is params_ax else [""] * len(names), fontsize=7 if len(groups) > 30 else 8)
        ax.invert_yaxis()
        ax.set_xlabel(f"{title} (bars add up to the total, {total:,})")
        ax.grid(True, axis="x", alpha=0.25)
        for position, value in zip(positions, values):
            if total and value / total >= 0.005:
                ax.annotate(f"{value / total:.0%}" if value / total >= 0.01 else "<1%", (value, position),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=6.5)  # fmt: skip
        ax.margins(x=0.12)
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    fig.suptitle(f"{_label(summary.model)}: where the parameters and the multiply-accumulates are (depth {parts.depth})")
    with library_noise_silenced():
        fig.tight_layout()
    return _png(plt, fig)
