"""Axis maps: which logical axes each dimension of a tensor holds.

The receptive-field tracker (``rf.tracker``) must know where a tensor's
positions are. After ``flatten(2).transpose(1, 2)`` a ViT's patch grid is a token axis; in
ConvNeXt's blocks the channels come last; a linear layer on a 3-D input runs as a 2-D matrix
product whose rows are the batch and the positions merged; Swin's window partition splits
each spatial axis into windows and positions within a window. So each dimension of a tensor
is described as a row-major product of *atoms*:

* ``batch``: the batch;
* ``channel``: features (several channel atoms once the features are split, into heads say);
* ``space``: one spatial axis, or a factor of it: index ``i`` of the atom moves ``i * step``
  positions along ``axis`` (a window partition splits H into H/w windows of step w and w
  positions of step 1; merging them back gives H again);
* ``tokens``: a flattened grid of spatial atoms with extra tokens (class, register) before or
  after it, as a ViT concatenates them;
* ``other``: anything that is none of these (the copies made by expand or repeat, an index
  from stack, the key positions of attention scores once the softmax has mixed them).

A view or reshape that merges or splits whole atoms keeps the map; one that cuts across
atoms unevenly returns None and the tracker reports the field as unknown.

``layout_json`` writes the map into the receptive-field JSON for tensors whose positions are
not laid out as batch, channels, then one dimension per spatial axis, and ``position_index``
reads it back, so the gradient measurement (``rf.measure``) can find the elements of
one position in any layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence


@dataclass(frozen=True)
class Atom:
    """One factor of a tensor dimension (see the module docstring)."""

    kind: str  # "batch", "channel", "space", "tokens", "other"
    size: int
    axis: int = -1  # space: which spatial axis
    step: int = 1  # space, channel: how far along the axis (or the channels) one index moves
    grid: tuple[Atom, ...] = ()  # tokens: the spatial atoms of the grid, row-major
    before: int = 0  # tokens: extra tokens ahead of the grid
    after: int = 0  # tokens: extra tokens after it
    paired: bool = False  # space, tokens: the key positions of attention scores (rf.rules.mixing)


Dims = tuple[tuple[Atom, ...], ...]


def batch(n: int) -> Atom:
    return Atom("batch", n)


def channel(n: int, step: int = 1) -> Atom:
    return Atom("channel", n, step=step)


def other(n: int) -> Atom:
    return Atom("other", n)


def space(axis: int, n: int, step: int = 1) -> Atom:
    return Atom("space", n, axis=axis, step=step)


def tokens(grid: Sequence[Atom], before: int = 0, after: int = 0, paired: bool = False) -> Atom:
    """A token axis: ``before`` extra tokens, the grid's positions in row-major order, ``after`` extra tokens."""
    grid = tuple(a for a in grid if a.size != 1)
    return Atom("tokens", before + math.prod(a.size for a in grid) + after, grid=grid, before=before, after=after,
                paired=paired)  # fmt: skip


def seed_dims(shape: Sequence[int]) -> Dims:
    """The network's input: batch, channels, then one dimension per spatial axis."""
    return ((batch(shape[0]),), (channel(shape[1]),), *((space(i, n),) for i, n in enumerate(shape[2:])))


def opaque(shape: Sequence[int]) -> Dims:
    """A tensor nothing is known about: every dimension is 'other'."""
    return tuple((other(n),) for n in shape)


# ---------------------------------------------------------------------------------------------
# Reading a map


def nontrivial(atoms: Iterable[Atom]) -> list[Atom]:
    return [a for a in atoms if a.size != 1]


def spatial(atoms: Iterable[Atom]) -> list[Atom]:
    """The space atoms among ``atoms``, a token grid's included (a token axis's paired flag passed on)."""
    found: list[Atom] = []
    for a in atoms:
        if a.kind == "space":
            found.append(a)
        elif a.kind == "tokens":
            found += [replace(g, paired=a.paired) for g in a.grid]
    return found


