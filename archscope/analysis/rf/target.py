"""Which layer's output a receptive field belongs to, and its positions, for the measurements.

``target_layer`` finds the layer call whose output is the summary's last spatial map;
``capture`` runs a model up to that call and returns its output; ``lengths`` and ``position``
read the output's positions in whatever layout it has (``rf.axes``); ``centre_field_box`` is
the window the centre position sees, for the effective field's picture.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from archscope.analysis.records import LayerRecord, Summary
from archscope.analysis.rf.axes import axis_lengths, position_index
from archscope.errors import ArchscopeError


class _Stop(Exception):
    """Raised from a forward hook once the target layer has produced its output."""


def target_layer(summary: Summary) -> tuple[int, LayerRecord]:
    """The layer call whose output is the last spatial feature map (the summary's receptive field).

    Prefers the outermost module that returns that tensor; falls back to the last layer with
    a spatial field when the map comes from a functional call.
    """
    spatial = [(i, r) for i, r in enumerate(summary.layers) if r.receptive_field and r.receptive_field.is_window]
    if not spatial:
        rf = summary.receptive_field
        if rf is not None and rf.kind == "unknown":
            raise ArchscopeError(
                f"the receptive field of {summary.model} is unknown ({rf.reason}): there is no size to measure"
            )
        raise ArchscopeError(f"{summary.model} has no layer with a spatial output to measure")
    matching = [(i, r) for i, r in spatial if r.receptive_field == summary.receptive_field]
    if matching:
        return min(matching, key=lambda ir: (ir[1].depth, ir[0]))
    return spatial[-1]


def call_index(summary: Summary, index: int) -> int:
    """Which call of its module the ``index``-th layer record is (0 for the first)."""
    name = summary.layers[index].name
    return sum(1 for r in summary.layers[:index] if r.name == name)


def lengths(record: LayerRecord, axes: int) -> list[int]:
    """How many positions the layer's output has along each spatial axis, in whatever layout."""
    layout = record.receptive_field.layout
    return axis_lengths(layout, axes) if layout else list(record.output_shape[2:])


def position(out: torch.Tensor, record: LayerRecord, coords: Sequence[int]) -> torch.Tensor:
    """The elements of ``out`` (batch 0, every channel) at the position with these coordinates."""
    layout = record.receptive_field.layout
    if not layout:
        return out[(0, slice(None), *coords)]
    for d, indices in enumerate(position_index(layout, out.shape, coords)):
        out = out.index_select(d, torch.tensor(indices, device=out.device))
    return out


def capture(model: nn.Module, summary: Summary, index: int, x: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``x`` up to the ``index``-th layer call and return that call's output."""
    target_name = summary.layers[index].name
    wanted = call_index(summary, index)
    module = dict(model.named_modules())[target_name]
    seen = {"calls": 0}
    captured: dict[str, torch.Tensor] = {}

    def hook(mod: nn.Module, args: Any, output: Any) -> None:
        if seen["calls"] == wanted:
            captured["out"] = output[0] if isinstance(output, (tuple, list)) else output
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
        raise ArchscopeError(f"{target_name} did not run")
    return captured["out"]


def centre_span(record: LayerRecord, axis: int) -> tuple[int, int]:
    """First and last input positions the centre output position of ``record`` sees along ``axis``."""
    field = record.receptive_field
    centre = lengths(record, len(field.size))[axis] // 2
    first = centre * field.stride[axis] - field.padding[axis]
    return first, first + field.size[axis] - 1


def centre_field_box(record: LayerRecord) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) input pixels the centre output position of ``record`` sees.

    For a 3-D input, on the last two axes (the picture is the slice through the field's centre);
    for a 1-D input, one row.
    """
    axes = len(record.receptive_field.size)
    if axes == 1:
        left, right = centre_span(record, 0)
        return 0, left, 0, right
    (top, bottom), (left, right) = centre_span(record, axes - 2), centre_span(record, axes - 1)
    return top, left, bottom, right
