"""The drawings read back from their SVG: every edge between two drawn boxes, the figures on the boxes,
and the acceptance pictures of issue 14 (GoogLeNet's branches, ResNet-50's folded stages)."""

import re
from functools import lru_cache

import pytest
import torch.nn as nn

import archscope
from archscope.draw import picture, readable_graph, trace
from tests.draw.svg import parse

ZOO = archscope.list_models()


@lru_cache(maxsize=None)
def traced(name):
    return trace(name)


def drawn(name, **options):
    summary, flow = traced(name)
    return parse(picture(summary, flow, "svg", **options))


def inside(drawing, frame_id):
    fx0, fy0, fx1, fy1 = drawing.frames[frame_id]
    return [n for n, (x0, y0, x1, y1) in drawing.boxes.items() if fx0 <= x0 and x1 <= fx1 and fy0 <= y0 and y1 <= fy1]


def frame_named(drawing, prefix):
    return next(f for f in drawing.frames if drawing.frame_text(f).startswith(prefix))


def sound(drawing, graph):
    """Every edge joins two drawn boxes, and the picture has the graph's boxes and edges, no more."""
    assert all(a in drawing.boxes and b in drawing.boxes for a, b in drawing.edges)
    assert set(drawing.boxes) == {n.id for n in graph.nodes}
    assert sorted(drawing.edges) == sorted(graph.edges)


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_network_draws_as_a_graph(name):
    summary, flow = traced(name)
    drawing = drawn(name)
    sound(drawing, readable_graph(summary, flow))
    assert drawing.title[0] == name
    assert all(drawing.labels[n] for n in drawing.boxes)  # every box says what it is


def googlenet_boxes(model):
    """GoogLeNet's boxes counted from its modules: one per conv-ReLU, pool, LRN or head layer; an
    inception module's branches box by box, plus its concatenation; and the input."""
    count = 1
    for child in model.children():
        if type(child).__name__ == "Inception":
            branches = [child.branch1, child.branch2, child.branch3, child.branch4]
            count += sum(1 if isinstance(b[0], nn.Conv2d) else len(b) for b in branches) + 1
        elif type(child).__name__ != "AuxiliaryClassifier":
            count += 1
    return count


def test_googlenet_shows_four_branches_in_each_inception_module_with_5bs_receptive_fields():
    model = archscope.create_model("googlenet", device="meta")
    modules = [name for name, m in model.named_children() if type(m).__name__ == "Inception"]
    summary, flow = traced("googlenet")
    drawing = drawn("googlenet")
    sound(drawing, readable_graph(summary, flow))
    assert len(drawing.boxes) == googlenet_boxes(model) == 85
    for module in modules:
        frame = frame_named(drawing, f"{module} · Inception")
        concat = next(n for n in inside(drawing, frame) if drawing.labels[n][0] == "concat")
        branches = [a for a, b in drawing.edges if b == concat]
        assert len(branches) == 4, module
    frame = frame_named(drawing, "inception5b")
    concat = next(n for n in inside(drawing, frame) if drawing.labels[n][0] == "concat")
    tails = sorted((a for a, b in drawing.edges if b == concat), key=lambda n: drawing.centre(n)[0])
    assert [int(re.search(r"RF (\d+)", drawing.text(n)).group(1)) for n in tails] == [587, 651, 715, 651]
    columns = [(drawing.boxes[n][0], drawing.boxes[n][2]) for n in tails]
    assert all(right < left for (_, right), (left, _) in zip(columns, columns[1:]))  # four columns side by side


def resnet_boxes(model):
    """ResNet's boxes counted from its modules at full depth, each stage's first block drawn once: the
    conv-BN(-ReLU) chains of its main path, its projection shortcut, and the add(+ReLU); plus input,
    stem conv-BN-ReLU, max pool, average pool and fc."""
    count = 5
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        block = stage[0]
        convs = sum(1 for m in block.children() if isinstance(m, nn.Conv2d))
        count += convs + (block.downsample is not None) + 1
    return count


