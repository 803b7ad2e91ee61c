"""Reading a drawing back from its SVG: the boxes, their text, the edges and the frames, by their ids.

Geometry is read in the SVG's own units (points, y down): a box's outline, an edge's path as a
polyline (its cubic pieces sampled), a text's anchor and font, so tests can pin what a reader
sees (an edge that crosses a label, two wires that cross, text that leaves its box) without
looking at pixels.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

_SVG = "{http://www.w3.org/2000/svg}"
_NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 (y down)


@dataclass(frozen=True)
class Text:
    """One line of text as drawn: its string, anchor, font size (points) and weight."""

    string: str
    x: float
    y: float  # the baseline
    size: float
    bold: bool
    anchor: str  # start, middle, end

    def extent(self) -> Rect:
        """The ink box of the line, measured with matplotlib's own DejaVu Sans metrics."""
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        prop = FontProperties(family="DejaVu Sans", size=self.size, weight="bold" if self.bold else "normal")
        width, height, descent = TextToPath().get_text_width_height_descent(self.string, prop, ismath=False)
        x0 = self.x - {"start": 0.0, "middle": width / 2, "end": width}[self.anchor]
        return x0, self.y - (height - descent), x0 + width, self.y + descent


@dataclass
class Drawing:
    boxes: dict[str, Rect] = field(default_factory=dict)  # id -> x0, y0, x1, y1 (y down)
    labels: dict[str, list[str]] = field(default_factory=dict)  # node id -> its lines
    texts: dict[str, list[Text]] = field(default_factory=dict)  # node id -> its lines, with where they are
    edges: list[tuple[str, str]] = field(default_factory=list)
    paths: dict[tuple[str, str], list[Point]] = field(default_factory=dict)  # an edge's line, without its head
    frames: dict[str, Rect] = field(default_factory=dict)
    frame_labels: dict[str, list[str]] = field(default_factory=dict)
    frame_texts: dict[str, list[Text]] = field(default_factory=dict)
    title: list[str] = field(default_factory=list)
    counts: dict[str, str] = field(default_factory=dict)  # a repeat's "×3" badge
    depths: dict[str, Rect] = field(default_factory=dict)  # a volume's side face: its channels, receding

    def text(self, node_id: str) -> str:
        return " | ".join(self.labels.get(node_id, []))

    def centre(self, node_id: str) -> tuple[float, float]:
        x0, y0, x1, y1 = self.boxes[node_id]
        return (x0 + x1) / 2, (y0 + y1) / 2

    def frame_text(self, frame_id: str) -> str:
        return " | ".join(self.frame_labels.get(frame_id, []))

    def frame_label_box(self, frame_id: str) -> Rect:
        """The ink of a frame's label, all its lines."""
        return union(t.extent() for t in self.frame_texts[frame_id])


def union(rects) -> Rect:
    rects = list(rects)
    return min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects)


def _polyline(d: str, steps: int = 24) -> list[Point]:
    """An SVG path of M, L, C and z commands as points, each cubic sampled at ``steps`` points."""
    points: list[Point] = []
    for command, numbers in re.findall(rf"([MLCz])((?:\s*{_NUMBER})*)", d):
        values = [float(v) for v in re.findall(_NUMBER, numbers)]
        if command in "ML":
            points += list(zip(values[0::2], values[1::2]))
        elif command == "C":
            for k in range(0, len(values), 6):
                (x0, y0), (x1, y1, x2, y2, x3, y3) = points[-1], values[k : k + 6]
                for i in range(1, steps + 1):
                    t = i / steps
                    a, b, c, e = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
                    points.append((a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3))
    return points


def _bounds(group: ET.Element) -> Rect:
    numbers = [float(v) for path in group.iter(f"{_SVG}path") for v in re.findall(_NUMBER, path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _text(group: ET.Element) -> str:
    return "".join("".join(t.itertext()) for t in group.iter(f"{_SVG}text"))


def _texts(group: ET.Element) -> list[Text]:
    out = []
    for element in group.iter(f"{_SVG}text"):
        style = element.get("style", "")
        size = float(re.search(rf"font-size: ({_NUMBER})px", style).group(1))
        anchor = re.search(r"text-anchor: (\w+)", style)
        out.append(Text("".join(element.itertext()), float(element.get("x")), float(element.get("y")), size,
                        "font-weight: 700" in style or "font-weight: bold" in style,
                        anchor.group(1) if anchor else "start"))  # fmt: skip
    return out


def parse(svg: bytes) -> Drawing:
    """Every element archscope gave an id: node:<id>, label:<id>:<line>, edge:<a>-><b>, frame:<id>, ..."""
    drawing = Drawing()
    root = ET.fromstring(svg)
    for group in root.iter(f"{_SVG}g"):
        gid = group.get("id", "")
        kind, _, rest = gid.partition(":")
        if kind == "node":
            drawing.boxes[rest] = _bounds(group)
        elif kind == "label":
            node_id, _, line = rest.rpartition(":")
            drawing.labels.setdefault(node_id, []).append(_text(group))
            drawing.texts.setdefault(node_id, []).extend(_texts(group))
        elif kind == "edge":
            a, _, b = rest.partition("->")
            drawing.edges.append((a, b))
            line = next(group.iter(f"{_SVG}path"), None)  # the first path is the line, the second its head
            drawing.paths[(a, b)] = _polyline(line.get("d", "")) if line is not None else []
        elif kind == "frame":
            drawing.frames[rest] = _bounds(group)
        elif kind == "frame-label":
            frame_id, _, _ = rest.rpartition(":")
            drawing.frame_labels.setdefault(frame_id, []).append(_text(group))
            drawing.frame_texts.setdefault(frame_id, []).extend(_texts(group))
        elif kind == "title":
            drawing.title.append(_text(group))
        elif kind == "count":
            drawing.counts[rest] = _text(group)
        elif kind == "depth":
            drawing.depths[rest] = _bounds(group)
    return drawing


# --------------------------------------------------------------------------- geometry


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """The two segments cross properly (touching at an end, or running along each other, is not crossing)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


def crossings(a: list[Point], b: list[Point]) -> list[Point]:
    """Where polyline a crosses polyline b (approximately: the point of a's segment)."""
    found = []
    for p1, p2 in zip(a, a[1:]):
        for q1, q2 in zip(b, b[1:]):
            if segments_cross(p1, p2, q1, q2):
                found.append(p1)
    return found


def enters(path: list[Point], rect: Rect, margin: float = 0.0) -> bool:
    """Some point of the path lies inside ``rect`` grown by ``margin``."""
    x0, y0, x1, y1 = rect
    return any(x0 - margin < x < x1 + margin and y0 - margin < y < y1 + margin for x, y in path)
