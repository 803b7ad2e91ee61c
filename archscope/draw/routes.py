"""Frames and edges once the boxes are placed: how wide each frame is, straight lanes for skips,
and each edge's path, which bends only where no frame's label or border is.

* A frame holds its boxes and the lanes of edges between them, and is at least as wide as its
  label. An edge that enters a frame at its first rank, where the label is, comes down beside
  the label (a *port*) and turns to its box below it; the frame is widened for that if needed.
* A skip's lane (the dummy points of an edge that passes several ranks) is drawn as one straight
  line where the ranks allow, outside every frame it is not part of; the shortest lanes are
  placed first, so nested skips (a U-Net's) nest as arcs instead of weaving round each other.
* Between two ranks an edge bends in the *corridor*: below the borders of the frames that end
  above, above the labels of the frames that start below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

from archscope.draw.geometry import FRAME_SIDE, LABEL_INSET, LANE_GAP, PORT_GAP, Box, FrameBox, FrameSpec

_ROOM = 0.09  # inches right of a label to the frame's side


@dataclass
class Rows:
    """The placed ranks: their order, each point's x and size, the frames holding it."""

    layers: list[list[Hashable]]
    x: dict[Hashable, float]
    size: dict[Hashable, tuple[float, float]]
    holders: dict[Hashable, frozenset[str]]
    rank: dict[str, int]
    gap: Callable[[Hashable, Hashable], float]

    def __post_init__(self) -> None:
        self.position = {n: (r, i) for r, layer in enumerate(self.layers) for i, n in enumerate(layer)}

    def in_order(self) -> bool:
        """Every rank keeps its order and gaps."""
        return all(
            self.x[b] - self.x[a] >= self.gap(a, b) - 1e-6 for layer in self.layers for a, b in zip(layer, layer[1:])
        )


class FrameGeometry:
    """Each frame's sides and the ports of the edges entering it beside its label."""

    def __init__(
        self, specs: Sequence[FrameSpec], rows: Rows, level: dict[str, int], first: dict[str, int], last: dict[str, int]
    ) -> None:
        self.specs = [f for f in specs if any(n in rows.rank for n in f.members)]
        self.rows, self.level, self.first, self.last = rows, level, first, last
        # Inner frames first, so a frame is widened after the frames inside it.
        self.specs.sort(key=lambda f: len(f.members))

    def sides(self, room: dict[str, float]) -> dict[str, list[float]]:
        """x0, x1 of each frame: its boxes and lanes, padded by its nesting, as wide as its label and as ``room``
        (a least x1 per frame) asks."""
        rows, out = self.rows, {}
        for f in self.specs:
            inside = [n for n in f.members if n in rows.rank]
            xs = [rows.x[n] - rows.size[n][0] / 2 for n in inside] + [rows.x[n] + rows.size[n][0] / 2 for n in inside]
            xs += [rows.x[d] for d in rows.x if not isinstance(d, str) and f.id in rows.holders[d]]
            pad = FRAME_SIDE * self.level[f.id]
            x0, x1 = min(xs) - pad, max(xs) + pad
            x1 = max(x1, x0 + LABEL_INSET + f.label_width + _ROOM, room.get(f.id, x1))
            for inner in self.specs:  # the frames inside it, with their own widening
                if inner.id in out and inner.members < f.members:
                    x0, x1 = min(x0, out[inner.id][0] - FRAME_SIDE), max(x1, out[inner.id][1] + FRAME_SIDE)
            out[f.id] = [x0, x1]
        return out

    def label_right(self, frame: FrameSpec, sides: dict[str, list[float]]) -> float:
        return sides[frame.id][0] + LABEL_INSET + frame.label_width

    def _entered(self, edges: Sequence[tuple[str, str]], sides: dict[str, list[float]]):
        """Edges whose way into their box passes under a label: (edge, the frames whose labels it passes,
        innermost first)."""
        rows = self.rows
        for a, b in edges:
            if b not in rows.rank or a not in rows.rank or rows.rank[b] <= rows.rank[a]:
                continue
            stack = [
                f for f in self.specs if b in f.members and a not in f.members and self.first[f.id] == rows.rank[b]
            ]
            if not stack:
                continue
            xb = rows.x[b]
            under = any(
                sides[f.id][0] + LABEL_INSET - PORT_GAP < xb < self.label_right(f, sides) + PORT_GAP for f in stack
            )
            if under:
                yield (a, b), stack

    def _sources(self, edges: Sequence[tuple[str, str]], sides: dict[str, list[float]]) -> dict:
        """For each ported edge: its frames, and its source's place among the sources entering there (left to right)."""
        entered = list(self._entered(edges, sides))
        by_door: dict[tuple[str, int], list[str]] = {}
        for (a, b), stack in entered:
            door = (stack[0].id, self.rows.rank[b])
            by_door.setdefault(door, [])
            if a not in by_door[door]:
                by_door[door].append(a)
        for sources in by_door.values():
            sources.sort(key=lambda a: self.rows.x[a])
        return {
            edge: (stack, by_door[(stack[0].id, self.rows.rank[edge[1]])].index(edge[0])) for edge, stack in entered
        }

    def port_room(self, edges: Sequence[tuple[str, str]]) -> dict[str, float]:
        """The least x1 of each frame that ported edges enter: room right of its labels for each source."""
        sides = self.sides({})
        room: dict[str, float] = {}
        for _, (stack, k) in self._sources(edges, sides).items():
            need = max(self.label_right(f, sides) for f in stack) + PORT_GAP * (k + 2)
            room[stack[0].id] = max(room.get(stack[0].id, need), need)
        return room

    def ports(self, edges: Sequence[tuple[str, str]], sides: dict[str, list[float]]) -> dict[tuple[str, str], tuple]:
        """Each ported edge's x beside the labels, and the frames whose labels it passes."""
        return {
            edge: (max(self.label_right(f, sides) for f in stack) + PORT_GAP * (k + 1), tuple(f.id for f in stack))
            for edge, (stack, k) in self._sources(edges, sides).items()
        }

    def span(self, frame: FrameSpec) -> tuple[int, int]:
        return self.first[frame.id], self.last[frame.id]


