"""The linearised network the gradient measurement runs (``rf.measure``).

ReLU, batch norm and the other activations and normalisations become the identity, a max
pool the average pool of the same geometry, every weight one (``linearised_copy``), each as
its operator's row in ``analysis.ops`` says (``OpRule.linearise``). Two choices keep it fast
and exact for any depth:

* every convolution sums its input channels and applies a kernel of ones: with positive
  weights the set of input positions that reach an output does not depend on the channel
  count or the weight values, so one channel suffices; that convolution saves nothing for
  backward (its input gradient depends on the kernel alone), so a deep network's graph
  holds no activations;
* the gradient is reduced to its support (non-zero -> 1) after every operator, so a 2,400-layer
  network neither overflows at the centre of the field nor underflows at its edge.
"""

from __future__ import annotations

import copy
import ctypes
import itertools
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from archscope.analysis.ops import linearised_row
from archscope.errors import ArchscopeError

# The arguments of the torch functions the linearised network replaces (F.conv2d, F.max_pool2d, ...).
_POOL_ARGS = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_TRANSPOSED_ARGS = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")
# Python's augmented assignments (+=, -=, *=, /=) run in place, which the real channel counts
# (expanded views) cannot take; done out of place, as ``out += shortcut`` binds the result.
_IN_PLACE = {"add_": torch.add, "sub_": torch.sub, "mul_": torch.mul, "div_": torch.div}


def _bind(names: Sequence[str], args: Sequence[Any], kwargs: dict) -> dict[str, Any]:
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _malloc_trim() -> Callable[[], Any]:
    """glibc's ``malloc_trim(0)`` where the C library has it, else nothing.

    A float64 forward and backward through a thousand layers frees a map at every step, and
    glibc keeps the freed pieces in its heap rather than giving them back: cifar-resnet1202's
    measurement held 4 GB of them, though it needs a tenth of that at any one time.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return lambda: None
    return lambda: trim(0)


_TRIM = _malloc_trim()
_TRIM_EVERY = 32  # operators (forward) or gradients (backward) between trims: a few maps' worth at most
_steps = itertools.count(1)


def _tidy() -> None:
    if next(_steps) % _TRIM_EVERY == 0:
        _TRIM()


def _support(grad: torch.Tensor) -> torch.Tensor:
    _tidy()
    return (grad != 0).to(grad.dtype)


def _box_sum(x: torch.Tensor, conv: Any, kernel: tuple[int, ...], stride: Any, padding: Any,
             dilation: Any) -> torch.Tensor:  # fmt: skip
    """The convolution of one channel through a kernel of ones: the sum over each window.

    Run as a sum pool (an average pool without its division) where one has that geometry (2-D
    and 3-D, no dilation, padding at most half the kernel): the same numbers without the
    im2col buffers of a float64 convolution, whose churn would hold gigabytes the allocator
    does not give back.
    """
    n = len(kernel)
    if _as_sum_pool(kernel, padding, dilation):
        return _SUM_POOLS[n](x, kernel, stride, _per_axis(padding, n), False, True, 1)
    ones = torch.ones((1, 1, *kernel), dtype=x.dtype, device=x.device)
    return conv(x, ones, None, stride, padding, dilation, 1)


def _box_sum_gradient(grad: torch.Tensor, shape: torch.Size, conv: Any, kernel: tuple[int, ...], stride: Any,
                      padding: Any, dilation: Any) -> torch.Tensor:  # fmt: skip
    """The input gradient of ``_box_sum`` on an input of ``shape``: every window's gradient
    spread back over the window. It depends on the shape alone, so nothing of the input is kept."""
    n = len(kernel)
    if _as_sum_pool(kernel, padding, dilation):
        sizes_only = grad.new_empty(shape)  # the pool's backward reads the input's shape, not its values
        return _SUM_POOL_GRADIENTS[n](grad, sizes_only, list(kernel), _per_axis(stride, n), _per_axis(padding, n),
                                      False, True, 1)  # fmt: skip
    ones = torch.ones((1, 1, *kernel), dtype=grad.dtype, device=grad.device)
    return _CONV_INPUT_GRADIENTS[n](list(shape), ones, grad, stride, padding, dilation, 1)


_SUM_POOLS = {2: F.avg_pool2d, 3: F.avg_pool3d}
_SUM_POOL_GRADIENTS = {2: torch.ops.aten.avg_pool2d_backward, 3: torch.ops.aten.avg_pool3d_backward}
_CONV_INPUT_GRADIENTS = {1: torch.nn.grad.conv1d_input, 2: torch.nn.grad.conv2d_input, 3: torch.nn.grad.conv3d_input}


def _as_sum_pool(kernel: tuple[int, ...], padding: Any, dilation: Any) -> bool:
    """Whether an average pool has this window's geometry (it pads at most half a window)."""
    n = len(kernel)
    return (
        n in _SUM_POOLS
        and all(d == 1 for d in _per_axis(dilation, n))
        and all(2 * p <= k for p, k in zip(_per_axis(padding, n), kernel))
    )