def all_atoms(dims: Dims) -> list[Atom]:
    return [a for d in dims for a in d]


def positional(atoms: Iterable[Atom]) -> bool:
    """Whether these atoms hold more than one position (the key positions of scores not counted)."""
    return any(a.size > 1 and not a.paired for a in spatial(atoms))


def positions(dims: Dims) -> int:
    """How many positions (of the spatial grid) a tensor holds."""
    return math.prod(a.size for a in spatial(all_atoms(dims)) if not a.paired)


def channel_count(dims: Dims) -> int:
    return math.prod(a.size for a in all_atoms(dims) if a.kind == "channel")


def intact_channels(dims: Dims) -> int | None:
    """The dimension holding all the channels as one atom of step 1, if there is one."""
    holders = [(i, a) for i, d in enumerate(dims) for a in d if a.kind == "channel" and a.size > 1]
    if len(holders) == 1 and holders[0][1].step == 1:
        return holders[0][0]
    if not holders:
        return next((i for i, d in enumerate(dims) for a in d if a.kind == "channel"), None)
    return None


def only_atom_of_axis(dims: Dims, atom: Atom) -> bool:
    """Whether ``atom`` is the only factor of its spatial axis (not a window or a window's contents)."""
    return sum(1 for a in spatial(all_atoms(dims)) if a.axis == atom.axis and a.size > 1) <= 1


def is_standard(dims: Dims, axes: int) -> bool:
    """Batch, channels, then one dimension per spatial axis in order: the layout convolutions use."""
    if len(dims) != axes + 2 or positional(dims[0]) or positional(dims[1]):
        return False
    for i, d in enumerate(dims[2:]):
        atoms = nontrivial(d)
        if atoms and (len(atoms) != 1 or atoms[0].kind != "space" or atoms[0].axis != i or atoms[0].step != 1):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Moving the axes


def _split(atom: Atom, outer: int) -> tuple[Atom, Atom]:
    """An atom split into ``outer`` blocks (step multiplied) of ``atom.size // outer`` (step kept)."""
    inner = atom.size // outer
    return replace(atom, size=outer, step=atom.step * inner), replace(atom, size=inner)


def _joinable(outer: Atom, inner: Atom) -> bool:
    if outer.kind != inner.kind or outer.paired != inner.paired:
        return False
    if outer.kind in ("batch", "other"):
        return True
    if outer.kind == "channel":
        return outer.step == inner.step * inner.size
    return outer.kind == "space" and outer.axis == inner.axis and outer.step == inner.step * inner.size


def joined(atoms: Iterable[Atom]) -> tuple[Atom, ...]:
    """Adjacent atoms that are one run of the same axis merged back (a window and its contents: H again)."""
    result: list[Atom] = []
    for a in atoms:
        if a.size == 1:
            continue
        if result and _joinable(result[-1], a):
            result[-1] = replace(a, size=result[-1].size * a.size)
        else:
            result.append(a)
    return tuple(result)


def reshape(dims: Dims, shape: Sequence[int]) -> Dims | None:
    """The map after a view or reshape to ``shape`` (row-major), or None if it cuts an atom unevenly."""
    stream = [a for d in dims for a in d if a.size != 1]
    out: list[tuple[Atom, ...]] = []
    i = 0
    for size in shape:
        taken: list[Atom] = []
        need = int(size)
        while need > 1:
            if i >= len(stream):
                return None
            a = stream[i]
            if need % a.size == 0:
                taken.append(a)
                need //= a.size
                i += 1
            elif a.size % need == 0 and a.kind != "tokens":
                head, stream[i] = _split(a, need)
                taken.append(head)
                need = 1
            else:
                return None
        out.append(joined(taken))
    if i != len(stream):
        return None
    return tuple(out)


def permute(dims: Dims, order: Sequence[int]) -> Dims:
    return tuple(dims[d % len(dims)] for d in order)


