"""The graph drawn with matplotlib: one code path for SVG, PNG and PDF.

Every artist that stands for part of the graph carries a ``gid``, which matplotlib writes as
the SVG element's id, so the picture can be checked by parsing it: ``node:<id>`` (the box),
``label:<id>:<line>`` (its text), ``edge:<source>-><target>``, ``frame:<id>`` and
``frame-label:<id>``. Text stays text in SVG (``svg.fonttype: none``): searchable and small.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from typing import Any, Literal

from archscope.analysis.records import Summary
from archscope.draw.graph import Frame, Graph, Node
from archscope.draw.geometry import FrameSpec
from archscope.draw.layout import layered_layout
from archscope.quiet import library_noise_silenced
from archscope.text.fields import rf_cell
from archscope.text.numbers import human_count, milliseconds, shape_text
from archscope.text.safety import LABEL_MOST, shorten

Weight = Literal["macs", "params", "time"]
_WEIGHT_NAMES = {"macs": "MACs", "params": "parameters", "time": "time (CPU median, from profile)"}
FORMATS = ("svg", "png", "pdf")

FONT = 7.0  # points: the smallest text a printed page or a screen at 100% still reads
NAME_FONT = 7.5
LINE_HEIGHT = 1.35  # line height, in ems
_PAD = 0.07  # inches of box around its text
_CARDS = 0.1  # inches the cards behind a repeated block peek out, right and down
DPI = 110

_SHORT_TYPES = {
    "Conv1d": "conv", "Conv2d": "conv", "Conv3d": "conv", "ConvTranspose1d": "deconv", "ConvTranspose2d": "deconv",
    "ConvTranspose3d": "deconv", "Linear": "fc", "MaxPool1d": "max pool", "MaxPool2d": "max pool",
    "MaxPool3d": "max pool", "AvgPool1d": "avg pool", "AvgPool2d": "avg pool", "AvgPool3d": "avg pool",
    "AdaptiveAvgPool1d": "avg pool", "AdaptiveAvgPool2d": "avg pool", "AdaptiveAvgPool3d": "avg pool",
    "AdaptiveMaxPool2d": "max pool", "BatchNorm1d": "BN", "BatchNorm2d": "BN", "BatchNorm3d": "BN",
    "LocalResponseNorm": "LRN", "Dropout": "dropout", "Dropout2d": "dropout", "Flatten": "flatten",
}  # fmt: skip
_OPS = {"add": "add", "cat": "concat", "mul": "multiply", "sub": "subtract", "relu": "ReLU", "matmul": "matmul"}
# Functional windows and resamplings by their ATen names' stems: F.max_pool2d runs as max_pool2d_with_indices.
_OP_STEMS = (("max_pool", "max pool"), ("avg_pool", "avg pool"), ("adaptive_max_pool", "max pool"),
             ("adaptive_avg_pool", "avg pool"), ("upsample_nearest", "upsample (nearest)"),
             ("upsample_bilinear", "upsample (bilinear)"), ("upsample_bicubic", "upsample (bicubic)"),
             ("upsample_linear", "upsample (linear)"), ("upsample_trilinear", "upsample (trilinear)"))  # fmt: skip


def op_text(op: str) -> str:
    """An operator called between layers, in words: 'add', 'concat', 'max pool' for max_pool2d_with_indices."""
    if op in _OPS:
        return _OPS[op]
    return next((words for stem, words in _OP_STEMS if op.startswith(stem)), label_text(op, _TYPE_MOST))


_TYPE_MOST = 24  # characters of a class name inside a box's description ("MyVeryOwnBlock: 1x1 · 3x3")
_LINE_MOST = 2 * LABEL_MOST  # any one line of a box
# Geometry that says nothing to a reader of this layer (LRN runs as a 5x1x1 average over channels).
_NO_GEOMETRY = ("LocalResponseNorm",)


def label_text(value: object, most: int = LABEL_MOST) -> str:
    """User text for a label: control characters dropped, cut to ``most`` characters as the terminal
    cuts a name it cannot fit; '$' kept literal (parse_math is off too)."""
    return shorten(value, most)


@functools.lru_cache(maxsize=4096)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Inches ``text`` takes in DejaVu Sans at ``size`` points: the wider of its outline (SVG, PDF) and
    of Agg's rendering at the pictures' DPI (PNG, where hinting widens small text), from matplotlib's metrics."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    with library_noise_silenced():  # measuring a name the font has no glyph for warns as drawing it does
        outline, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
        pixels, _, _ = _agg().get_text_width_height_descent(text, prop, ismath=False)
    return max(outline / 72, pixels / DPI)


@functools.lru_cache(maxsize=1)
def _agg() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, DPI)


def _work(type_name: str, geometry: str) -> str:
    """A layer's work in a few words: 'conv 7x7/2', 'fc 9216→4096', 'max pool 3x3/2', 'BN'."""
    detail = "" if type_name in _NO_GEOMETRY else geometry.replace("->", "→")
    return f"{_SHORT_TYPES.get(type_name, label_text(type_name, _TYPE_MOST))} {detail}".strip()


