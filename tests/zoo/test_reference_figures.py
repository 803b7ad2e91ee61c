"""Every zoo network held to its published figures, to fvcore, and to a real forward pass."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

import archscope
from archscope.analysis.fvcore_counter import fvcore_count
from archscope.zoo import list_entries
from tests.storages import new_storage_bytes

NAMES = [e.name for e in list_entries()]


@pytest.fixture(scope="module", params=NAMES)
def real_network(request):
    """The network with real weights on the CPU, built once for the tests that need it."""
    torch.manual_seed(0)
    model = archscope.create_model(request.param).eval()
    return request.param, model, archscope.summarize(request.param)


@pytest.mark.parametrize("name", NAMES)
def test_params_exact_and_macs_match_the_published_reference(name):
    entry = archscope.zoo.get_entry(name)
    summary = archscope.summarize(name)
    assert entry.reference.params_match(summary.totals.params), (
        f"{name}: {summary.totals.params:,} params, reference {entry.reference.params:,} +- {entry.reference.params_tolerance:,}"
    )
    assert entry.reference.macs_match(summary.totals.macs), (
        f"{name}: {summary.totals.macs:,} MACs, reference {entry.reference.macs:,.0f} +- {entry.reference.macs_tolerance:,.0f}"
    )
    assert summary.uncounted == [], "every operator of the zoo networks has a counting rule"


def test_macs_equal_fvcores_conv_and_linear_count(real_network):
    name, model, summary = real_network
    count = fvcore_count(model, summary.input_shape)
    assert count.macs == summary.totals.macs


def test_activation_memory_is_what_a_real_forward_pass_allocates(real_network):
    name, model, summary = real_network
    assert summary.totals.activation_bytes == new_storage_bytes(model, torch.randn(summary.input_shape))


def test_every_layer_output_shape_matches_a_real_forward_pass(real_network):
    name, model, summary = real_network
    # Records in call order (a container before its children), as archscope lists them.
    seen: list[list] = []
    open_calls: list[int] = []
    names = {m: n for n, m in model.named_modules()}

    def opened(module, args):
        open_calls.append(len(seen))
        seen.append([names[module], None])

    def closed(module, args, out):
        seen[open_calls.pop()][1] = list(out.shape)

    handles = []
    for m in model.modules():
        if m is not model:
            handles += [m.register_forward_pre_hook(opened), m.register_forward_hook(closed)]
    try:
        with torch.no_grad():
            out = model(torch.randn(summary.input_shape))
    finally:
        for h in handles:
            h.remove()
    assert [[layer.name, layer.output_shape] for layer in summary.layers] == seen
    assert summary.output_shape == list(out.shape)


def test_params_on_each_layer_are_what_the_module_holds():
    model = archscope.create_model("resnet18", device="meta")
    summary = archscope.summarize(model, (3, 224, 224))
    modules = dict(model.named_modules())
    for layer in summary.layers:
        assert layer.params == sum(p.numel() for p in modules[layer.name].parameters()), layer.name


def _conv(out_hw: int, c_in: int, c_out: int, k: int, groups: int = 1) -> int:
    """Multiply-accumulates of a square convolution, by the textbook formula."""
    return out_hw * out_hw * c_out * (c_in // groups) * k * k


def test_lenet5_macs_by_hand():
    by_hand = _conv(28, 1, 6, 5) + _conv(10, 6, 16, 5) + 400 * 120 + 120 * 84 + 84 * 10
    assert archscope.summarize("lenet5").totals.macs == by_hand == 416_520


def test_alexnet_macs_by_hand_with_the_two_gpu_groups():
    by_hand = (
        _conv(55, 3, 96, 11)
        + _conv(27, 96, 256, 5, groups=2)
        + _conv(13, 256, 384, 3)
        + _conv(13, 384, 384, 3, groups=2)
        + _conv(13, 384, 256, 3, groups=2)
        + 9216 * 4096
        + 4096 * 4096
        + 4096 * 1000
    )
    assert archscope.summarize("alexnet").totals.macs == by_hand


@pytest.mark.parametrize(
    "name, config",
    [
        ("vgg11", [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]),
        ("vgg16", [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]),
    ],
)
def test_vgg_params_and_macs_by_hand_from_table_1(name, config):
    size, c_in, params, macs = 224, 3, 0, 0
    for item in config:
        if item == "M":
            size //= 2
            continue
        params += 9 * c_in * item + item
        macs += _conv(size, c_in, item, 3)
        c_in = item
    for fan_in, fan_out in [(25088, 4096), (4096, 4096), (4096, 1000)]:
        params += fan_in * fan_out + fan_out
        macs += fan_in * fan_out
    totals = archscope.summarize(name).totals
    assert (totals.params, totals.macs) == (params, macs)


# GoogLeNet, Table 1 of Szegedy et al. 2014: widths (#1x1, #3x3 reduce, #3x3, #5x5 reduce,
# #5x5, pool proj), the map size each module runs at, and the table's params (K) and ops (M).
TABLE_1 = [
    ("3a", 28, (64, 96, 128, 16, 32, 32), 159, 128),
    ("3b", 28, (128, 128, 192, 32, 96, 64), 380, 304),
    ("4a", 14, (192, 96, 208, 16, 48, 64), 364, 73),
    ("4b", 14, (160, 112, 224, 24, 64, 64), 437, 88),
    ("4c", 14, (128, 128, 256, 24, 64, 64), 463, 100),
    ("4d", 14, (112, 144, 288, 32, 64, 64), 580, 119),
    ("4e", 14, (256, 160, 320, 32, 128, 128), 840, 170),
    ("5a", 7, (256, 160, 320, 32, 128, 128), 1072, 54),
    ("5b", 7, (384, 192, 384, 48, 128, 128), 1388, 71),
]
STEM_PARAMS = (7 * 7 * 3 * 64 + 64) + (64 * 64 + 64) + (3 * 3 * 64 * 192 + 192)
STEM_MACS = _conv(112, 3, 64, 7) + _conv(56, 64, 64, 1) + _conv(56, 64, 192, 3)


def test_googlenet_params_and_macs_by_hand_from_table_1():
    params, macs, c_in = STEM_PARAMS, STEM_MACS, 192
    for _, size, (n1, r3, n3, r5, n5, pp), _, _ in TABLE_1:
        weights = c_in * n1 + c_in * r3 + 9 * r3 * n3 + c_in * r5 + 25 * r5 * n5 + c_in * pp
        params += weights + n1 + r3 + n3 + r5 + n5 + pp
        macs += size * size * weights
        c_in = n1 + n3 + n5 + pp
    params += c_in * 1000 + 1000
    macs += c_in * 1000
    totals = archscope.summarize("googlenet").totals
    assert (totals.params, totals.macs) == (params, macs)


def test_googlenet_naive_params_and_macs_by_hand_from_figure_2a():
    params, macs, c_in = STEM_PARAMS, STEM_MACS, 192
    for _, size, (n1, _r3, n3, _r5, n5, _pp), _, _ in TABLE_1:
        weights = c_in * n1 + 9 * c_in * n3 + 25 * c_in * n5
        params += weights + n1 + n3 + n5
        macs += size * size * weights
        c_in += n1 + n3 + n5  # the pool branch passes every input channel through
    params += c_in * 1000 + 1000
    macs += c_in * 1000
    summary = archscope.summarize("googlenet-naive")
    assert (summary.totals.params, summary.totals.macs) == (params, macs)
    assert c_in == 4944
    assert summary.layers[-1].name == "fc" and summary.layers[-1].input_shape == [1, 4944]


# Rows of Table 1 whose printed figures disagree with their own widths: conv1's 2.7K/34M
# (a 7x7x3 -> 64 conv has 9.4K weights and 118M MACs at 112x112), and 5a's 54M ops
# (its widths give 51M). Every other row matches to the table's rounding.
TABLE_1_ERRATA = {"5a"}


@pytest.mark.parametrize("row", [r for r in TABLE_1 if r[0] not in TABLE_1_ERRATA], ids=lambda r: r[0])
def test_googlenet_modules_match_table_1_ops(row):
    name, _, _, _, ops_m = row
    layer = next(x for x in archscope.summarize("googlenet").layers if x.name == f"inception{name}")
    assert abs(layer.macs / 1e6 - ops_m) < 1.0, f"{name}: {layer.macs / 1e6:.1f}M vs Table 1's {ops_m}M"


def test_resnet50_paper_layout_costs_less_than_torchvisions_v1_5():
    from archscope.zoo.resnet import Bottleneck, ResNet

    with torch.device("meta"):
        v1_5 = ResNet(Bottleneck, (3, 4, 6, 3), stride_on_3x3=True)
    paper = archscope.summarize("resnet50").totals
    torchvision_layout = archscope.summarize(v1_5, (3, 224, 224)).totals
    assert paper.params == torchvision_layout.params
    # torchvision publishes 4.09 GFLOPS (multiply-adds) for its resnet50.
    assert round(torchvision_layout.macs / 1e9, 2) == 4.09
    assert round(paper.macs / 1e9, 2) == 3.86


def test_every_module_in_a_zoo_network_is_called():
    """A module that never runs would make the per-layer table silently incomplete."""
    for entry in list_entries():
        with torch.device("meta"):
            model: nn.Module = entry.build()
        # Training mode runs everything, auxiliary classifiers included.
        called = {layer.name for layer in archscope.summarize(model, entry.input_size, train=True).layers}
        callable_modules = {n for n, m in model.named_modules() if n and not isinstance(m, (nn.ModuleList, nn.ModuleDict))}
        assert called == callable_modules, entry.name
