"""Movement rules: the data moves, and the axis map moves with it.

Views and reshapes (``view``, ``squeeze``, ``unsqueeze``, ``as_strided``, ``view_as_real``,
``view_as_complex``), copies that keep every element in place (``same_positions``),
``permute`` (transpose, movedim, t), ``expand``, ``repeat``, ``roll`` and ``flip`` (which
move positions), ``concat`` and ``stack``, and the pixel shuffles (``pixel_shuffle``,
``pixel_unshuffle``, ``channel_shuffle``). Slices, splits and indexing are in ``slicing``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Sequence

import torch

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Dims
from archscope.analysis.rf.call import Call, dims_arg, ints
from archscope.analysis.rf.rules.common import broadcast_dims, folded, located, lost, replaced
from archscope.analysis.rf.rules.registry import FieldRuleFunction, field_rule
from archscope.analysis.rf.rules.windows import spatial_roles
from archscope.analysis.rf.values import Part, Tracked, along, consistent, merge, overall

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


# ---------------------------------------------------------------------------------------------
# Views: the same elements, other axes


def moved(tracker: FieldTracker, call: Call, tracked: Tracked, new: Dims | None) -> Tracked:
    """The output of a view whose axis map is ``new`` (None: it cuts across the input's atoms)."""
    if new is None:
        reason = f"aten::{call.name} to {list(call.out.shape)} cuts across axes (it splits or mixes them unevenly)"
        return lost(tracker, call, reason)
    if located(tracked.dims) and not located(new):
        return folded(tuple(new), tracked)
    return consistent(tuple(new), tracked.parts, tracked.extra)


def of_first_input(rule: Callable[[FieldTracker, Call, Tracked], Tracked]) -> FieldRuleFunction:
    """A rule that moves its first input's field, handed that field. A view of a tensor with no
    field, called with another that has one (``view_as(x, other)``), gives no field, and says so."""

    @functools.wraps(rule)
    def with_first_input(tracker: FieldTracker, call: Call) -> Tracked:
        tracked = tracker.get(call.args[0])
        if tracked is None:
            return lost(tracker, call, f"aten::{call.name} of an untracked tensor")
        return rule(tracker, call, tracked)

    return with_first_input


@field_rule("view")
@of_first_input
def view(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """view, reshape, flatten, unflatten: merging or splitting whole atoms keeps the map."""
    return moved(tracker, call, tracked, ax.reshape(tracked.dims, list(call.out.shape)))


@field_rule("same_positions")
@of_first_input
def same_positions(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """clone, contiguous, a dtype or device copy, detach, tril and triu (which only zero some
    elements): every element stays where it was."""
    return tracked


@field_rule("permute")
@of_first_input
def permute(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """permute, transpose, swapaxes, movedim, t: the dimensions reorder, each keeps its atoms."""
    x = call.args[0]
    return moved(tracker, call, tracked, ax.permute(tracked.dims, permutation(call.bound, x.dim())))


def permutation(bound: dict[str, Any], rank: int) -> list[int]:
    """The order of the input's dimensions in the output, from the arguments the operator took:
    permute's ``dims``, transpose's pair (``dim0``, ``dim1`` or ``axis0``, ``axis1``), movedim's
    ``source`` and ``destination``; none (``t``) reverses a matrix."""
    order = list(range(rank))
    if "dims" in bound:
        return [d % rank for d in bound["dims"]]
    if "dim0" in bound or "axis0" in bound:
        a, b = (bound["dim0"], bound["dim1"]) if "dim0" in bound else (bound["axis0"], bound["axis1"])
        a, b = a % rank, b % rank
        order[a], order[b] = order[b], order[a]
        return order
    if "source" not in bound:
        return order[::-1] if rank == 2 else order
    source = [bound["source"]] if isinstance(bound["source"], int) else list(bound["source"])
    destination = [bound["destination"]] if isinstance(bound["destination"], int) else list(bound["destination"])
    source, destination = [s % rank for s in source], [d % rank for d in destination]
    rest = iter(d for d in order if d not in source)
    placed = dict(zip(destination, source))
    return [placed[i] if i in placed else next(rest) for i in range(rank)]


@field_rule("expand")
@of_first_input
def expand(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """expand: new and stretched dimensions are copies, not positions."""
    x = call.args[0]
    return moved(tracker, call, tracked, broadcast_dims(tracked.dims, x.shape, call.out.shape))


@field_rule("repeat")
@of_first_input
def repeat(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """repeat: each tile is a copy ('other', outermost); the positions inside keep their fields."""
    x = call.args[0]
    repeats = list(call.bound["repeats"])
    lead = len(repeats) - x.dim()
    new = [(ax.other(r),) if r != 1 else () for r in repeats[:lead]]
    for d, r in zip(tracked.dims, repeats[lead:]):
        new.append(((ax.other(r),) if r != 1 else ()) + tuple(d))
    return moved(tracker, call, tracked, tuple(new))


@field_rule("squeeze")
@of_first_input
def squeeze(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """squeeze: size-1 dimensions go (those named, or all)."""
    x = call.args[0]
    drop = dims_arg(call.bound.get("dim"), x.dim()) if "dim" in call.bound else list(range(x.dim()))
    kept = tuple(d for i, d in enumerate(tracked.dims) if not (i in drop and x.shape[i] == 1))
    return moved(tracker, call, tracked, kept)


@field_rule("unsqueeze")
@of_first_input
def unsqueeze(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """unsqueeze: a new size-1 dimension holds nothing."""
    x = call.args[0]
    at = call.bound["dim"] % (x.dim() + 1)
    return moved(tracker, call, tracked, (*tracked.dims[:at], (), *tracked.dims[at:]))


@field_rule("view_as_real")
@of_first_input
def view_as_real(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """A complex tensor seen as pairs of reals: a new last dimension of 2."""
    return moved(tracker, call, tracked, (*tracked.dims, (ax.other(2),)))


@field_rule("view_as_complex")
@of_first_input
def view_as_complex(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """Pairs of reals seen as complex numbers: the last dimension goes."""
    return moved(tracker, call, tracked, tracked.dims[:-1])


@field_rule("as_strided")
@of_first_input
def as_strided(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """as_strided: the same view of the same elements keeps the map; any other is not followed."""
    x, out = call.args[0], call.out
    same = tuple(out.shape) == tuple(x.shape) and tuple(out.stride()) == tuple(x.stride())
    return moved(tracker, call, tracked, tracked.dims if same else None)


# ---------------------------------------------------------------------------------------------
# Positions that move


@field_rule("roll")
@of_first_input
def roll(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """roll shifts positions like a padding of the shift (positions that wrap round see the
    far edge, as with circular padding: the field of the others is exact)."""
    x = call.args[0]
    shifts, rolled = list(ints(call.bound["shifts"], 1, 0)), list(call.bound.get("dims") or [])
    if not rolled:  # a roll of the flattened tensor
        if ax.positional(ax.all_atoms(tracked.dims)):
            return lost(tracker, call, "aten::roll of the flattened tensor")
        return tracked
    parts = tracked.parts
    for shift, d in zip(shifts, rolled):
        atoms = ax.nontrivial(tracked.dims[d % x.dim()])
        if not ax.positional(atoms):
            if any(a.kind == "channel" for a in atoms):
                parts = (Part(0, parts[-1].stop, overall(parts)),)
            continue
        if len(atoms) != 1 or atoms[0].kind != "space" or not ax.only_atom_of_axis(tracked.dims, atoms[0]):
            return lost(tracker, call, f"aten::roll of {ax.describe_dim(atoms)} (not one whole spatial axis)")
        parts = along(parts, atoms[0].axis, lambda span, s=shift: span.resample(1, 1, [(-s, -s)]))
    return consistent(tracked.dims, parts, tracked.extra)


@field_rule("flip")
@of_first_input
def flip(tracker: FieldTracker, call: Call, tracked: Tracked) -> Tracked:
    """flip reverses positions: the stride turns negative (position x sees old position n - 1 - x)."""
    x = call.args[0]
    parts = tracked.parts
    for d in dims_arg(call.bound["dims"], x.dim()):
        atoms = ax.nontrivial(tracked.dims[d])
        if not atoms:
            continue
        if ax.positional(atoms):
            if len(atoms) != 1 or atoms[0].kind != "space" or not ax.only_atom_of_axis(tracked.dims, atoms[0]):
                return lost(tracker, call, f"aten::flip of {ax.describe_dim(atoms)} (not one whole spatial axis)")
            last = x.shape[d] - 1
            parts = along(parts, atoms[0].axis, lambda span, n=last: span.resample(1, -1, [(n, n)]))
        elif ax.intact_channels(tracked.dims) == d:
            count = parts[-1].stop
            parts = tuple(Part(count - p.stop, count - p.start, p.value) for p in reversed(parts))
        elif any(a.kind == "channel" for a in atoms):
            parts = (Part(0, parts[-1].stop, overall(parts)),)
    return consistent(tracked.dims, parts, tracked.extra)


# ---------------------------------------------------------------------------------------------
# Joining tensors


@field_rule("stack")
def stack(tracker: FieldTracker, call: Call) -> Tracked:
    """stack: a new dimension indexes the inputs, whose fields merge."""
    tensors = list(call.args[0])
    d = call.bound.get("dim", 0) % call.out.dim()
    known = [tracker.get(t) for t in tensors if tracker.get(t) is not None]
    ref = max(known, key=lambda i: ax.positions(i.dims))
    dims = (*ref.dims[:d], (ax.other(len(tensors)),), *ref.dims[d:])
    value = merge([i.value for i in known], tracker.reasons, " in a stack")
    return consistent(dims, (Part(0, ax.channel_count(dims), value),), None)


@field_rule("concat")
def concat(tracker: FieldTracker, call: Call) -> Tracked:
    """cat: channel parts side by side, tokens in front of a grid, or batches."""
    tensors = list(call.args[0])
    out = call.out
    d = call.bound.get("dim", 0) % out.dim()
    known = [(t, tracker.get(t)) for t in tensors if tracker.get(t) is not None]
    ref_t, ref = max(known, key=lambda ti: ax.positions(ti[1].dims))
    atoms = ax.nontrivial(ref.dims[d])
    if ax.positional(atoms):
        return concat_positions(tracker, call, tensors, d, ref_t, ref)
    if any(a.kind == "channel" for a in ref.dims[d]) and ax.intact_channels(ref.dims) == d:
        parts: list[Part] = []
        offset = 0
        for t in tensors:
            own = tracker.get(t)
            pieces = own.parts if own is not None and ax.intact_channels(own.dims) == d else (
                (Part(0, t.shape[d], own.value if own is not None else None),)
            )  # fmt: skip
            parts += [Part(p.start + offset, p.stop + offset, p.value) for p in pieces]
            offset += t.shape[d]
        dims = replaced(ref.dims, d, (ax.channel(out.shape[d]),))
        return consistent(dims, tuple(parts), merge([i.extra for _, i in known]))
    where = " in a batch concatenation" if any(a.kind == "batch" for a in atoms) else f" in aten::{call.name}"
    value = merge([i.value for _, i in known], tracker.reasons, where)
    dims = replaced(ref.dims, d, ax.resized(ref.dims[d], out.shape[d]))
    return consistent(dims, (Part(0, ax.channel_count(dims), value),), None)


def concat_positions(tracker: FieldTracker, call: Call, tensors: Sequence[torch.Tensor], d: int,
                     ref_t: torch.Tensor, ref: Tracked) -> Tracked:  # fmt: skip
    """A concatenation along an axis that holds positions: class and register tokens in front
    of a token grid, or constant rows added to a map (a padding)."""
    grids = [t for t in tensors if tracker.get(t) is not None and ax.positional(tracker.get(t).dims[d])]
    if len(grids) > 1:
        return lost(tracker, call, f"aten::{call.name} joins two position grids along one axis")
    i = next(k for k, t in enumerate(tensors) if t is ref_t)
    before = sum(t.shape[d] for t in tensors[:i])
    after = sum(t.shape[d] for t in tensors[i + 1 :])
    atoms = ax.nontrivial(ref.dims[d])
    others = [tracker.get(t) for t in tensors if t is not ref_t]
    if len(atoms) == 1 and atoms[0].kind == "space" and ax.only_atom_of_axis(ref.dims, atoms[0]) and all(
        o is None for o in others
    ):
        # Rows from no input before and after a map: a constant padding of that axis.
        axis = atoms[0].axis
        parts = along(ref.parts, axis, lambda span: span.resample(1, 1, [(-before, -before)]))
        return consistent(replaced(ref.dims, d, (ax.space(axis, call.out.shape[d]),)), parts, ref.extra)
    if any(a.kind not in ("space", "tokens") for a in atoms) or (
        len(atoms) > 1 and any(a.kind == "tokens" for a in atoms)
    ):
        return lost(tracker, call, f"aten::{call.name} adds tokens to positions merged with {ax.describe_dim(atoms)}")
    if atoms[0].kind == "tokens":
        grid, before, after = atoms[0].grid, before + atoms[0].before, after + atoms[0].after
    else:
        grid = tuple(atoms)
    extra = merge([ref.extra, *(o.value for o in others if o is not None)])
    return consistent(replaced(ref.dims, d, (ax.tokens(grid, before, after),)), ref.parts, extra)


# ---------------------------------------------------------------------------------------------
# Channels and space exchanged


@field_rule("channel_shuffle")
def channel_shuffle(tracker: FieldTracker, call: Call) -> Tracked:
    """ShuffleNet's channel shuffle: the channels reorder, so their fields merge."""
    tracked = tracker.get(call.args[0])
    return consistent(tracked.dims, (Part(0, 1, overall(tracked.parts)),), tracked.extra)


@field_rule("pixel_shuffle")
def pixel_shuffle(tracker: FieldTracker, call: Call) -> Tracked:
    """Depth to space by r: nearest upsampling of the channels' union (r outputs per input)."""
    r = int(call.args[1])
    return shuffled(tracker, call, (r, 1, [(0, 0)] * r))


@field_rule("pixel_unshuffle")
def pixel_unshuffle(tracker: FieldTracker, call: Call) -> Tracked:
    """Space to depth by r: a window of r x r, stride r, into the channels."""
    r = int(call.args[1])
    return shuffled(tracker, call, (1, r, [(0, r - 1)]))


def shuffled(tracker: FieldTracker, call: Call, plan: tuple[int, int, list[tuple[int, int]]]) -> Tracked:
    """Height and width resampled by ``plan`` (``Span.resample``'s arguments), channels merged."""
    x, out = call.args[0], call.out
    tracked = tracker.get(x)
    window_dims = [x.dim() - 2, x.dim() - 1]
    roles = spatial_roles(tracker, tracked.dims, window_dims)
    if isinstance(roles, str):
        return lost(tracker, call, f"aten::{call.name}: {roles}")
    parts = (Part(0, 1, overall(tracked.parts)),)
    dims = list(tracked.dims)
    for d, role in zip(window_dims, roles):
        parts = along(parts, role, lambda span: span.resample(*plan))
        dims[d] = (ax.space(role, out.shape[d]),)
    dims[x.dim() - 3] = (ax.channel(out.shape[x.dim() - 3]),)
    return consistent(tuple(dims), parts, tracked.extra)
