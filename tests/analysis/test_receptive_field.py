"""Receptive fields: published values, small graphs worked by hand, and gradients as the oracle."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import archscope
from archscope.analysis.rf.effective import effective_receptive_field
from archscope.analysis.rf.measure import measure_receptive_field
from archscope.analysis.rf.field_report import check_field
from archscope.analysis.rf.target import centre_field_box, target_of
from archscope.errors import ArchscopeError
from archscope.zoo import list_entries


def field(summary, name):
    """The JSON form of a layer's receptive field (docs/json.md)."""
    return as_json(next(x.receptive_field for x in summary.layers if x.name == name))


def as_json(rf):
    return rf.to_dict() if rf is not None else None


def assert_measured(model, input_size):
    """The analytic field of the model's last spatial layer equals the gradient measurement."""
    record, measured = measure_receptive_field(model, input_size)
    analytic = {k: list(getattr(record.receptive_field, k)) for k in ("size", "stride", "padding")}
    assert measured.to_dict() == analytic, record.name
    return record


def test_vgg16_published_fields(zoo_summary):
    s = zoo_summary("vgg16")
    assert field(s, "features.28") == {"size": [196, 196], "stride": [16, 16], "padding": [90, 90]}  # conv5_3
    assert field(s, "features.30") == {"size": [212, 212], "stride": [32, 32], "padding": [90, 90]}  # pool5
    assert s.receptive_field.size == (212, 212)


@pytest.mark.parametrize("name, size", [("alexnet", 195), ("resnet50", 483), ("vgg16", 212)])
def test_published_final_fields(name, size, zoo_summary):
    rf = zoo_summary(name).receptive_field
    assert rf.size == (size, size) and rf.stride == (32, 32)


def test_googlenet_inception_5b_keeps_each_branchs_field(zoo_summary):
    rf = zoo_summary("googlenet").receptive_field
    assert [([p.start, p.stop], p.field.size[0]) for p in rf.parts] == [
        ([0, 384], 587),  # 1x1
        ([384, 768], 651),  # 3x3
        ([768, 896], 715),  # 5x5
        ([896, 1024], 651),  # pool
    ]
    assert rf.size == (715, 715)


def test_layers_after_global_pooling_see_the_whole_input(zoo_summary):
    s = zoo_summary("resnet18")
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
    assert as_json(s.receptive_field)["parts"] == [
        {"channels": [0, 4], "size": [8, 8], "stride": [2, 2], "padding": [3, 3]},
        {"channels": [4, 8], "size": [10, 10], "stride": [2, 2], "padding": [4, 4]},
    ]
    assert s.receptive_field_issues == []
    assert as_json(s.layers[-1].receptive_field) == {"size": [5, 5], "stride": [1, 1], "padding": [2, 2]}  # b, called last


def test_dilation_and_strides_follow_distill_equations():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3, dilation=2, padding=2))
    s = archscope.summarize(net, (1, 32, 32))
    # r = 1 + 2 = 3, j = 2; then r += 2 * (3 - 1) * 2 = 8 -> 11; P = 0 + 2 * 2 = 4.
    assert as_json(s.receptive_field) == {"size": [11, 11], "stride": [2, 2], "padding": [4, 4]}


class OffCentre(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3, stride=2)  # centre of position 0 at 1
        self.b = nn.Conv2d(1, 1, 1, stride=2)  # centre of position 0 at 0

    def forward(self, x):
        return self.a(x) + self.b(x)[:, :, :-1, :-1]


def test_fields_with_the_same_stride_merge_into_their_union_even_off_centre():
    # Position x sees [2x, 2x + 2] through a and [2x, 2x] through b: every position the same
    # window one stride apart (ResNet-D's average-pooled shortcut is this case).
    s = archscope.summarize(OffCentre(), (1, 9, 9))
    assert as_json(s.receptive_field) == {"size": [3, 3], "stride": [2, 2], "padding": [0, 0]}
    assert s.receptive_field_issues == []
    assert_measured(OffCentre(), (1, 9, 9))


class DriftingStrides(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3, stride=2)  # 9 -> 4 positions, 2 pixels apart
        self.b = nn.Conv2d(1, 1, 6)  # 9 -> 4 positions, 1 pixel apart

    def forward(self, x):
        return self.a(x) + self.b(x)


