"""The receptive-field rules as registered functions, and the operator rows that name them."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import archscope
from archscope.analysis import ops
from archscope.analysis.rf.measure import measure_receptive_field
from archscope.analysis.rf.rules import FIELD_RULES, field_rule
from archscope.analysis.rf.rules.windows import windowed


def test_every_operator_row_names_a_registered_rule():
    missing = {rule.name: rule.field for rule in ops.REGISTRY.values() if rule.field not in FIELD_RULES}
    assert missing == {}


def test_a_row_with_an_unregistered_rule_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match="unknown field rule 'convolution'; one of: .*conv, .*view"):
        ops.register_op(torch.ops.aten.mm, None, field="convolution", replace=True)


def test_a_rule_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="'conv' is already registered"):
        field_rule("conv")(lambda tracker, call: None)


def test_a_max_pool_without_its_stand_in_is_refused():
    with pytest.raises(TypeError, match="stand_in"):
        ops.register_op(torch.ops.aten.max_pool2d, None, field="window", linearise="avg_pool", replace=True)


@pytest.mark.parametrize(
    "function, row, how",
    [("_threshold", "threshold", "identity"),  # F.threshold's own name
     ("dropout2d", "feature_dropout", "identity"), ("relu_", "relu_", "identity"),
     ("conv2d", "conv2d", "ones_conv"), ("conv_transpose2d", "conv_transpose2d", "ones_conv_transposed"),
     ("max_pool2d", "max_pool2d", "avg_pool")],
)  # fmt: skip
def test_the_measurements_linearisation_is_read_from_the_row_of_the_function(function, row, how):
    found = ops.linearised_row(function)
    assert (found.name, found.linearise) == (row, how)


def test_a_max_pool_is_measured_as_the_average_pool_its_row_names():
    assert ops.linearised_row("max_pool2d").stand_in is F.avg_pool2d
    assert ops.linearised_row("max_pool3d").stand_in is F.avg_pool3d
    assert ops.linearised_row("local_response_norm") is None  # no operator of its own: runs as it is


@torch.library.custom_op("archscope_rf_test::box3", mutates_args=())
def box3(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 box filter, channel by channel: an operator archscope has no row for."""
    weight = torch.ones(x.shape[1], 1, 3, 3, dtype=x.dtype, device=x.device) / 9
    return F.conv2d(x, weight, padding=1, groups=x.shape[1])


@box3.register_fake
def _(x):
    return torch.empty_like(x)


box3.register_autograd(lambda ctx, grad: box3(grad))  # a symmetric box filter is its own transpose


class Box(nn.Module):
    def forward(self, x):
        return torch.ops.archscope_rf_test.box3(x)