def resized(atoms: tuple[Atom, ...], size: int) -> tuple[Atom, ...]:
    """A dimension whose size changed: its one nontrivial atom resized, else an 'other' atom."""
    atoms = tuple(nontrivial(atoms))
    if size == 1:
        return ()
    if len(atoms) == 1 and atoms[0].kind != "tokens":
        return (replace(atoms[0], size=size),)
    return (other(size),)


def describe_dim(atoms: Iterable[Atom]) -> str:
    """'h', 'h/7', 'tokens(1 + h*w)', 'channels', for messages."""
    names = []
    for a in nontrivial(atoms):
        if a.kind == "space":
            names.append(_axis_name(a.axis) + (f"/{a.step}" if a.step != 1 else ""))
        elif a.kind == "tokens":
            grid = "*".join(_axis_name(g.axis) for g in a.grid) or "none"
            names.append(f"tokens({a.before} + {grid} + {a.after})")
        else:
            names.append(a.kind)
    return "x".join(names) or "1"


def _axis_name(axis: int) -> str:
    return f"axis {axis}"


# ---------------------------------------------------------------------------------------------
# The map in JSON, and the elements of one position (for the gradient measurement)


def _atom_json(a: Atom) -> dict[str, Any]:
    if a.kind == "space":
        data: dict[str, Any] = {"axis": a.axis, "size": a.size}
        if a.step != 1:
            data["step"] = a.step
        return data
    if a.kind == "tokens":
        return {"tokens": a.size, "extra_before": a.before, "extra_after": a.after,
                "grid": [_atom_json(g) for g in a.grid]}  # fmt: skip
    return {"channels" if a.kind == "channel" else a.kind: a.size}


def layout_json(dims: Dims) -> list[list[dict[str, Any]]]:
    """Per tensor dimension, the atoms it holds (size-1 atoms left out)."""
    return [[_atom_json(a) for a in nontrivial(d)] for d in dims]


def axis_lengths(layout: list[list[dict[str, Any]]], axes: int) -> list[int]:
    """How many positions a tensor with this layout holds along each spatial axis."""
    lengths = [1] * axes
    for atom in _space_json(layout):
        lengths[atom["axis"]] += (atom["size"] - 1) * atom.get("step", 1)
    return lengths


def _space_json(layout: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    found = []
    for d in layout:
        for a in d:
            found += a["grid"] if "tokens" in a else ([a] if "axis" in a else [])
    return found


def position_index(layout: list[list[dict[str, Any]]], shape: Sequence[int], coords: Sequence[int]) -> list[list[int]]:
    """For each tensor dimension, the indices that belong to the position at ``coords`` (one per axis).

    Channels and other atoms contribute every index, batch index 0, spatial atoms the digit
    of the coordinate along their axis (a coordinate is the sum of index x step over its atoms).
    """
    digits = _digits(_space_json(layout), coords)
    result = []
    for d, size in zip(layout, shape):
        indices = [0]
        for a in d:
            n = a.get("tokens") or a.get("size") or next(iter(a.values()))
            if "tokens" in a:
                flat = 0
                for g in a["grid"]:
                    flat = flat * g["size"] + digits[id(g)]
                choices = [a["extra_before"] + flat]
            elif "axis" in a:
                choices = [digits[id(a)]]
            elif "batch" in a:
                choices = [0]
            else:
                choices = list(range(n))
            indices = [i * n + c for i in indices for c in choices]
        if not d:
            indices = list(range(size))  # a size-1 dimension
        result.append(indices)
    return result


def _digits(atoms: list[dict[str, Any]], coords: Sequence[int]) -> dict[int, int]:
    """Each spatial atom's index for a position: its axis's coordinate split over the atoms, largest step first."""
    digits: dict[int, int] = {}
    for axis, coordinate in enumerate(coords):
        rest = coordinate
        for a in sorted((a for a in atoms if a["axis"] == axis), key=lambda a: -a.get("step", 1)):
            step = a.get("step", 1)
            digits[id(a)] = min(rest // step, a["size"] - 1)
            rest -= digits[id(a)] * step
    return digits
