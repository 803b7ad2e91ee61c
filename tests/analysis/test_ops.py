"""The operator table's shared readings of an operator's arguments."""

import torch.nn as nn
import torch.nn.functional as F

import archscope
from archscope.analysis.ops import per_axis


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
