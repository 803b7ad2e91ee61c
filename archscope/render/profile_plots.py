"""The profile's pictures: the roofline, and where the time goes against where the MACs are. PNG bytes."""

from __future__ import annotations

from collections import defaultdict

from archscope.bench.profile_records import ProfileLayer, ProfileReport
from archscope.render.plots import _figure, _label, _png
from archscope.text.numbers import human_count

LABELLED = 8  # the largest layers by time get their names on the roofline
SHOWN_BARS = 24  # rows in the paired bars; the rest are summed into one


def _plottable(report: ProfileReport) -> list[ProfileLayer]:
    """Rows with FLOPs and traffic: the only ones a log-log roofline can place."""
    return [x for x in report.layers if x.flops and x.bytes and x.achieved_flops]


def roofline_png(report: ProfileReport) -> bytes:
    """Log-log: intensity against achieved FLOP/s, under the device's two ceilings (Williams et al. 2009).

    Each layer is a point whose area follows its share of the time, coloured by the roof that
    binds it; the largest few by time are named.
    """
    plt, fig = _figure(9.0, 5.6)
    ax = fig.add_subplot(1, 1, 1)
    d = report.device
    points = _plottable(report)
    intensities = [x.intensity for x in points] or [1.0]
    rates = [x.achieved_flops for x in points] or [1.0]
    ridge = d.ridge_intensity
    low_x = min(min(intensities), ridge or min(intensities)) / 4
    high_x = max(max(intensities), ridge or max(intensities)) * 4
    low_y, high_y = min(rates) / 30, max(max(rates), d.peak_flops or 0) * 3  # room below for the key
    if d.peak_flops and d.bandwidth_bytes_per_s and ridge:
        ax.plot([low_x, ridge], [low_x * d.bandwidth_bytes_per_s, d.peak_flops], color="black", linewidth=1.6)
        ax.plot([ridge, high_x], [d.peak_flops, d.peak_flops], color="black", linewidth=1.6)
        ax.plot([ridge, high_x], [d.peak_flops, high_x * d.bandwidth_bytes_per_s], color="grey", linewidth=0.8, linestyle=":")
        ax.axvline(ridge, color="grey", linewidth=0.6, linestyle="--", alpha=0.6)
        ax.annotate(f"peak {human_count(d.peak_flops)}FLOP/s (matmul)", (ridge, d.peak_flops), xytext=(-4, 5),
                    textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
        along = ridge / 8  # on the memory roof, short of the ridge, where few layers sit
        ax.annotate(f"{human_count(d.bandwidth_bytes_per_s)}B/s (STREAM)", (along, along * d.bandwidth_bytes_per_s),
                    xytext=(-6, 6), textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
        ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, high_y), xytext=(3, -10), textcoords="offset points",
                    fontsize=7, color="grey")  # fmt: skip
    total = sum(x.time_ms for x in report.layers) or 1.0
    colours = {"compute": "tab:orange", "memory": "tab:blue", None: "tab:grey"}
    for bound in ("memory", "compute", None):
        chosen = [x for x in points if x.bound == bound]
        if chosen:
            ax.scatter(
                [x.intensity for x in chosen], [x.achieved_flops for x in chosen],
                s=[20 + 1500 * x.time_ms / total for x in chosen], alpha=0.6, color=colours[bound],
                edgecolors="black", linewidths=0.4, label=f"{bound}-bound" if bound else "no ceiling known",
            )  # fmt: skip
    _key(ax, sorted(points, key=lambda x: -x.time_ms)[:LABELLED])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low_x, high_x)
    ax.set_ylim(low_y, high_y)
    ax.set_xlabel("arithmetic intensity (FLOPs per byte, least traffic)")
    ax.set_ylabel("achieved FLOP/s")
    ax.grid(True, which="both", alpha=0.2)
    key = ax.legend(loc="upper left", fontsize=8, title="point area: share of time", title_fontsize=7)
    # The key shows colours at one size: by default each takes its first point's area, and a layer
    # with most of the time then draws a disc over the key's own words.
    for handle in getattr(key, "legend_handles", None) or key.legendHandles:  # the old name before matplotlib 3.7
        handle.set_sizes([30])
    left_out = len(report.layers) - len(points)
    note = f"; {left_out} layer{'s' if left_out != 1 else ''} with no FLOPs not shown" if left_out else ""
    ax.set_title(
        f"{_label(report.model)}: roofline, batch {report.batch_size}, {report.mode}, {_label(d.device)} {d.dtype}{note}",
        fontsize=9,
    )
    return _png(plt, fig)