def test_a_merge_of_different_strides_is_reported_not_guessed():
    s = archscope.summarize(DriftingStrides(), (1, 9, 9))
    assert s.receptive_field.kind == "unknown"
    assert any("unaligned merge" in issue and "stride 2 vs 1" in issue for issue in s.receptive_field_issues)


def test_an_operator_without_a_rule_is_reported():
    class Warp(nn.Module):
        def forward(self, x):
            return F.grid_sample(x, x.new_zeros(1, 4, 4, 2), align_corners=False)

    s = archscope.summarize(Warp(), (1, 4, 4))
    assert any("grid_sampler" in issue for issue in s.receptive_field_issues)
    assert s.receptive_field.kind == "unknown"


def test_option_a_shortcuts_keep_the_field_aligned(zoo_summary):
    s = zoo_summary("cifar-resnet20")
    assert s.receptive_field_issues == []
    assert as_json(s.receptive_field) == {"size": [81, 81], "stride": [4, 4], "padding": [40, 40]}


def test_the_field_does_not_depend_on_the_input_size_but_adaptive_pooling_can(zoo_summary):
    assert archscope.summarize("resnet50", "320").receptive_field == zoo_summary("resnet50").receptive_field
    # VGG's adaptive 7x7 pool is the identity at 224, 2x2/2 at 448, and uneven at 320.
    assert archscope.summarize("vgg16", "448").receptive_field.size == (212 + 32, 212 + 32)
    assert "uneven" in archscope.summarize("vgg16", "320").receptive_field.reason


@pytest.mark.slow
@pytest.mark.parametrize("name", [e.name for e in list_entries()])
def test_every_zoo_network_analytic_field_equals_the_gradient_measurement(name, zoo_summary):
    """With real weights: where the analysis finds a field, the gradients find the same one;
    where it finds none (no layer with a spatial output), the measurement refuses too."""
    entry = archscope.zoo.get_entry(name)
    if zoo_summary(name).receptive_field is None:
        with pytest.raises(ArchscopeError, match="no layer with a spatial output"):
            measure_receptive_field(archscope.create_model(name), entry.input_size, name=name)
        return
    record, measured = measure_receptive_field(archscope.create_model(name), entry.input_size, name=name)
    analytic = {k: list(getattr(record.receptive_field, k)) for k in ("size", "stride", "padding")}
    assert measured.to_dict() == analytic


def test_networks_without_spatial_output_have_no_field_to_measure(zoo_summary):
    assert zoo_summary("head-fc").receptive_field is None
    with pytest.raises(ArchscopeError, match="no layer with a spatial output"):
        measure_receptive_field(archscope.create_model("head-fc"), (512, 7, 7))


def test_measurement_leaves_the_model_alone():
    model = archscope.create_model("lenet5")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_receptive_field(model, (1, 32, 32))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).dtype == torch.float32


class ChannelsLastMlp(nn.Module):
    """ConvNeXt's pattern: permute to NHWC, a linear layer over channels (an addmm over rows that
    merge batch and positions), permute back."""

    def __init__(self, back: bool = True):
        super().__init__()
        self.back = back
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.mlp = nn.Sequential(nn.LayerNorm(8), nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))

    def forward(self, x):
        x = self.mlp(self.conv(x).permute(0, 2, 3, 1))
        return x.permute(0, 3, 1, 2) if self.back else x


def test_channels_last_linear_layers_keep_the_field():
    s = archscope.summarize(ChannelsLastMlp(), (3, 8, 8))
    assert as_json(s.receptive_field) == {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}
    assert s.receptive_field_issues == []
    assert field(s, "mlp") == {
        "size": [3, 3], "stride": [1, 1], "padding": [1, 1],
        "layout": [[], [{"axis": 0, "size": 8}], [{"axis": 1, "size": 8}], [{"channels": 8}]],
    }  # fmt: skip
    # Measured where the positions are channels-last: the measurement reads the layout.
    record = assert_measured(ChannelsLastMlp(back=False), (3, 9, 9))
    assert record.name == "mlp"