def test_resnet50_shows_its_stages_folded_x3_x4_x6_x3():
    model = archscope.create_model("resnet50", device="meta")
    stages = [len(getattr(model, f"layer{i}")) for i in (1, 2, 3, 4)]
    summary, flow = traced("resnet50")
    drawing = drawn("resnet50")
    sound(drawing, readable_graph(summary, flow))
    frames = sorted(drawing.frames, key=lambda f: drawing.frames[f][1])  # top to bottom
    heads = [drawing.frame_labels[f][0] for f in frames]
    assert heads == [f"layer{i} · Bottleneck ×{n}" for i, n in zip((1, 2, 3, 4), stages)]
    assert stages == [3, 4, 6, 3]
    assert len(drawing.boxes) == resnet_boxes(model) == 25
    # The identity skip of every block but the first is folded away; the projection of the first is drawn
    # beside the main path, and both meet at the add.
    for frame in frames:
        add = next(n for n in inside(drawing, frame) if drawing.labels[n][0] == "add + ReLU")
        assert len([a for a, b in drawing.edges if b == add]) == 2


def vgg_boxes(model):
    """VGG's boxes from its modules: stacks of conv-ReLU with equal widths as one box, pools, the
    classifier's linear layers (each with what follows it), the average pool and the input."""
    count, last_width = 2, None
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            count += m.out_channels != last_width
            last_width = m.out_channels
        elif isinstance(m, nn.MaxPool2d):
            count, last_width = count + 1, None
    return count + sum(1 for m in model.classifier if isinstance(m, nn.Linear))


@pytest.mark.parametrize("name", ["vgg11", "vgg16", "vgg19"])
def test_vgg_draws_its_stacks(name):
    drawing = drawn(name)
    assert len(drawing.boxes) == vgg_boxes(archscope.create_model(name, device="meta"))
    assert [drawing.counts[n] for n in sorted(drawing.counts, key=lambda n: drawing.centre(n)[1])][:2] == ["×2", "×2"] or name == "vgg11"


def test_a_user_model_draws_with_its_skips_and_functional_relus():
    summary, flow = trace("examples/custom_model.py:TinyResNet")
    graph = readable_graph(summary, flow)
    drawing = parse(picture(summary, flow, "svg"))
    sound(drawing, graph)
    texts = [drawing.labels[n][0] for n in drawing.boxes]
    assert texts.count("add + ReLU") == 2  # x + bn2(...) then torch.relu, in the block's forward
    assert "mean" in texts  # x.mean(dim=(2, 3)) in the model's forward
    assert sorted(drawing.frame_labels[f][0] for f in drawing.frames) == ["block1 · Block", "block2 · Block"]
    stem = next(n for n in drawing.boxes if drawing.labels[n][0] == "stem")
    add = next(n for n in drawing.boxes if drawing.labels[n][0] == "add + ReLU")
    assert (stem, add) in drawing.edges  # the skip


def test_the_picture_says_when_it_folded_further():
    drawing = drawn("resnet152", depth=3, unfold=True)
    assert any(line.startswith("Drawn at depth 2: depth 3 would need") for line in drawing.title)


def test_shading_by_params_and_the_same_picture_as_png_and_pdf():
    summary, flow = traced("lenet5")
    assert "shade: parameters per box" in " ".join(parse(picture(summary, flow, "svg", weight="params")).title)
    assert picture(summary, flow, "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert picture(summary, flow, "pdf").startswith(b"%PDF")


def test_user_text_stays_literal():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("$x^2$", nn.Conv2d(1, 2, 3))

        def forward(self, x):
            return getattr(self, "$x^2$")(x)

    summary, flow = trace(Odd(), (1, 8, 8))
    drawing = parse(picture(summary, flow, "svg"))
    assert any(lines[0] == "$x^2$" for lines in drawing.labels.values())


def test_a_boxs_time_is_the_time_of_the_layer_calls_it_stands_for():
    from archscope.draw.picture import node_times

    summary, flow = traced("resnet18")
    graph = readable_graph(summary, flow)
    leaves = {i: 1.0 for i, layer in enumerate(summary.layers) if layer.leaf}  # one millisecond each
    times = node_times(graph, summary, leaves)
    by_name = {n.name: times[n.id] for n in graph.nodes}
    assert by_name["conv1"] == 3.0  # conv1, bn1 and relu
    assert by_name["maxpool"] == 1.0 and by_name["input"] == 0.0
