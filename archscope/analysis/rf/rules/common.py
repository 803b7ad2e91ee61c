"""What the rules of every kind share: a field lost with its reason, the rules for operators
with no field of their own, and functions of axis maps (whether a tensor has positions of
its own, how broadcasting moves them, a dimension replaced or dropped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import torch

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Atom, Dims
from archscope.analysis.rf.call import Call
from archscope.analysis.rf.rules.registry import field_rule
from archscope.analysis.rf.values import WHOLE, Field, Part, Tracked, Unknown, along, consistent, map_values, merge, overall

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


def lost(tracker: FieldTracker, call: Call, reason: str, dims: Dims | None = None,
         out: torch.Tensor | None = None) -> Tracked:  # fmt: skip
    """The output's field is unknown for ``reason``, where its inputs had a field to lose;
    an input that already saw the whole input (or nothing) still does."""
    out = call.out if out is None else out
    first = call.inputs[0]
    if dims is None:
        same = tuple(first.shape) == tuple(out.shape)
        dims = tracker.get(first).dims if same else ax.opaque(out.shape)
    value = merge([tracker.get(t).value for t in call.inputs])
    if isinstance(value, Field):
        tracker.issue(reason)
        value = Unknown(reason)
    return consistent(dims, (Part(0, ax.channel_count(dims), value),))


@field_rule("unknown")
def unknown(tracker: FieldTracker, call: Call) -> Tracked:
    """Not understood: the field is reported unknown with the operator's name."""
    namespace = getattr(call.func, "namespace", "aten")
    return lost(tracker, call, f"{namespace}::{call.name} is not understood for receptive fields")


@field_rule("creation")
def creation(tracker: FieldTracker, call: Call) -> list[Tracked | None]:
    """No input carries a field into the result (arange, zeros, randn, ...)."""
    return []


def located(dims: Dims) -> bool:
    """Whether a tensor has positions of its own: spatial atoms outside the dimensions that hold channels."""
    return any(
        a.kind == "space" or (a.kind == "tokens" and a.grid)
        for d in dims
        if not any(x.kind == "channel" for x in d)
        for a in d
    )


def folded(dims: Dims, tracked: Tracked) -> Tracked:
    """Positions folded into the features (a flatten before a classifier): the tensor has no
    positions any more, and whatever reads its features sees the whole input."""
    dims = tuple(
        tuple(ax.other(a.size) if a.kind in ("space", "tokens") else a for a in d)
        if any(x.kind == "channel" for x in d) else d
        for d in dims
    )  # fmt: skip
    whole = lambda v: None if v is None else WHOLE  # noqa: E731
    return consistent(dims, map_values(tracked.parts, whole), whole(tracked.extra))


def channel_dim_from_end(dims: Dims) -> int | None:
    """The dimension holding the channels, counted from the end (so maps of different rank compare)."""
    holder = ax.intact_channels(dims)
    return None if holder is None else holder - len(dims)


def without_dim(tracked: Tracked, d: int) -> Tracked:
    """A selected dimension dropped (select, unbind)."""
    return consistent(tuple(x for i, x in enumerate(tracked.dims) if i != d), tracked.parts, tracked.extra)


def replaced(dims: Dims, d: int, atoms: tuple[Atom, ...]) -> Dims:
    """The map with dimension ``d`` holding ``atoms``."""
    return (*dims[:d], tuple(atoms), *dims[d + 1 :])


def _signature(atoms: Iterable[Atom]) -> tuple:
    """What a dimension says about positions, for comparing layouts."""
    spots = tuple((a.axis, a.size, a.step, a.paired) for a in ax.spatial(atoms) if a.size > 1)
    extras = tuple((a.before, a.after) for a in atoms if a.kind == "tokens")
    return spots + extras


def broadcast_dims(dims: Dims, shape: Sequence[int], out_shape: Sequence[int]) -> Dims:
    """A tensor broadcast (or expanded) to ``out_shape``.

    New leading dims and stretched size-1 dims are copies ('other'), not positions.
    """
    lead = len(out_shape) - len(shape)
    result = []
    for d, n in enumerate(out_shape):
        e = d - lead
        if e >= 0 and shape[e] == n:
            result.append(dims[e])
        else:
            result.append((ax.other(n),) if n != 1 else ())
    return tuple(result)


def broadcast_problem(dims: Dims, shape: Sequence[int], out_dims: Dims, out_shape: Sequence[int]) -> str | None:
    """Why combining a tensor laid out as ``dims`` into the output would not be per position, or None."""
    lead = len(out_shape) - len(shape)
    for d in range(len(out_shape)):
        e = d - lead
        mine = dims[e] if e >= 0 else ()
        if _signature(mine) != _signature(out_dims[d]):
            if ax.positional(mine) and ax.positional(out_dims[d]):
                return "combines tensors whose positions are laid out differently"
            return "spreads one position over many (a broadcast across positions)"
    return None


def padded_field(tracker: FieldTracker, call: Call, tracked: Tracked, out_shape: Sequence[int],
                 amounts: Sequence[int], constant: bool) -> Tracked:  # fmt: skip
    """``tracked`` padded by ``amounts`` (F.pad's order: the last dimension's before and after
    first) to ``out_shape``; ``call`` is the operator doing it, named where a field is lost."""
    dims, parts = list(tracked.dims), tracked.parts
    rank = len(dims)
    for i in range(0, len(amounts), 2):
        d = rank - 1 - i // 2
        before, after = amounts[i], amounts[i + 1] if i + 1 < len(amounts) else 0
        if before == 0 and after == 0:
            continue
        atoms = ax.nontrivial(dims[d]) or [a for a in dims[d] if a.kind == "space"]
        if len(atoms) == 1 and atoms[0].kind == "space" and ax.only_atom_of_axis(tracked.dims, atoms[0]):
            parts = along(parts, atoms[0].axis, lambda span, p=before: span.resample(1, 1, [(-p, -p)]))
            dims[d] = (ax.space(atoms[0].axis, out_shape[d]),)
        elif ax.positional(atoms):
            return lost(tracker, call, f"aten::{call.name} of {ax.describe_dim(atoms)} (not one whole spatial axis)")
        elif any(a.kind == "channel" for a in atoms) and ax.intact_channels(tracked.dims) == d and constant:
            # Zero channels carry no signal (option-A shortcuts pad channels this way).
            shifted = [Part(p.start + before, p.stop + before, p.value) for p in parts]
            if before > 0:
                shifted.insert(0, Part(0, before, None))
            if after > 0:
                shifted.append(Part(shifted[-1].stop, shifted[-1].stop + after, None))
            parts = tuple(p for p in shifted if p.stop > max(p.start, 0))
            dims[d] = (ax.channel(out_shape[d]),)
        else:
            if any(a.kind == "channel" for a in atoms):
                parts = (Part(0, parts[-1].stop, overall(parts)),)
            dims[d] = ax.resized(dims[d], out_shape[d])
    return consistent(tuple(dims), parts, tracked.extra)