def test_flatten_before_a_classifier_sees_the_whole_input():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    s = archscope.summarize(net, (1, 8, 8))
    assert [as_json(x.receptive_field) for x in s.layers] == [
        {"size": [3, 3], "stride": [1, 1], "padding": [0, 0]}, {"whole_input": True}, {"whole_input": True}
    ]
    assert as_json(s.receptive_field) == {"size": [3, 3], "stride": [1, 1], "padding": [0, 0]}


# ---------------------------------------------------------------- tokens, attention, windows


class TinyViT(nn.Module):
    """Patches of 4 as tokens, a class token in front, one attention block, the class token's output to the head."""

    def __init__(self, dim: int = 8, grid: int = 4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 1 + grid * grid, dim))
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(x)
        x = x + self.attn(x, x, x, need_weights=False)[0]
        x = x + self.mlp(x)
        return self.head(x[:, 0])


def test_vit_like_block_with_a_class_token():
    s = archscope.summarize(TinyViT(), (3, 16, 16))
    # Before attention each patch token sees its 4x4 patch; the class token sees nothing yet.
    assert field(s, "norm") == {
        "size": [4, 4], "stride": [4, 4], "padding": [0, 0],
        "layout": [[], [{"tokens": 17, "extra_before": 1, "extra_after": 0,
                         "grid": [{"axis": 0, "size": 4}, {"axis": 1, "size": 4}]}], [{"channels": 8}]],
    }  # fmt: skip
    # After attention every token, the class token too, sees the whole input.
    assert field(s, "attn") == {"whole_input": True}
    assert field(s, "head") == {"whole_input": True}
    assert as_json(s.receptive_field) == {"whole_input": True}
    assert s.receptive_field_issues == []
    # The patch tokens' field, measured at its token positions (the layout says where they are).
    assert assert_measured(TinyViT(), (3, 16, 16)).name == "norm"
    # The class token's output depends on every input pixel (real weights and non-linearities).
    torch.manual_seed(0)
    model = TinyViT().eval()
    x = torch.randn(1, 3, 16, 16, requires_grad=True)
    model(x)[0, 0].backward()
    assert (x.grad != 0).all()


