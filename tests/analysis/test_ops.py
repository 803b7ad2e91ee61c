"""The operator registry's rows: mixtures of experts, operators that compute nothing, the shared readings of
an operator's arguments (a window, a kernel per axis)."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import archscope
from archscope.analysis.ops import REGISTRY, aten, per_axis, rule_for
from archscope.analysis.windows import pool_window

TOKENS, WIDTH, HIDDEN, EXPERTS = 8, 16, 32, 4


class TinyMixture(nn.Module):
    """A mixture of experts as Mixtral's sparse block runs it: route, count, group, two expert products."""

    def __init__(self) -> None:
        super().__init__()
        self.router = nn.Linear(WIDTH, EXPERTS, bias=False)
        self.up = nn.Parameter(torch.randn(EXPERTS, WIDTH, HIDDEN, dtype=torch.bfloat16))
        self.down = nn.Parameter(torch.randn(EXPERTS, HIDDEN, WIDTH, dtype=torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        choice = self.router(x.float()).argmax(-1)
        per_expert = torch.histc(choice.float(), bins=EXPERTS, min=0, max=EXPERTS - 1)
        offsets = per_expert.cumsum(0).to(torch.int32)
        grouped = x[choice.argsort()]
        hidden = F.relu(torch._grouped_mm(grouped, self.up, offsets))
        dtype = torch.promote_types(hidden.dtype, torch.float32)
        return torch._grouped_mm(hidden, self.down, offsets).to(dtype)


@pytest.mark.skipif(not hasattr(aten, "_grouped_mm"), reason="this PyTorch has no _grouped_mm")
def test_a_mixture_of_experts_is_counted_by_hand_with_nothing_left_uncounted():
    s = archscope.summarize(TinyMixture(), input_data=torch.empty(TOKENS, WIDTH, dtype=torch.bfloat16))
    assert s.uncounted == []  # _grouped_mm and histc have rules; promote_types computes nothing
    router = TOKENS * WIDTH * EXPERTS
    experts = TOKENS * WIDTH * HIDDEN + TOKENS * HIDDEN * WIDTH  # every token meets one expert, both ways
    assert s.totals.macs == router + experts
    # argmax and histc one per input, argsort one per input, cumsum one per input, ReLU one per output
    assert s.totals.flops == 2 * (router + experts) + TOKENS * EXPERTS + TOKENS + TOKENS + EXPERTS + TOKENS * HIDDEN


@pytest.mark.skipif(not hasattr(aten, "_grouped_mm"), reason="this PyTorch has no _grouped_mm")
@pytest.mark.parametrize(
    "a, b, offsets, macs",
    [
        ((TOKENS, WIDTH), (EXPERTS, WIDTH, HIDDEN), True, TOKENS * WIDTH * HIDDEN),  # rows grouped
        ((EXPERTS, TOKENS, WIDTH), (EXPERTS, WIDTH, HIDDEN), False, EXPERTS * TOKENS * WIDTH * HIDDEN),  # batched
        ((EXPERTS, TOKENS, WIDTH), (WIDTH, HIDDEN * EXPERTS), True, TOKENS * WIDTH * HIDDEN * EXPERTS),  # columns grouped
        ((HIDDEN, TOKENS * EXPERTS), (TOKENS * EXPERTS, WIDTH), True, HIDDEN * TOKENS * EXPERTS * WIDTH),  # contraction
    ],
)
def test_each_grouped_product_layout_by_hand(a, b, offsets, macs):
    x, w = torch.empty(a, device="meta", dtype=torch.bfloat16), torch.empty(b, device="meta", dtype=torch.bfloat16)
    offs = torch.empty(EXPERTS, device="meta", dtype=torch.int32) if offsets else None
    out = aten._grouped_mm.default(x, w, offs)
    cost = rule_for(aten._grouped_mm.default).cost((x, w, offs), {}, out)
    assert (cost.macs, cost.flops) == (macs, 2 * macs)


def test_attention_backward_is_four_products_where_flop_counter_counts_otherwise():
    q = k = v = torch.randn(1, 2, 10, 8, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        F.scaled_dot_product_attention(q, k, v).sum().backward()
    s = archscope.summarize(_Attention(), (2, 10, 8), train=True)
    forward = 2 * 10 * 10 * (8 + 8)  # Q·Kᵀ and P·V per head
    assert s.totals.macs == forward and s.totals.backward_macs == 2 * forward  # dV, dP, dQ, dK
    # The documented difference (docs/counting.md): before torch 2.15 FlopCounterMode has no rule for
    # the fused CPU kernel (0); from 2.15 it counts the flash kernel's backward, five products.
    older = tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 15)
    assert counter.get_total_flops() == (0 if older else 2 * (forward + 5 * forward // 2))


class _Attention(nn.Module):
    """Self-attention on a learned scale of the input, so that its gradients are needed."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.scale
        return F.scaled_dot_product_attention(x, x, x)


def test_every_built_in_row_that_counts_can_say_its_formula():
    missing = {p.__name__ for p, rule in REGISTRY.items() if rule.cost is not None and rule.formula is None}
    assert missing <= {"double", "triple", "box3"}  # rows other tests register with a plain cost (tests/analysis/rf)


def test_a_pool_window_is_read_the_same_however_it_is_spelled():
    assert pool_window(3, axes=2) == pool_window([3, 3], [], 0, axes=2) == pool_window([3], [3], [0, 0], axes=2)
    window = pool_window([3, 2], [2], 1, 2, True, axes=2)
    assert (window.kernel, window.stride, window.padding, window.dilation, window.ceil_mode) == ([3, 2], [2, 2], [1, 1], [2, 2], True)


def test_one_kernel_size_stands_for_every_spatial_axis():
    assert per_axis(3, 2) == [3, 3]
    assert per_axis([3], 3) == [3, 3, 3]
    assert per_axis((2, 3), 2) == [2, 3]  # a full list is kept as given
    assert per_axis((), 2) == []  # a pool's stride left out stays empty (it means the kernel)
    assert per_axis(4, 0) == [4]  # an unknown rank keeps what was written


class ListKernelPool(nn.Module):
    """F.avg_pool2d(x, [2]): the dispatcher receives the one-element list as written."""

    def forward(self, x):
        return F.avg_pool2d(x, [2])


def test_a_pool_whose_kernel_is_one_number_in_a_list_costs_its_whole_window_forward_and_backward():
    # The pool sits between two convolutions so the backward pass must go through it.
    net = nn.Sequential(nn.Conv2d(2, 2, 1), ListKernelPool(), nn.Conv2d(2, 2, 1, bias=False))
    pool = archscope.summarize(net, (2, 8, 8), train=True).layers[1]
    window, outputs = 2 * 2, 2 * 4 * 4  # a 2x2 window for each of the 2 x 4x4 outputs
    assert pool.flops == window * outputs  # one addition per window element per output
    assert pool.backward_flops == window * outputs  # each output gradient spread back over its window
