"""A layered layout of a small directed graph, top to bottom, in inches; no system binary.

The classic steps of Sugiyama et al. (1981), kept simple for graphs of at most a few hundred
boxes:

1. **Ranks** by longest path from the inputs, so every edge points down.
2. **Dummy points** on each rank an edge skips, so a long edge (a residual skip, a short
   inception branch) gets its own lane beside the boxes it passes instead of crossing them.
3. **Order** within each rank: call order first (an inception module's branches left to
   right, a skip lane to the right of its block), then barycentre sweeps, keeping the order
   with the fewest crossings.
4. **Positions**: each box moves towards the mean of its neighbours, the order and the gaps
   kept by a weighted isotonic regression (pool adjacent violators). Dummy points weigh little,
   so a chain of boxes stays straight and its skip bends around it, as an arc.

Frames (boxes drawn around a module's boxes) only widen the gaps at their borders.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Hashable, Iterable, Sequence

from archscope.draw.geometry import (
    BOX_GAP, CORRIDOR, FRAME_LABEL, FRAME_SIDE, LABEL_BELOW, LABEL_INSET, LABEL_TOP, LANE_GAP, PORT_TURN, RANK_GAP,
    Box, FrameBox, FrameSpec, Layout, Route,
)
from archscope.draw.routes import FrameGeometry, Rows, route_points, straighten_lanes

_DUMMY_WEIGHT = 0.01  # how little a lane resists being moved aside

def _ranks(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources; an edge back in call order (never made by a trace) is ignored."""
    position = {n: i for i, n in enumerate(ids)}
    rank = {n: 0 for n in ids}
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        if position[a] < position[b]:
            preds[b].append(a)
    for n in ids:
        if preds[n]:
            rank[n] = 1 + max(rank[a] for a in preds[n])
    return rank