def straighten_lanes(
    rows: Rows, lanes: dict[tuple[str, str], list[Hashable]], frames: FrameGeometry, room: dict[str, float]
) -> None:
    """Each lane at one x, the shortest first, between its neighbours and outside the frames it is not in.

    Where a lane cannot be straight (its ranks leave no common x) it keeps its bends; if the result
    would break a rank's order, or put more lanes inside frames than before, every lane is put back.
    """
    before = dict(rows.x)
    sides = frames.sides(room)
    intruding = _intrusions(rows, lanes, frames, sides)
    fixed: set[Hashable] = {n for n in rows.x if isinstance(n, str)}
    for _, dummies in sorted(lanes.items(), key=lambda item: len(item[1])):
        if not dummies:
            continue
        low, high = -math.inf, math.inf
        for d in dummies:
            lo, hi = _room(rows, d, fixed, frames, sides)
            low, high = max(low, lo), min(high, hi)
        if low <= high:
            mean = sum(rows.x[d] for d in dummies) / len(dummies)
            for d in dummies:
                rows.x[d] = min(max(mean, low), high)
        fixed.update(dummies)
    if not rows.in_order() or _intrusions(rows, lanes, frames, frames.sides(room)) > intruding:
        rows.x.update(before)


def _room(
    rows: Rows, d: Hashable, fixed: set[Hashable], frames: FrameGeometry, sides: dict[str, list[float]]
) -> tuple[float, float]:
    """The least and most x of lane point ``d`` among the placed points of its rank and the frames beside it."""
    r, i = rows.position[d]
    layer = rows.layers[r]
    low, high = -math.inf, math.inf
    need, j = 0.0, i
    while j > 0:
        need += rows.gap(layer[j - 1], layer[j])
        j -= 1
        if layer[j] in fixed:
            low = rows.x[layer[j]] + need
            break
    need, j = 0.0, i
    while j < len(layer) - 1:
        need += rows.gap(layer[j], layer[j + 1])
        j += 1
        if layer[j] in fixed:
            high = rows.x[layer[j]] - need
            break
    for f in frames.specs:
        first, last = frames.span(f)
        if f.id in rows.holders[d] and r == first:  # a lane entering a frame where its label is: beside the label
            low = max(low, frames.label_right(f, sides) + PORT_GAP)
        if f.id in rows.holders[d] or not first <= r <= last:
            continue
        x0, x1 = sides[f.id]
        here = [k for k, n in enumerate(layer) if n in f.members]
        left = here[-1] < i if here else rows.x[d] >= (x0 + x1) / 2
        right = here[0] > i if here else not left
        between = range(here[-1] + 1, i) if here and left else range(i + 1, here[0]) if here and right else range(0)
        others = sum(1 for k in between if layer[k] not in fixed) * LANE_GAP  # lanes still to be placed there
        if left:
            low = max(low, x1 + LANE_GAP + others)
        elif right:
            high = min(high, x0 - LANE_GAP - others)
    return low, high


def _intrusions(
    rows: Rows, lanes: dict[tuple[str, str], list[Hashable]], frames: FrameGeometry, sides: dict[str, list[float]]
) -> int:
    """Lane points inside a frame they are not part of."""
    count = 0
    for dummies in lanes.values():
        for d in dummies:
            r = rows.position[d][0]
            for f in frames.specs:
                first, last = frames.span(f)
                x0, x1 = sides[f.id]
                if f.id not in rows.holders[d] and first <= r <= last and x0 - 1e-6 < rows.x[d] < x1 + 1e-6:
                    count += 1
    return count


def route_points(
    a: Box,
    b: Box,
    lane: list[float],
    rank_a: int,
    corridor: Callable[[int], tuple[float, float]],
    port: tuple[float, tuple[str, ...]] | None,
    frames: dict[str, FrameBox],
) -> tuple[tuple[float, float], ...]:
    """Down from ``a``, through its lane, into ``b``: straight down each rank, bending only in the corridors.

    A ported edge comes down beside the labels and turns to its box just under them.
    """
    entry = port[0] if port else b.x
    columns = [a.x, *lane, entry]
    points = [(a.x, a.bottom)]
    for k in range(len(columns) - 1):
        upper, lower = corridor(rank_a + k)
        points += [(columns[k], upper), (columns[k + 1], lower)]
    if port:
        under = max(frames[f].label[3] for f in port[1] if f in frames) + 0.03
        points.append((entry, min(under, b.top - 0.05)))
    points.append((b.x, b.top))
    out = [points[0]]
    for px, py in points[1:]:
        py = max(py, out[-1][1])  # never up, whatever rounding did
        if abs(px - out[-1][0]) > 1e-9 or abs(py - out[-1][1]) > 1e-9:
            out.append((px, py))
    return tuple(out)