def short(node: Node) -> str:
    """One node's work in a few words: a layer's ('conv 7x7/2'), an operator's ('add'), a container's."""
    if node.kind == "op":
        return op_text(node.type)
    if node.parts:  # a small container: its layers ('conv 7x7/2 + ReLU')
        return " + ".join(_work(t, g) for t, g in node.parts)
    if node.kind == "layer" and node.detail and node.type not in _SHORT_TYPES:
        # A larger one: 'Bottleneck: 1x1 · 3x3 · 1x1 · 1x1'.
        return f"{label_text(node.type, _TYPE_MOST)}: {node.detail}"
    return _work(node.type, node.detail)


def describe(node: Node) -> str:
    """The second line of a box: what it computes."""
    if node.kind in ("chain", "repeat") and node.members:
        first = node.members[0] if node.kind == "repeat" else node
        if first.kind == "chain":
            return " + ".join(short(m) for m in first.members)
        return short(first)
    if node.kind == "span":
        return node.detail
    return short(node)


def shape_label(shape: Any) -> str:
    if isinstance(shape, list) and len(shape) > 1 and all(isinstance(d, int) for d in shape):
        return "x".join(str(d) for d in shape[1:])  # the batch is in the title
    return shape_text(shape)


def node_lines(node: Node, name: str, time_ms: float | None = None) -> list[tuple[str, str]]:
    """The text of a box, line by line, each with its style ('name' or 'body'); with its time when measured."""
    if node.kind == "input":
        return [("input", "name"), (shape_label(node.shape), "body")]
    if node.kind == "op" or (node.kind == "chain" and node.members and node.members[0].kind == "op"):
        return [(label_text(describe(node)), "name"), (shape_label(node.shape), "body")]
    lines = [(label_text(name), "name"), (label_text(describe(node), _LINE_MOST), "body")]
    rf = rf_cell(node.receptive_field)
    lines.append((shape_label(node.shape) + (f" · RF {rf}" if rf not in ("-", "") else ""), "body"))
    figures = f"{human_count(node.params)} params · {human_count(node.macs)} MACs" if node.params or node.macs else ""
    if time_ms:
        figures += (" · " if figures else "") + f"{milliseconds(time_ms)} ms"
    if figures:
        lines.append((figures, "body"))
    if node.first_only_of:  # drawn in a block that stands for several: say it runs in the first only
        lines.append((f"×1 of {node.first_only_of}: the first block only", "body"))
    return lines


@dataclass(frozen=True)
class _Sized:
    node: Node
    lines: list[tuple[str, str]]
    width: float
    height: float


def _relative(name: str, frames: list[Frame]) -> str:
    """A box's name inside its innermost frame ('layer1.0.conv1' in layer1.0 -> 'conv1').

    Not where that would start with a digit: 'features.0-3' says more than '0-3'.
    """
    for frame in frames:
        prefix = frame.inner + "."
        if frame.inner and name.startswith(prefix) and not name[len(prefix)].isdigit():
            return name[len(prefix) :]
    return name


def _size(node: Node, frames: list[Frame], time_ms: float | None = None) -> _Sized:
    lines = node_lines(node, _relative(node.name, frames), time_ms)
    widest = max(text_width(t, NAME_FONT, True) if style == "name" else text_width(t, FONT) for t, style in lines)
    badge = 0.3 if node.kind == "repeat" else 0.0
    cards = _CARDS if node.kind == "repeat" else 0.0  # room for the stack of cards behind a repeat
    height = len(lines) * FONT * LINE_HEIGHT / 72 + 2 * _PAD
    return _Sized(node, lines, max(widest + 2 * _PAD + badge, 0.6) + cards, height + cards)


def frame_label(frame: Frame) -> list[str]:
    """A frame's label: its name and type (× the repeat), then its figures, then any note on a line of its own."""
    head = f"{label_text(frame.name)} · {label_text(frame.type, _TYPE_MOST)}"
    head += f" ×{frame.count}" if frame.count > 1 else ""
    figures = f"{human_count(frame.params)} params · {human_count(frame.macs)} MACs"
    figures += " in all" if frame.count > 1 else ""
    return [head, figures] + ([label_text(frame.note, _LINE_MOST)] if frame.note else [])


