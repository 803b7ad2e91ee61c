"""Elementwise rules: each output position combines the same position of its inputs.

``pointwise`` (activations, arithmetic, normalisations), ``copy`` (``copy_(dst, src)``: the
source replaces the destination) and ``glu`` (halves the channels). Broadcasting must not
spread one position's field over many.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from archscope.analysis.compat import view_base
from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Dims
from archscope.analysis.rf.call import Call
from archscope.analysis.rf.rules.common import (
    broadcast_dims,
    broadcast_problem,
    channel_dim_from_end,
    lost,
    padded_field,
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
    """copy_(dst, src), as ``out[:, :c] = x`` runs: the source's field replaces the destination's.

    Where ``dst`` is a box of a fresh tensor (``batch = x.new_zeros(...)``, then
    ``batch[i, :, :h, :w].copy_(image)``, as torchvision's detection transforms batch their
    images), that tensor, which the network reads next, gets the source's field too: the source
    padded with constants up to the tensor's size.
    """
    sources = call.inputs
    if len(sources) > 1:
        sources = [t for t in sources if t is not call.args[0]]
    result = combined(tracker, call, sources)
    base = view_base(call.args[0])
    if base is not None and tracker.get(base) is None and len(sources) == 1:
        tracker.put(base, written_into(tracker, call, result, base), f"aten::{call.name}")
    return result


def written_into(tracker: FieldTracker, call: Call, written: Tracked, base: torch.Tensor) -> Tracked:
    """The field of ``base`` once the box ``call.args[0]`` of it holds ``written`` and the rest
    constants: ``written`` padded along its spatial axes; unknown where the box is not one."""
    box = _box_of(call.args[0], base)
    reason = f"aten::{call.name} wrote into part of a tensor in a way the field cannot follow"
    if box is None or tuple(call.args[0].shape) != tuple(call.out.shape):
        return lost(tracker, call, reason, ax.opaque(base.shape))
    dims, amounts = [], []
    view_dims = iter(written.dims)
    for d, (start, length, selected) in enumerate(box):
        atoms = () if selected else next(view_dims)
        before, after = start, base.shape[d] - start - length
        if before or after:
            if d == 0 and all(a.kind == "batch" for a in atoms):
                atoms = (ax.batch(base.shape[0]),)  # another image of the batch: the same field
                before = after = 0
            elif ax.spatial(atoms) and not (
                len(atoms) == 1 and atoms[0].kind == "space" and ax.only_atom_of_axis(written.dims, atoms[0])
            ):  # positions padded other than along one whole axis; channels pad as F.pad's do
                return lost(tracker, call, reason, ax.opaque(base.shape))
        dims.append(atoms)
        amounts.append((before, after))
    flat = [n for before_after in reversed(amounts) for n in before_after]  # F.pad's order
    lifted = Tracked(tuple(dims), written.parts, written.extra)
    return padded_field(tracker, call, lifted, base.shape, flat, constant=True)


def _box_of(view: torch.Tensor, base: torch.Tensor) -> list[tuple[int, int, bool]] | None:
    """Per dimension of a contiguous ``base``: where the box ``view`` covers starts, how long it
    is, and whether ``view`` selected it away (an index); None when ``view`` is not such a box."""
    if not base.is_contiguous() or view.dim() > base.dim():
        return None
    offset = view.storage_offset() - base.storage_offset()
    starts = [(offset // stride) % size if size else 0 for stride, size in zip(base.stride(), base.shape)]
    if sum(s * stride for s, stride in zip(starts, base.stride())) != offset:
        return None
    box, j = [], 0
    for d in range(base.dim()):
        mapped = j < view.dim() and view.stride(j) == base.stride(d) and view.shape[j] <= base.shape[d] - starts[d]
        if mapped and base.dim() - d >= view.dim() - j:
            box.append((starts[d], view.shape[j], False))
            j += 1
        elif base.dim() - d > view.dim() - j:
            box.append((starts[d], 1, True))
        else:
            return None
    return box if j == view.dim() else None


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
