"""Helpers of the receptive-field operator rules (``analysis.rf_rules``).

Functions of axis maps and tracked tensors only, no tracker state: whether a tensor has
positions of its own, how mixing some atoms of an axis changes its field, how broadcasting,
permuting, tiling and slicing move positions, and which source positions an interpolation
reads.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Iterable, Sequence

from archscope.analysis import rf_axes as ax
from archscope.analysis.rf_axes import Atom, Dims
from archscope.analysis.rf_values import WHOLE, Span, Tracked, _along, _consistent, _map_values

def _located(dims: Dims) -> bool:
    """Whether a tensor has positions of its own: spatial atoms outside the dimensions that hold channels."""
    return any(
        a.kind == "space" or (a.kind == "tokens" and a.grid)
        for d in dims
        if not any(x.kind == "channel" for x in d)
        for a in d
    )


def _folded(dims: Dims, tracked: Tracked) -> Tracked:
    """Positions folded into the features (a flatten before a classifier): the tensor has no
    positions any more, and whatever reads its features sees the whole input."""
    dims = tuple(
        tuple(ax.other(a.size) if a.kind in ("space", "tokens") else a for a in d)
        if any(x.kind == "channel" for x in d) else d
        for d in dims
    )  # fmt: skip
    whole = lambda v: None if v is None else WHOLE  # noqa: E731
    return _consistent(dims, _map_values(tracked.parts, whole), whole(tracked.extra))


def _channel_dim_from_end(dims: Dims) -> int | None:
    holder = ax.intact_channels(dims)
    return None if holder is None else holder - len(dims)


# View operators that leave every element where it was (tril and triu only zero some).
_SAME_POSITIONS = {
    "alias", "clone", "contiguous", "_to_copy", "lift_fresh", "lift_fresh_copy", "detach", "tril", "triu",
}  # fmt: skip


def _without_dim(tracked: Tracked, d: int) -> Tracked:
    """A selected dimension dropped (select, unbind)."""
    return _consistent(tuple(x for i, x in enumerate(tracked.dims) if i != d), tracked.parts, tracked.extra)


def _replaced(dims: Dims, d: int, atoms: tuple[Atom, ...]) -> Dims:
    return (*dims[:d], tuple(atoms), *dims[d + 1 :])


def _unpaired(a: Atom) -> Atom:
    """Key positions of attention scores, once the softmax has mixed them, are just an index."""
    return ax.other(a.size) if a.paired and a.kind in ("space", "tokens") else a


def _rescaled(a: Atom, windows: dict[int, int]) -> Atom:
    """A kept spatial atom after its axis's inner factor of size w was mixed into windows: w times coarser."""
    if a.kind == "space" and a.axis in windows and a.size > 1:
        return replace(a, step=a.step // windows[a.axis])
    if a.kind == "tokens" and any(g.axis in windows for g in a.grid):
        return replace(a, grid=tuple(_rescaled(g, windows) for g in a.grid))
    return a


@dataclass(frozen=True)
class _Groups:
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


def _axis_mixing(
    mixed: list[Atom], kept: list[Atom], beside: list[Atom], keep: bool, name: str, axis: int
) -> int | str | _Groups:
    """How mixing the atoms ``mixed`` of one axis changes its field: "whole", a window size, the
    groups mixed (whole if their fields cover the input, else no single field), or a reason."""
    if all(a.paired for a in mixed):
        # Scores [query, key]: the keys of one query are its group; a query factor with its key
        # copy lies inside the group, the others (a window's index) choose the group.
        choosers = [k for k in kept if not any(m.step == k.step and m.size == k.size for m in mixed)]
        if not choosers:
            return "whole"
        return _Groups(_lattice(choosers), _lattice(mixed), _window_reason(name, axis, mixed))
    if any(a.paired for a in mixed):
        return f"aten::{name} mixes query and key positions together"
    if not kept:
        return "whole"
    if not keep and not beside:
        block = ax.joined(sorted(mixed, key=lambda a: -a.step))
        if len(block) == 1 and block[0].step == 1 and all(k.step % block[0].size == 0 for k in kept):
            return block[0].size  # the inner factor of the axis: windows of that size, side by side
    return _Groups(_lattice(kept), _lattice(mixed), _window_reason(name, axis, mixed))


def _window_reason(name: str, axis: int, mixed: list[Atom]) -> str:
    size = math.prod(a.size for a in mixed)
    spacing = min(a.step for a in mixed)
    group = f"windows of {size} positions" if spacing == 1 else f"groups of {size} positions {spacing} apart"
    return (
        f"positions are mixed within {group} along axis {axis} (window or grid attention): "
        "a position's field depends on where it sits in its window"
    )


def _signature(atoms: Iterable[Atom]) -> tuple:
    """What a dimension says about positions, for comparing layouts."""
    spots = tuple((a.axis, a.size, a.step, a.paired) for a in ax.spatial(atoms) if a.size > 1)
    extras = tuple((a.before, a.after) for a in atoms if a.kind == "tokens")
    return spots + extras


def _broadcast_dims(dims: Dims, shape: Sequence[int], out_shape: Sequence[int]) -> Dims:
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


def _broadcast_problem(dims: Dims, shape: Sequence[int], out_dims: Dims, out_shape: Sequence[int]) -> str | None:
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


def _permutation(name: str, bound: dict[str, Any], rank: int) -> list[int]:
    order = list(range(rank))
    if name == "permute":
        return [d % rank for d in bound["dims"]]
    if name == "t":
        return order[::-1] if rank == 2 else order
    if name in ("transpose", "swapaxes"):
        a, b = (bound["dim0"], bound["dim1"]) if "dim0" in bound else (bound["axis0"], bound["axis1"])
        a, b = a % rank, b % rank
        order[a], order[b] = order[b], order[a]
        return order
    source = [bound["source"]] if isinstance(bound["source"], int) else list(bound["source"])
    destination = [bound["destination"]] if isinstance(bound["destination"], int) else list(bound["destination"])
    source, destination = [s % rank for s in source], [d % rank for d in destination]
    rest = iter(d for d in order if d not in source)
    placed = dict(zip(destination, source))
    return [placed[i] if i in placed else next(rest) for i in range(rank)]


def _tiled(dims: Dims, shape: Sequence[int], repeats: list[int]) -> Dims:
    """repeat: each tile is a copy ('other', outermost); the positions inside keep their fields."""
    lead = len(repeats) - len(shape)
    result = [(ax.other(r),) if r != 1 else () for r in repeats[:lead]]
    for d, r in zip(dims, repeats[lead:]):
        result.append(((ax.other(r),) if r != 1 else ()) + tuple(d))
    return tuple(result)


def _slice_atom(tracked: Tracked, d: int, index: int, start: int, count: int, step: int) -> Tracked:
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
    parts = _along(tracked.parts, atom.axis, change)
    return _consistent(_replaced(tracked.dims, d, tuple(atoms)), parts, tracked.extra)


def _slice_grid(tracked: Tracked, d: int, a: int, b: int) -> Tracked | str:
    """Flattened positions [a, b) of a grid held in dimension ``d`` (row-major): whole rows of
    its outer atom, or a range inside one row (one position, say)."""
    grid = list(ax.nontrivial(tracked.dims[d]))
    if not grid or b - a == math.prod(g.size for g in grid):
        return tracked
    inner = math.prod(g.size for g in grid[1:])
    if a % inner == 0 and b % inner == 0:
        return _slice_atom(tracked, d, 0, a // inner, (b - a) // inner, 1)
    row = a // inner
    if (b - 1) // inner != row:
        return "a slice of flattened positions that is not whole rows"
    fixed = _slice_atom(tracked, d, 0, row, 1, 1)  # the row, then positions within it
    return _slice_grid(fixed, d, a - row * inner, b - row * inner)


def _interpolation(mode: str, scale: float | None, align_corners: bool, n_in: int, n_out: int
                   ) -> tuple[int, int, list[tuple[int, int]]] | str:  # fmt: skip
    """(out_period, in_step, source ranges per phase) of an interpolation along one axis, as
    PyTorch computes the source index (ATen's UpSample.h), borders aside (as with padding)."""
    if mode in ("linear", "cubic") and align_corners:
        ratio = Fraction(n_in - 1, n_out - 1) if n_out > 1 else Fraction(0)
    elif scale is not None and scale > 0:
        ratio = 1 / Fraction(scale)
    else:
        ratio = Fraction(n_in, n_out)
    if ratio == 0:
        return (1, 1, [(0, 0)]) if n_out == 1 else "interpolation of one position"
    if ratio.denominator > 64:
        return f"interpolation by a scale of {float(1 / ratio):g} (no short repeating pattern)"
    ranges = []
    for y in range(ratio.denominator):
        if mode == "nearest":
            u = math.floor(y * ratio)
            ranges.append((u, u))
            continue
        if mode == "nearest_exact":
            u = math.floor((y + Fraction(1, 2)) * ratio)
            ranges.append((u, u))
            continue
        source = y * ratio if align_corners else ratio * (y + Fraction(1, 2)) - Fraction(1, 2)
        first = math.floor(source)
        if source == first:  # the neighbours' weights are zero
            ranges.append((first, first))
        else:
            ranges.append((first, first + 1) if mode == "linear" else (first - 1, first + 2))
    return ratio.denominator, ratio.numerator, ranges

