"""Reading a drawing back from its SVG: the boxes, their text, the edges and the frames, by their ids."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

_SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Drawing:
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # id -> x0, y0, x1, y1 (y down)
    labels: dict[str, list[str]] = field(default_factory=dict)  # node id -> its lines
    edges: list[tuple[str, str]] = field(default_factory=list)
    frames: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    frame_labels: dict[str, list[str]] = field(default_factory=dict)
    title: list[str] = field(default_factory=list)
    counts: dict[str, str] = field(default_factory=dict)  # a repeat's "×3" badge

    def text(self, node_id: str) -> str:
        return " | ".join(self.labels.get(node_id, []))

    def centre(self, node_id: str) -> tuple[float, float]:
        x0, y0, x1, y1 = self.boxes[node_id]
        return (x0 + x1) / 2, (y0 + y1) / 2

    def frame_text(self, frame_id: str) -> str:
        return " | ".join(self.frame_labels.get(frame_id, []))


def _bounds(group: ET.Element) -> tuple[float, float, float, float]:
    numbers = [float(v) for path in group.iter(f"{_SVG}path") for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _text(group: ET.Element) -> str:
    return "".join("".join(t.itertext()) for t in group.iter(f"{_SVG}text"))


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
        elif kind == "edge":
            a, _, b = rest.partition("->")
            drawing.edges.append((a, b))
        elif kind == "frame":
            drawing.frames[rest] = _bounds(group)
        elif kind == "frame-label":
            frame_id, _, _ = rest.rpartition(":")
            drawing.frame_labels.setdefault(frame_id, []).append(_text(group))
        elif kind == "title":
            drawing.title.append(_text(group))
        elif kind == "count":
            drawing.counts[rest] = _text(group)
    return drawing
