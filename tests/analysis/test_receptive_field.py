"""Receptive fields: published values, small graphs worked by hand, and gradients as the oracle."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import archscope
from archscope.analysis.rf_measure import measure_receptive_field
from archscope.errors import ArchscopeError
from archscope.zoo import list_entries


def field(summary, name):
    return next(x.receptive_field for x in summary.layers if x.name == name)


def test_vgg16_published_fields():
    s = archscope.summarize("vgg16")
    assert field(s, "features.28") == {"size": [196, 196], "stride": [16, 16], "padding": [90, 90]}  # conv5_3
    assert field(s, "features.30") == {"size": [212, 212], "stride": [32, 32], "padding": [90, 90]}  # pool5
    assert s.receptive_field["size"] == [212, 212]


@pytest.mark.parametrize("name, size", [("alexnet", 195), ("resnet50", 483), ("vgg16", 212)])
def test_published_final_fields(name, size):
    rf = archscope.summarize(name).receptive_field
    assert rf["size"] == [size, size] and rf["stride"] == [32, 32]


def test_googlenet_inception_5b_keeps_each_branchs_field():
    rf = archscope.summarize("googlenet").receptive_field
    assert [(p["channels"], p["size"][0]) for p in rf["parts"]] == [
        ([0, 384], 587),  # 1x1
        ([384, 768], 651),  # 3x3
        ([768, 896], 715),  # 5x5
        ([896, 1024], 651),  # pool
    ]
    assert rf["size"] == [715, 715]


def test_layers_after_global_pooling_see_the_whole_input():
    s = archscope.summarize("resnet18")
    assert field(s, "avgpool") == {"whole_input": True}
    assert field(s, "fc") == {"whole_input": True}


class Branches(nn.Module):
    """Functional calls only: the fields must come from the operators, not the module list."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 5, padding=2, dilation=1)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        y = F.max_pool2d(y, 2)
        z = y + F.avg_pool2d(F.pad(y, (1, 1, 1, 1)), 3, stride=1)
        return z.mean((2, 3))


def test_functional_graph_worked_by_hand():
    s = archscope.summarize(Branches(), (3, 16, 16))
    # a: 3x3 -> r=3, P=1; b: 5x5 -> r=5, P=2; the 2x2/2 max-pool: r += 1, j = 2, so y's parts are
    # (r=4, P=1) and (r=6, P=2). F.pad adds 1 x j = 2 to P and the 3x3/1 pool adds 2 x j = 4 to r:
    # (8, 3) and (10, 4), centred where y's are, so the add keeps the larger, part by part.
    assert s.receptive_field["parts"] == [
        {"channels": [0, 4], "size": [8, 8], "stride": [2, 2], "padding": [3, 3]},
        {"channels": [4, 8], "size": [10, 10], "stride": [2, 2], "padding": [4, 4]},
    ]
    assert s.receptive_field_issues == []
    assert s.layers[-1].receptive_field == {"size": [5, 5], "stride": [1, 1], "padding": [2, 2]}  # b, called last


def test_dilation_and_strides_follow_distill_equations():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3, dilation=2, padding=2))
    s = archscope.summarize(net, (1, 32, 32))
    # r = 1 + 2 = 3, j = 2; then r += 2 * (3 - 1) * 2 = 8 -> 11; P = 0 + 2 * 2 = 4.
    assert s.receptive_field == {"size": [11, 11], "stride": [2, 2], "padding": [4, 4]}


class Unaligned(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3, stride=2)  # centre of position 0 at 1
        self.b = nn.Conv2d(1, 1, 1, stride=2)  # centre of position 0 at 0

    def forward(self, x):
        return self.a(x) + self.b(x)[:, :, :-1, :-1]


def test_an_unaligned_merge_is_reported_not_guessed():
    s = archscope.summarize(Unaligned(), (1, 9, 9))
    assert "unknown" in s.layers[-1].receptive_field or "unknown" in (s.receptive_field or {})
    assert any("unaligned merge" in issue for issue in s.receptive_field_issues)


def test_an_operator_without_a_rule_is_reported():
    class Upsample(nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=2, mode="nearest")

    s = archscope.summarize(Upsample(), (1, 4, 4))
    assert any("upsample" in issue for issue in s.receptive_field_issues)


def test_option_a_shortcuts_keep_the_field_aligned():
    s = archscope.summarize("cifar-resnet20")
    assert s.receptive_field_issues == []
    assert s.receptive_field == {"size": [81, 81], "stride": [4, 4], "padding": [40, 40]}


def test_the_field_does_not_depend_on_the_input_size_but_adaptive_pooling_can():
    assert archscope.summarize("resnet50", "320").receptive_field == archscope.summarize("resnet50").receptive_field
    # VGG's adaptive 7x7 pool is the identity at 224, 2x2/2 at 448, and uneven at 320.
    assert archscope.summarize("vgg16", "448").receptive_field["size"] == [212 + 32, 212 + 32]
    assert "uneven" in archscope.summarize("vgg16", "320").receptive_field["unknown"]


def spatial_networks():
    for e in list_entries():
        summary = archscope.summarize(e.name)
        if summary.receptive_field is not None:
            yield e.name


@pytest.mark.parametrize("name", list(spatial_networks()))
def test_every_zoo_network_analytic_field_equals_the_gradient_measurement(name):
    entry = archscope.zoo.get_entry(name)
    record, measured = measure_receptive_field(archscope.create_model(name), entry.input_size, name=name)
    analytic = {k: record.receptive_field[k] for k in ("size", "stride", "padding")}
    assert measured.to_dict() == analytic


def test_networks_without_spatial_output_have_no_field_to_measure():
    assert archscope.summarize("head-fc").receptive_field is None
    with pytest.raises(ArchscopeError, match="no layer with a spatial output"):
        measure_receptive_field(archscope.create_model("head-fc"), (512, 7, 7))


def test_measurement_leaves_the_model_alone():
    model = archscope.create_model("lenet5")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_receptive_field(model, (1, 32, 32))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).dtype == torch.float32


class ChannelsLastMlp(nn.Module):
    """ConvNeXt's pattern: permute to NHWC, a linear layer over channels, permute back."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.mlp = nn.Linear(8, 8)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)
        return self.mlp(x).permute(0, 3, 1, 2)


def test_moving_the_spatial_axes_is_reported_as_unknown_not_as_a_number():
    s = archscope.summarize(ChannelsLastMlp(), (3, 8, 8))
    assert "unknown" in s.receptive_field
    assert any("moves the spatial axes" in issue for issue in s.receptive_field_issues)
    assert s.layers[0].receptive_field == {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}


def test_flatten_before_a_classifier_sees_the_whole_input():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    s = archscope.summarize(net, (1, 8, 8))
    assert [x.receptive_field for x in s.layers] == [
        {"size": [3, 3], "stride": [1, 1], "padding": [0, 0]}, {"whole_input": True}, {"whole_input": True}
    ]
    assert s.receptive_field == {"size": [3, 3], "stride": [1, 1], "padding": [0, 0]}
