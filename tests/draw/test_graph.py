"""The dataflow recorded during the summary's one pass: who feeds whom, through functional code too."""

import torch
import torch.nn as nn

import archscope
from archscope.draw import trace
from archscope.draw.graph import DataflowObserver, graph_at, max_depth


def names(graph, node_ids):
    return [graph.node(n).name for n in node_ids]


def test_the_summary_is_the_one_the_observer_rode_on():
    observer = DataflowObserver()
    summary = archscope.summarize("lenet5", observers=[observer])
    assert summary.totals.macs == archscope.summarize("lenet5").totals.macs
    assert [a.kind for a in observer.flow.atoms][:2] == ["input", "layer"]
    assert len([a for a in observer.flow.atoms if a.kind == "layer"]) == sum(1 for layer in summary.layers if layer.leaf)


def test_a_concatenation_in_a_forward_is_a_merge_of_the_four_branches():
    summary, flow = trace("googlenet")
    graph = graph_at(summary, flow, 2)
    concat = next(n for n in graph.nodes if n.kind == "op" and n.type == "cat")
    assert names(graph, graph.predecessors(concat.id)) == [f"inception3a.branch{i}" for i in (1, 2, 3, 4)]
    assert concat.shape == [1, 256, 28, 28]
    pool2 = next(n for n in graph.nodes if n.name == "pool2")
    assert names(graph, graph.successors(pool2.id)) == [f"inception3a.branch{i}" for i in (1, 2, 3, 4)]


def test_a_residual_add_joins_the_block_and_its_shortcut():
    summary, flow = trace("resnet18")
    graph = graph_at(summary, flow, 3)
    first_add = next(n for n in graph.nodes if n.kind == "op" and n.type == "add")
    assert sorted(names(graph, graph.predecessors(first_add.id))) == ["layer1.0.bn2", "maxpool"]  # the identity skip


def test_functional_relu_and_mean_between_layers_are_boxes_and_views_pass_through():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            y = torch.relu(self.conv(x))
            return self.fc(y.mean(dim=(2, 3)).view(1, -1))

    summary, flow = trace(Net(), (3, 16, 16))
    graph = graph_at(summary, flow, 1)
    assert [n.name for n in graph.nodes] == ["input", "conv", "relu", "mean", "fc"]
    assert [(graph.node(a).name, graph.node(b).name) for a, b in graph.edges] == [
        ("input", "conv"), ("conv", "relu"), ("relu", "mean"), ("mean", "fc"),
    ]  # fmt: skip


def test_a_shallower_depth_draws_each_module_as_one_box():
    summary, flow = trace("resnet50")
    assert max_depth(summary) == 4  # layer1.0.downsample.0
    top = graph_at(summary, flow, 1)
    assert [n.name for n in top.nodes] == [
        "input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc",
    ]  # fmt: skip
    assert len(top.edges) == len(top.nodes) - 1  # a chain at depth 1
    layer3 = top.nodes[7]
    assert layer3.macs == next(x.macs for x in summary.layers if x.name == "layer3")


def test_kernel_and_stride_come_from_each_layers_record():
    summary, flow = trace("alexnet")
    graph = graph_at(summary, flow, 2)
    details = {n.name: n.detail for n in graph.nodes}
    assert details["features.0"] == "11x11/4"
    assert details["features.3"] == "3x3/2"  # overlapping pooling, section 3.4
    assert details["features.4"] == "5x5 g2"  # the two GPUs as two groups
    assert details["classifier.1"] == "9216->4096"


def test_a_1d_network_reads_its_pools_per_axis_as_the_module_gives_them():
    net = nn.Sequential(nn.Conv1d(4, 16, 7, stride=2), nn.ReLU(), nn.MaxPool1d(4), nn.Conv1d(16, 8, 3, groups=4),
                        nn.AdaptiveAvgPool1d(1))
    summary, flow = trace(net, (4, 200))
    details = [n.detail for n in graph_at(summary, flow, 1).nodes[1:]]
    # MaxPool1d runs as a 2-D pool of kernel 1x4 underneath; the module's kernel_size is 4.
    assert details == ["7/2", "", "4/4", "3 g4", "to 1"]
    assert [summary.layers[i].kernel for i in range(len(summary.layers))][2] == [4]


def test_a_pool_written_in_a_custom_modules_forward_keeps_its_geometry():
    summary, flow = trace("lenet5-1998")  # S2 and S4 add each 2x2 window with F.avg_pool2d (section II.B)
    details = {n.name: n.detail for n in graph_at(summary, flow, 1).nodes}
    assert details["s2"] == details["s4"] == "2x2/2"


class ListKernelMaxPool(nn.Module):
    def forward(self, x):
        return torch.max_pool2d(x, [3])  # one number for both axes, and no stride: the stride is the kernel


def test_a_functional_pools_one_number_kernel_reads_for_every_axis():
    summary, flow = trace(nn.Sequential(nn.Conv2d(3, 4, 1), ListKernelMaxPool()), (3, 12, 12))
    assert [n.detail for n in graph_at(summary, flow, 1).nodes][-1] == "3x3/3"