def _per_axis(value: Any, n: int) -> list[int]:
    return [int(value)] * n if isinstance(value, int) else [int(v) for v in value] * (n if len(value) == 1 else 1)


class _OnesConvolution(torch.autograd.Function):
    """A convolution from one channel to one through a kernel of ones that saves nothing for backward.

    Its input gradient depends on the kernel alone, not on the input, so unlike autograd's
    convolution, which keeps every input, a 1,202-layer network's graph holds no activations:
    the measurement's memory stays that of a few maps.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, *geometry: Any) -> torch.Tensor:  # geometry: conv, kernel, stride, ...
        ctx.shape, ctx.geometry = x.shape, geometry
        return _box_sum(x, *geometry)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        return (_box_sum_gradient(grad, ctx.shape, *ctx.geometry), *([None] * len(ctx.geometry)))


class Linearised(TorchFunctionMode):
    """Runs a network as its linearised, one-channel, support-propagating counterpart.

    ``channels``: convolutions give their real number of output channels (all equal), for
    networks whose reshapes and linear layers need it (a ViT's patch embedding, ConvNeXt's
    MLP); slower, so only when the one-channel run fails.
    """

    def __init__(self, channels: bool = False) -> None:
        super().__init__()
        self.channels = channels

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        # The operator's row says what to do with it (analysis.ops); a function no row describes
        # (F.local_response_norm, written over other operators) runs as it is.
        row = linearised_row(name)
        how = row.linearise if row is not None else "keep"
        if how == "identity":
            result = args[0] if args else next(iter(kwargs.values()))
        elif how == "ones_conv":
            a = _bind(_CONV_ARGS, args, kwargs)
            x, weight = a["input"], a["weight"]
            batched = x.dim() == weight.dim()
            x = x if batched else x.unsqueeze(0)
            geometry = (func, tuple(weight.shape[2:]), a.get("stride", 1), a.get("padding", 0), a.get("dilation", 1))
            if isinstance(geometry[3], str):  # padding="same": autograd's own convolution
                ones = torch.ones((1, 1, *weight.shape[2:]), dtype=x.dtype, device=x.device)
                result = func(x.sum(1, keepdim=True), ones, None, *geometry[2:], 1)
            else:
                result = _OnesConvolution.apply(x.sum(1, keepdim=True), *geometry)
            if self.channels:
                result = result.expand(-1, weight.shape[0], *result.shape[2:])
            result = result if batched else result[0]
        elif how == "avg_pool":
            a = _bind(_POOL_ARGS, args, kwargs)
            if a.get("dilation", 1) not in (1, (1,), (1, 1), (1, 1, 1), [1], [1, 1]):
                raise ArchscopeError("cannot linearise a dilated max-pool (no average pool has that geometry)")
            result = row.stand_in(
                a["input"], a["kernel_size"], a.get("stride"), a.get("padding", 0), a.get("ceil_mode", False)
            )
            if a.get("return_indices"):
                result = (result, None)
        elif how == "ones_conv_transposed":  # the same scatter through a kernel of ones, from one channel to one
            a = _bind(_TRANSPOSED_ARGS, args, kwargs)
            x, weight = a["input"], a["weight"]
            ones = torch.ones((1, 1, *weight.shape[2:]), dtype=x.dtype, device=x.device)
            result = func(
                x.sum(1, keepdim=True), ones, None, a.get("stride", 1), a.get("padding", 0), a.get("output_padding", 0),
                1, a.get("dilation", 1),
            )  # fmt: skip
            if self.channels:
                result = result.expand(-1, weight.shape[1] * a.get("groups", 1), *result.shape[2:])
        elif name in _IN_PLACE and isinstance(args[0], torch.Tensor) and 0 in args[0].stride():
            # ``out += shortcut`` on a convolution's expanded output: the caller takes the result.
            result = _IN_PLACE[name](*args, **kwargs)
        else:
            result = func(*args, **kwargs)
        if (
            isinstance(result, torch.Tensor) and result.requires_grad and result.is_floating_point()
            and not any(result is a for a in args)  # an identity's input: hooked where it was made
        ):  # fmt: skip
            result.register_hook(_support)
        _tidy()
        return result


def linearised_copy(model: nn.Module) -> nn.Module:
    """A copy with every floating-point parameter and buffer set to one; the original is not touched."""
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        # Integer buffers (an index table, say) hold data the measurement needs.
        raise ArchscopeError("measuring a receptive field needs the model's real buffers, not a meta-device model")
    clone = copy.deepcopy(model)
    with torch.no_grad():
        for t in [*clone.parameters(), *clone.buffers()]:
            if t.is_floating_point():
                t.fill_(1.0)
    return clone.eval().double()
