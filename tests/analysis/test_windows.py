"""Explain's shape and MACs formulas for random windows, held to a real forward pass.

For convolutions, transposed convolutions, max and average pooling (ceil mode, dilation,
padding) and linear layers of random geometry, the printed output-length formula (its text
evaluated with its bindings) equals the length PyTorch computes on real data, and the printed
MACs formula equals torch's FlopCounterMode on the same real forward (which counts 2 FLOPs per
multiply-accumulate of a convolution or a matrix product, and nothing for pooling).
"""

import torch
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from archscope.analysis.explain import explain
from archscope.analysis.windows import pool_window
from tests.analysis.formula_text import evaluate

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def explained(layer: nn.Module, shape: tuple[int, ...]):
    """explain's record of ``layer`` (as layer "0" of a Sequential), and the real output and FLOPs."""
    model = nn.Sequential(layer)
    with FlopCounterMode(display=False) as counter:
        real = model(torch.randn(1, *shape))
    return explain(model, ["0"], input_size=list(shape)).layers[0], real, counter.get_total_flops()


def check_lengths(x, real: torch.Tensor) -> None:
    q = x.quantity("output_shape")
    assert q.value == list(real.shape)
    spatial = list(real.shape[2:])
    assert len(q.axes) == len(spatial)
    for axis, length in zip(q.axes, spatial):
        assert evaluate(axis.formula, axis.bindings) == axis.value == length
        assert evaluate(axis.numbers) == length


def check_macs(x, real_flops: int) -> None:
    q = x.quantity("macs")
    assert 2 * q.value == real_flops
    if q.value:
        assert evaluate(q.formula, q.bindings) == q.value
        assert evaluate(q.numbers) == q.value


@st.composite
def convolutions(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    size = [max(draw(st.integers(1, 12)), dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]) for i in range(2)]
    layer = nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups, bias=draw(st.booleans()))
    return layer, (c_in, *size)


@given(convolutions())
@SETTINGS
def test_convolution_shapes_and_macs_equal_a_real_forward(case):
    layer, shape = case
    x, real, flops = explained(layer, shape)
    check_lengths(x, real)
    check_macs(x, flops)
    params = x.quantity("params")
    assert evaluate(params.formula, params.bindings) == params.value == sum(p.numel() for p in layer.parameters())


@st.composite
def transposed(draw):
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.integers(0, dilation * (kernel - 1) // 2))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    layer = nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, output_padding, groups, dilation=dilation)
    return layer, (c_in, draw(st.integers(1, 8)), draw(st.integers(1, 8)))


@given(transposed())
@SETTINGS
def test_transposed_convolution_shapes_and_macs_equal_a_real_forward(case):
    layer, shape = case
    x, real, flops = explained(layer, shape)
    check_lengths(x, real)
    check_macs(x, flops)


@st.composite
def poolings(draw):
    kernel = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 4))
    padding = draw(st.integers(0, kernel // 2))
    ceil_mode = draw(st.booleans())
    if draw(st.booleans()):
        dilation = draw(st.integers(1, 3))
        layer = nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        reach = dilation * (kernel - 1) + 1
    else:
        layer = nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
        reach = kernel
    size = [max(draw(st.integers(1, 14)), reach - 2 * padding) for _ in range(2)]
    return layer, (draw(st.integers(1, 3)), *size)


@given(poolings())
@SETTINGS
def test_pooling_shapes_equal_a_real_forward_in_floor_and_ceil_mode(case):
    layer, shape = case
    x, real, flops = explained(layer, shape)
    check_lengths(x, real)
    assert flops == 0 and x.quantity("macs").value == 0
    f = x.quantity("flops")  # one comparison or addition per window element per output
    kernel = pool_window(layer.kernel_size, axes=2).kernel
    assert evaluate(f.formula, f.bindings) == f.value == kernel[0] * kernel[1] * real.numel()


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 5), st.booleans())
@SETTINGS
def test_linear_macs_equal_a_real_forward(c_in, c_out, rows, bias):
    layer = nn.Linear(c_in, c_out, bias=bias)
    x, real, flops = explained(layer, (rows, c_in)) if rows > 1 else explained(layer, (c_in,))
    check_macs(x, flops)
    params = x.quantity("params")
    assert evaluate(params.formula, params.bindings) == params.value == c_in * c_out + (c_out if bias else 0)


def test_ceil_mode_says_why_the_last_window_is_dropped():
    # ⌈(5 + 2·1 − 1·(2 − 1) − 1)/4⌉ + 1 = 3, but the third window would start at (3 − 1)·4 = 8 ≥ 5 + 1:
    # in the right padding, which ceil mode does not allow, so PyTorch makes 2.
    layer = nn.MaxPool2d(kernel_size=2, stride=4, padding=1, ceil_mode=True)
    x, real, _ = explained(layer, (1, 5, 5))
    check_lengths(x, real)
    axis = x.quantity("output_shape").axes[0]
    assert axis.formula.startswith("⌈") and axis.formula.endswith("+ 1 − 1") and axis.value == real.shape[2] == 2
    assert "right padding" in axis.note