def node_times(graph: Graph, summary: Summary, times: dict[int, float]) -> dict[str, float]:
    """Each box's time: the measured layer calls (``Summary.layers`` index -> ms) inside the calls it stands for."""
    ends: dict[int, int] = {}
    for index, layer in enumerate(summary.layers):  # a call's subtree is the records after it, until one as shallow
        end = index + 1
        while end < len(summary.layers) and summary.layers[end].depth > layer.depth:
            end += 1
        ends[index] = end
    out: dict[str, float] = {}
    for node in graph.nodes:
        covered = {r for call in node.layers for r in times if call <= r < ends[call]}
        out[node.id] = sum(times[r] for r in covered)
    return out


def _shades(graph: Graph, weight: Weight, times: dict[str, float]) -> dict[str, float]:
    """0..1 per node, on a log scale between the smallest and largest non-zero weight."""
    if weight == "time":
        values = {n.id: times.get(n.id, 0.0) for n in graph.nodes}
    else:
        values = {n.id: float(n.macs if weight == "macs" else n.params) for n in graph.nodes}
    positive = [v for v in values.values() if v > 0]
    if not positive:
        return {k: 0.0 for k in values}
    low, high = math.log10(min(positive)), math.log10(max(positive))
    span = high - low or 1.0
    return {k: (0.15 + 0.85 * (math.log10(v) - low) / span) if v > 0 else 0.0 for k, v in values.items()}


