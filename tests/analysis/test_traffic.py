"""Bytes moved (analysis.traffic): views move nothing, whatever their schema says."""

from __future__ import annotations

import pytest
import torch.nn as nn

from archscope.analysis.summary import analyze
from archscope.analysis.traffic import TrafficObserver


@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
def test_a_linear_layer_on_tokens_moves_what_it_moves_on_a_matrix(bias):
    # nn.Linear on (1, 3136, 96) flattens to (3136, 96), multiplies, and reshapes back with
    # aten::_unsafe_view, a view its schema calls new. By hand: the input, the weights (and
    # bias) read, the output written, float32.
    expected = 4 * (3136 * 96 + 96 * 384 + (384 if bias else 0) + 3136 * 384)
    for shape in ([3136, 96], [1, 3136, 96]):
        traffic = TrafficObserver()
        analyze(nn.Linear(96, 384, bias=bias), shape, observers=[traffic])
        assert traffic.total == expected, shape