def _key(ax, labelled: list[ProfileLayer]) -> None:
    """Number the largest points and name them in a key in the lower right, where a roofline has no points.

    Numbers stay readable inside a cluster of points, where names would cover each other.
    """
    import math

    lines, spots = [], []  # spots: [log x, log y, numbers] of the numbers already placed
    for number, x in enumerate(labelled, 1):
        lines.append(f"{number:>2}  {_label(x.name)}  {x.share:.0%} of the time")
        here = (math.log10(x.intensity), math.log10(x.achieved_flops))
        near = next((s for s in spots if abs(s[0] - here[0]) < 0.06 and abs(s[1] - here[1]) < 0.06), None)
        if near is not None:
            near[2].append(number)  # points on top of each other share one label: "2,3"
        else:
            spots.append([*here, [number]])
    for x, y, numbers in spots:
        ax.annotate(",".join(map(str, numbers)), (10**x, 10**y), xytext=(4, 3), textcoords="offset points",
                    fontsize=7, fontweight="bold")  # fmt: skip
    ax.text(0.99, 0.02, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom", multialignment="left", fontsize=7,
            family="monospace", bbox=dict(boxstyle="round", facecolor="white", edgecolor="lightgrey", alpha=0.9))  # fmt: skip


def _other(rows: list[ProfileLayer]) -> tuple[str, float, float]:
    return f"{len(rows)} other layers", sum(x.share for x in rows), sum(x.mac_share for x in rows)


def _groups(layers: list[ProfileLayer], depth: int) -> tuple[dict[str, list[float]], str]:
    """(time share, MAC share) per layer type, or per stage (the model's child a row is in)."""
    by: dict[str, dict[str, list[float]]] = {"layer type": defaultdict(lambda: [0.0, 0.0]), "stage": defaultdict(lambda: [0.0, 0.0])}
    for x in layers:
        for grouping, key in (("layer type", x.type), ("stage", x.name.split(".")[0])):
            by[grouping][key][0] += x.share
            by[grouping][key][1] += x.mac_share
    # By type where the rows are mostly single layers (VGG's convolutions, ReLUs, pools) or the
    # model's children; by stage where they are blocks (ResNet's Bottlenecks at depth 2).
    in_leaves = sum(x.share for x in layers if x.leaf)
    grouping = "layer type" if in_leaves >= 0.5 or depth <= 1 or len(by["stage"]) < 2 else "stage"
    return by[grouping], grouping


def time_vs_macs_png(report: ProfileReport) -> bytes:
    """Left: each layer's share of the time beside its share of the MACs. Right: the same by layer type, stacked."""
    layers = report.layers
    shown = sorted(layers, key=lambda x: -x.share)[:SHOWN_BARS]
    shown_set = {id(x) for x in shown}
    ordered = [x for x in layers if id(x) in shown_set]  # call order reads like the network
    bars = [(x.name, x.share, x.mac_share) for x in ordered]
    rest = [x for x in layers if id(x) not in shown_set]
    if rest:
        bars.append(_other(rest))
    height = max(3.5, 0.28 * len(bars) + 1.5)
    plt, fig = _figure(12.0, height)
    grid = fig.add_gridspec(1, 2, width_ratios=[3, 1.2])
    ax, stacked = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    positions = list(range(len(bars)))
    ax.barh([p - 0.2 for p in positions], [b[1] * 100 for b in bars], height=0.4, color="tab:red", label="time")
    ax.barh([p + 0.2 for p in positions], [b[2] * 100 for b in bars], height=0.4, color="tab:green", label="MACs")
    ax.set_yticks(positions)
    ax.set_yticklabels([_label(b[0]) for b in bars], fontsize=7 if len(bars) > 16 else 8)
    ax.invert_yaxis()
    ax.set_xlabel("share of the whole (%)")
    ax.grid(True, axis="x", alpha=0.25)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("per layer" + (f" (the {len(shown)} slowest, in call order)" if rest else ""), fontsize=9)

    groups, grouping = _groups(layers, report.depth)
    kinds = list(groups)  # in call order: the network's first layers at the bottom
    palette = plt.get_cmap("tab20")
    bottoms = [0.0, 0.0]
    for i, kind in enumerate(kinds):
        values = [groups[kind][0] * 100, groups[kind][1] * 100]
        stacked.bar([0, 1], values, bottom=bottoms, color=palette(i % 20), edgecolor="white", linewidth=0.5, label=_label(kind))
        for column, (value, bottom) in enumerate(zip(values, bottoms)):
            if value >= 6:
                stacked.text(column, bottom + value / 2, f"{_label(kind)}\n{value:.0f}%", ha="center", va="center", fontsize=7)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    stacked.set_xticks([0, 1])
    stacked.set_xticklabels(["time", "MACs"])
    stacked.set_ylim(0, 100)
    stacked.set_ylabel("share (%)")
    stacked.set_title(f"by {grouping}", fontsize=9)
    stacked.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(
        f"{_label(report.model)}: where the time goes vs where the MACs are "
        f"(batch {report.batch_size}, {report.mode}, {_label(report.device.device)})",
        fontsize=10,
    )
    return _png(plt, fig)
