"""The layered layout: edges point down, boxes never overlap, a chain is straight, a skip goes round."""

from itertools import combinations

from archscope.draw.layout import layered_layout


def overlap(a, b):
    return abs(a.x - b.x) * 2 < a.width + b.width and abs(a.y - b.y) * 2 < a.height + b.height


def test_a_residual_block_keeps_its_chain_straight_and_sends_the_skip_round_it():
    nodes = [(n, 1.5, 0.5) for n in ("in", "conv1", "conv2", "add")]
    edges = [("in", "conv1"), ("conv1", "conv2"), ("conv2", "add"), ("in", "add")]
    layout = layered_layout(nodes, edges)
    xs = {n: layout.boxes[n].x for n, _, _ in nodes}
    assert max(xs.values()) - min(xs.values()) < 0.01  # one straight column, within a hundredth of an inch
    skip = next(r for r in layout.routes if (r.source, r.target) == ("in", "add"))
    assert len(skip.points) > 2 and max(x for x, _ in skip.points) > xs["conv1"] + 0.75  # beside the boxes


def test_parallel_branches_sit_side_by_side_between_their_split_and_merge():
    nodes = [("split", 1.0, 0.4)] + [(f"b{i}", 1.2, 0.5) for i in range(4)] + [("cat", 0.8, 0.4)]
    edges = [("split", f"b{i}") for i in range(4)] + [(f"b{i}", "cat") for i in range(4)]
    layout = layered_layout(nodes, edges)
    branches = [layout.boxes[f"b{i}"] for i in range(4)]
    assert len({b.y for b in branches}) == 1
    assert [b.x for b in branches] == sorted(b.x for b in branches)  # in call order, left to right
    middle = (branches[0].x + branches[-1].x) / 2
    assert abs(layout.boxes["split"].x - middle) < 1e-6 and abs(layout.boxes["cat"].x - middle) < 1e-6
    assert not any(overlap(a, b) for a, b in combinations(layout.boxes.values(), 2))


def test_every_edge_points_down_and_frames_hold_their_boxes():
    nodes = [(n, 1.0, 0.4) for n in "abcdef"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("a", "e"), ("e", "f")]
    layout = layered_layout(nodes, edges, [("frame", {"b", "c", "d"})])
    for route in layout.routes:
        assert layout.boxes[route.source].y < layout.boxes[route.target].y
        assert all(y1 <= y2 for (_, y1), (_, y2) in zip(route.points, route.points[1:]))
    frame = layout.frames["frame"]
    for n in "bcd":
        box = layout.boxes[n]
        assert frame.x0 < box.x - box.width / 2 and box.x + box.width / 2 < frame.x1
        assert frame.y0 < box.y - box.height / 2 and box.y + box.height / 2 < frame.y1
    for n in "aef":
        assert not (frame.y0 < layout.boxes[n].y < frame.y1)
