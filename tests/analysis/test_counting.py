"""The operator table, one rule at a time, on small layers whose counts are known by hand."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import archscope


def totals(module: nn.Module, shape) -> archscope.Totals:
    return archscope.summarize(module, shape).totals


def test_convolution_macs_are_output_positions_times_fan_in():
    # 8 output channels at 6x6, each a dot product over 3 x 3x3 inputs.
    t = totals(nn.Conv2d(3, 8, 3), (3, 8, 8))
    assert t.macs == 8 * 6 * 6 * 3 * 3 * 3
    assert t.flops == 2 * t.macs + 8 * 6 * 6  # plus one bias add per output


def test_grouped_strided_dilated_convolution():
    conv = nn.Conv2d(8, 16, 3, stride=2, padding=2, dilation=2, groups=4, bias=False)
    out = 16 * 16 * 16  # (32 + 4 - 4 - 1) // 2 + 1 = 16
    t = totals(conv, (8, 32, 32))
    assert t.macs == out * (8 // 4) * 9
    assert t.flops == 2 * t.macs


def test_transposed_convolution_counts_each_input_scattered_into_the_kernel():
    t = totals(nn.ConvTranspose2d(4, 6, 2, stride=2, bias=False), (4, 5, 5))
    assert t.macs == (4 * 5 * 5) * 6 * 2 * 2


def test_linear_counts_weights_times_batch_and_bias_adds():
    t = archscope.summarize(nn.Linear(10, 3), (10,), batch_size=4).totals
    assert t.macs == 4 * 10 * 3
    assert t.flops == 2 * t.macs + 4 * 3


def test_matmul_and_batched_matmul():
    class Attention(nn.Module):
        def forward(self, x):
            return torch.softmax(x @ x.transpose(1, 2), dim=-1) @ x

    t = archscope.summarize(Attention(), (5, 7), batch_size=2).totals
    assert t.macs == 2 * (5 * 7 * 5) * 2
    assert t.flops == 2 * t.macs + 4 * 2 * 5 * 5  # softmax: 4 per element


def test_batch_norm_costs_two_per_element_in_eval_and_four_in_training():
    bn = nn.BatchNorm2d(3)
    assert totals(bn, (3, 4, 4)).flops == 2 * 48
    # Training also bumps the num_batches_tracked counter: one add.
    assert archscope.summarize(bn, (3, 4, 4), train=True).totals.flops == 4 * 48 + 1


def test_pooling_costs_one_per_window_element_per_output():
    assert totals(nn.MaxPool2d(3, stride=2), (2, 9, 9)).flops == 2 * 4 * 4 * 9
    assert totals(nn.AvgPool2d(2), (2, 8, 8)).flops == 2 * 4 * 4 * 4
    assert totals(nn.AdaptiveAvgPool2d(1), (2, 8, 8)).flops == 2 * 8 * 8


def test_activations_and_residual_adds_cost_one_per_element():
    class Residual(nn.Module):
        def forward(self, x):
            return F.relu(x) + x

    assert totals(Residual(), (2, 3, 3)).flops == 18 + 18


def test_local_response_norm_is_counted_through_its_operators():
    # square, window sum of 5, scale, offset, power, divide: 10 per element.
    assert totals(nn.LocalResponseNorm(5), (8, 4, 4)).flops == 10 * 8 * 16


def test_data_movement_is_free_and_not_reported():
    class Reshape(nn.Module):
        def forward(self, x):
            return torch.cat([x, x], 1).flatten(1).unsqueeze(0)

    s = archscope.summarize(Reshape(), (2, 3))
    assert (s.totals.macs, s.totals.flops, s.uncounted) == (0, 0, [])


def test_an_operator_without_a_rule_is_reported_never_silently_zero():
    class Gamma(nn.Module):
        def forward(self, x):
            return torch.lgamma(x) + torch.digamma(x) + torch.digamma(x)

    s = archscope.summarize(Gamma(), (1, 4, 4))
    assert {(u.op, u.count) for u in s.uncounted} == {("aten::lgamma", 1), ("aten::digamma", 2)}
    assert s.totals.flops == 2 * 16  # the two additions are counted; the rest is listed, not zero


def test_bilinear_upsampling_weighs_four_neighbours_per_output():
    class Upsample(nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=2, mode="bilinear")

    s = archscope.summarize(Upsample(), (1, 4, 4))
    assert s.uncounted == []
    assert s.totals.flops == 8 * 8 * (4 + 3)  # 4 multiplies and 3 adds per output


@pytest.mark.parametrize("batch", [1, 3])
def test_every_count_scales_with_the_batch(batch, zoo_summary):
    one = zoo_summary("lenet5").totals
    many = archscope.summarize("lenet5", batch_size=batch).totals
    assert (many.macs, many.flops, many.activation_bytes) == (batch * one.macs, batch * one.flops, batch * one.activation_bytes)
    assert many.params == one.params
