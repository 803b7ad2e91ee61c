"""Elementwise rules: each output position combines the same position of its inputs.

``pointwise`` (activations, arithmetic, normalisations), ``copy`` (``copy_(dst, src)``: the
source replaces the destination) and ``glu`` (halves the channels). Broadcasting must not
spread one position's field over many.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Dims
from archscope.analysis.rf.call import Call
from archscope.analysis.rf.rules.common import (
    broadcast_dims,
    broadcast_problem,
    channel_dim_from_end,
    lost,
    replaced,
)
from archscope.analysis.rf.rules.registry import field_rule
from archscope.analysis.rf.values import Part, Tracked, consistent, has_field, merge, overall

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


@field_rule("pointwise")
def pointwise(tracker: FieldTracker, call: Call) -> Tracked:
    """Elementwise operators: each position on its own; broadcasting must not spread a field."""
    return combined(tracker, call, call.inputs)


@field_rule("copy")
def copy(tracker: FieldTracker, call: Call) -> Tracked:
    """copy_(dst, src), as ``out[:, :c] = x`` runs: the source's field replaces the destination's."""
    sources = call.inputs
    if len(sources) > 1:
        sources = [t for t in sources if t is not call.args[0]]
    return combined(tracker, call, sources)


def combined(tracker: FieldTracker, call: Call, sources: list[torch.Tensor]) -> Tracked:
    """The output of an elementwise combination of ``sources``, position by position."""
    out = call.out
    tracked = [tracker.get(t) for t in sources]
    if len(tracked) == 1 and tuple(sources[0].shape) == tuple(out.shape):
        return tracked[0]  # one tensor with a field, position by position (an activation, x * weight)
    if all(tuple(t.shape) == tuple(out.shape) for t in sources) and all(i.dims == tracked[0].dims for i in tracked):
        if all(i.parts == tracked[0].parts and i.extra == tracked[0].extra for i in tracked):
            return tracked[0]  # the same field on every input
        return merged_parts(tracker, call, tracked, tracked[0].dims)
    shaped = [i for t, i in zip(sources, tracked) if tuple(t.shape) == tuple(out.shape)]
    if shaped:
        dims = max(shaped, key=lambda i: ax.positions(i.dims)).dims
    else:
        dims = broadcast_dims(tracked[0].dims, sources[0].shape, out.shape)
    for t, info in zip(sources, tracked):
        problem = broadcast_problem(info.dims, t.shape, dims, out.shape)
        if problem is not None and has_field(info):
            return lost(tracker, call, f"aten::{call.name} {problem}", dims)
    return merged_parts(tracker, call, tracked, dims)


def merged_parts(tracker: FieldTracker, call: Call, tracked: list[Tracked], dims: Dims) -> Tracked:
    """Inputs combined position by position: part by part where their channel ranges agree."""
    where = f" in aten::{call.name}"
    bounds = {tuple((p.start, p.stop) for p in i.parts) for i in tracked}
    # Parts match up when the channels sit in the same dimension (counted from the end).
    holders = {channel_dim_from_end(i.dims) for i in tracked if len(i.parts) > 1}
    if len(bounds) == 1 and None not in holders and len(holders) <= 1:
        parts = tuple(
            Part(p.start, p.stop, merge([i.parts[k].value for i in tracked], tracker.reasons, where))
            for k, p in enumerate(tracked[0].parts)
        )
    else:
        parts = (Part(0, ax.channel_count(dims), merge([overall(i.parts) for i in tracked], tracker.reasons, where)),)
    return consistent(dims, parts, merge([i.extra for i in tracked], tracker.reasons, where))


@field_rule("glu")
def glu(tracker: FieldTracker, call: Call) -> Tracked:
    """GLU halves one dimension into a value and a gate: fine over channels, lost over positions."""
    x, out = call.args[0], call.out
    info = tracker.get(x)
    d = call.bound.get("dim", -1) % x.dim()
    if ax.positional(info.dims[d]):
        return lost(tracker, call, "aten::glu halves a spatial axis")
    dims = replaced(info.dims, d, ax.resized(info.dims[d], out.shape[d]))
    return consistent(dims, (Part(0, ax.channel_count(dims), overall(info.parts)),), info.extra)
