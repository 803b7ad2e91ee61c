"""Movement rules that keep part of a tensor: slices, splits and indexing.

``slice``, ``narrow`` and ``select`` (a sub-range of one axis: a crop and a step of the field,
Distill's P - start j and s j; a channel range keeps its parts' fields), ``diagonal``,
``split`` and ``unbind`` (each output one slice: res2net's and CSP's channel groups), and
``index_select``, ``index`` and ``embedding`` (a choice of channels is their merge; a choice of
positions is not followed).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Atom
from archscope.analysis.rf.call import Call
from archscope.analysis.rf.rules.common import lost, replaced, without_dim
from archscope.analysis.rf.rules.registry import field_rule
from archscope.analysis.rf.values import Part, Tracked, along, consistent, overall

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


@field_rule("slice")
def slice_rule(tracker: FieldTracker, call: Call) -> Tracked:
    """x[start:end:step] along one dimension (a start or end past either edge clipped, as Python's)."""
    b, x = call.bound, call.args[0]
    d = b.get("dim", 0) % x.dim()
    n = x.shape[d]
    start = b.get("start") if b.get("start") is not None else 0
    stop = b.get("end") if b.get("end") is not None else n
    start = max(start + n, 0) if start < 0 else min(start, n)
    stop = max(stop + n, 0) if stop < 0 else min(stop, n)
    return kept(tracker, call, d, start, stop, b.get("step") or 1, drop=False)


@field_rule("narrow")
def narrow(tracker: FieldTracker, call: Call) -> Tracked:
    """narrow(dim, start, length): positions start .. start + length - 1."""
    b, x = call.bound, call.args[0]
    d = b.get("dim", 0) % x.dim()
    start = b["start"] + (x.shape[d] if b["start"] < 0 else 0)
    return kept(tracker, call, d, start, start + b["length"], 1, drop=False)


@field_rule("select")
def select(tracker: FieldTracker, call: Call) -> Tracked:
    """select(dim, index): one position of a dimension, which then goes."""
    b, x = call.bound, call.args[0]
    d = b.get("dim", 0) % x.dim()
    i = b["index"] + (x.shape[d] if b["index"] < 0 else 0)
    return kept(tracker, call, d, i, i + 1, 1, drop=True)


def kept(tracker: FieldTracker, call: Call, d: int, start: int, stop: int, step: int, drop: bool) -> Tracked:
    """The output of a slice of dimension ``d``; ``drop``: the dimension then goes (select)."""
    x = call.args[0]
    result = sliced(tracker.get(x), d, start, max(stop, start), step, x.shape[d])
    if isinstance(result, str):
        return lost(tracker, call, f"aten::{call.name}: {result}", ax.opaque(call.out.shape))
    return without_dim(result, d) if drop else result


@field_rule("diagonal")
def diagonal(tracker: FieldTracker, call: Call) -> Tracked:
    """A diagonal pairs two dimensions: not followed (unknown over positions; channels: opaque)."""
    if ax.positional(ax.all_atoms(tracker.get(call.args[0]).dims)):
        return lost(tracker, call, "aten::diagonal of a tensor with positions")
    return lost(tracker, call, "aten::diagonal", ax.opaque(call.out.shape))


@field_rule("split")
def split(tracker: FieldTracker, call: Call) -> list[Tracked | None]:
    """split, chunk: each output a slice of one axis (res2net's and CSP's channel groups)."""
    return pieces(tracker, call, unbind=False)


@field_rule("unbind")
def unbind(tracker: FieldTracker, call: Call) -> list[Tracked | None]:
    """unbind: each output one position of a dimension, which goes."""
    return pieces(tracker, call, unbind=True)


def pieces(tracker: FieldTracker, call: Call, unbind: bool) -> list[Tracked | None]:
    """The outputs of a split along the ``dim`` argument, in order."""
    x = call.args[0]
    tracked = tracker.get(x)
    d = call.bound.get("dim", 0) % x.dim()
    n = x.shape[d]
    results: list[Tracked | None] = []
    start = 0
    for t in call.outputs:
        size = 1 if unbind else t.shape[d]
        result = sliced(tracked, d, start, start + size, 1, n)
        if isinstance(result, str):
            result = lost(tracker, call, f"aten::{call.name}: {result}", ax.opaque(t.shape), out=t)
        elif unbind:
            result = without_dim(result, d)
        results.append(result)
        start += size
    return results


def sliced(tracked: Tracked, d: int, start: int, stop: int, step: int, n: int) -> Tracked | str:
    """Positions start, start + step, ... < stop of dimension ``d``; a reason if that is not expressible."""
    if start == 0 and stop >= n and step == 1:
        return tracked
    count = len(range(start, stop, step))
    atoms = ax.nontrivial(tracked.dims[d])
    if not atoms:
        return tracked
    if not ax.positional(atoms):
        if ax.intact_channels(tracked.dims) == d and len(atoms) == 1 and step == 1:
            kept = [Part(max(p.start, start) - start, min(p.stop, stop) - start, p.value) for p in tracked.parts]
            parts = tuple(p for p in kept if p.stop > p.start) or (Part(0, count, None),)
            return consistent(replaced(tracked.dims, d, ax.resized(atoms, count)), parts, tracked.extra)
        return consistent(replaced(tracked.dims, d, ax.resized(atoms, count)), tracked.parts, tracked.extra)
    if len(atoms) == 1 and atoms[0].kind == "tokens":
        tok = atoms[0]
        return sliced_tokens(tracked, d, tok.grid, tok.before, tok.after, start, stop, step, tok.paired)
    if all(a.kind == "space" for a in atoms):
        if len(atoms) == 1:
            return slice_atom(tracked, d, 0, start, count, step)
        return sliced_tokens(tracked, d, tuple(atoms), 0, 0, start, stop, step, False)
    return f"a slice of {ax.describe_dim(atoms)}"


def sliced_tokens(tracked: Tracked, d: int, grid: tuple[Atom, ...], before: int, after: int,
                  start: int, stop: int, step: int, paired: bool) -> Tracked | str:  # fmt: skip
    """A slice of a token axis: the extra tokens alone, the grid with some extras, or whole rows of the grid."""
    g = math.prod(a.size for a in grid)
    count = len(range(start, stop, step))
    if stop <= before or start >= before + g:  # extra tokens only: what they see is all that is left
        parts = tuple(Part(p.start, p.stop, tracked.extra) for p in tracked.parts)
        return consistent(replaced(tracked.dims, d, (ax.other(count),) if count != 1 else ()), parts, None)
    if step != 1:
        return "a strided slice of a token axis"
    if start <= before and stop >= before + g:  # the grid and some of the extras
        left, right = before - start, stop - before - g
        atom = ax.tokens(grid, left, right, paired) if left or right else None
        dims = replaced(tracked.dims, d, (atom,) if atom is not None else tuple(grid))
        return consistent(dims, tracked.parts, tracked.extra if atom is not None else None)
    if start >= before and stop <= before + g:  # within the grid
        inner = replaced(tracked.dims, d, tuple(grid))
        return slice_grid(replace(tracked, dims=inner, extra=None), d, start - before, stop - before)
    return "a slice across the extra tokens and part of the grid"


def slice_atom(tracked: Tracked, d: int, index: int, start: int, count: int, step: int) -> Tracked:
    """Positions start, start + step, ... of the ``index``-th nontrivial atom of dimension ``d``."""
    atoms = list(ax.nontrivial(tracked.dims[d]))
    atom = atoms[index]
    if ax.only_atom_of_axis(tracked.dims, atom):  # a whole axis: Distill's crop (P - start j) and step (s j)
        change = lambda span: span.resample(1, step * atom.step, [(start * atom.step,) * 2])  # noqa: E731
        atoms[index] = replace(atom, size=count, step=1)
    else:  # one factor of a split axis (a window's index): its positions move start * step on
        offset = start * atom.step
        change = lambda span: span.resample(1, 1, [(offset, offset)])  # noqa: E731
        atoms[index] = replace(atom, size=count, step=atom.step * step)
    parts = along(tracked.parts, atom.axis, change)
    return consistent(replaced(tracked.dims, d, tuple(atoms)), parts, tracked.extra)


def slice_grid(tracked: Tracked, d: int, a: int, b: int) -> Tracked | str:
    """Flattened positions [a, b) of a grid held in dimension ``d`` (row-major): whole rows of
    its outer atom, or a range inside one row (one position, say)."""
    grid = list(ax.nontrivial(tracked.dims[d]))
    if not grid or b - a == math.prod(g.size for g in grid):
        return tracked
    inner = math.prod(g.size for g in grid[1:])
    if a % inner == 0 and b % inner == 0:
        return slice_atom(tracked, d, 0, a // inner, (b - a) // inner, 1)
    row = a // inner
    if (b - 1) // inner != row:
        return "a slice of flattened positions that is not whole rows"
    fixed = slice_atom(tracked, d, 0, row, 1, 1)  # the row, then positions within it
    return slice_grid(fixed, d, a - row * inner, b - row * inner)


@field_rule("embedding")
def embedding(tracker: FieldTracker, call: Call) -> Tracked:
    """An embedding looks rows up by indices that come from the input: not followed."""
    return from_input(tracker, call)


def from_input(tracker: FieldTracker, call: Call) -> Tracked:
    """Entries picked by indices that carry the field, from a table that carries none."""
    return lost(tracker, call, f"aten::{call.name} with indices from the input", ax.opaque(call.out.shape))


@field_rule("index_select")
def index_select(tracker: FieldTracker, call: Call) -> Tracked:
    """index_select, gather, take_along_dim along their ``dim``."""
    x = call.args[0]
    return chosen(tracker, call, call.bound.get("dim", 0) % x.dim())


@field_rule("index")
def index(tracker: FieldTracker, call: Call) -> Tracked:
    """x[..., i] with one index tensor of one dimension; several index tensors are not followed."""
    if tracker.get(call.args[0]) is None:
        return from_input(tracker, call)
    indexed = [i for i, t in enumerate(call.args[1]) if t is not None]
    if len(indexed) != 1 or call.args[1][indexed[0]].dim() != 1:
        return lost(tracker, call, "aten::index with several index tensors", ax.opaque(call.out.shape))
    return chosen(tracker, call, indexed[0])


def chosen(tracker: FieldTracker, call: Call, d: int) -> Tracked:
    """Entries picked along dimension ``d``: a choice of channels is their merge; a choice of positions is unknown."""
    name, x, out = call.name, call.args[0], call.out
    tracked = tracker.get(x)
    if tracked is None:
        return from_input(tracker, call)
    atoms = tracked.dims[d]
    if ax.positional(atoms):
        return lost(tracker, call, f"aten::{name} picks positions by index", ax.opaque(out.shape))
    if any(i != d and x.shape[i] != out.shape[i] for i in range(min(x.dim(), out.dim()))) or x.dim() != out.dim():
        return lost(tracker, call, f"aten::{name} reshapes as it gathers", ax.opaque(out.shape))
    parts = tracked.parts
    if any(a.kind == "channel" for a in atoms):  # a choice of channels: their fields merge
        parts = (Part(0, parts[-1].stop, overall(parts)),)
    return consistent(replaced(tracked.dims, d, ax.resized(atoms, out.shape[d])), parts, tracked.extra)