class Blurred(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.blur = nn.Conv2d(3, 4, 3, stride=2), Box()

    def forward(self, x):
        return self.blur(self.conv(x))


def test_a_new_operator_gets_its_field_from_a_rule_registered_by_name():
    before = archscope.summarize(Blurred(), (3, 17, 17))
    assert before.receptive_field.kind == "unknown"
    assert before.receptive_field.reason == "archscope_rf_test::box3 is not understood for receptive fields"

    @field_rule("archscope_test_box3")
    def box(tracker, call):
        """A 3x3 window, stride 1, padding 1, over the last two dimensions."""
        return windowed(tracker, call, tracker.get(call.args[0]), [2, 3], [3, 3], [1, 1], [1, 1], [1, 1])

    ops.register_op(torch.ops.archscope_rf_test.box3, lambda args, kwargs, out: ops.OpCost(0, 9 * out.numel()),
                    field="archscope_test_box3")  # fmt: skip
    after = archscope.summarize(Blurred(), (3, 17, 17))
    # conv 3/2 then 3/1 padding 1: r = 3 + 2 x 2 = 7, j = 2, P = 0 + 1 x 2 = 2 (Distill, equations 1-3).
    assert after.receptive_field.to_dict() == {"size": [7, 7], "stride": [2, 2], "padding": [2, 2]}
    record, measured = measure_receptive_field(Blurred(), (3, 17, 17))
    assert measured.to_dict() == {"size": [7, 7], "stride": [2, 2], "padding": [2, 2]}


# ---------------------------------------------------------------- rules that names once hid


class CopiedInto(nn.Module):
    """a.copy_(b): the result holds b's values, so b's field (3x3), not a's (5x5)."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 5, padding=2), nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.a(x).copy_(self.b(x))


class TransposedInPlace(nn.Module):
    """transpose_ moves the axes like transpose: height and width trade places before the 3x3."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, (1, 3), stride=(1, 2)), nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.b(self.a(x).transpose_(2, 3))


def test_copy_in_place_carries_the_sources_field():
    s = archscope.summarize(CopiedInto(), (3, 16, 16))
    assert s.receptive_field.to_dict() == {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}
    record, measured = measure_receptive_field(CopiedInto(), (3, 16, 16))
    assert measured.to_dict() == {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}


class PastedIntoABatch(nn.Module):
    """As torchvision's detection transform batches its images: each image is copied into the
    top-left box of a new zero batch (``box``, ``index``: which box), and the backbone reads the batch."""

    def __init__(self, how="box"):
        super().__init__()
        self.how = how
        self.conv, self.conv2 = nn.Conv2d(3, 8, 3, stride=2), nn.Conv2d(8, 8, 3)
        self.wide = nn.Conv2d(8, 8, 3, stride=2)

    def forward(self, x):
        if self.how == "box":  # a 60x60 image in a 64x64 batch, as size_divisible pads it
            batch = x.new_zeros(x.shape[0], 3, 64, 64)
            batch[:, :, : x.shape[2], : x.shape[3]].copy_(x)
        elif self.how == "index":  # the first image of a batch of two, copied as a 3-D image
            batch = x.new_zeros(2, 3, 64, 64)
            batch[0, :, : x.shape[2], : x.shape[3]].copy_(x[0])
        elif self.how == "channels":  # three channels of eight: the other five are zeros, as F.pad's channels are
            batch = x.new_zeros(x.shape[0], 8, 64, 64)
            batch[:, :3, : x.shape[2], : x.shape[3]].copy_(x)
            return self.conv2(self.wide(batch))
        else:  # every other position: not a box
            batch = x.new_zeros(x.shape[0], 3, 2 * x.shape[2], 2 * x.shape[3])
            batch[:, :, ::2, ::2].copy_(x)
        return self.conv2(self.conv(batch))


@pytest.mark.parametrize("how", ["box", "index", "channels"])
def test_an_image_copied_into_a_batch_gives_the_batch_its_field(how):
    """Issue 18 (maskrcnn_resnet50_fpn): the backbone read a batch the tracker knew nothing of,
    so the last map with a field was the copy itself (field 1). 3x3/2 then 3x3: 3 + 2 x 2 = 7, stride 2,
    the same field as without the batch, and the gradients agree."""
    s = archscope.summarize(PastedIntoABatch(how), (3, 60, 60))
    assert s.receptive_field.to_dict() == {"size": [7, 7], "stride": [2, 2], "padding": [0, 0]}
    assert s.receptive_field_map.layer == "conv2"
    record, measured = measure_receptive_field(PastedIntoABatch(how), (3, 60, 60))
    assert measured.to_dict() == record.receptive_field.to_dict() == s.receptive_field.to_dict()


def test_a_copy_into_what_is_not_a_box_makes_the_field_unknown_with_its_reason():
    s = archscope.summarize(PastedIntoABatch("strided"), (3, 30, 30))
    assert s.receptive_field.kind == "unknown"
    assert "aten::copy_ wrote into part of a tensor in a way the field cannot follow" in s.receptive_field.reason


def test_an_in_place_transpose_moves_the_axes():
    s = archscope.summarize(TransposedInPlace(), (3, 16, 32))
    # Height: the 3x3 alone (3, stride 1). Width: 1x3/2, then the 3x3's other side: 3 + 2 x 2 = 7, stride 2.
    assert (s.receptive_field.size, s.receptive_field.stride) == ((3, 7), (1, 2))
    record, measured = measure_receptive_field(TransposedInPlace(), (3, 16, 32))
    assert (measured.size, measured.stride) == ([3, 7], [1, 2])


def test_an_in_place_running_sum_over_positions_is_unknown_with_its_reason():
    class Running(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x).cumsum_(3)

    rf = archscope.summarize(Running(), (3, 16, 16)).receptive_field
    assert rf.reason == "aten::cumsum_ over positions: each position sees those before it"
