"""The layered-volume picture of a chain (LeNet, AlexNet, VGG): each output a box, left to right.

As the papers draw their feature maps (LeNet-5's Figure 2, AlexNet's Figure 2), a box's front
face is the map, as tall as its height and as wide as its width, and the box recedes by its
channels. A 1-D map (a Conv1d's) is a thin face as tall as its length. Sizes follow square
roots, so a 224x224 map and a 7x7 one, 3 channels and 512, are all drawn at a readable size
(VGG's 224-pixel map is about six times as tall as its 7-pixel one, not 32 times); a network
whose maps are longer than 224 (a 16,000-sample signal) is scaled down as a whole so its tallest
face stays about as tall as VGG's. A flat vector (a fully connected layer's output) is a bar
whose height follows the logarithm of its length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archscope.analysis.records import Summary
from archscope.draw.graph import Graph, Node
from archscope.draw.picture import (
    DPI, FONT, LINE_HEIGHT, NAME_FONT, describe, draw_heading, heading, heading_width, label_text, save_figure,
    shape_label, text_width, title_lines,
)
from archscope.text.fields import rf_cell
from archscope.text.numbers import human_count

_SIDE = 0.22  # inches per square root of a map's side
_TALLEST = _SIDE * math.sqrt(224)  # the tallest face: a 224-pixel map's; longer maps are scaled to it
_CHANNELS = 0.045  # inches of depth per square root of a channel count
_RECEDE = (0.7, 0.5)  # the depth drawn as this much to the right and this much up, per inch
_THIN = 0.08  # inches: the face of a 1-D map
_VECTOR = 0.25  # inches per doubling of a vector's length
_GAP = 0.3  # inches between two volumes


@dataclass(frozen=True)
class Extent:
    """One output drawn: its front face and how far it recedes, in inches."""

    width: float
    height: float
    depth: float

    @property
    def across(self) -> float:
        return self.width + _RECEDE[0] * self.depth

    @property
    def tall(self) -> float:
        return self.height + _RECEDE[1] * self.depth


def _dims(shape: Any) -> list[int] | None:
    """The shape without its batch, or None for an output that is not one tensor."""
    if isinstance(shape, list) and len(shape) > 1 and all(isinstance(d, int) for d in shape):
        return shape[1:]
    return None


def longest_side(graph: Graph) -> int:
    """The longest spatial side of any map in the chain (a 1-D map's length)."""
    sides = [max(d[1:]) for n in graph.nodes if (d := _dims(n.shape)) and len(d) >= 2]
    return max(sides, default=1)


def extent(shape: Any, scale: float = 1.0) -> Extent:
    """How one output is drawn: a map's face H x W (a 1-D map's L x thin), receding by its channels."""
    dims = _dims(shape)
    if not dims:
        return Extent(0.3, 0.3, 0.0)
    if len(dims) == 1:
        return Extent(0.12, max(0.3, _VECTOR * math.log2(max(dims[0], 2))), 0.0)
    channels, spatial = dims[0], dims[1:]
    depth = _CHANNELS * math.sqrt(channels)
    if len(spatial) == 1:  # a 1-D map: its length up, a thin face
        return Extent(_THIN, max(0.05, scale * _SIDE * math.sqrt(spatial[0])), depth)
    height, width = spatial[-2], spatial[-1]  # a 3-D map (Conv3d) shows its last two axes
    return Extent(max(0.05, scale * _SIDE * math.sqrt(width)), max(0.05, scale * _SIDE * math.sqrt(height)), depth)


def _lines(node: Node) -> list[tuple[str, str]]:
    if node.kind == "input":
        return [("input", "name"), (shape_label(node.shape), "body")]
    lines = [(label_text(node.name), "name")]
    if describe(node) != node.name:  # an operator's name says what it does ('mean')
        lines.append((label_text(describe(node), 96), "body"))
    rf = rf_cell(node.receptive_field)
    lines.append((shape_label(node.shape) + (f" · RF {rf}" if rf not in ("-", "") else ""), "body"))
    if node.macs:
        lines.append((f"{human_count(node.macs)} MACs", "body"))
    return lines


def face_sentence(graph: Graph) -> str:
    one_d = any((d := _dims(n.shape)) and len(d) == 2 for n in graph.nodes)
    two_d = any((d := _dims(n.shape)) and len(d) > 2 for n in graph.nodes)
    face = ("face: height x width" if two_d else "") + (" · " if two_d and one_d else "") + (
        "face: length up (1-D maps)" if one_d else "")  # fmt: skip
    return f"depth {graph.depth} · {face or 'bars: vectors'}; depth: channels (square-root scales)"


def render_volumes(graph: Graph, summary: Summary, fmt: str = "svg") -> bytes:
    """The chain as volumes, left to right, each labelled with its name, work, shape and MACs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

    order = list(graph.nodes)  # call order is the chain's order, input to output
    scale = min(1.0, _TALLEST / (_SIDE * math.sqrt(longest_side(graph))))
    extents = {n.id: extent(n.shape, scale) for n in order}
    labels = {n.id: _lines(n) for n in order}

    def label_width(node: Node) -> float:
        return max(text_width(t, NAME_FONT, True) if s == "name" else text_width(t, FONT) for t, s in labels[node.id])

    slots: list[tuple[Node, float]] = []  # node, left of its face
    x = 0.0
    for node in order:
        e = extents[node.id]
        slot = max(e.across, label_width(node))
        slots.append((node, x + (slot - e.across) / 2))
        x += slot + _GAP
    tallest = max((e.tall for e in extents.values()), default=1.0)
    label_rows = max(len(v) for v in labels.values())
    name, title = heading(summary, title_lines(summary, graph, "macs")[:1] + [face_sentence(graph)]
                          + [f"{n[0].upper()}{n[1:]}" for n in graph.notes])  # fmt: skip
    head = 0.32 + len(title) * FONT * LINE_HEIGHT / 72 + 0.25
    margin = 0.3
    width = max(x - _GAP, heading_width(name, title)) + 2 * margin
    height = head + tallest + 0.15 + label_rows * FONT * LINE_HEIGHT / 72 + margin
    figure = Figure(figsize=(width, height), dpi=DPI)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    draw_heading(ax, name, title, margin)

    middle = head + tallest / 2 + 0.1
    base = head + tallest + 0.25
    faces: dict[str, tuple[float, float]] = {}  # left and right of each volume, receding included
    for node, left in slots:
        e = extents[node.id]
        left += margin
        top = middle - e.height / 2 + _RECEDE[1] * e.depth / 2
        flat = len(node.shape) == 2 if isinstance(node.shape, list) else False
        colour = "#e8e8e8" if node.kind == "input" else "#f2c18d" if flat else "#9cc3e4"
        if e.depth > 0:  # the top and the side, receding up and to the right: the channels
            dx, dy = _RECEDE[0] * e.depth, -_RECEDE[1] * e.depth
            w, h = e.width, e.height
            top_face = [(left, top), (left + w, top), (left + w + dx, top + dy), (left + dx, top + dy)]
            side_face = [(left + w, top), (left + w, top + h), (left + w + dx, top + h + dy), (left + w + dx, top + dy)]
            ax.add_patch(Polygon(top_face, closed=True, facecolor=colour, edgecolor="#333", linewidth=0.6, alpha=0.75))
            ax.add_patch(Polygon(side_face, closed=True, facecolor=colour, edgecolor="#333", linewidth=0.6, alpha=0.55,
                                 gid=f"depth:{node.id}"))  # fmt: skip
        ax.add_patch(Rectangle((left, top), e.width, e.height, facecolor=colour, edgecolor="#222", linewidth=0.8,
                               gid=f"node:{node.id}"))  # fmt: skip
        faces[node.id] = (left, left + e.across)
        centre = left + e.across / 2
        for i, (line, style) in enumerate(labels[node.id]):
            ax.text(centre, base + i * FONT * LINE_HEIGHT / 72, line, fontsize=NAME_FONT if style == "name" else FONT,
                    fontweight="bold" if style == "name" else "normal", ha="center", va="top", color="#111",
                    gid=f"label:{node.id}:{i}", parse_math=False, fontfamily="DejaVu Sans")  # fmt: skip
    for a, b in graph.edges:
        ax.add_patch(FancyArrowPatch((faces[a][1] + 0.04, middle), (faces[b][0] - 0.04, middle), arrowstyle="-|>",
                                     mutation_scale=7, color="#777", linewidth=0.8, gid=f"edge:{a}->{b}"))  # fmt: skip
    return save_figure(figure, fmt)
