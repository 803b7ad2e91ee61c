"""The effective receptive field (Luo et al. 2016, "Understanding the Effective Receptive Field
in Deep Convolutional Neural Networks"): the gradient magnitude of one centre output over the
input, with the network's real randomly initialised weights and non-linearities, on a random
input.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from archscope.analysis.records import Summary
from archscope.analysis.rf.target import capture, centre_span, lengths, position, target_of
from archscope.errors import ArchscopeError


class _ThroughDetach(TorchFunctionMode):
    """``detach`` as the identity: the picture shows what reaches the output, gradient cuts or not."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        if getattr(func, "__name__", "") == "detach":
            return args[0]
        return func(*args, **(kwargs or {}))


def effective_receptive_field(model: nn.Module, summary: Summary, seed: int = 0) -> torch.Tensor:
    """|d output / d input| summed over channels, for the centre position of the last spatial map.

    Uses the model's own (randomly initialised) weights and non-linearities in eval mode, on
    a standard normal input of the summary's shape; the model itself is not modified. The
    result is 2-D: one row for a 1-D input, the slice through the field's centre for 3-D.
    """
    target = target_of(summary)
    clone = copy.deepcopy(model).eval()
    if any(p.is_meta for p in clone.parameters()):
        raise ArchscopeError("the effective receptive field needs real weights, not a meta-device model")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(summary.input_shape, generator=generator, requires_grad=True)
    with _ThroughDetach():
        out = capture(clone, summary, target, x)
    axes = len(target.receptive_field.size)
    centre = [n // 2 for n in lengths(target, axes)]
    position(out, target, centre).sum().backward()
    if x.grad is None:
        raise ArchscopeError(
            f"{target.name} does not depend on the input through gradients (a forward run under torch.no_grad?)"
        )
    gradient = x.grad[0].abs().sum(dim=0).detach()
    if axes == 1:
        return gradient[None, :]
    for axis in range(axes - 2):  # the slice through the middle of the field on the leading axes
        first, last = centre_span(target, axis)
        gradient = gradient[min(max((first + last) // 2, 0), gradient.shape[0] - 1)]
    return gradient
