"""The tensor a summary's receptive field belongs to, found again for the measurements.

``target_of`` reads the summary's last spatial map (``Summary.receptive_field_map``): the
output of a layer call, or one of the model's outputs (a U-Net's map, a concatenation in the
model's own forward). ``capture`` runs a model up to it and returns it, whatever else that
layer or the model returns (a tuple, a dict, a Hugging Face ``ModelOutput``); ``lengths``
and ``position`` read its positions in whatever layout it has (``rf.axes``);
``centre_field_box`` is the window its centre position sees, for the effective field's
picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn as nn

from archscope.analysis.records import ReceptiveField, Summary
from archscope.analysis.rf.axes import axis_lengths, position_index
from archscope.analysis.tensors import tensors_in
from archscope.errors import ArchscopeError


@dataclass(frozen=True)
class Target:
    """The tensor whose field is measured: one output tensor of a layer call, or of the model."""

    name: str  # the layer's name, or "output" for the model's own output
    receptive_field: ReceptiveField  # its analytic field
    shape: list[int]
    layer: int | None  # its layer call's index in the summary's layers; None: the model's output
    tensor: int = 0  # its place among that output's tensors
    last_map: bool = True  # the summary's last spatial map; False: the last layer with a window before it

    @property
    def stop_after(self) -> int | None:
        """Where an analysis may stop and still see this tensor."""
        return self.layer


def target_of(summary: Summary) -> Target:
    """The last spatial map of ``summary``: the tensor its receptive field belongs to."""
    rf, where = summary.receptive_field, summary.receptive_field_map
    if rf is None or where is None:
        raise ArchscopeError(f"{summary.model} has no layer with a spatial output to measure")
    if rf.kind == "unknown":
        raise ArchscopeError(
            f"the receptive field of {summary.model} is unknown ({rf.reason}): there is no size to measure"
        )
    if not (rf.is_window or rf.is_range):  # the whole input, or nothing: the last stage's window is what is left
        windows = [(i, r) for i, r in enumerate(summary.layers) if r.receptive_field and r.receptive_field.is_window]
        if not windows:
            raise ArchscopeError(f"no layer of {summary.model} sees a window of the input: there is no size to measure")
        i, r = windows[-1]
        return Target(r.name, r.receptive_field, _first_shape(r.output_shape), i, last_map=False)
    if where.layer is not None:
        calls = [i for i, r in enumerate(summary.layers) if r.name == where.layer]
        if where.call < len(calls):
            return Target(where.layer, rf, where.shape, calls[where.call], where.layer_tensor)
    if where.output is not None:
        return Target("output", rf, where.shape, None, where.output)
    # Made by an operator no layer returns (a functional call inside a layer): a layer whose
    # output has the same field holds the same numbers.
    same = [(i, r) for i, r in enumerate(summary.layers) if r.receptive_field == rf]
    if same:
        i, r = min(same, key=lambda ir: (ir[1].depth, ir[0]))
        return Target(r.name, rf, where.shape, i)
    raise ArchscopeError(
        f"the last spatial map of {summary.model} is the result of {where.op}, which no layer returns and the "
        "model does not output: there is nothing to run the model up to and measure"
    )


def same_field_targets(summary: Summary, target: Target) -> list[Target]:
    """Earlier layer outputs with the same field as ``target`` (the outermost first): the same
    numbers, to measure when the target's own field depends on the input's size (VGG's
    adaptive pool is a 7x7 identity at 224, uneven windows on a larger input)."""
    end = target.layer if target.layer is not None else len(summary.layers)
    same = [(i, r) for i, r in enumerate(summary.layers[:end]) if r.receptive_field == target.receptive_field]
    return [Target(r.name, r.receptive_field, _first_shape(r.output_shape), i, last_map=target.last_map)
            for i, r in sorted(same, key=lambda ir: (ir[1].depth, ir[0]))]  # fmt: skip


def _first_shape(shape: Any) -> list[int]:
    """The shape of a layer's first output tensor (its record holds several for several outputs)."""
    while isinstance(shape, (list, dict)) and shape and not all(isinstance(d, int) for d in shape):
        shape = next(iter(shape.values())) if isinstance(shape, dict) else shape[0]
    return list(shape) if isinstance(shape, list) else []


def call_index(summary: Summary, index: int) -> int:
    """Which call of its module the ``index``-th layer record is (0 for the first)."""
    name = summary.layers[index].name
    return sum(1 for r in summary.layers[:index] if r.name == name)


def lengths(target: Target, axes: int) -> list[int]:
    """How many positions the tensor has along each spatial axis, in whatever layout."""
    layout = target.receptive_field.layout
    return axis_lengths(layout, axes) if layout else list(target.shape[2:])


def position(out: torch.Tensor, target: Target, coords: Sequence[int]) -> torch.Tensor:
    """The elements of ``out`` (batch 0, every channel) at the position with these coordinates."""
    layout = target.receptive_field.layout
    if not layout:
        return out[(0, slice(None), *coords)]
    for d, indices in enumerate(position_index(layout, out.shape, coords)):
        out = out.index_select(d, torch.tensor(indices, device=out.device))
    return out


class _Stop(Exception):
    """Raised from a forward hook once the target layer has produced its output."""


def capture(model: nn.Module, summary: Summary, target: Target, x: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``x`` up to the target tensor and return it."""
    if target.layer is None:
        return _tensor(model(x), target, "the model's output")
    wanted = call_index(summary, target.layer)
    module = dict(model.named_modules())[target.name]
    seen = {"calls": 0}
    captured: dict[str, Any] = {}

    def hook(mod: nn.Module, args: Any, output: Any) -> None:
        if seen["calls"] == wanted:
            captured["out"] = output
            raise _Stop
        seen["calls"] += 1

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    if "out" not in captured:
        raise ArchscopeError(f"{target.name} did not run")
    return _tensor(captured["out"], target, target.name)


def _tensor(output: Any, target: Target, what: str) -> torch.Tensor:
    found = list(tensors_in(output))
    if target.tensor >= len(found):
        raise ArchscopeError(f"{what} returned {len(found)} tensor(s) where the analysis saw {target.tensor + 1}")
    return found[target.tensor]


def centre_span(target: Target, axis: int) -> tuple[int, int]:
    """First and last input positions the centre output position sees along ``axis``."""
    field = target.receptive_field
    centre = lengths(target, len(field.size))[axis] // 2
    if field.is_range:
        m, phase = divmod(centre, field.period[axis])
        first = m * field.stride[axis] - field.phase_padding[axis][phase]
        return first, first + field.phase_size[axis][phase] - 1
    first = centre * field.stride[axis] - field.padding[axis]
    return first, first + field.size[axis] - 1


def centre_field_box(target: Target) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) input pixels the centre output position sees.

    For a 3-D input, on the last two axes (the picture is the slice through the field's centre);
    for a 1-D input, one row.
    """
    axes = len(target.receptive_field.size)
    if axes == 1:
        left, right = centre_span(target, 0)
        return 0, left, 0, right
    (top, bottom), (left, right) = centre_span(target, axes - 2), centre_span(target, axes - 1)
    return top, left, bottom, right
