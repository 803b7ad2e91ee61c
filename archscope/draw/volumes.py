"""The layered-volume picture of a chain (LeNet, AlexNet, VGG): each output a box, left to right.

A box's front face is as tall as the map's height and as wide as its channels, and it recedes
by the map's width, as the papers draw their feature maps. Sizes follow square roots, so a
224x224 map and a 7x7 one, 3 channels and 512, are all drawn at a readable size (VGG's
224-pixel map is about six times as tall as its 7-pixel one, not 32 times). A flat vector (a
fully connected layer's output) is a bar whose height follows the logarithm of its length.
"""

from __future__ import annotations

import math
from typing import Any

from archscope.analysis.records import Summary
from archscope.draw.graph import Graph, Node
from archscope.draw.picture import (
    CHAR_WIDTH, DPI, FONT, LINE_HEIGHT, NAME_FONT, describe, label_text, save_figure, shape_label, title_lines,
)
from archscope.text.fields import rf_cell
from archscope.text.numbers import human_count

_SIDE = 0.22  # inches per square root of a map's side
_DEPTH = 0.45  # a map's width recedes at this fraction of its side's drawn length
_CHANNELS = 0.06  # inches per square root of a channel count
_VECTOR = 0.25  # inches per doubling of a vector's length
_GAP = 0.3  # inches between two volumes


def _extent(shape: Any) -> tuple[float, float, float]:
    """(face width, face height, receding depth) of one output, in inches."""
    dims = shape[1:] if isinstance(shape, list) and all(isinstance(d, int) for d in shape) else None
    if not dims:
        return 0.3, 0.3, 0.0
    if len(dims) == 1:
        return 0.12, max(0.3, _VECTOR * math.log2(max(dims[0], 2))), 0.0
    channels, height = dims[0], dims[1]
    width = dims[2] if len(dims) > 2 else 1
    return max(0.05, _CHANNELS * math.sqrt(channels)), _SIDE * math.sqrt(height), _DEPTH * _SIDE * math.sqrt(width)


def _lines(node: Node) -> list[tuple[str, str]]:
    if node.kind == "input":
        return [("input", "name"), (shape_label(node.shape), "body")]
    lines = [(label_text(node.name), "name")]
    if describe(node) != node.name:  # an operator's name says what it does ('mean')
        lines.append((label_text(describe(node)), "body"))
    rf = rf_cell(node.receptive_field)
    lines.append((shape_label(node.shape) + (f" · RF {rf}" if rf not in ("-", "") else ""), "body"))
    if node.macs:
        lines.append((f"{human_count(node.macs)} MACs", "body"))
    return lines


def render_volumes(graph: Graph, summary: Summary, fmt: str = "svg") -> bytes:
    """The chain as volumes, left to right, each labelled with its name, work, shape and MACs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

    order = _chain_order(graph)
    extents = {n.id: _extent(n.shape) for n in order}
    labels = {n.id: _lines(n) for n in order}

    def label_width(node: Node) -> float:
        return max(len(t) * (NAME_FONT if s == "name" else FONT) * CHAR_WIDTH / 72 for t, s in labels[node.id])

    slots: list[tuple[Node, float, float]] = []  # node, left of its face, slot width
    x = 0.0
    for node in order:
        w, _, depth = extents[node.id]
        slot = max(w + depth, label_width(node))
        slots.append((node, x + (slot - w - depth) / 2, slot))
        x += slot + _GAP
    tallest = max((h + 0.7 * d for _, h, d in extents.values()), default=1.0)
    label_rows = max(len(v) for v in labels.values())
    title = title_lines(summary, graph, "macs")[:1] + [
        f"depth {graph.depth} · face: channels across, height up; the map's width recedes (square-root scales)"
    ] + [f"{n[0].upper()}{n[1:]}" for n in graph.notes]
    head = 0.32 + len(title) * FONT * LINE_HEIGHT / 72 + 0.25
    margin = 0.3
    width = max(x - _GAP, max(len(t) for t in title) * FONT * CHAR_WIDTH / 72) + 2 * margin
    height = head + tallest + 0.15 + label_rows * FONT * LINE_HEIGHT / 72 + margin
    figure = Figure(figsize=(width, height), dpi=DPI)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    text_options = {"parse_math": False, "fontfamily": "DejaVu Sans"}
    ax.text(margin, 0.12, label_text(summary.model), fontsize=11, fontweight="bold", va="top", gid="title",
            **text_options)  # fmt: skip
    for i, line in enumerate(title):
        ax.text(margin, 0.36 + i * FONT * LINE_HEIGHT / 72, label_text(line), fontsize=FONT, va="top", color="#444",
                gid=f"title:{i}", **text_options)  # fmt: skip

    middle = head + tallest / 2 + 0.1
    base = head + tallest + 0.25
    faces: dict[str, tuple[float, float, float, float]] = {}
    for node, left, _ in slots:
        w, h, d = extents[node.id]
        left += margin
        top = middle - h / 2 + 0.35 * d
        flat = len(node.shape) == 2 if isinstance(node.shape, list) else False
        colour = "#e8e8e8" if node.kind == "input" else "#f2c18d" if flat else "#9cc3e4"
        if d > 0:  # the top and the side, receding up and to the right
            dx, dy = d, -0.7 * d
            top_face = [(left, top), (left + w, top), (left + w + dx, top + dy), (left + dx, top + dy)]
            side_face = [(left + w, top), (left + w, top + h), (left + w + dx, top + h + dy), (left + w + dx, top + dy)]
            for face, alpha in ((top_face, 0.75), (side_face, 0.55)):
                ax.add_patch(Polygon(face, closed=True, facecolor=colour, edgecolor="#333", linewidth=0.6, alpha=alpha))
        ax.add_patch(Rectangle((left, top), w, h, facecolor=colour, edgecolor="#222", linewidth=0.8,
                               gid=f"node:{node.id}"))  # fmt: skip
        faces[node.id] = (left, top, w + d, h)
        centre = left + (w + d) / 2
        for i, (line, style) in enumerate(labels[node.id]):
            ax.text(centre, base + i * FONT * LINE_HEIGHT / 72, line, fontsize=NAME_FONT if style == "name" else FONT,
                    fontweight="bold" if style == "name" else "normal", ha="center", va="top", color="#111",
                    gid=f"label:{node.id}:{i}", **text_options)  # fmt: skip
    for a, b in graph.edges:
        (la, _, wa, _), (lb, _, _, _) = faces[a], faces[b]
        ax.add_patch(FancyArrowPatch((la + wa + 0.04, middle), (lb - 0.04, middle), arrowstyle="-|>", mutation_scale=7,
                                     color="#777", linewidth=0.8, gid=f"edge:{a}->{b}"))  # fmt: skip
    return save_figure(figure, fmt)


def _chain_order(graph: Graph) -> list[Node]:
    """The boxes from the input to the output (call order is already that for a chain)."""
    return list(graph.nodes)