class TokensBackToGrid(nn.Module):
    """A class token joins the patch tokens for a per-token MLP; slicing it off and reshaping restores the map."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.cls = nn.Parameter(torch.randn(1, 1, 8))
        self.norm = nn.LayerNorm(8)
        self.mlp = nn.Linear(8, 8)
        self.conv = nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, x):
        x = self.patch(x)
        b, c, h, w = x.shape
        t = torch.cat([self.cls.expand(b, -1, -1), x.flatten(2).transpose(1, 2)], dim=1)
        t = t + self.mlp(self.norm(t))
        return self.conv(t[:, 1:].transpose(1, 2).reshape(b, c, h, w))


def test_tokens_sliced_back_to_a_grid_keep_the_field():
    s = archscope.summarize(TokensBackToGrid(), (3, 16, 16))
    # patch: r=3, j=2, P=1; the 3x3 conv after: r = 3 + 2 x 2 = 7, P = 1 + 2 = 3.
    assert as_json(s.receptive_field) == {"size": [7, 7], "stride": [2, 2], "padding": [3, 3]}
    assert_measured(TokensBackToGrid(), (3, 16, 16))


class WindowAttention(nn.Module):
    """Swin's pattern: channels-last, a window partition by reshape and permute, attention within each window."""

    def __init__(self, window: int):
        super().__init__()
        self.window = window
        self.embed = nn.Conv2d(3, 8, 3, padding=1)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        x = self.embed(x).permute(0, 2, 3, 1)
        b, h, w, c = x.shape
        n = self.window
        t = x.reshape(b, h // n, n, w // n, n, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, n * n, c)
        t = t + self.attn(t, t, t, need_weights=False)[0]
        t = t.reshape(b, h // n, w // n, n, n, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        return t.permute(0, 3, 1, 2)


def test_window_attention_is_unknown_with_its_reason_until_a_window_covers_the_map():
    s = archscope.summarize(WindowAttention(4), (3, 8, 8))
    assert s.receptive_field.kind == "unknown" and "windows of 4 positions" in s.receptive_field.reason
    assert any("window or grid attention" in issue for issue in s.receptive_field_issues)
    assert as_json(archscope.summarize(WindowAttention(8), (3, 8, 8)).receptive_field) == {"whole_input": True}


class GridAttention(nn.Module):
    """MaxViT's grid attention (MobileViT's across patches): positions 2 apart attend to each other."""

    def __init__(self, kernel: int):
        super().__init__()
        self.embed = nn.Conv2d(3, 8, kernel, padding=kernel // 2)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        x = self.embed(x).permute(0, 2, 3, 1)
        b, h, w, c = x.shape
        t = x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 2, 4, 1, 3, 5).reshape(b * 4, h * w // 4, c)
        t = t + self.attn(t, t, t, need_weights=False)[0]
        t = t.reshape(b, 2, 2, h // 2, w // 2, c).permute(0, 3, 1, 4, 2, 5).reshape(b, h, w, c)
        return t.permute(0, 3, 1, 2)


def test_grid_attention_sees_the_whole_input_when_the_fields_of_a_group_cover_it():
    # 3x3 fields 2 pixels apart overlap: each group of positions reaches every pixel.
    assert as_json(archscope.summarize(GridAttention(3), (3, 8, 8)).receptive_field) == {"whole_input": True}
    torch.manual_seed(0)
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    GridAttention(3).eval()(x)[0, :, 4, 4].sum().backward()
    assert (x.grad != 0).all()
    # 1x1 fields 2 pixels apart leave holes: position (4, 4) sees only even rows and columns.
    s = archscope.summarize(GridAttention(1), (3, 8, 8))
    assert "positions 2 apart" in s.receptive_field.reason
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    GridAttention(1).eval()(x)[0, :, 4, 4].sum().backward()
    assert (x.grad[0, :, 1::2, :] == 0).all()


class PatchMerging(nn.Module):
    """Space to depth by reshape (timm's Swin) or by strided slices (torchvision's), then a linear layer."""

    def __init__(self, slices: bool):
        super().__init__()
        self.slices = slices
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.reduction = nn.Linear(16, 8)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)
        b, h, w, c = x.shape
        if self.slices:
            x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        else:
            x = x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 4, 2, 5).flatten(3)
        return self.reduction(x)


@pytest.mark.parametrize("slices", [False, True])
def test_space_to_depth_then_a_linear_layer_is_a_2x2_window(slices):
    s = archscope.summarize(PatchMerging(slices), (3, 8, 8))
    # conv: r=3, P=1; the 2x2 stride-2 window: r = 3 + 1 = 4, j = 2, P = 1.
    assert {k: list(getattr(s.receptive_field, k)) for k in ("size", "stride", "padding")} == {
        "size": [4, 4], "stride": [2, 2], "padding": [1, 1]
    }
    assert_measured(PatchMerging(slices), (3, 8, 8))


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 2, 1), nn.Tanh(), nn.Conv2d(2, 8, 1), nn.Sigmoid())

    def forward(self, x):
        x = self.conv(x)
        return x * self.gate(x)


def test_a_global_gate_makes_every_position_see_the_whole_input():
    s = archscope.summarize(SqueezeExcite(), (3, 8, 8))
    assert as_json(s.receptive_field) == {"whole_input": True}
    assert field(s, "conv")["size"] == [3, 3]
    torch.manual_seed(0)
    model = SqueezeExcite().eval()
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    model(x)[0, :, 4, 4].sum().backward()
    assert (x.grad != 0).all()


# ---------------------------------------------------------------- channel groups, resampling, borders


class SplitBranches(nn.Module):
    """Res2Net's and CSP's pattern: channel groups split off, convolved apart, concatenated again."""

    def __init__(self, how: str):
        super().__init__()
        self.how = how
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv = nn.Conv2d(4, 4, 3, padding=2, dilation=2)

    def forward(self, x):
        x = self.stem(x)
        if self.how == "chunk":
            a, b = x.chunk(2, dim=1)
        elif self.how == "split":
            a, b = torch.split(x, [4, 4], dim=1)
        else:
            a, b = x.view(x.shape[0], 2, 4, *x.shape[2:]).unbind(1)
        return torch.cat([a, self.conv(b)], dim=1)