def _edge_path(points: tuple[tuple[float, float], ...]):
    """Through the route's points: straight down between two of the same x, a smooth S between two others."""
    from matplotlib.path import Path

    verts = [points[0]]
    codes = [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if abs(x1 - x0) < 1e-9:
            verts.append((x1, y1))
            codes.append(Path.LINETO)
        else:
            mid = (y0 + y1) / 2
            verts += [(x0, mid), (x1, mid), (x1, y1)]
            codes += [Path.CURVE4] * 3
    return Path(verts, codes)


TEXT_OPTIONS = {"parse_math": False, "fontfamily": "DejaVu Sans"}
TITLE_FONT = 11.0


def heading(summary: Summary, lines: list[str]) -> tuple[str, list[str]]:
    """The picture's name (the model, cut as a name is) and its title lines, as drawn."""
    return label_text(summary.model, _LINE_MOST), [label_text(line, 4 * _LINE_MOST) for line in lines]


def heading_width(name: str, lines: list[str]) -> float:
    return max([text_width(name, TITLE_FONT, True)] + [text_width(line, FONT) for line in lines])


def draw_heading(ax: Any, name: str, lines: list[str], margin: float) -> None:
    ax.text(margin, 0.12, name, fontsize=TITLE_FONT, fontweight="bold", va="top", gid="title", **TEXT_OPTIONS)
    for i, line in enumerate(lines):
        ax.text(margin, 0.36 + i * FONT * LINE_HEIGHT / 72, line, fontsize=FONT, va="top", color="#444",
                gid=f"title:{i}", **TEXT_OPTIONS)  # fmt: skip


def title_lines(summary: Summary, graph: Graph, weight: Weight) -> list[str]:
    totals = summary.totals
    rf = summary.receptive_field
    rf_text = f" · receptive field {rf_cell(rf)}" if rf and rf_cell(rf) not in ("-", "?") else ""
    lines = [
        f"input {shape_text(summary.input_shape)} → output {shape_text(summary.output_shape)} · "
        f"{human_count(totals.params)} params · {human_count(totals.macs)} MACs{rf_text}",
        f"depth {graph.depth} · shade: {_WEIGHT_NAMES[weight]} per box, log scale · "
        "RF: receptive field in input pixels",
    ]
    lines += [f"{note[0].upper()}{note[1:]}" for note in graph.notes]
    return lines


def render_graph(
    graph: Graph, summary: Summary, fmt: str = "svg", weight: Weight = "macs", times: dict[int, float] | None = None
) -> bytes:
    """The graph as SVG, PNG or PDF bytes; ``times`` (ms per ``Summary.layers`` index) for ``weight="time"``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    frames_of: dict[str, list[Frame]] = {n.id: [] for n in graph.nodes}
    for frame in sorted(graph.frames, key=lambda f: len(f.nodes)):  # innermost first
        for node_id in frame.nodes:
            frames_of[node_id].append(frame)
    measured = node_times(graph, summary, times) if times else {}
    sized = {n.id: _size(n, frames_of[n.id], measured.get(n.id)) for n in graph.nodes}
    labels = {f.id: frame_label(f) for f in graph.frames}
    layout = layered_layout(
        [(n.id, sized[n.id].width, sized[n.id].height) for n in graph.nodes],
        graph.edges,
        [FrameSpec(f.id, frozenset(f.nodes), *_label_size(labels[f.id])) for f in graph.frames],
    )

    name, title = heading(summary, title_lines(summary, graph, weight))
    head = 0.32 + len(title) * FONT * LINE_HEIGHT / 72 + 0.15
    margin = 0.25
    width = max(layout.width, heading_width(name, title)) + 2 * margin
    height = layout.height + head + margin
    figure = Figure(figsize=(width, height), dpi=DPI)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()

    def at(x: float, y: float) -> tuple[float, float]:
        return x + margin, y + head

    text_options = TEXT_OPTIONS
    draw_heading(ax, name, title, margin)

    import matplotlib.cm as cm

    cmap = matplotlib.colormaps["Blues"] if hasattr(matplotlib, "colormaps") else cm.get_cmap("Blues")
    for frame in sorted(graph.frames, key=lambda f: -layout.frames[f.id].level if f.id in layout.frames else 0):
        box = layout.frames.get(frame.id)
        if box is None:
            continue
        x0, y0 = at(box.x0, box.y0)
        fill = "#f6f6f2" if box.level % 2 else "#eef1f6"
        ax.add_patch(FancyBboxPatch(
            (x0, y0), box.x1 - box.x0, box.y1 - box.y0, boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=fill, edgecolor="#9a9a9a", linewidth=0.8,
            linestyle="-" if frame.count == 1 else (0, (4, 2)), gid=f"frame:{frame.id}", zorder=1,
        ))  # fmt: skip
        label_x, label_y = at(*box.label[:2])
        for i, line in enumerate(labels[frame.id]):
            # Where the layout left room: no edge passes under a label.
            ax.text(label_x, label_y + i * FONT * LINE_HEIGHT / 72, line, fontsize=FONT, va="top", ha="left",
                    fontweight="bold" if i == 0 else "normal", color="#333", gid=f"frame-label:{frame.id}:{i}",
                    zorder=3.2, bbox={"facecolor": fill, "edgecolor": "none", "pad": 0.6}, **text_options)  # fmt: skip

    for route in layout.routes:
        ax.add_patch(FancyArrowPatch(
            path=_edge_path(tuple(at(*p) for p in route.points)), arrowstyle="-|>", mutation_scale=7,
            color="#555", linewidth=0.9, shrinkA=0, shrinkB=0, gid=f"edge:{route.source}->{route.target}", zorder=3,
        ))  # fmt: skip

    shade = _shades(graph, weight, measured)
    for node in graph.nodes:
        box, item = layout.boxes[node.id], sized[node.id]
        x, y = at(box.x - box.width / 2, box.y - box.height / 2)
        width, height = (box.width - _CARDS, box.height - _CARDS) if node.kind == "repeat" else (box.width, box.height)
        merge = node.kind == "op" or (node.kind == "chain" and node.members[0].kind == "op")
        if node.kind == "input":
            fill = "#e8e8e8"
        else:  # merges and boxes with no weight stay white; the rest darken with their weight
            fill = "white" if merge or shade[node.id] == 0 else cmap(0.05 + 0.5 * shade[node.id])
        if node.kind == "repeat":  # a stack of cards: the block is there N times
            for k in (2, 1):
                ax.add_patch(FancyBboxPatch(
                    (x + _CARDS / 2 * k, y + _CARDS / 2 * k), width, height, boxstyle="round,pad=0,rounding_size=0.05",
                    facecolor=fill, edgecolor="#333", linewidth=0.6, zorder=3.5,
                ))  # fmt: skip
        ax.add_patch(FancyBboxPatch(
            (x, y), width, height, boxstyle="round,pad=0,rounding_size=0.05", facecolor=fill,
            edgecolor="#222", linewidth=1.2 if merge else 0.8, gid=f"node:{node.id}", zorder=4,
        ))  # fmt: skip
        for i, (line, style) in enumerate(item.lines):
            ax.text(
                x + _PAD, y + _PAD + i * FONT * LINE_HEIGHT / 72, line, fontsize=NAME_FONT if style == "name" else FONT,
                fontweight="bold" if style == "name" else "normal", va="top", ha="left", color="#111",
                gid=f"label:{node.id}:{i}", zorder=5, **text_options,
            )  # fmt: skip
        if node.kind == "repeat":
            ax.text(x + width - _PAD, y + height / 2, f"×{node.count}", fontsize=10, fontweight="bold",
                    va="center", ha="right", color="#b03000", gid=f"count:{node.id}", zorder=5, **text_options)  # fmt: skip

    return save_figure(figure, fmt)


def _label_size(lines: list[str]) -> tuple[float, float]:
    """Inches a frame's label takes: its widest line (the first is bold), and its lines' height."""
    width = max(text_width(line, FONT, i == 0) for i, line in enumerate(lines))
    return width, len(lines) * FONT * LINE_HEIGHT / 72


def save_figure(figure: Any, fmt: str) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    options = {"svg.fonttype": "none", "svg.hashsalt": "archscope", "pdf.fonttype": 42}
    with matplotlib.rc_context(options), library_noise_silenced():  # a name the font has no glyph for
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()

