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


def vgg_stacks(model):
    """The runs of two or more equally wide convolutions in VGG's features, top to bottom: Table 1's stacks."""
    runs, width = [], None
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            if m.out_channels == width:
                runs[-1] += 1
            else:
                runs.append(1)
            width = m.out_channels
        elif isinstance(m, nn.MaxPool2d):
            width = None
    return [f"×{n}" for n in runs if n > 1]


@pytest.mark.parametrize("name", ["vgg11", "vgg16", "vgg19"])
def test_vgg_draws_its_stacks(name):
    model = archscope.create_model(name, device="meta")
    drawing = drawn(name)
    assert len(drawing.boxes) == vgg_boxes(model)
    counts = [drawing.counts[n] for n in sorted(drawing.counts, key=lambda n: drawing.centre(n)[1])]
    assert counts == vgg_stacks(model)
    assert counts == {"vgg11": ["×2"] * 3, "vgg16": ["×2", "×2", "×3", "×3", "×3"], "vgg19": ["×2", "×2", "×4", "×4", "×4"]}[name]


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet", "vgg16", "inception-v4"])
def test_every_line_of_text_sits_inside_its_box_with_a_margin(name):
    drawing = drawn(name)
    for node, lines in drawing.texts.items():
        x0, y0, x1, y1 = drawing.boxes[node]
        for line in lines:
            left, top, right, bottom = line.extent()
            assert x0 + 3 <= left and right <= x1 - 3 and y0 + 1 <= top and bottom <= y1 - 1, (name, line.string)


def test_add_relu_clears_its_box_in_resnet18():
    drawing = drawn("resnet18")
    adds = [n for n in drawing.boxes if drawing.labels[n][0] == "add + ReLU"]
    assert len(adds) == 4
    for node in adds:
        right = drawing.texts[node][0].extent()[2]
        assert drawing.boxes[node][2] - right >= 3  # points: the box's padding, not a touch


@pytest.mark.parametrize("name, stages", [("resnet18", [2, 2, 2, 2]), ("resnet50", [3, 4, 6, 3])])
def test_a_projection_only_the_first_block_runs_says_so_on_its_box(name, stages):
    drawing = drawn(name)
    shortcuts = [n for n in drawing.boxes if drawing.labels[n][0] == "downsample"]
    shortcuts.sort(key=lambda n: drawing.centre(n)[1])
    assert [drawing.labels[n][-1] for n in shortcuts] == [
        f"×1 of {count}: the first block only"
        for count, stage in zip(stages, (1, 2, 3, 4))
        if name != "resnet18" or stage > 1  # resnet18's first stage keeps its width: no projection
    ]
    others = [n for n in drawing.boxes if n not in shortcuts]
    assert not any("×1 of" in drawing.text(n) for n in others)  # the main path runs in every block


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


def test_functional_pools_and_resamplings_read_as_words():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            x = nn.functional.max_pool2d(self.conv(x), 2)  # runs as aten::max_pool2d_with_indices
            return nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear")

    summary, flow = trace(Net(), (3, 16, 16))
    drawing = parse(picture(summary, flow, "svg"))
    names = sorted(lines[0] for lines in drawing.labels.values())
    assert names == ["conv", "input", "max pool", "upsample (bilinear)"]


def test_million_character_names_are_cut_as_the_terminal_cuts_them():
    million = 10**6

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("c" * million, nn.Conv2d(4, 4, 3, padding=1))
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(getattr(self, "c" * million)(x)) + x

    Block.__name__ = Block.__qualname__ = "B" * million
    net = nn.Sequential()
    net.add_module("s" * million, nn.Conv2d(3, 4, 3, padding=1))
    net.add_module("block", Block())
    summary, flow = trace(net, (3, 16, 16))
    drawing = parse(picture(summary, flow, "svg", unfold=True))
    names = [lines[0] for lines in drawing.labels.values()]
    assert "s" * 47 + "…" in names and "c" * 47 + "…" in names  # 48 characters, as text.safety.shorten cuts
    assert any(lines[0].startswith("block · " + "B" * 23 + "…") for lines in drawing.frame_labels.values())
    assert all(len(line) < 200 for lines in drawing.labels.values() for line in lines)
    assert all(len(line) < 200 for lines in drawing.frame_labels.values() for line in lines)
    for fmt, style in (("png", "graph"), ("png", "layers"), ("pdf", "graph")):
        data = picture(summary, flow, fmt, style=style)
        assert len(data) < 1_000_000