@pytest.mark.parametrize("how", ["chunk", "split", "unbind"])
def test_each_split_output_keeps_its_channels_fields(how):
    s = archscope.summarize(SplitBranches(how), (3, 16, 16))
    stem = {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}
    dilated = {"size": [7, 7], "stride": [1, 1], "padding": [3, 3]}  # r = 3 + 2 x 2, P = 1 + 2
    assert as_json(s.receptive_field)["parts"] == [{"channels": [0, 4], **stem}, {"channels": [4, 8], **dilated}]
    assert_measured(SplitBranches(how), (3, 16, 16))


class SplitResidual(SplitBranches):
    """Res2Net's block end: the groups mixed by a 1x1 convolution, the input added in place."""

    def __init__(self):
        super().__init__("split")
        self.mix = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = self.stem(x)
        y = self.mix(torch.cat([x[:, :4], self.conv(x[:, 4:])], dim=1))
        a, b = torch.split(y, [4, 4], dim=1)  # the one-channel measurement cannot split 8 channels
        y = torch.cat([a, b], dim=1)
        out = self.mix(y)
        out += x
        return out


def test_in_place_additions_after_a_split_are_measured():
    s = archscope.summarize(SplitResidual(), (3, 16, 16))
    assert as_json(s.receptive_field) == {"size": [7, 7], "stride": [1, 1], "padding": [3, 3]}
    assert_measured(SplitResidual(), (3, 16, 16))


class Resampled(nn.Module):
    """Upsampling makes positions 2m and 2m+1 see the same source: a stride of 2 after it makes the field uniform again."""

    def __init__(self, mode: str, restore: bool = True):
        super().__init__()
        self.mode, self.restore = mode, restore
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1)  # DCGAN's: used in mode "transposed"
        self.down = nn.Conv2d(2 if mode == "shuffle" else 8, 4, 2, stride=2)
        self.last = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        if self.mode == "shuffle":
            x = F.pixel_shuffle(x, 2)
        elif self.mode == "transposed":
            x = self.up(x)
        else:
            x = F.interpolate(x, scale_factor=2, mode=self.mode, **({} if self.mode == "nearest" else {"align_corners": False}))
        if not self.restore:
            return self.last(x[:, :4])
        x = self.last(self.down(x))
        return F.pixel_unshuffle(x, 2) if self.mode == "shuffle" else x


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("nearest", (7, 2, 3)),  # conv (3, 2, 1); both copies of source m, then the 2x2/2 conv: (3, 2, 1); last: (7, 2, 3)
        ("bilinear", (11, 2, 5)),  # even outputs read m-1 and m, odd m and m+1: (5, 2, 3) then (7, 2, 3); last: (11, 2, 5)
        ("bicubic", (15, 2, 7)),
        ("transposed", (11, 2, 5)),  # output 2m reads inputs m-1 and m, 2m+1 reads m and m+1: as bilinear
        ("shuffle", (9, 4, 3)),  # as nearest, then pixel_unshuffle: a 2x2/2 window
    ],
)
def test_upsampling_fields_are_exact(mode, expected):
    s = archscope.summarize(Resampled(mode), (3, 16, 16))
    size, stride, padding = expected
    assert as_json(s.receptive_field) == {"size": [size] * 2, "stride": [stride] * 2, "padding": [padding] * 2}
    assert_measured(Resampled(mode), (3, 16, 16))


