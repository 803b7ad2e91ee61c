"""Receptive fields measured by gradients: the independent check on the analytic fields.

Theoretical receptive field (``measure_receptive_field``): run a linearised copy of the
network (ReLU, batch norm and other activations removed, max-pool replaced by an average
pool of the same geometry, every weight positive) on an input large enough that the field
of one output position is not clipped, and find which input positions get a non-zero
gradient from that position. Two neighbouring positions give the stride; where the first
one's field starts gives the padding.

Two choices keep this fast and exact for any depth:

* every convolution sums its input channels and applies a kernel of ones: with positive
  weights the set of input positions that reach an output does not depend on the channel
  count or the weight values, so one channel suffices;
* the gradient is reduced to its support (non-zero -> 1) after every operator, so a 2,400-layer
  network neither overflows at the centre of the field nor underflows at its edge.

Each spatial axis is measured on its own, with only that axis enlarged. A layer whose
positions are not laid out as batch, channels, spatial axes (ViT's tokens, ConvNeXt's
channels-last blocks) says where they are in its field's ``layout`` (``rf.axes``).

The effective receptive field (Luo et al. 2016) is in ``rf.effective``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any, Sequence

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from archscope.analysis.ops import linearised_row
from archscope.analysis.records import LayerRecord, Summary
from archscope.analysis.rf.target import capture, lengths, position, target_layer
from archscope.analysis.summary import analyze
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


def _support(grad: torch.Tensor) -> torch.Tensor:
    return (grad != 0).to(grad.dtype)


class _Linearised(TorchFunctionMode):
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
            ones = torch.ones((1, 1, *weight.shape[2:]), dtype=x.dtype, device=x.device)
            result = func(
                x.sum(1, keepdim=True), ones, None, a.get("stride", 1), a.get("padding", 0), a.get("dilation", 1), 1
            )
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
        if isinstance(result, torch.Tensor) and result.requires_grad and result.is_floating_point():
            result.register_hook(_support)
        return result


@dataclass
class FieldMeasurement:
    layer: str
    size: list[int]
    stride: list[int]
    padding: list[int]
    input_sizes: list[list[int]]  # the input each axis was measured on (C x H x W)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "stride": self.stride, "padding": self.padding}


def _linearised_copy(model: nn.Module) -> nn.Module:
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


def _fits(record: LayerRecord, axis: int, input_length: int) -> bool:
    """Whether the field of the centre position and its neighbour lie inside the input."""
    field = record.receptive_field
    spatial = lengths(record, len(field.size))
    outputs = spatial[axis]
    if outputs < 2:
        return False
    centre = outputs // 2 if outputs // 2 + 1 < outputs else outputs - 2
    size, stride, padding = field.size[axis], field.stride[axis], field.padding[axis]
    starts = [x * stride - padding for x in (centre, centre + 1)]  # a flip's stride is negative
    return min(starts) >= 0 and max(starts) + size - 1 <= input_length - 1


def measure_receptive_field(
    model: nn.Module, input_size: Sequence[int], *, name: str | None = None, max_length: int = 16384
) -> tuple[LayerRecord, FieldMeasurement]:
    """The analytic field of the last spatial layer, and the same field measured by gradients.

    Each axis is measured on an input enlarged until the centre position's field fits; the
    record returned holds the analytic field at the size each axis was measured on (the same
    field, except after a flip, whose padding depends on the input's size).
    """
    base = analyze(model, (1, *input_size), name=name)
    index, record = target_layer(base)
    axes = len(input_size) - 1
    sizes, strides, paddings, inputs = [], [], [], []
    analytic: list[tuple[int, int, int]] = []  # (size, stride, padding) of each axis, on the input it was measured on
    for axis in range(axes):
        length = input_size[1 + axis]
        # Enlarge this axis until the field of the centre position is not clipped.
        while True:
            shape = list(input_size)
            shape[1 + axis] = length
            probe = analyze(model, (1, *shape), name=name, stop_after=index)
            field = probe.layers[index].receptive_field
            if not field.is_window:
                raise ArchscopeError(
                    f"the receptive field of {record.name} is not one window on an input {length} long"
                )
            if _fits(probe.layers[index], axis, length):
                break
            step = abs(field.stride[axis])
            length = max(length + step, field.size[axis] + 4 * step)
            if length > max_length:
                raise ArchscopeError(
                    f"the receptive field of {record.name} needs an input over {max_length} long to measure"
                )
        size, stride, padding = _measure_axis(model, shape, index, probe, axis)
        sizes.append(size)
        strides.append(stride)
        paddings.append(padding)
        inputs.append(shape)
        analytic.append((field.size[axis], field.stride[axis], field.padding[axis]))
    size, stride, padding = (tuple(values) for values in zip(*analytic))
    record = replace(record, receptive_field=replace(record.receptive_field, size=size, stride=stride, padding=padding))
    return record, FieldMeasurement(record.name, sizes, strides, paddings, inputs)


def _measure_axis(model: nn.Module, shape: list[int], index: int, summary: Summary, axis: int) -> tuple[int, int, int]:
    """Extent, stride and padding of the field along ``axis``, from the input positions that reach two neighbours.

    The one-channel run comes first (fast); the run with the real channel counts follows when
    the network cannot take one channel (a reshape, a split, a linear layer fails) or slices
    channels so that nothing reaches the output.
    """
    record = summary.layers[index]
    spatial = lengths(record, len(shape) - 1)
    centre = [n // 2 for n in spatial]
    if centre[axis] + 1 >= spatial[axis]:
        centre[axis] = spatial[axis] - 2
    neighbours = [list(centre), list(centre)]
    neighbours[1][axis] += 1
    hits = None
    for channels in (False, True):
        try:
            hits = _reaching(model, shape, index, summary, neighbours, axis, channels)
        except Exception:  # noqa: BLE001 - a reshape, split or linear layer needs the real channel count
            if channels:
                raise
            continue
        if hits is not None:
            break
    if hits is None:
        raise ArchscopeError(
            f"no input position reaches {record.name} through gradients in the linearised network "
            "(a non-linearity with a zero gradient, or a forward run under torch.no_grad)"
        )
    starts = [int(h.min()) for h in hits]
    extent = int(hits[0].max()) - starts[0] + 1
    stride = starts[1] - starts[0]
    padding = centre[axis] * stride - starts[0]
    return extent, stride, padding


def _reaching(model: nn.Module, shape: list[int], index: int, summary: Summary, positions: list[list[int]],
              axis: int, channels: bool) -> list[torch.Tensor] | None:  # fmt: skip
    """For each output position, the input coordinates along ``axis`` with a non-zero gradient (None if none)."""
    linear = _linearised_copy(model)
    x = torch.ones((1, *shape), dtype=torch.float64, requires_grad=True)
    with _Linearised(channels=channels):
        out = capture(linear, summary, index, x)
    record = summary.layers[index]
    hits = []
    for coords in positions:
        x.grad = None
        position(out, record, coords).sum().backward(retain_graph=True)
        if x.grad is None or not x.grad.any():
            return None
        profile = x.grad[0].abs().sum(dim=[d for d in range(x.dim() - 1) if d != axis + 1])
        hits.append(torch.nonzero(profile).flatten())
    return hits
