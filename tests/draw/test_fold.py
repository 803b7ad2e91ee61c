"""Folding as the papers draw: conv-BN-ReLU chains as one box, identical blocks once with xN, shallower when too big."""

import torch.nn as nn

import archscope
from archscope.draw import trace
from archscope.draw.fold import chain_graph, name_range, readable_graph


def resnet_stage_lengths(name):
    model = archscope.create_model(name, device="meta")
    return [len(getattr(model, f"layer{i}")) for i in (1, 2, 3, 4)]


def test_resnet50_stages_fold_to_their_table_1_counts():
    summary, flow = trace("resnet50")
    graph = readable_graph(summary, flow)
    stages = [f for f in graph.frames if f.count > 1]
    assert [f.count for f in stages] == resnet_stage_lengths("resnet50") == [3, 4, 6, 3]
    assert [f.name for f in stages] == ["layer1", "layer2", "layer3", "layer4"]
    assert all(f.type == "Bottleneck" and f.note == "the first also runs downsample" for f in stages)
    # The frame's figures are the whole stage's, not the one block drawn.
    layer3 = next(x for x in summary.layers if x.name == "layer3")
    assert (stages[2].params, stages[2].macs) == (layer3.params, layer3.macs)


def test_resnet50_v1_5_folds_the_same_though_its_first_blocks_stride_on_the_3x3():
    summary, flow = trace("resnet50-v1.5")
    assert [f.count for f in readable_graph(summary, flow).frames if f.count > 1] == [3, 4, 6, 3]


def test_vgg16_stacks_are_its_table_1_columns():
    summary, flow = trace("vgg16")
    graph = readable_graph(summary, flow)
    stacks = [(n.count, n.shape[1]) for n in graph.nodes if n.kind == "repeat"]
    assert stacks == [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]  # "conv3-64 x2", ...
    first = next(n for n in graph.nodes if n.kind == "repeat")
    assert [m.type for m in first.members[0].members] == ["Conv2d", "ReLU"]
    assert first.name == "features.0-3"


def test_unfold_draws_every_layer():
    summary, flow = trace("vgg16")
    graph = readable_graph(summary, flow, unfold=True)
    assert len(graph.nodes) == 1 + sum(1 for x in summary.layers if x.leaf)
    assert not any(n.kind in ("chain", "repeat") for n in graph.nodes)


def test_different_inception_modules_are_not_folded():
    summary, flow = trace("googlenet")
    graph = readable_graph(summary, flow)
    assert not any(n.kind == "repeat" for n in graph.nodes) and all(f.count == 1 for f in graph.frames)


def test_inception_v4_reads_as_figure_9():
    summary, flow = trace("inception-v4")
    graph = readable_graph(summary, flow)
    repeated = [(f.type, f.count) for f in graph.frames if f.count > 1]
    assert repeated == [("InceptionA", 4), ("InceptionB", 7), ("InceptionC", 3)]


def test_a_graph_too_large_at_the_chosen_depth_is_drawn_shallower_and_says_so():
    summary, flow = trace("resnet152")
    graph = readable_graph(summary, flow, depth=3, unfold=True)
    assert graph.depth == 2 and len(graph.nodes) <= 100
    assert graph.notes[0].startswith("drawn at depth 2: depth 3 would need ")


def test_a_long_flat_network_folds_runs_of_layers_into_boxes():
    model = nn.Sequential(*[nn.Linear(8 + i, 9 + i) for i in range(60)])
    summary, flow = trace(model, (8,))
    graph = readable_graph(summary, flow, unfold=True, limit=20)
    assert len(graph.nodes) <= 20 and all(n.kind in ("input", "span") for n in graph.nodes)
    assert sum(len(n.members) for n in graph.nodes if n.kind == "span") == 60
    assert any(note.startswith("runs of layers folded into single boxes") for note in graph.notes)


def test_layers_style_goes_shallower_until_the_network_is_a_chain():
    summary, flow = trace("googlenet")
    graph = chain_graph(summary, flow)
    assert graph.depth == 1 and graph.notes == ["drawn at depth 1: at depth 4, the network branches"]
    summary, flow = trace("inception-reduced")  # one inception module: branches at depth 1
    assert chain_graph(summary, flow) is None


def test_name_ranges():
    assert name_range("layer1.0", "layer1.2") == "layer1.0-2"
    assert name_range("features.0", "features.29") == "features.0-29"
    assert name_range("a", "b") == "a-b"
