"""Mixing rules: positions combined over whole axes, windows of an axis, or groups.

``reduction`` (mean, sum, var, norm), ``softmax``, ``cumsum``, ``global`` (sort, topk),
``matmul`` and ``biased_matmul`` (mm, bmm, addmm, baddbmm: a linear layer mixes channels,
a product over positions mixes them, queries times keys pair them) and ``attention`` (fused
scaled dot-product attention). ``mix`` decides, axis by axis, whether a mix makes the field
the whole input, a window (space to depth, then a linear layer), or leaves no single field
(window attention); the convolution rule uses it for channels that hold positions.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

import torch

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Atom
from archscope.analysis.rf.call import Call, dims_arg
from archscope.analysis.rf.rules.common import lost, replaced
from archscope.analysis.rf.rules.elementwise import pointwise
from archscope.analysis.rf.rules.registry import field_rule
from archscope.analysis.rf.values import (
    PAIRED,
    WHOLE,
    Field,
    Paired,
    Part,
    Span,
    Tracked,
    Unknown,
    Value,
    WholeInput,
    consistent,
    map_values,
    merge,
    overall,
    window,
)

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


def mix(tracker: FieldTracker, tracked: Tracked, mixed: set[int], *, keep: bool, name: str,
        beside: Sequence[Atom] = ()) -> Tracked:  # fmt: skip
    """Positions combined over the atoms of dimensions ``mixed`` (a reduction, a softmax, the
    contraction of a matrix product).

    Per spatial axis: mixing all of its positions makes the axis whole; mixing the inner
    factor of a split axis while the outer factor stays (space-to-depth, then a linear
    layer) is a window of that factor's size; mixing only within windows while the
    positions of the same axis stay (window attention: ``beside`` holds the query
    positions kept from the other operand) leaves no single field. The key positions of
    attention scores (``paired``) are whole when every query factor has its key copy.
    ``keep``: the mixed dimensions stay (a softmax), else they are contracted away
    (left empty, for the caller to drop or keep as size 1).
    """
    dims = tracked.dims
    mixed_atoms = [a for d in mixed for a in dims[d]]
    kept_atoms = [a for i, d in enumerate(dims) if i not in mixed for a in d]
    parts, extra = tracked.parts, tracked.extra
    if any(a.kind == "channel" and a.size > 1 for a in mixed_atoms):
        parts = (Part(0, parts[-1].stop, overall(parts)),)
    m_space = [a for a in ax.spatial(mixed_atoms) if a.size > 1]
    mixes_extras = any(a.kind == "tokens" and (a.before or a.after) for a in mixed_atoms)
    outcome: dict[int, int | str] = {}  # axis -> window size, "whole", or a reason
    for axis in sorted({a.axis for a in m_space}):
        outcome[axis] = axis_mixing(
            [a for a in m_space if a.axis == axis],
            [a for a in ax.spatial(kept_atoms) if a.axis == axis and a.size > 1 and not a.paired],
            [a for a in ax.spatial(beside) if a.axis == axis and a.size > 1 and not a.paired],
            keep, name, axis,
        )  # fmt: skip
    present = {a.axis for a in ax.spatial(ax.all_atoms(dims)) if a.size > 1}
    whole = bool(outcome) and all(outcome.get(axis) == "whole" for axis in present)
    change = verdict(tracker, outcome, present, name)
    changed = [change(p.value) for p in parts if isinstance(p.value, Field) or isinstance(p.value, Paired)]
    if isinstance(extra, (Field, Paired)):
        changed.append(change(extra))
    reason = next((v.reason for v in changed if isinstance(v, Unknown) and not isinstance(v, Paired)), None)
    if reason is not None:
        tracker.issue(reason)
    windows = {axis: w for axis, w in outcome.items() if isinstance(w, int)}
    if mixes_extras or (whole and extra is not None):
        signal = merge([overall(parts), extra])
        parts = map_values(parts, lambda v: change(merge([v, extra])) if v is not None or mixes_extras else v)
        extra = change(signal)
    else:
        parts = map_values(parts, change)
        extra = change(extra) if whole else extra
    new_dims = []
    for i, d in enumerate(dims):
        if i in mixed:
            new_dims.append(tuple(unpaired(a) for a in d) if keep else ())
        else:
            new_dims.append(tuple(rescaled(a, windows) for a in d))
    return Tracked(tuple(new_dims), parts, extra)


def verdict(tracker: FieldTracker, outcome: dict[int, Any], present: set[int],
            name: str) -> Callable[[Value | None], Value | None]:  # fmt: skip
    """What a value becomes once positions are mixed as ``outcome`` says, axis by axis.

    Every axis whole: the whole input. Positions mixed in groups (grid attention, windows)
    are whole too when each group's fields reach every input pixel; otherwise the field
    depends on where a position sits in its group and is unknown. Windows of the inner
    factor of an axis (space to depth) are Distill windows.
    """
    groups = {axis: o for axis, o in outcome.items() if isinstance(o, Groups)}
    failed = [o for o in outcome.values() if isinstance(o, str) and o != "whole"]
    windows = {axis: o for axis, o in outcome.items() if isinstance(o, int)}
    whole_axes = {axis for axis, o in outcome.items() if o == "whole"}
    if not outcome:
        return lambda value: value

    def change(value: Value | None) -> Value | None:
        if value is None or isinstance(value, WholeInput):
            return value
        field = value.field if isinstance(value, Paired) else value if isinstance(value, Field) else None
        if isinstance(value, Unknown) and not isinstance(value, Paired):
            return WHOLE if not failed and not groups and whole_axes >= present else value
        covered = {a for a, g in groups.items() if field is not None and g.covers(field.axes[a], tracker.lengths[a])}
        reached = whole_axes | covered
        if not failed and reached and reached >= present:
            return WHOLE
        if failed:
            return Unknown(failed[0])
        if len(covered) < len(groups):
            return Unknown(next(g.reason for a, g in groups.items() if a not in covered))
        if reached:
            shown = ", ".join(str(a) for a in sorted(reached))
            return Unknown(f"aten::{name} mixes every position along axis {shown} only: the field is no window")
        if field is None:
            return value
        for axis, w in windows.items():
            field = field.along(axis, window(w, w, 0, 1))
        return field

    return change


def reduced(tracker: FieldTracker, call: Call, tracked: Tracked, over: Sequence[int], keepdim: bool) -> Tracked:
    """Positions combined over the dimensions ``over``, which go (or stay, size 1, with ``keepdim``)."""
    result = mix(tracker, tracked, set(over), keep=False, name=call.name)
    if keepdim:
        dims = result.dims
    else:
        dims = tuple(d for i, d in enumerate(result.dims) if i not in over)
    return consistent(dims, result.parts, result.extra)


@field_rule("reduction")
def reduction(tracker: FieldTracker, call: Call) -> Tracked:
    """mean, sum, amax, var, norm, ... over the dims given (all when none); max(a, b) is elementwise."""
    x, out = call.args[0], call.out
    if call.overload == "other":  # max(a, b), min(a, b): elementwise
        return pointwise(tracker, call)
    over = dims_arg(call.bound.get("dim"), x.dim())
    return reduced(tracker, call, tracker.get(x), over, keepdim=out.dim() == x.dim())


@field_rule("softmax")
def softmax(tracker: FieldTracker, call: Call) -> Tracked:
    """softmax and log-softmax: every output along the dim depends on every input along it; the shape stays."""
    x = call.args[0]
    result = mix(tracker, tracker.get(x), set(dims_arg(call.bound.get("dim"), x.dim())), keep=True, name=call.name)
    return consistent(result.dims, result.parts, result.extra)


@field_rule("cumsum")
def cumsum(tracker: FieldTracker, call: Call) -> Tracked:
    """A running sum: over channels a mix (the shape stays); over positions each one sees those before it."""
    x = call.args[0]
    tracked = tracker.get(x)
    over = dims_arg(call.bound.get("dim"), x.dim())
    if any(ax.positional(tracked.dims[d]) for d in over):
        return lost(tracker, call, f"aten::{call.name} over positions: each position sees those before it")
    result = mix(tracker, tracked, set(over), keep=True, name=call.name)
    return consistent(result.dims, result.parts, result.extra)


@field_rule("global")
def mixes_all(tracker: FieldTracker, call: Call) -> list[Tracked | None]:
    """sort, topk: every output along the dim depends on every input along it; positions lose their order."""
    x, out = call.args[0], call.out
    tracked = tracker.get(x)
    d = call.bound.get("dim", -1) % x.dim()
    result = mix(tracker, tracked, {d}, keep=True, name=call.name)
    dims = replaced(result.dims, d, (ax.other(out.shape[d]),) if out.shape[d] != 1 else ())
    found = consistent(dims, result.parts, result.extra)
    return [found if tuple(t.shape) == tuple(out.shape) else None for t in call.outputs]


@field_rule("matmul")
def matmul(tracker: FieldTracker, call: Call) -> Tracked:
    """mm, bmm: the contracted dimension mixes what it holds.

    A linear layer contracts the channels only (its rows, batch and positions merged, keep
    their fields); a product over positions (a linear layer after flatten, attention's
    weights times values) mixes them; a product whose rows and columns both hold positions
    (queries times keys) pairs them, and the softmax over the keys mixes them after.
    """
    return product(tracker, call, None, call.args[0], call.args[1])


@field_rule("biased_matmul")
def biased_matmul(tracker: FieldTracker, call: Call) -> Tracked:
    """addmm, baddbmm: a bias plus a matrix product (the bias joins every output's field)."""
    return product(tracker, call, call.args[0], call.args[1], call.args[2])


def product(tracker: FieldTracker, call: Call, bias: Any, a: torch.Tensor, b: torch.Tensor) -> Tracked:
    """bias + a @ b, batched over a leading dimension when the operands have three."""
    name, out = call.name, call.out
    ta, tb = tracker.get(a), tracker.get(b)
    da = ta.dims if ta is not None else ax.opaque(a.shape)
    db = tb.dims if tb is not None else ax.opaque(b.shape)
    rank = a.dim()
    rows, inner, cols = rank - 2, rank - 1, rank - 1
    pair = ta is not None and tb is not None and ax.positional(da[rows]) and ax.positional(db[cols])
    # Each operand's contraction, judged beside the positions the other one keeps.
    ra = rb = None
    if ta is not None:
        ra = mix(tracker, ta, {inner}, keep=False, name=name, beside=() if pair else db[cols])
    if tb is not None:
        rb = mix(tracker, tb, {rank - 2}, keep=False, name=name, beside=() if pair else da[rows])
    leading = []
    if rank == 3:
        leading = [ra.dims[0] if ra is not None and (rb is None or ax.positional(ra.dims[0])) else rb.dims[0]]
    row_dim = ra.dims[rows] if ra is not None else (ax.other(out.shape[-2]),)
    if rb is not None:
        col_dim = rb.dims[cols]
    else:
        features = any(x.kind == "channel" for x in da[inner])
        col_dim = ((ax.channel if features else ax.other)(out.shape[-1]),)
    values = [overall(r.parts) for r in (ra, rb) if r is not None]
    extras = [ra.extra] if ra is not None and ra.extra is not None else []
    if pair:
        col_dim = tuple(replace(x, paired=True) if x.kind in ("space", "tokens") else x for x in col_dim)
        signal = merge([*values, *extras])
        value = signal
        if isinstance(signal, (Field, Unknown)):
            value = Paired(PAIRED, signal if isinstance(signal, Field) else None)
        extra = value if extras or any(x.kind == "tokens" and (x.before or x.after) for x in row_dim) else None
    else:
        value = merge(values, tracker.reasons, f" in aten::{name}")
        extra = merge([*extras, overall(rb.parts) if rb is not None else None]) if extras else None
    if bias is not None and tracker.get(bias) is not None:
        value = merge([value, tracker.get(bias).value], tracker.reasons, f" in aten::{name}")
    dims = (*leading, row_dim, col_dim)
    return consistent(dims, (Part(0, ax.channel_count(dims), value),), extra)


@field_rule("attention")
def attention(tracker: FieldTracker, call: Call) -> list[Tracked | None]:
    """Fused scaled dot-product attention: every query position sees every key position."""
    q, k, v = call.args[:3]
    rest = [None] * (len(call.outputs) - 1)  # logsumexp and the like
    if call.bound.get("is_causal"):
        return [lost(tracker, call, "causal attention: each position sees those before it"), *rest]
    tq = tracker.get(q)
    beside = tq.dims[q.dim() - 2] if tq is not None else ()
    contracted = {q: {q.dim() - 1}, k: {k.dim() - 2, k.dim() - 1}, v: {v.dim() - 2}}
    results = [
        mix(tracker, tracker.get(t), contracted[t], keep=False, name=call.name, beside=() if t is q else beside)
        if tracker.get(t) is not None else None
        for t in (q, k, v)
    ]  # fmt: skip
    value = merge([overall(r.parts) for r in results if r is not None], tracker.reasons, f" in aten::{call.name}")
    head = results[0].dims[:-1] if results[0] is not None else ax.opaque(q.shape)[:-1]
    dims = (*head, (ax.channel(call.out.shape[-1]),))
    has_extras = any(x.kind == "tokens" and (x.before or x.after) for d in head for x in d)
    extra = merge([value, results[0].extra if results[0] is not None else None]) if has_extras else None
    return [consistent(dims, (Part(0, call.out.shape[-1], value),), extra), *rest]


# ---------------------------------------------------------------------------------------------
# How one axis is mixed


def unpaired(a: Atom) -> Atom:
    """Key positions of attention scores, once the softmax has mixed them, are just an index."""
    return ax.other(a.size) if a.paired and a.kind in ("space", "tokens") else a


def rescaled(a: Atom, windows: dict[int, int]) -> Atom:
    """A kept spatial atom after its axis's inner factor of size w was mixed into windows: w times coarser."""
    if a.kind == "space" and a.axis in windows and a.size > 1:
        return replace(a, step=a.step // windows[a.axis])
    if a.kind == "tokens" and any(g.axis in windows for g in a.grid):
        return replace(a, grid=tuple(rescaled(g, windows) for g in a.grid))
    return a


@dataclass(frozen=True)
class Groups:
    """Positions mixed in groups along one axis: for each kept coordinate c, positions c + offsets."""

    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    reason: str

    def covers(self, span: Span, length: int) -> bool:
        """Whether every group's fields together reach every input pixel 0 .. length - 1."""
        if len(self.starts) * len(self.offsets) > 20000:
            return False
        for c in self.starts:
            reach = 0  # the first pixel no field of the group has reached yet
            for start, end in sorted((span.start(c + o), span.end(c + o)) for o in self.offsets):
                if start > reach:
                    return False
                reach = max(reach, end + 1)
            if reach < length:
                return False
        return True


def _lattice(atoms: Sequence[Atom]) -> tuple[int, ...]:
    """The coordinates along an axis that these atoms reach: every sum of index x step."""
    return tuple(sorted({sum(i * a.step for i, a in zip(index, atoms))
                         for index in itertools.product(*(range(a.size) for a in atoms))}))  # fmt: skip


def axis_mixing(
    mixed: list[Atom], kept: list[Atom], beside: list[Atom], keep: bool, name: str, axis: int
) -> int | str | Groups:
    """How mixing the atoms ``mixed`` of one axis changes its field: "whole", a window size, the
    groups mixed (whole if their fields cover the input, else no single field), or a reason."""
    if all(a.paired for a in mixed):
        # Scores [query, key]: the keys of one query are its group; a query factor with its key
        # copy lies inside the group, the others (a window's index) choose the group.
        choosers = [k for k in kept if not any(m.step == k.step and m.size == k.size for m in mixed)]
        if not choosers:
            return "whole"
        return Groups(_lattice(choosers), _lattice(mixed), _window_reason(name, axis, mixed))
    if any(a.paired for a in mixed):
        return f"aten::{name} mixes query and key positions together"
    if not kept:
        return "whole"
    if not keep and not beside:
        block = ax.joined(sorted(mixed, key=lambda a: -a.step))
        if len(block) == 1 and block[0].step == 1 and all(k.step % block[0].size == 0 for k in kept):
            return block[0].size  # the inner factor of the axis: windows of that size, side by side
    return Groups(_lattice(kept), _lattice(mixed), _window_reason(name, axis, mixed))


def _window_reason(name: str, axis: int, mixed: list[Atom]) -> str:
    size = math.prod(a.size for a in mixed)
    spacing = min(a.step for a in mixed)
    group = f"windows of {size} positions" if spacing == 1 else f"groups of {size} positions {spacing} apart"
    return (
        f"positions are mixed within {group} along axis {axis} (window or grid attention): "
        "a position's field depends on where it sits in its window"
    )