def _pava(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in weighted least squares."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for mean, _, count in blocks:
        out.extend([mean] * int(count))
    return out


def _crossings(upper: list[Hashable], lower: list[Hashable], links: list[tuple[Hashable, Hashable]]) -> int:
    top = {n: i for i, n in enumerate(upper)}
    bottom = {n: i for i, n in enumerate(lower)}
    pairs = sorted((top[a], bottom[b]) for a, b in links if a in top and b in bottom)
    count = 0
    for i, (a1, b1) in enumerate(pairs):
        for a2, b2 in pairs[i + 1 :]:
            if a2 > a1 and b2 < b1:
                count += 1
    return count


def _spec(frame: FrameSpec | tuple) -> FrameSpec:
    return frame if isinstance(frame, FrameSpec) else FrameSpec(frame[0], frozenset(frame[1]), *frame[2:])


def layered_layout(
    nodes: Sequence[tuple[str, float, float]],
    edges: Sequence[tuple[str, str]],
    frames: Sequence[FrameSpec | tuple[str, set[str]]] = (),
) -> Layout:
    """Place ``nodes`` (id, width, height; in call order) so that every edge points down.

    ``frames`` are drawn around their members, each with room for its label; no edge crosses a label.
    """
    specs = [_spec(f) for f in frames]
    ids = [n for n, _, _ in nodes]
    size: dict[Hashable, tuple[float, float]] = {n: (w, h) for n, w, h in nodes}
    rank = _ranks(ids, edges)
    top_rank = max(rank.values(), default=0)

    # Frames: which frames hold each node, and how deeply they nest.
    holders: dict[Hashable, frozenset[str]] = {n: frozenset(f.id for f in specs if n in f.members) for n in ids}
    level = {f.id: 1 for f in specs}
    # Frames that start (end) on the same rank as a frame inside them stack their labels (borders) above (below) it.
    first_rank = {f.id: min((rank[n] for n in f.members if n in rank), default=0) for f in specs}
    last_rank = {f.id: max((rank[n] for n in f.members if n in rank), default=0) for f in specs}
    # above: inches from a frame's top to its first boxes, its label's band and those of the frames inside it.
    above = {f.id: max(FRAME_LABEL, LABEL_TOP + f.label_height + LABEL_BELOW) for f in specs}
    bottom = {f.id: 1 for f in specs}
    for f in sorted(specs, key=lambda f: len(f.members)):
        for g in specs:
            if g.id != f.id and f.members < g.members:
                level[g.id] = max(level[g.id], level[f.id] + 1)
                if first_rank[g.id] == first_rank[f.id]:
                    band = max(FRAME_LABEL, LABEL_TOP + g.label_height + LABEL_BELOW)
                    above[g.id] = max(above[g.id], above[f.id] + band)
                if last_rank[g.id] == last_rank[f.id]:
                    bottom[g.id] = max(bottom[g.id], bottom[f.id] + 1)

    # Lanes: one dummy point per rank an edge skips.
    layers: list[list[Hashable]] = [[] for _ in range(top_rank + 1)]
    for n in ids:
        layers[rank[n]].append(n)
    links: list[tuple[Hashable, Hashable]] = []
    lanes: dict[tuple[str, str], list[Hashable]] = {}
    weight: dict[Hashable, float] = {n: 1.0 for n in ids}
    for a, b in edges:
        if rank[b] <= rank[a]:
            continue
        chain: list[Hashable] = [a]
        for r in range(rank[a] + 1, rank[b]):
            dummy = ("lane", a, b, r)
            layers[r].append(dummy)  # after the boxes: a skip starts to the right of its block
            size[dummy] = (0.0, 0.0)
            weight[dummy] = _DUMMY_WEIGHT
            # Inside the frames of both ends, and of either end where the frame spans this rank: a
            # block's skip runs inside the block's frame.
            holders[dummy] = frozenset(
                f.id for f in specs if (a in f.members or b in f.members) and first_rank[f.id] <= r <= last_rank[f.id]
            )
            chain.append(dummy)
        chain.append(b)
        lanes[(a, b)] = chain[1:-1]
        links.extend(zip(chain, chain[1:]))
    layers = _order(layers, *sources_and_targets(links), links)

    def gap(a: Hashable, b: Hashable) -> float:
        base = BOX_GAP if a in rank and b in rank else LANE_GAP
        borders = len(holders[a] ^ holders[b])
        return (size[a][0] + size[b][0]) / 2 + base + borders * (FRAME_SIDE + 0.04)

    x = _place(ids, edges, rank, layers, links, weight, gap)

    # Frames around their boxes, wide enough for their labels and for the edges that enter beside them;
    # then each skip's lane drawn straight where it can be, outside the frames it does not belong to.
    rows = Rows(layers, x, size, holders, rank, gap)
    frames_at = FrameGeometry(specs, rows, level, first_rank, last_rank)
    room = frames_at.port_room(edges)
    straighten_lanes(rows, lanes, frames_at, room)
    sides = frames_at.sides(room)

    # Heights: each rank as tall as its tallest box; gaps wide enough for the frames that start or end there,
    # with a corridor between them where edges bend.
    ports = frames_at.ports(edges, sides)
    rank_height = [max((size[n][1] for n in layer), default=0.0) for layer in layers]
    starts: dict[int, float] = defaultdict(float)
    ends: dict[int, float] = defaultdict(float)
    turn = {rank[b]: PORT_TURN for (_, b) in ports}
    for f in specs:
        if f.id in sides:
            starts[first_rank[f.id]] = max(starts[first_rank[f.id]], above[f.id] + turn.get(first_rank[f.id], 0))
            ends[last_rank[f.id]] = max(ends[last_rank[f.id]], FRAME_SIDE * bottom[f.id])
    y_top: list[float] = []
    y = starts[0]
    for r in range(top_rank + 1):
        if r:
            y += max(RANK_GAP, starts[r] + ends[r - 1] + CORRIDOR)
        y_top.append(y)
        y += rank_height[r]

    boxes = {n: Box(n, x[n], y_top[rank[n]] + rank_height[rank[n]] / 2, *size[n]) for n in ids}
    frame_boxes: dict[str, FrameBox] = {}
    for f in specs:
        if f.id not in sides:
            continue
        inside = [boxes[n] for n in f.members if n in boxes]
        x0, x1 = sides[f.id]
        y0 = min(b.top for b in inside) - above[f.id] - turn.get(first_rank[f.id], 0.0)
        label = (x0 + LABEL_INSET, y0 + LABEL_TOP, x0 + LABEL_INSET + f.label_width, y0 + LABEL_TOP + f.label_height)
        frame_boxes[f.id] = FrameBox(f.id, x0, y0, x1, max(b.bottom for b in inside) + FRAME_SIDE * bottom[f.id],
                                     level[f.id], label)  # fmt: skip

    def corridor(r: int) -> tuple[float, float]:
        """Where edges bend between rank r and the next: below the borders ending at r, above the labels after."""
        return y_top[r] + rank_height[r] + ends[r], y_top[r + 1] - starts[r + 1]

    routes = [
        Route(a, b, route_points(boxes[a], boxes[b], [x[d] for d in lanes[(a, b)]], rank[a], corridor,
                                 ports.get((a, b)), frame_boxes))  # fmt: skip
        for a, b in edges
        if rank[b] > rank[a]
    ]
    return _shifted(boxes, routes, frame_boxes)


def sources_and_targets(links: Iterable[tuple[Hashable, Hashable]]) -> tuple[dict, dict]:
    """Each node's sources and each node's targets, in the links' order: (up, down)."""
    up: dict[Hashable, list[Hashable]] = defaultdict(list)
    down: dict[Hashable, list[Hashable]] = defaultdict(list)
    for a, b in links:
        down[a].append(b)
        up[b].append(a)
    return up, down


def _place(
    ids: Sequence[str],
    edges: Sequence[tuple[str, str]],
    rank: dict[str, int],
    layers: list[list[Hashable]],
    links: list[tuple[Hashable, Hashable]],
    weight: dict[Hashable, float],
    gap: Callable[[Hashable, Hashable], float],
) -> dict[Hashable, float]:
    """Each box and lane point's x: every block moves towards its neighbours, keeping each rank's order and gaps."""
    up, down = sources_and_targets(links)
    pull, on_spine = _pulls(ids, edges, rank, links)
    for n in on_spine:
        weight[n] = 10.0  # a box beside a spine gives way to it
    x: dict[Hashable, float] = {}
    for layer in layers:
        offset = 0.0
        for i, n in enumerate(layer):
            if i:
                offset += gap(layer[i - 1], n)
            x[n] = offset
        for n in layer:
            x[n] -= offset / 2

    # Blocks that move as one: a spine (a chain drawn straight) and each lane.
    group: dict[Hashable, Hashable] = {n: n for n in x}

    def root(n: Hashable) -> Hashable:
        while group[n] != n:
            group[n] = group[group[n]]
            n = group[n]
        return n

    for a, b in links:
        if pull[(a, b)] >= 10.0 or not (isinstance(a, str) or isinstance(b, str)):
            group[root(a)] = root(b)
    for a, b in _fans(ids, edges, rank):
        group[root(a)] = root(b)
    blocks: dict[Hashable, list[Hashable]] = defaultdict(list)
    for n in x:
        blocks[root(n)].append(n)
    neighbours = {n: up.get(n, []) + down.get(n, []) for n in x}

    def targets() -> dict[Hashable, float]:
        """Where each block would go: the mean of its outside neighbours, weighed by their pull."""
        out: dict[Hashable, float] = {}
        for key, members in blocks.items():
            inside = set(members)
            total = moment = 0.0
            for n in members:
                for m in neighbours[n]:
                    if m not in inside:
                        total += pull[(n, m)]
                        moment += pull[(n, m)] * x[m]
            out[key] = moment / total if total else sum(x[n] for n in members) / len(members)
        return out

    def place(layer: list[Hashable], target: dict[Hashable, float]) -> None:
        desired = [target[root(n)] for n in layer]
        offsets = [0.0]
        for a, b in zip(layer, layer[1:]):
            offsets.append(offsets[-1] + gap(a, b))
        fitted = _pava([d - o for d, o in zip(desired, offsets)], [weight[n] for n in layer])
        for n, value, o in zip(layer, fitted, offsets):
            x[n] = value + o

    for _ in range(30):
        target = targets()
        for layer in layers:
            if layer:
                place(layer, target)
    return x


def _shifted(boxes: dict[str, Box], routes: list[Route], frames: dict[str, FrameBox]) -> Layout:
    """Everything moved so the picture starts at (0, 0)."""
    left = min([b.x - b.width / 2 for b in boxes.values()] + [f.x0 for f in frames.values()]
               + [px for r in routes for px, _ in r.points], default=0.0)  # fmt: skip
    top = min([b.top for b in boxes.values()] + [f.y0 for f in frames.values()], default=0.0)

    def moved(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return rect[0] - left, rect[1] - top, rect[2] - left, rect[3] - top

    boxes = {n: Box(n, b.x - left, b.y - top, b.width, b.height) for n, b in boxes.items()}
    routes = [Route(r.source, r.target, tuple((px - left, py - top) for px, py in r.points)) for r in routes]
    frames = {f: FrameBox(f, *moved((b.x0, b.y0, b.x1, b.y1)), b.level, moved(b.label)) for f, b in frames.items()}
    rights = [b.x + b.width / 2 for b in boxes.values()] + [f.x1 for f in frames.values()]
    rights += [px for r in routes for px, _ in r.points]
    bottom = max([b.bottom for b in boxes.values()] + [f.y1 for f in frames.values()], default=0.0)
    return Layout(boxes, routes, frames, max(rights, default=0.0), bottom)


def _pulls(
    ids: Sequence[str], edges: Sequence[tuple[str, str]], rank: dict[str, int], links: list[tuple[Hashable, Hashable]]
) -> tuple[dict[tuple[Hashable, Hashable], float], set[str]]:
    """How strongly each linked pair pulls together, both ways round, and the boxes on a spine.

    The spine of a chain pulls hardest, so it is drawn straight: a box and its only child, or
    of a two-way split (a residual block) the child with the longer way to go, and of a two-way
    merge the parent that came the longer way. Wider splits (an inception module) pull evenly,
    so the parent sits centred over its branches. A lane follows its source and bends into its target.
    """
    succ, pred = _forward_links(edges, rank)
    height: dict[str, int] = {}
    for n in reversed(ids):
        height[n] = 1 + max((height[m] for m in succ[n]), default=0)
    main_child = {n: max(succ[n], key=lambda m: height[m]) for n in ids if 1 <= len(succ[n]) <= 2}
    main_parent = {n: max(pred[n], key=lambda m: rank[m]) for n in ids if 1 <= len(pred[n]) <= 2}
    spine = {(a, b) for a, b in main_child.items() if main_parent.get(b) == a}
    pull: dict[tuple[Hashable, Hashable], float] = {}  # (n, m): how strongly n is drawn towards m
    for a, b in links:
        strength = 10.0 if (a, b) in spine else 1.0
        pull[(a, b)] = pull[(b, a)] = strength
        if isinstance(b, str) and not isinstance(a, str):
            pull[(a, b)] = 0.05  # a lane leaves its source straight down and bends only into its target
    on_spine = {n for link in spine for n in link}
    return pull, on_spine


def _forward_links(
    edges: Sequence[tuple[str, str]], rank: dict[str, int]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each box's children and parents along edges that go down the ranks (skips included)."""
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        if rank[b] > rank[a]:
            succ[a].append(b)
            pred[b].append(a)
    return succ, pred


def _fans(ids: Sequence[str], edges: Sequence[tuple[str, str]], rank: dict[str, int]) -> list[tuple[str, str]]:
    """A wide split and the merge all its branches meet at (an inception module's input and its concat).

    They are drawn one above the other, so a network of such modules has a straight trunk.
    """
    succ, pred = _forward_links(edges, rank)

    def below(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for m in succ[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    pairs = []
    for n in ids:
        if len(succ[n]) > 2:
            common = set.intersection(*(below(m) for m in succ[n]))
            meet = min(common, key=lambda m: rank[m], default=None)
            if meet is not None and len(pred[meet]) > 2:
                pairs.append((n, meet))
    return pairs


def _order(
    layers: list[list[Hashable]],
    up: dict[Hashable, list[Hashable]],
    down: dict[Hashable, list[Hashable]],
    links: list[tuple[Hashable, Hashable]],
) -> list[list[Hashable]]:
    """Barycentre sweeps from the call order; the order with the fewest crossings wins."""

    def total(current: list[list[Hashable]]) -> int:
        return sum(_crossings(a, b, links) for a, b in zip(current, current[1:]))

    best = [list(layer) for layer in layers]
    best_count = total(best)
    current = [list(layer) for layer in layers]
    for sweep in range(8):
        going_down = sweep % 2 == 0
        indices = range(1, len(current)) if going_down else range(len(current) - 2, -1, -1)
        for r in indices:
            fixed = current[r - 1] if going_down else current[r + 1]
            where = {n: i for i, n in enumerate(fixed)}
            neighbours = up if going_down else down
            keyed = []
            for i, n in enumerate(current[r]):
                near = [where[m] for m in neighbours.get(n, []) if m in where]
                keyed.append((sum(near) / len(near) if near else i, i, n))
            current[r] = [n for _, _, n in sorted(keyed, key=lambda k: (k[0], k[1]))]
        count = total(current)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
        if best_count == 0:
            break
    return best