def test_an_upsampled_map_without_a_stride_after_it_is_a_range_with_the_reason():
    """Issue 19: conv (3, 2, 1), nearest x2, a 3x3: output 2m and 2m + 1 both read source
    rows m-1..m+1, so each sees 5 pixels, 2m from 2m - 3 and 2m + 1 from 2m - 1 (by hand)."""
    s = archscope.summarize(Resampled("nearest", restore=False), (3, 16, 16))
    rf = s.receptive_field
    assert rf.kind == "range" and "positions see different windows" in rf.reason
    assert (rf.size, rf.size_max, rf.stride, rf.period) == ((5, 5), (5, 5), (2, 2), (2, 2))
    assert rf.phase_padding == ((3, 1), (3, 1))
    assert s.receptive_field_map.layer == "last" and s.receptive_field_map.output == 0
    check = check_field(Resampled("nearest", restore=False), s)
    assert check.agree and check.positions == ((8, 8), (9, 9))  # phases 0 and 1, whose paddings differ
    # The gradients agree it is no single window: neighbours 2m and 2m+1 start at the same pixel.
    model = Resampled("nearest", restore=False).eval()
    starts = []
    for column in (4, 5, 6):
        x = torch.randn(1, 3, 16, 16, requires_grad=True)
        model(x)[0, :, 8, column].sum().backward()
        starts.append(int(torch.nonzero(x.grad[0].abs().sum((0, 1))).min()))
    assert starts[1] - starts[0] != starts[2] - starts[1]


class Unfolded(nn.Module):
    """im2col: each column holds a 3x3 window; reshaped to a map, a 1x1 convolution mixes the windows."""

    def __init__(self):
        super().__init__()
        self.mix = nn.Conv2d(27, 4, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        return self.mix(F.unfold(x, 3, padding=1).view(b, 9 * c, h, w))


def test_unfold_is_a_window():
    s = archscope.summarize(Unfolded(), (3, 8, 8))
    assert as_json(s.receptive_field) == {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}
    assert_measured(Unfolded(), (3, 8, 8))


class Bordered(nn.Module):
    """A model that starts by moving its input's positions, then a 3x3 convolution."""

    def __init__(self, first):
        super().__init__()
        self.first = first
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(self.first(x))


FIRST_STEPS = {
    "reflect": (nn.ReflectionPad2d(2), {"size": [3, 3], "stride": [1, 1], "padding": [2, 2]}),
    "replicate": (nn.ReplicationPad2d((1, 0, 3, 0)), {"size": [3, 3], "stride": [1, 1], "padding": [3, 1]}),
    # A flip runs the positions backwards: position x sees old position n - 1 - x (n = 32).
    "flip": (lambda x: torch.flip(x, [3]), {"size": [3, 3], "stride": [1, -1], "padding": [0, -29]}),
    # A roll shifts like a padding of the shift (positions that wrap round see the far edge).
    "roll": (lambda x: torch.roll(x, (2, -3), (2, 3)), {"size": [3, 3], "stride": [1, 1], "padding": [2, -3]}),
    "interpolate to the same size": (lambda x: F.interpolate(x, size=(32, 32)), {"size": [3, 3], "stride": [1, 1], "padding": [0, 0]}),
}


@pytest.mark.parametrize("step", list(FIRST_STEPS))
def test_pads_flips_and_rolls_at_the_start_keep_the_field(step):
    first, expected = FIRST_STEPS[step]
    first = first if isinstance(first, nn.Module) else Lambda(first)
    s = archscope.summarize(Bordered(first), (3, 32, 32))
    assert as_json(s.receptive_field) == expected
    assert_measured(Bordered(first), (3, 32, 32))


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


# ---------------------------------------------------------------- the measurements (issue 12)


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.b(self.a(x).detach())


def hard_threshold():
    # Far below the threshold everywhere: kept as it is, no gradient would pass it.
    return nn.Sequential(nn.Conv2d(3, 4, 3), Lambda(lambda x: x - 1e3), nn.Threshold(0.5, 2.0), nn.Conv2d(4, 4, 3))


@pytest.mark.parametrize(
    "build, input_size, plane",
    [(Detached, (3, 16, 16), (16, 16)), (hard_threshold, (3, 16, 16), (16, 16)),
     (lambda: nn.Sequential(nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Conv3d(4, 4, 3)), (1, 12, 10, 8), (10, 8)),
     (lambda: nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Conv1d(4, 4, 3)), (2, 20), (1, 20))],
)  # fmt: skip
def test_detach_hard_thresholds_and_other_ranks_are_measured(build, input_size, plane):
    assert_measured(build(), input_size)
    summary = archscope.summarize(build(), input_size)
    picture = effective_receptive_field(build(), summary)
    assert tuple(picture.shape) == plane and torch.isfinite(picture).all()  # the dead threshold's picture is all zero
    assert len(centre_field_box(target_of(summary))) == 4
