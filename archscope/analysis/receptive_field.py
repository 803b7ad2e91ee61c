"""Receptive fields, exactly, through the network's real graph.

Each tensor the forward pass creates gets, per spatial axis, the receptive field of one of
its positions: its size r, its effective stride j and its effective padding P, relative to
the network's input (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019, equations 1-3 and section "Handling arbitrary graphs"):

    a window of kernel k, stride s, padding p, dilation d applied to (r, j, P) gives
    r' = r + d (k - 1) |j|,    j' = s j,    P' = P + p j  (minus (k - 1) d j when j < 0)

Output position x of a tensor then sees input positions [x j - P, x j - P + r - 1]. A flip
makes j negative (positions run backwards over the input); upsampling makes the field repeat
only every f positions, which ``Span`` keeps exactly, phase by phase.

The fields follow the data, not the module list: every ATen operator the forward runs is
seen (by the same dispatch mode that counts FLOPs), so residual additions, concatenations,
reused modules and functional calls are all handled, and the cost is one step per operator,
however many paths the graph has (CIFAR ResNet-1202 has 2^600).

Every tensor also carries an axis map (``analysis.rf_axes``): which of its dimensions hold
the batch, the channels and which spatial axis, so a permute to channels-last, a flatten of
the grid into tokens, a class token concatenated in front, or a linear layer run as a matrix
product over rows that merge batch and positions all keep the field. An operator that mixes
positions (global pooling, a linear layer over flattened positions, attention) makes every
output see the whole input; one that mixes them only within windows (Swin's window
attention) leaves a field that depends on where a position sits in its window, which is
reported as unknown with that reason.

A tensor is a list of channel ranges ("parts"), each with its own field, so a concatenation
keeps each branch's field: GoogLeNet's inception modules see several scales at once. A merge
(an addition, or a convolution over all parts) takes the union of its inputs' fields, the
largest when their centres are aligned; fields with different strides have no union that is
one window, and are reported, not guessed.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

import torch

from archscope.analysis import rf_axes as ax
from archscope.analysis.ops import OpRule
from archscope.analysis.records import NO_SIGNAL, ChannelRange, ReceptiveField
from archscope.analysis.rf_axes import Atom, Dims

# ---------------------------------------------------------------------------------------------
# The field of one position


@dataclass(frozen=True)
class Span:
    """The field along one axis.

    Position x = m * period + phase sees input positions m * stride - padding[phase] to
    m * stride - padding[phase] + size[phase] - 1, where period = len(size). Distill's
    (r, j, P) is the period-1 case. After upsampling by f, positions fm .. fm + f - 1 copy
    source position m: they see the same input instead of windows one stride apart, so the
    field repeats only every f positions; keeping one (padding, size) per phase keeps it exact
    until a later stride makes it uniform again.
    """

    stride: int
    padding: tuple[int, ...]
    size: tuple[int, ...]

    @property
    def period(self) -> int:
        return len(self.size)

    def start(self, x: int) -> int:
        m, phase = divmod(x, len(self.size))
        return m * self.stride - self.padding[phase]

    def end(self, x: int) -> int:
        return self.start(x) + self.size[x % len(self.size)] - 1

    def resample(self, out_period: int, in_step: int, ranges: Sequence[tuple[int, int]]) -> Span:
        """The span of a map whose position y = m * out_period + phase combines this map's
        positions m * in_step + lo .. m * in_step + hi, where (lo, hi) = ranges[phase].

        A window (kernel k, stride s, padding p, dilation d) is out_period 1, in_step s and
        the range (-p, -p + (k - 1) d): Distill's equations 1-3 are its period-1 case. A crop
        is the range (start, start), a flip in_step -1, an upsampling by f out_period f. The
        field of the combination is the bounding interval of the positions' fields, as
        Distill's size is (a dilated window's field has holes; its size is its extent).
        """
        if len(self.size) == 1 and out_period == 1:  # the common case, in closed form
            ((lo, hi),) = ranges
            j, p, r = self.stride, self.padding[0], self.size[0]
            first, last = (lo, hi) if j >= 0 else (hi, lo)
            start, end = first * j - p, last * j - p + r - 1
            return Span(in_step * j, (-start,), (end - start + 1,))
        q = len(self.size)
        repeat = q // math.gcd(q, abs(in_step))  # output periods until the input phases repeat
        period = out_period * repeat
        stride = repeat * in_step // q * self.stride
        paddings, sizes = [], []
        for phase in range(period):
            m, sub = divmod(phase, out_period)
            lo, hi = m * in_step + ranges[sub][0], m * in_step + ranges[sub][1]
            # Within one residue class start() is monotonic: its first and last members suffice.
            us = range(lo, hi + 1) if hi - lo < 2 * q else [*range(lo, lo + q), *range(hi - q + 1, hi + 1)]
            start = min(self.start(u) for u in us)
            paddings.append(-start)
            sizes.append(max(self.end(u) for u in us) - start + 1)
        return _simplest(stride, paddings, sizes)

    def expanded(self, period: int) -> Span:
        """The same span written with a longer period (a multiple of this one)."""
        q = len(self.size)
        paddings = [self.padding[p % q] - (p // q) * self.stride for p in range(period)]
        return Span(self.stride * (period // q), tuple(paddings), tuple(self.size[p % q] for p in range(period)))


def _simplest(stride: int, paddings: Sequence[int], sizes: Sequence[int]) -> Span:
    """The span with the shortest period that describes the same positions (period 1 if uniform)."""
    q = len(sizes)
    for d in range(1, q):
        if q % d or (stride * d) % q:
            continue
        j = stride * d // q  # input pixels per d positions
        if all(sizes[p] == sizes[p % d] and paddings[p] == paddings[p % d] - (p // d) * j for p in range(q)):
            return Span(j, tuple(paddings[:d]), tuple(sizes[:d]))
    return Span(stride, tuple(paddings), tuple(sizes))


def _window(k: int, s: int, p: int, d: int) -> Callable[[Span], Span]:
    return lambda span: span.resample(1, s, [(-p, -p + (k - 1) * d)])


@dataclass(frozen=True)
class Field:
    """The receptive field of one position, one ``Span`` per spatial axis (height, width, ...)."""

    axes: tuple[Span, ...]

    @staticmethod
    def of_input(axes: int) -> Field:
        return Field((Span(1, (0,), (1,)),) * axes)

    @property
    def uniform(self) -> bool:
        """Every position sees a window of the same size, one stride apart: Distill's (r, j, P)."""
        return all(s.period == 1 for s in self.axes)

    @property
    def size(self) -> tuple[int, ...]:
        return tuple(s.size[0] for s in self.axes)

    @property
    def stride(self) -> tuple[int, ...]:
        return tuple(s.stride for s in self.axes)

    @property
    def padding(self) -> tuple[int, ...]:
        return tuple(s.padding[0] for s in self.axes)

    def along(self, axis: int, change: Callable[[Span], Span]) -> Field:
        axes = list(self.axes)
        axes[axis] = change(axes[axis])
        return Field(tuple(axes))

    def irregularity(self) -> str:
        axis, span = next((i, s) for i, s in enumerate(self.axes) if s.period > 1)
        sizes = sorted(set(span.size))
        shown = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
        pixels = f"{span.stride} input pixel{'' if abs(span.stride) == 1 else 's'}"
        return (
            f"positions see different windows (after upsampling): on axis {axis} the pattern repeats every "
            f"{span.period} positions and moves {pixels}, with sizes {shown}"
        )



@dataclass(frozen=True)
class WholeInput:
    """Every output sees every input position (after global pooling, a linear layer over positions, attention)."""


@dataclass(frozen=True)
class Unknown:
    """A field archscope cannot state exactly, and why."""

    reason: str


WHOLE = WholeInput()
Value = Field | WholeInput | Unknown


@dataclass(frozen=True)
class Part:
    """Channels [start, stop) of a tensor and their field; None for channels with no signal (zero padding)."""

    start: int
    stop: int
    value: Value | None


TensorField = tuple[Part, ...]


def merge(values: Iterable[Value | None], issues: list[str] | None = None, where: str = "") -> Value | None:
    """The field of a position that combines positions with these fields.

    Fields with the same stride merge into their union, the largest when their centres are
    aligned (Distill, "Handling arbitrary graphs"); fields with different strides become
    Unknown, and the reason is appended to ``issues`` when given.
    """
    present = [v for v in values if v is not None]
    if not present:
        return None
    if any(isinstance(v, WholeInput) for v in present):
        return WHOLE  # anything combined with a global value sees the whole input, whatever else it sees
    unknown = next((v for v in present if isinstance(v, Unknown)), None)
    if unknown is not None:
        return unknown
    fields = present
    first = fields[0]
    if all(f == first for f in fields[1:]):
        return first
    axes = []
    for axis in range(len(first.axes)):
        span = _merge_spans([f.axes[axis] for f in fields], axis, where)
        if isinstance(span, str):
            if issues is not None and span not in issues:
                issues.append(span)
            return Unknown(span)
        axes.append(span)
    return Field(tuple(axes))


def _merge_spans(spans: list[Span], axis: int, where: str) -> Span | str:
    """The union of fields that move together (same stride): from the first start to the last end.

    With aligned centres (Distill's condition) that is the largest field. Centres that differ
    by a constant (ResNet-D's average-pooled shortcut beside a strided 3x3) still give every
    position the same window, one stride apart, so the union is exact. Fields with different
    strides drift apart from position to position: no single window describes them.
    """
    period = math.lcm(*(s.period for s in spans))
    spans = [s if s.period == period else s.expanded(period) for s in spans]
    first = spans[0]
    for other in spans[1:]:
        if other.stride != first.stride:
            return (
                f"unaligned merge{where}: stride {first.stride} vs {other.stride} on axis {axis}, "
                "so the fields drift apart from one position to the next"
            )
    starts = [min(s.start(p) for s in spans) for p in range(period)]
    ends = [max(s.end(p) for s in spans) for p in range(period)]
    return _simplest(first.stride, [-b for b in starts], [e - b + 1 for b, e in zip(starts, ends)])


def overall(parts: TensorField) -> Value | None:
    """One value for a whole tensor: its parts merged, without reporting anything."""
    return merge((p.value for p in parts), issues=None)


@dataclass(frozen=True)
class Tracked:
    """What the tracker knows about one tensor.

    ``dims`` is its axis map; ``parts`` the field of each channel range at its grid positions;
    ``extra`` the field of its extra tokens (a class or register token: None, no signal,
    until attention mixes them with the grid).
    """

    dims: Dims
    parts: TensorField
    extra: Value | None = None

    @functools.cached_property
    def value(self) -> Value | None:
        """All its positions' fields merged: the tensor's field."""
        if len(self.parts) == 1 and self.extra is None:
            return self.parts[0].value
        return merge([*(p.value for p in self.parts), self.extra])


def describe(tracked: Tracked | None) -> ReceptiveField | None:
    """The record of a tensor's field: the overall field, its parts when there are several, and
    its layout when its positions are not laid out as batch, channels, then the spatial axes."""
    if tracked is None:
        return None
    value = tracked.value
    record = _record(value)
    parts = tuple(ChannelRange(p.start, p.stop, _record(p.value)) for p in tracked.parts) if len(tracked.parts) > 1 else ()
    layout = ax.layout_json(tracked.dims) if record.is_window and not ax.is_standard(tracked.dims, len(value.axes)) else None
    return replace(record, parts=parts, layout=layout)


def _record(value: Value | None) -> ReceptiveField:
    if value is None:
        return NO_SIGNAL
    if isinstance(value, WholeInput):
        return ReceptiveField("whole_input")
    if isinstance(value, Unknown):
        return ReceptiveField("unknown", reason=value.reason)
    if not value.uniform:
        return ReceptiveField("unknown", reason=value.irregularity())
    return ReceptiveField("window", value.size, value.stride, value.padding)


def _consistent(dims: Dims, parts: TensorField, extra: Value | None = None) -> Tracked:
    """A tracked tensor whose parts match its channels (one part once the channels are split or
    moved), and whose lone spatial atoms index their axis one position at a time."""
    count = ax.channel_count(dims)
    if len(parts) > 1 and (ax.intact_channels(dims) is None or parts[-1].stop != count):
        parts = (Part(0, count, overall(parts)),)
    elif len(parts) == 1 and parts[0].stop != count:
        parts = (Part(0, count, parts[0].value),)
    return _rebased(Tracked(dims, parts, extra))


def _rebased(tracked: Tracked) -> Tracked:
    """An axis left with one atom of step s (a window's index once its contents were selected)
    is re-indexed: its positions are s apart, which the field's stride now says instead."""
    if all(a.step == 1 for d in tracked.dims for a in d if a.kind == "space") and not any(
        g.step != 1 for d in tracked.dims for a in d if a.kind == "tokens" for g in a.grid
    ):
        return tracked
    steps = {}
    for a in ax.spatial(ax.all_atoms(tracked.dims)):
        if a.size > 1:
            steps.setdefault(a.axis, []).append(a.step)
    lone = {axis: s[0] for axis, s in steps.items() if len(s) == 1 and s[0] != 1}
    if not lone:
        return tracked

    def atom(a: Atom) -> Atom:
        if a.kind == "space" and a.axis in lone and a.size > 1:
            return replace(a, step=1)
        if a.kind == "tokens":
            return replace(a, grid=tuple(atom(g) for g in a.grid))
        return a

    dims = tuple(tuple(atom(a) for a in d) for d in tracked.dims)
    parts = tracked.parts
    for axis, step in lone.items():
        parts = _along(parts, axis, lambda span, s=step: span.resample(1, s, [(0, 0)]))
    return Tracked(dims, parts, tracked.extra)


def _along(parts: TensorField, axis: int, change: Callable[[Span], Span]) -> TensorField:
    return tuple(
        Part(p.start, p.stop, p.value.along(axis, change) if isinstance(p.value, Field) else p.value) for p in parts
    )


def _map_values(parts: TensorField, change: Callable[[Value | None], Value | None]) -> TensorField:
    return tuple(Part(p.start, p.stop, change(p.value)) for p in parts)


def _has_field(tracked: Tracked) -> bool:
    return any(isinstance(p.value, Field) for p in tracked.parts) or isinstance(tracked.extra, Field)


# ---------------------------------------------------------------------------------------------
# Reading an operator call


def _tensors(values: Iterable[Any]) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    for v in values:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            found.extend(_tensors(v))
    return found


def _ints(value: Any, n: int, default: int) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return [default] * n
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    return values * n if len(values) == 1 else values


def _dims_arg(value: Any, rank: int) -> list[int]:
    """A ``dim`` argument (int, list, or None for all) as a sorted list of non-negative dims."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return list(range(rank))
    values = [value] if isinstance(value, int) else list(value)
    return sorted({int(d) % max(rank, 1) for d in values})


@dataclass
class _Call:
    """One operator call as the tracker sees it."""

    func: Any
    name: str
    args: Sequence[Any]
    kwargs: dict
    inputs: list[torch.Tensor]  # the tensors with a known field
    outputs: list[torch.Tensor]

    @property
    def out(self) -> torch.Tensor:
        return self.outputs[0]

    @functools.cached_property
    def bound(self) -> dict[str, Any]:
        """The arguments by their names in the operator's schema, defaults filled in."""
        bound: dict[str, Any] = {}
        for i, (name, has_default, default) in enumerate(_schema(self.func)):
            if i < len(self.args):
                bound[name] = self.args[i]
            elif name in self.kwargs:
                bound[name] = self.kwargs[name]
            elif has_default:
                bound[name] = default
        return bound


@functools.lru_cache(maxsize=None)
def _schema(func: Any) -> tuple[tuple[str, bool, Any], ...]:
    return tuple((a.name, a.has_default_value(), a.default_value if a.has_default_value() else None)
                 for a in func._schema.arguments)  # fmt: skip


@dataclass(frozen=True)
class Paired(Unknown):
    """Attention scores before the softmax mixes the keys: each entry depends on two positions,
    so it has no field of its own. ``field`` is the field of the positions paired, for the
    softmax to tell whether the keys it mixes together see the whole input."""

    field: Field | None = None


PAIRED = "attention scores: each entry pairs a query position with a key position"


# ---------------------------------------------------------------------------------------------
# The tracker


class FieldTracker:
    """Follows receptive fields through the operators of one forward pass."""

    def __init__(self) -> None:
        self._fields: dict[int, tuple[torch.Tensor, Tracked]] = {}
        self._issues: list[str] = []
        self.last_spatial: Tracked | None = None
        self._axes = 0
        self._lengths: tuple[int, ...] = ()  # the input's length along each spatial axis

    @property
    def issues(self) -> list[str]:
        """What could not be stated exactly: where a field was lost, and a last map whose
        positions see different windows (upsampling with no stride after it)."""
        value = self.last_spatial.value if self.last_spatial is not None else None
        if isinstance(value, Field) and not value.uniform and value.irregularity() not in self._issues:
            return [*self._issues, value.irregularity()]
        return list(self._issues)

    def seed(self, x: torch.Tensor) -> None:
        """The network's input: every position sees itself. Axes after batch and channel are spatial."""
        if x.dim() - 2 >= 1 and not self._axes:
            self._axes = x.dim() - 2
            self._lengths = tuple(x.shape[2:])
        if x.dim() - 2 >= 1 and x.dim() - 2 == self._axes:
            # Stored directly: the input itself is not a feature map (last_spatial stays None).
            parts = (Part(0, x.shape[1], Field.of_input(self._axes)),)
            self._fields[id(x)] = (x, Tracked(ax.seed_dims(x.shape), parts))

    def get(self, t: Any) -> Tracked | None:
        if not isinstance(t, torch.Tensor):
            return None
        entry = self._fields.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def _set(self, t: torch.Tensor, tracked: Tracked) -> None:
        self._fields[id(t)] = (t, tracked)  # the tensor is kept so its id is not reused
        # The last spatial map: a tensor with positions and a field, or with several positions
        # whatever they see (a ViT's tokens after attention), or any unknown (so that an
        # unaligned merge at the end is not hidden).
        value = tracked.value
        if value is None:
            return
        if isinstance(value, Unknown) or (
            _located(tracked.dims) and (isinstance(value, Field) or ax.positions(tracked.dims) > 1)
        ):
            self.last_spatial = tracked

    def _issue(self, reason: str) -> None:
        if reason not in self._issues:
            self._issues.append(reason)

    def record(self, func: Any, rule: OpRule | None, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        """Give the outputs of one operator their fields, from its inputs' (its registry row's rule)."""
        kind = rule.field if rule is not None else "unknown"
        if kind == "creation":
            return
        inputs = [t for t in _tensors([*args, *kwargs.values()]) if self.get(t) is not None]
        if not inputs:
            return
        outputs = _tensors([out])
        if not outputs:
            return
        call = _Call(func, func.overloadpacket.__name__, args, kwargs, inputs, outputs)
        result = _RULES.get(kind, FieldTracker._unknown_op)(self, call)
        if not isinstance(result, list):  # one result for the first output and those shaped like it
            result = [result if tuple(t.shape) == tuple(call.out.shape) else None for t in outputs]
        for t, tracked in zip(outputs, result):
            if tracked is not None:
                self._set(t, tracked)

    # ------------------------------------------------------------------ unknowns

    def _lost(self, call: _Call, reason: str, dims: Dims | None = None, out: torch.Tensor | None = None) -> Tracked:
        """The output's field is unknown for ``reason``, where its inputs had a field to lose;
        an input that already saw the whole input (or nothing) still does."""
        out = call.out if out is None else out
        first = call.inputs[0]
        if dims is None:
            same = tuple(first.shape) == tuple(out.shape)
            dims = self.get(first).dims if same else ax.opaque(out.shape)
        value = merge([self.get(t).value for t in call.inputs])
        if isinstance(value, Field):
            self._issue(reason)
            value = Unknown(reason)
        return _consistent(dims, (Part(0, ax.channel_count(dims), value),))

    def _unknown_op(self, call: _Call) -> Tracked:
        return self._lost(call, f"aten::{call.name} is not understood for receptive fields")

    # ------------------------------------------------------------------ elementwise

    def _pointwise(self, call: _Call) -> Tracked:
        """Elementwise operators: each position on its own; broadcasting must not spread a field."""
        out = call.out
        sources = call.inputs
        if call.name == "copy" and len(sources) > 1:  # copy_(dst, src): the source replaces the destination
            sources = [t for t in sources if t is not call.args[0]]
        if call.name == "glu":
            return self._glu(call)
        tracked = [self.get(t) for t in sources]
        if len(tracked) == 1 and tuple(sources[0].shape) == tuple(out.shape):
            return tracked[0]  # one tensor with a field, position by position (an activation, x * weight)
        if all(tuple(t.shape) == tuple(out.shape) for t in sources) and all(i.dims == tracked[0].dims for i in tracked):
            if all(i.parts == tracked[0].parts and i.extra == tracked[0].extra for i in tracked):
                return tracked[0]  # the same field on every input
            return self._merged_parts(call, tracked, tracked[0].dims)
        shaped = [i for t, i in zip(sources, tracked) if tuple(t.shape) == tuple(out.shape)]
        if shaped:
            dims = max(shaped, key=lambda i: ax.positions(i.dims)).dims
        else:
            dims = _broadcast_dims(tracked[0].dims, sources[0].shape, out.shape)
        for t, info in zip(sources, tracked):
            problem = _broadcast_problem(info.dims, t.shape, dims, out.shape)
            if problem is not None and _has_field(info):
                return self._lost(call, f"aten::{call.name} {problem}", dims)
        return self._merged_parts(call, tracked, dims)

    def _merged_parts(self, call: _Call, tracked: list[Tracked], dims: Dims) -> Tracked:
        """Inputs combined position by position: part by part where their channel ranges agree."""
        where = f" in aten::{call.name}"
        bounds = {tuple((p.start, p.stop) for p in i.parts) for i in tracked}
        # Parts match up when the channels sit in the same dimension (counted from the end).
        holders = {_channel_dim_from_end(i.dims) for i in tracked if len(i.parts) > 1}
        if len(bounds) == 1 and None not in holders and len(holders) <= 1:
            parts = tuple(
                Part(p.start, p.stop, merge([i.parts[k].value for i in tracked], self._issues, where))
                for k, p in enumerate(tracked[0].parts)
            )
        else:
            parts = (Part(0, ax.channel_count(dims), merge([overall(i.parts) for i in tracked], self._issues, where)),)
        return _consistent(dims, parts, merge([i.extra for i in tracked], self._issues, where))

    def _glu(self, call: _Call) -> Tracked:
        x, out = call.args[0], call.out
        info = self.get(x)
        d = call.bound.get("dim", -1) % x.dim()
        if ax.positional(info.dims[d]):
            return self._lost(call, "aten::glu halves a spatial axis")
        dims = _replaced(info.dims, d, ax.resized(info.dims[d], out.shape[d]))
        return _consistent(dims, (Part(0, ax.channel_count(dims), overall(info.parts)),), info.extra)

    # ------------------------------------------------------------------ windows

    def _window_roles(self, dims: Dims, window_dims: Sequence[int], kernel: Sequence[int], padding: Sequence[int],
                      stride: Sequence[int]) -> list[int | str | None] | str:  # fmt: skip
        """What each windowed dimension holds: a spatial axis (its index), "channel" (LRN pools
        over channels), None (a size-1 or untouched dimension), or a reason it cannot be windowed."""
        roles: list[int | str | None] = []
        for d, k, p, s in zip(window_dims, kernel, padding, stride):
            atoms = ax.nontrivial(dims[d])
            ones = [a for a in dims[d] if a.kind == "space"]
            if not atoms:
                roles.append(ones[0].axis if ones else "?")
            elif len(atoms) == 1 and atoms[0].kind == "space" and atoms[0].step == 1 and not atoms[0].paired and (
                ax.only_atom_of_axis(dims, atoms[0])
            ):
                roles.append(atoms[0].axis)
            elif len(atoms) == 1 and atoms[0].kind == "channel":
                roles.append("channel")
            elif k == 1 and p == 0 and s == 1 and not ax.positional(atoms):
                roles.append(None)
            else:
                return f"a window over {ax.describe_dim(atoms)} (not one whole spatial axis)"
        # A size-1 dimension without an atom is a spatial axis of length 1 not held elsewhere.
        held = {a.axis for a in ax.spatial(ax.all_atoms(dims)) if a.size > 1} | {r for r in roles if isinstance(r, int)}
        missing = [i for i in range(self._axes) if i not in held]
        return [(missing.pop(0) if missing else None) if r == "?" else r for r in roles]

    def _windowed(self, call: _Call, tracked: Tracked, window_dims: Sequence[int], kernel: Sequence[int],
                  stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                  channel_dim: int | None = None) -> Tracked:  # fmt: skip
        """A window op (convolution, pooling) over ``window_dims``: Distill's equations per axis.

        ``channel_dim`` is where a convolution puts its new channels (every input channel
        reaches every output, so the parts merge first)."""
        out = call.out
        roles = self._window_roles(tracked.dims, window_dims, kernel, padding, stride)
        if isinstance(roles, str):
            return self._lost(call, f"aten::{call.name}: {roles}", ax.opaque(out.shape))
        dims = list(tracked.dims)
        for d, role in zip(window_dims, roles):
            if isinstance(role, int):
                dims[d] = (ax.space(role, out.shape[d]),)  # a size-1 atom still says which axis
            elif role == "channel":
                dims[d] = (ax.channel(out.shape[d]),)
            else:
                dims[d] = ax.resized(dims[d], out.shape[d])
        parts = tracked.parts
        mixes_channels = channel_dim is not None or any(
            r == "channel" and k > 1 for r, k in zip(roles, kernel)
        )
        if mixes_channels:
            where = " of a convolution's input channels" if channel_dim is not None else ""
            value = merge([p.value for p in parts], self._issues, where)
            parts = (Part(0, 1, value),)
        if channel_dim is not None:
            dims[channel_dim] = (ax.channel(out.shape[channel_dim]),)
        for role, k, s, p, dl in zip(roles, kernel, stride, padding, dilation):
            if isinstance(role, int):
                parts = _along(parts, role, _window(k, s, p, dl))
        return _consistent(tuple(dims), parts, tracked.extra)

    def _conv(self, call: _Call) -> Tracked:
        a = call.bound
        x, weight, out = a["input"], a["weight"], call.out
        tracked = self.get(x)
        n = weight.dim() - 2
        if tracked is None:  # only the weights carry a field: a dynamic convolution
            return self._lost(call, "a convolution whose weights come from the input", ax.opaque(out.shape))
        dynamic = self.get(weight)
        if dynamic is not None:  # weights computed from the input (CondConv): they join every output
            value = merge([overall(tracked.parts), dynamic.value])
            tracked = replace(tracked, parts=(Part(0, tracked.parts[-1].stop, value),))
        if ax.positional(tracked.dims[1]):
            # Space to depth before it (TResNet's stem): the channels it mixes hold positions.
            mixed = self._mix(tracked, {1}, keep=False, name=call.name)
            tracked = _consistent(mixed.dims, mixed.parts, mixed.extra)
        kernel = list(weight.shape[2:])
        stride, padding, dilation = _ints(a["stride"], n, 1), _ints(a["padding"], n, 0), _ints(a["dilation"], n, 1)
        if a.get("transposed"):
            return self._transposed(call, tracked, kernel, stride, padding, dilation)
        if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and all(p == 0 for p in padding):
            # A 1x1 convolution mixes channels only, whatever the layout of its positions.
            dims = _replaced(tracked.dims, 1, (ax.channel(out.shape[1]),))
            value = merge([p.value for p in tracked.parts], self._issues, " of a convolution's input channels")
            return _consistent(dims, (Part(0, out.shape[1], value),), tracked.extra)
        return self._windowed(call, tracked, range(2, 2 + n), kernel, stride, padding, dilation, channel_dim=1)

    def _transposed(self, call: _Call, tracked: Tracked, kernel: Sequence[int], stride: Sequence[int],
                    padding: Sequence[int], dilation: Sequence[int]) -> Tracked:  # fmt: skip
        """A transposed convolution scatters input u to outputs u s - p + t d (t < k): output y
        reads the inputs u with u s = y + p - t d, a pattern that repeats every s outputs."""
        out = call.out
        n = len(kernel)
        roles = self._window_roles(tracked.dims, range(2, 2 + n), [1] * n, [0] * n, [1] * n)
        if isinstance(roles, str) or any(not isinstance(r, int) for r in roles):
            reason = roles if isinstance(roles, str) else "not over spatial axes"
            return self._lost(call, f"aten::{call.name} (transposed): {reason}", ax.opaque(out.shape))
        value = merge([p.value for p in tracked.parts], self._issues, " of a convolution's input channels")
        parts = (Part(0, 1, value),)
        dims = list(tracked.dims)
        dims[1] = (ax.channel(out.shape[1]),)
        for d, role, k, s, p, dl in zip(range(2, 2 + n), roles, kernel, stride, padding, dilation):
            ranges = []
            for phase in range(s):
                sources = [(phase + p - t * dl) // s for t in range(k) if (phase + p - t * dl) % s == 0]
                if not sources:
                    reason = f"a transposed convolution with kernel {k} < stride {s} leaves outputs with no input"
                    return self._lost(call, reason)
                ranges.append((min(sources), max(sources)))
            parts = _along(parts, role, lambda span, r=ranges, s=s: span.resample(s, 1, r))
            dims[d] = (ax.space(role, out.shape[d]),)
        return _consistent(tuple(dims), parts, tracked.extra)

    def _pool(self, call: _Call) -> Tracked:
        a = call.bound
        x, out = call.args[0], call.out
        tracked = self.get(x)
        n = int(call.name.split("pool")[1][0])  # max_pool2d_with_indices, avg_pool3d, ...
        kernel = _ints(a.get("kernel_size"), n, 1)
        stride = [s or k for s, k in zip(_ints(a.get("stride"), n, 0), kernel)]  # an empty stride means the kernel
        padding = _ints(a.get("padding"), n, 0)
        dilation = _ints(a.get("dilation"), n, 1)
        window_dims = list(range(x.dim() - n, x.dim()))
        if all(out.shape[d] == 1 and k >= x.shape[d] for d, k in zip(window_dims, kernel)):
            return self._reduced(call, tracked, window_dims, keepdim=True)  # a window over the whole map
        return self._windowed(call, tracked, window_dims, kernel, stride, padding, dilation)

    def _adaptive_pool(self, call: _Call) -> Tracked:
        x, out = call.args[0], call.out
        tracked = self.get(x)
        size = call.bound["output_size"]
        n = 1 if isinstance(size, int) else len(size)
        window_dims = list(range(x.dim() - n, x.dim()))
        sizes_in, sizes_out = [x.shape[d] for d in window_dims], [out.shape[d] for d in window_dims]
        if all(o == 1 for o in sizes_out):
            return self._reduced(call, tracked, window_dims, keepdim=True)
        if any(i % o for i, o in zip(sizes_in, sizes_out)):
            return self._lost(call, f"adaptive pooling from {sizes_in} to {sizes_out} has windows of uneven size")
        kernel = [i // o for i, o in zip(sizes_in, sizes_out)]
        return self._windowed(call, tracked, window_dims, kernel, kernel, [0] * n, [1] * n)

    # ------------------------------------------------------------------ mixing positions

    def _mix(self, tracked: Tracked, mixed: set[int], *, keep: bool, name: str, beside: Sequence[Atom] = ()) -> Tracked:
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
            outcome[axis] = _axis_mixing(
                [a for a in m_space if a.axis == axis],
                [a for a in ax.spatial(kept_atoms) if a.axis == axis and a.size > 1 and not a.paired],
                [a for a in ax.spatial(beside) if a.axis == axis and a.size > 1 and not a.paired],
                keep, name, axis,
            )  # fmt: skip
        present = {a.axis for a in ax.spatial(ax.all_atoms(dims)) if a.size > 1}
        whole = bool(outcome) and all(outcome.get(axis) == "whole" for axis in present)
        change = self._verdict(outcome, present, name)
        lost = [change(p.value) for p in parts if isinstance(p.value, Field) or isinstance(p.value, Paired)]
        if isinstance(extra, (Field, Paired)):
            lost.append(change(extra))
        reason = next((v.reason for v in lost if isinstance(v, Unknown) and not isinstance(v, Paired)), None)
        if reason is not None:
            self._issue(reason)
        windows = {axis: w for axis, w in outcome.items() if isinstance(w, int)}
        if mixes_extras or (whole and extra is not None):
            signal = merge([overall(parts), extra])
            parts = _map_values(parts, lambda v: change(merge([v, extra])) if v is not None or mixes_extras else v)
            extra = change(signal)
        else:
            parts = _map_values(parts, change)
            extra = change(extra) if whole else extra
        new_dims = []
        for i, d in enumerate(dims):
            if i in mixed:
                new_dims.append(tuple(_unpaired(a) for a in d) if keep else ())
            else:
                new_dims.append(tuple(_rescaled(a, windows) for a in d))
        return Tracked(tuple(new_dims), parts, extra)

    def _verdict(self, outcome: dict[int, Any], present: set[int], name: str) -> Callable[[Value | None], Value | None]:
        """What a value becomes once positions are mixed as ``outcome`` says, axis by axis.

        Every axis whole: the whole input. Positions mixed in groups (grid attention, windows)
        are whole too when each group's fields reach every input pixel; otherwise the field
        depends on where a position sits in its group and is unknown. Windows of the inner
        factor of an axis (space to depth) are Distill windows.
        """
        groups = {axis: o for axis, o in outcome.items() if isinstance(o, _Groups)}
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
            covered = {a for a, g in groups.items() if field is not None and g.covers(field.axes[a], self._lengths[a])}
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
                field = field.along(axis, _window(w, w, 0, 1))
            return field

        return change

    def _reduced(self, call: _Call, tracked: Tracked, reduced: Sequence[int], keepdim: bool) -> Tracked:
        result = self._mix(tracked, set(reduced), keep=False, name=call.name)
        if keepdim:
            dims = result.dims
        else:
            dims = tuple(d for i, d in enumerate(result.dims) if i not in reduced)
        return _consistent(dims, result.parts, result.extra)

    def _reduction(self, call: _Call) -> Tracked:
        """mean, sum, amax, var, softmax, cumsum, ... over the dims given (all when none)."""
        x, out, name = call.args[0], call.out, call.name
        if call.func._overloadname == "other":  # max(a, b), min(a, b): elementwise
            return self._pointwise(call)
        tracked = self.get(x)
        reduced = _dims_arg(call.bound.get("dim"), x.dim())
        if name == "cumsum" and any(ax.positional(tracked.dims[d]) for d in reduced):
            return self._lost(call, "aten::cumsum over positions: each position sees those before it")
        if name in ("_softmax", "_log_softmax", "_safe_softmax", "cumsum"):  # the shape stays
            result = self._mix(tracked, set(reduced), keep=True, name=name)
            return _consistent(result.dims, result.parts, result.extra)
        return self._reduced(call, tracked, reduced, keepdim=out.dim() == x.dim())

    def _global(self, call: _Call) -> list[Tracked | None]:
        """sort, topk: every output along the dim depends on every input along it; positions lose their order."""
        x, out = call.args[0], call.out
        tracked = self.get(x)
        d = call.bound.get("dim", -1) % x.dim()
        result = self._mix(tracked, {d}, keep=True, name=call.name)
        dims = _replaced(result.dims, d, (ax.other(out.shape[d]),) if out.shape[d] != 1 else ())
        found = _consistent(dims, result.parts, result.extra)
        return [found if tuple(t.shape) == tuple(out.shape) else None for t in call.outputs]

    def _matmul(self, call: _Call) -> Tracked:
        """mm, addmm, bmm, baddbmm: the contracted dimension mixes what it holds.

        A linear layer contracts the channels only (its rows, batch and positions merged, keep
        their fields); a product over positions (a linear layer after flatten, attention's
        weights times values) mixes them; a product whose rows and columns both hold positions
        (queries times keys) pairs them, and the softmax over the keys mixes them after.
        """
        name, args, out = call.name, call.args, call.out
        bias, a, b = (args[0], args[1], args[2]) if name in ("addmm", "baddbmm") else (None, args[0], args[1])
        ta, tb = self.get(a), self.get(b)
        da = ta.dims if ta is not None else ax.opaque(a.shape)
        db = tb.dims if tb is not None else ax.opaque(b.shape)
        rank = a.dim()
        rows, inner, cols = rank - 2, rank - 1, rank - 1
        pair = ta is not None and tb is not None and ax.positional(da[rows]) and ax.positional(db[cols])
        # Each operand's contraction, judged beside the positions the other one keeps.
        ra = rb = None
        if ta is not None:
            ra = self._mix(ta, {inner}, keep=False, name=name, beside=() if pair else db[cols])
        if tb is not None:
            rb = self._mix(tb, {rank - 2}, keep=False, name=name, beside=() if pair else da[rows])
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
            value = merge(values, self._issues, f" in aten::{name}")
            extra = merge([*extras, overall(rb.parts) if rb is not None else None]) if extras else None
        if bias is not None and self.get(bias) is not None:
            value = merge([value, self.get(bias).value], self._issues, f" in aten::{name}")
        dims = (*leading, row_dim, col_dim)
        return _consistent(dims, (Part(0, ax.channel_count(dims), value),), extra)

    def _attention(self, call: _Call) -> list[Tracked | None]:
        """Fused scaled dot-product attention: every query position sees every key position."""
        q, k, v = call.args[:3]
        rest = [None] * (len(call.outputs) - 1)  # logsumexp and the like
        if call.bound.get("is_causal"):
            return [self._lost(call, "causal attention: each position sees those before it"), *rest]
        tq = self.get(q)
        beside = tq.dims[q.dim() - 2] if tq is not None else ()
        contracted = {q: {q.dim() - 1}, k: {k.dim() - 2, k.dim() - 1}, v: {v.dim() - 2}}
        results = [
            self._mix(self.get(t), contracted[t], keep=False, name=call.name, beside=() if t is q else beside)
            if self.get(t) is not None else None
            for t in (q, k, v)
        ]  # fmt: skip
        value = merge([overall(r.parts) for r in results if r is not None], self._issues, f" in aten::{call.name}")
        head = results[0].dims[:-1] if results[0] is not None else ax.opaque(q.shape)[:-1]
        dims = (*head, (ax.channel(call.out.shape[-1]),))
        has_extras = any(x.kind == "tokens" and (x.before or x.after) for d in head for x in d)
        extra = merge([value, results[0].extra if results[0] is not None else None]) if has_extras else None
        return [_consistent(dims, (Part(0, call.out.shape[-1], value),), extra), *rest]

    # ------------------------------------------------------------------ moving data

    def _concat(self, call: _Call) -> Tracked:
        """cat and stack: channel parts side by side, tokens in front of a grid, or batches."""
        tensors = list(call.args[0])
        out = call.out
        d = call.bound.get("dim", 0) % out.dim()
        known = [(t, self.get(t)) for t in tensors if self.get(t) is not None]
        ref_t, ref = max(known, key=lambda ti: ax.positions(ti[1].dims))
        if call.name == "stack":
            dims = (*ref.dims[:d], (ax.other(len(tensors)),), *ref.dims[d:])
            value = merge([i.value for _, i in known], self._issues, " in a stack")
            return _consistent(dims, (Part(0, ax.channel_count(dims), value),), None)
        atoms = ax.nontrivial(ref.dims[d])
        if ax.positional(atoms):
            return self._concat_positions(call, tensors, d, ref_t, ref)
        if any(a.kind == "channel" for a in ref.dims[d]) and ax.intact_channels(ref.dims) == d:
            parts: list[Part] = []
            offset = 0
            for t in tensors:
                own = self.get(t)
                pieces = own.parts if own is not None and ax.intact_channels(own.dims) == d else (
                    (Part(0, t.shape[d], own.value if own is not None else None),)
                )  # fmt: skip
                parts += [Part(p.start + offset, p.stop + offset, p.value) for p in pieces]
                offset += t.shape[d]
            dims = _replaced(ref.dims, d, (ax.channel(out.shape[d]),))
            return _consistent(dims, tuple(parts), merge([i.extra for _, i in known]))
        where = " in a batch concatenation" if any(a.kind == "batch" for a in atoms) else f" in aten::{call.name}"
        value = merge([i.value for _, i in known], self._issues, where)
        dims = _replaced(ref.dims, d, ax.resized(ref.dims[d], out.shape[d]))
        return _consistent(dims, (Part(0, ax.channel_count(dims), value),), None)

    def _concat_positions(self, call: _Call, tensors: list[torch.Tensor], d: int, ref_t: torch.Tensor,
                          ref: Tracked) -> Tracked:  # fmt: skip
        """A concatenation along an axis that holds positions: class and register tokens in front
        of a token grid, or constant rows added to a map (a padding)."""
        grids = [t for t in tensors if self.get(t) is not None and ax.positional(self.get(t).dims[d])]
        if len(grids) > 1:
            return self._lost(call, f"aten::{call.name} joins two position grids along one axis")
        i = next(k for k, t in enumerate(tensors) if t is ref_t)
        before = sum(t.shape[d] for t in tensors[:i])
        after = sum(t.shape[d] for t in tensors[i + 1 :])
        atoms = ax.nontrivial(ref.dims[d])
        others = [self.get(t) for t in tensors if t is not ref_t]
        if len(atoms) == 1 and atoms[0].kind == "space" and ax.only_atom_of_axis(ref.dims, atoms[0]) and all(
            o is None for o in others
        ):
            # Rows from no input before and after a map: a constant padding of that axis.
            axis = atoms[0].axis
            parts = _along(ref.parts, axis, lambda span: span.resample(1, 1, [(-before, -before)]))
            return _consistent(_replaced(ref.dims, d, (ax.space(axis, call.out.shape[d]),)), parts, ref.extra)
        if any(a.kind not in ("space", "tokens") for a in atoms) or (
            len(atoms) > 1 and any(a.kind == "tokens" for a in atoms)
        ):
            return self._lost(call, f"aten::{call.name} adds tokens to positions merged with {ax.describe_dim(atoms)}")
        if atoms[0].kind == "tokens":
            grid, before, after = atoms[0].grid, before + atoms[0].before, after + atoms[0].after
        else:
            grid = tuple(atoms)
        extra = merge([ref.extra, *(o.value for o in others if o is not None)])
        return _consistent(_replaced(ref.dims, d, (ax.tokens(grid, before, after),)), ref.parts, extra)

    def _view(self, call: _Call) -> Tracked:
        """Views, reshapes, permutes, expands: the axis map moves with the data."""
        name, x, out = call.name, call.args[0], call.out
        tracked = self.get(x)
        if tracked is None:
            return self._lost(call, f"aten::{name} of an untracked tensor")
        dims = tracked.dims
        if name in _SAME_POSITIONS:
            return tracked
        if name in ("t", "transpose", "swapaxes", "permute", "movedim"):
            new = ax.permute(dims, _permutation(name, call.bound, x.dim()))
        elif name in ("expand", "expand_as"):
            new = _broadcast_dims(dims, x.shape, out.shape)
        elif name == "repeat":
            new = _tiled(dims, x.shape, list(call.bound["repeats"]))
        elif name == "roll":
            return self._roll(call, tracked)
        elif name == "flip":
            return self._flip(call, tracked)
        elif name == "squeeze":
            drop = _dims_arg(call.bound.get("dim"), x.dim()) if "dim" in call.bound else list(range(x.dim()))
            new = tuple(d for i, d in enumerate(dims) if not (i in drop and x.shape[i] == 1))
        elif name == "unsqueeze":
            at = call.bound["dim"] % (x.dim() + 1)
            new = (*dims[:at], (), *dims[at:])
        elif name == "view_as_real":
            new = (*dims, (ax.other(2),))
        elif name == "view_as_complex":
            new = dims[:-1]
        elif name == "as_strided":
            same = tuple(out.shape) == tuple(x.shape) and tuple(out.stride()) == tuple(x.stride())
            new = dims if same else None
        else:  # view, reshape, flatten, unflatten, ...
            new = ax.reshape(dims, list(out.shape))
        if new is None:
            reason = f"aten::{name} to {list(out.shape)} cuts across axes (it splits or mixes them unevenly)"
            return self._lost(call, reason)
        if _located(dims) and not _located(new):
            return _folded(tuple(new), tracked)
        return _consistent(tuple(new), tracked.parts, tracked.extra)

    def _roll(self, call: _Call, tracked: Tracked) -> Tracked:
        """roll shifts positions like a padding of the shift (positions that wrap round see the
        far edge, as with circular padding: the field of the others is exact)."""
        x = call.args[0]
        shifts, rolled = list(_ints(call.bound["shifts"], 1, 0)), list(call.bound.get("dims") or [])
        if not rolled:  # a roll of the flattened tensor
            if ax.positional(ax.all_atoms(tracked.dims)):
                return self._lost(call, "aten::roll of the flattened tensor")
            return tracked
        parts = tracked.parts
        for shift, d in zip(shifts, rolled):
            atoms = ax.nontrivial(tracked.dims[d % x.dim()])
            if not ax.positional(atoms):
                if any(a.kind == "channel" for a in atoms):
                    parts = (Part(0, parts[-1].stop, overall(parts)),)
                continue
            if len(atoms) != 1 or atoms[0].kind != "space" or not ax.only_atom_of_axis(tracked.dims, atoms[0]):
                return self._lost(call, f"aten::roll of {ax.describe_dim(atoms)} (not one whole spatial axis)")
            parts = _along(parts, atoms[0].axis, lambda span, s=shift: span.resample(1, 1, [(-s, -s)]))
        return _consistent(tracked.dims, parts, tracked.extra)

    def _flip(self, call: _Call, tracked: Tracked) -> Tracked:
        """flip reverses positions: the stride turns negative (position x sees old position n - 1 - x)."""
        x = call.args[0]
        parts = tracked.parts
        for d in _dims_arg(call.bound["dims"], x.dim()):
            atoms = ax.nontrivial(tracked.dims[d])
            if not atoms:
                continue
            if ax.positional(atoms):
                if len(atoms) != 1 or atoms[0].kind != "space" or not ax.only_atom_of_axis(tracked.dims, atoms[0]):
                    return self._lost(call, f"aten::flip of {ax.describe_dim(atoms)} (not one whole spatial axis)")
                last = x.shape[d] - 1
                parts = _along(parts, atoms[0].axis, lambda span, n=last: span.resample(1, -1, [(n, n)]))
            elif ax.intact_channels(tracked.dims) == d:
                count = parts[-1].stop
                parts = tuple(Part(count - p.stop, count - p.start, p.value) for p in reversed(parts))
            elif any(a.kind == "channel" for a in atoms):
                parts = (Part(0, parts[-1].stop, overall(parts)),)
        return _consistent(tracked.dims, parts, tracked.extra)

    # ------------------------------------------------------------------ slices

    def _slice_op(self, call: _Call) -> Tracked:
        """slice, narrow, select: a sub-range of one axis (select drops it)."""
        name, x = call.name, call.args[0]
        tracked = self.get(x)
        if name == "diagonal":
            if ax.positional(ax.all_atoms(tracked.dims)):
                return self._lost(call, "aten::diagonal of a tensor with positions")
            return self._lost(call, "aten::diagonal", ax.opaque(call.out.shape))
        b = call.bound
        d = b.get("dim", 0) % x.dim()
        n = x.shape[d]
        if name == "select":
            i = b["index"] + (n if b["index"] < 0 else 0)
            start, stop, step = i, i + 1, 1
        elif name == "narrow":
            start = b["start"] + (n if b["start"] < 0 else 0)
            start, stop, step = start, start + b["length"], 1
        else:
            start = b.get("start") if b.get("start") is not None else 0
            stop = b.get("end") if b.get("end") is not None else n
            step = b.get("step") or 1
            start = max(start + n, 0) if start < 0 else min(start, n)
            stop = max(stop + n, 0) if stop < 0 else min(stop, n)
        result = self._sliced(tracked, d, start, max(stop, start), step, n)
        if isinstance(result, str):
            return self._lost(call, f"aten::{name}: {result}", ax.opaque(call.out.shape))
        return _without_dim(result, d) if name == "select" else result

    def _split(self, call: _Call) -> list[Tracked | None]:
        """split, chunk, unbind: each output a slice of one axis (res2net's and CSP's channel groups)."""
        x = call.args[0]
        tracked = self.get(x)
        d = call.bound.get("dim", 0) % x.dim()
        n = x.shape[d]
        results: list[Tracked | None] = []
        start = 0
        for t in call.outputs:
            size = 1 if call.name == "unbind" else t.shape[d]
            result = self._sliced(tracked, d, start, start + size, 1, n)
            if isinstance(result, str):
                result = self._lost(call, f"aten::{call.name}: {result}", ax.opaque(t.shape), out=t)
            elif call.name == "unbind":
                result = _without_dim(result, d)
            results.append(result)
            start += size
        return results

    def _sliced(self, tracked: Tracked, d: int, start: int, stop: int, step: int, n: int) -> Tracked | str:
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
                return _consistent(_replaced(tracked.dims, d, ax.resized(atoms, count)), parts, tracked.extra)
            return _consistent(_replaced(tracked.dims, d, ax.resized(atoms, count)), tracked.parts, tracked.extra)
        if len(atoms) == 1 and atoms[0].kind == "tokens":
            tok = atoms[0]
            return self._sliced_tokens(tracked, d, tok.grid, tok.before, tok.after, start, stop, step, tok.paired)
        if all(a.kind == "space" for a in atoms):
            if len(atoms) == 1:
                return _slice_atom(tracked, d, 0, start, count, step)
            return self._sliced_tokens(tracked, d, tuple(atoms), 0, 0, start, stop, step, False)
        return f"a slice of {ax.describe_dim(atoms)}"

    def _sliced_tokens(self, tracked: Tracked, d: int, grid: tuple[Atom, ...], before: int, after: int,
                       start: int, stop: int, step: int, paired: bool) -> Tracked | str:  # fmt: skip
        """A slice of a token axis: the extra tokens alone, the grid with some extras, or whole rows of the grid."""
        g = math.prod(a.size for a in grid)
        count = len(range(start, stop, step))
        if stop <= before or start >= before + g:  # extra tokens only: what they see is all that is left
            parts = tuple(Part(p.start, p.stop, tracked.extra) for p in tracked.parts)
            return _consistent(_replaced(tracked.dims, d, (ax.other(count),) if count != 1 else ()), parts, None)
        if step != 1:
            return "a strided slice of a token axis"
        if start <= before and stop >= before + g:  # the grid and some of the extras
            left, right = before - start, stop - before - g
            atom = ax.tokens(grid, left, right, paired) if left or right else None
            dims = _replaced(tracked.dims, d, (atom,) if atom is not None else tuple(grid))
            return _consistent(dims, tracked.parts, tracked.extra if atom is not None else None)
        if start >= before and stop <= before + g:  # within the grid
            inner = _replaced(tracked.dims, d, tuple(grid))
            result = _slice_grid(replace(tracked, dims=inner, extra=None), d, start - before, stop - before)
            return result
        return "a slice across the extra tokens and part of the grid"

    def _index(self, call: _Call) -> Tracked:
        """index_select, gather, indexing: a choice of channels is their merge; a choice of positions is unknown."""
        name, x, out = call.name, call.args[0], call.out
        tracked = self.get(x)
        if tracked is None or name == "embedding":
            return self._lost(call, f"aten::{name} with indices from the input", ax.opaque(out.shape))
        if name == "index":
            indexed = [i for i, t in enumerate(call.args[1]) if t is not None]
            if len(indexed) != 1 or call.args[1][indexed[0]].dim() != 1:
                return self._lost(call, "aten::index with several index tensors", ax.opaque(out.shape))
            d = indexed[0]
        else:
            d = call.bound.get("dim", 0) % x.dim()
        atoms = tracked.dims[d]
        if ax.positional(atoms):
            return self._lost(call, f"aten::{name} picks positions by index", ax.opaque(out.shape))
        if any(i != d and x.shape[i] != out.shape[i] for i in range(min(x.dim(), out.dim()))) or x.dim() != out.dim():
            return self._lost(call, f"aten::{name} reshapes as it gathers", ax.opaque(out.shape))
        parts = tracked.parts
        if any(a.kind == "channel" for a in atoms):  # a choice of channels: their fields merge
            parts = (Part(0, parts[-1].stop, overall(parts)),)
        return _consistent(_replaced(tracked.dims, d, ax.resized(atoms, out.shape[d])), parts, tracked.extra)

    def _pad(self, call: _Call) -> Tracked:
        """constant, reflect and replicate padding: p positions before shift the field by p strides
        (Distill's P' = P + p j; reflected or replicated borders have the geometry of zeros)."""
        x, out = call.args[0], call.out
        tracked = self.get(x)
        pad = list(call.bound.get("pad") or call.bound.get("padding") or [])
        constant = call.name == "constant_pad_nd"
        dims, parts = list(tracked.dims), tracked.parts
        for i in range(0, len(pad), 2):
            d = x.dim() - 1 - i // 2
            before, after = pad[i], pad[i + 1] if i + 1 < len(pad) else 0
            if before == 0 and after == 0:
                continue
            atoms = ax.nontrivial(dims[d]) or [a for a in dims[d] if a.kind == "space"]
            if len(atoms) == 1 and atoms[0].kind == "space" and ax.only_atom_of_axis(tracked.dims, atoms[0]):
                parts = _along(parts, atoms[0].axis, lambda span, p=before: span.resample(1, 1, [(-p, -p)]))
                dims[d] = (ax.space(atoms[0].axis, out.shape[d]),)
            elif ax.positional(atoms):
                return self._lost(call, f"aten::{call.name} of {ax.describe_dim(atoms)} (not one whole spatial axis)")
            elif any(a.kind == "channel" for a in atoms) and ax.intact_channels(tracked.dims) == d and constant:
                # Zero channels carry no signal (option-A shortcuts pad channels this way).
                shifted = [Part(p.start + before, p.stop + before, p.value) for p in parts]
                if before > 0:
                    shifted.insert(0, Part(0, before, None))
                if after > 0:
                    shifted.append(Part(shifted[-1].stop, shifted[-1].stop + after, None))
                parts = tuple(p for p in shifted if p.stop > max(p.start, 0))
                dims[d] = (ax.channel(out.shape[d]),)
            else:
                if any(a.kind == "channel" for a in atoms):
                    parts = (Part(0, parts[-1].stop, overall(parts)),)
                dims[d] = ax.resized(dims[d], out.shape[d])
        return _consistent(tuple(dims), parts, tracked.extra)

    # ------------------------------------------------------------------ resampling

    def _upsample(self, call: _Call) -> Tracked:
        """Nearest, linear and cubic interpolation: output y reads source positions near y * scale.

        With scale = P / Q the sources repeat every Q outputs, P positions on, so the field is
        a ``Span`` of period Q: exact, and uniform again after a stride of Q (or when P = Q).
        """
        name, x, out = call.name, call.args[0], call.out
        tracked = self.get(x)
        if name.endswith("_aa"):
            return self._lost(call, f"aten::{name}: antialiased interpolation (its window depends on the scale)")
        n = int(name.rstrip("d")[-1])  # upsample_nearest2d, upsample_trilinear3d, ...
        window_dims = list(range(x.dim() - n, x.dim()))
        roles = self._window_roles(tracked.dims, window_dims, [1] * n, [0] * n, [1] * n)
        if isinstance(roles, str) or any(r is None or r == "channel" for r in roles):
            return self._lost(call, f"aten::{name}: {roles if isinstance(roles, str) else 'not over spatial axes'}")
        b = call.bound
        scales = b.get("scale_factors") or [b.get(k) for k in ("scales", "scales_d", "scales_h", "scales_w") if k in b]
        scales = list(scales or [None] * n)[-n:] if scales else [None] * n
        mode = "nearest_exact" if "nearest_exact" in name else "nearest" if "nearest" in name else (
            "cubic" if "bicubic" in name else "linear"
        )  # fmt: skip
        parts = tracked.parts
        dims = list(tracked.dims)
        for d, role, scale in zip(window_dims, roles, scales):
            plan = _interpolation(mode, scale, bool(b.get("align_corners")), x.shape[d], out.shape[d])
            if isinstance(plan, str):
                return self._lost(call, f"aten::{name}: {plan}")
            parts = _along(parts, role, lambda span, p=plan: span.resample(*p))
            dims[d] = (ax.space(role, out.shape[d]),)
        return _consistent(tuple(dims), parts, tracked.extra)

    def _pixel_shuffle(self, call: _Call) -> Tracked:
        """pixel_shuffle (depth to space: nearest upsampling of the channels' union), pixel_unshuffle
        (space to depth: a window of r x r, stride r), channel shuffles (channels merge)."""
        name, x, out = call.name, call.args[0], call.out
        tracked = self.get(x)
        merged = (Part(0, 1, overall(tracked.parts)),)
        if "channel_shuffle" in name:
            return _consistent(tracked.dims, merged, tracked.extra)
        r = int(call.args[1])
        window_dims = [x.dim() - 2, x.dim() - 1]
        roles = self._window_roles(tracked.dims, window_dims, [1, 1], [0, 0], [1, 1])
        if isinstance(roles, str) or any(not isinstance(role, int) for role in roles):
            return self._lost(call, f"aten::{name}: {roles if isinstance(roles, str) else 'not over spatial axes'}")
        plan = (r, 1, [(0, 0)] * r) if name == "pixel_shuffle" else (1, r, [(0, r - 1)])
        parts = merged
        dims = list(tracked.dims)
        for d, role in zip(window_dims, roles):
            parts = _along(parts, role, lambda span: span.resample(*plan))
            dims[d] = (ax.space(role, out.shape[d]),)
        dims[x.dim() - 3] = (ax.channel(out.shape[x.dim() - 3]),)
        return _consistent(tuple(dims), parts, tracked.extra)

    def _unfold(self, call: _Call) -> Tracked:
        """im2col (F.unfold): each column holds one window, flattened into channels; columns are the grid, row-major."""
        x, out = call.args[0], call.out
        tracked = self.get(x)
        b = call.bound
        kernel, dilation = _ints(b["kernel_size"], 2, 1), _ints(b["dilation"], 2, 1)
        padding, stride = _ints(b["padding"], 2, 0), _ints(b["stride"], 2, 1)
        window_dims = [x.dim() - 2, x.dim() - 1]
        roles = self._window_roles(tracked.dims, window_dims, kernel, padding, stride)
        if isinstance(roles, str) or any(not isinstance(role, int) for role in roles):
            return self._lost(call, f"aten::im2col: {roles if isinstance(roles, str) else 'not over spatial axes'}")
        parts = (Part(0, 1, overall(tracked.parts)),)
        grid = []
        for d, role, k, s, p, dl in zip(window_dims, roles, kernel, stride, padding, dilation):
            parts = _along(parts, role, _window(k, s, p, dl))
            grid.append(ax.space(role, (x.shape[d] + 2 * p - dl * (k - 1) - 1) // s + 1))
        dims = (*tracked.dims[: x.dim() - 3], (ax.channel(out.shape[-2]),), ax.joined(grid))
        return _consistent(dims, parts, tracked.extra)


# ---------------------------------------------------------------------------------------------
# Helpers of the rules


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


_RULES: dict[str, Callable[[FieldTracker, _Call], Any]] = {
    "pointwise": FieldTracker._pointwise,
    "conv": FieldTracker._conv,
    "window": FieldTracker._pool,
    "adaptive_pool": FieldTracker._adaptive_pool,
    "reduction": FieldTracker._reduction,
    "matmul": FieldTracker._matmul,
    "attention": FieldTracker._attention,
    "concat": FieldTracker._concat,
    "view": FieldTracker._view,
    "slice": FieldTracker._slice_op,
    "split": FieldTracker._split,
    "index_select": FieldTracker._index,
    "pad": FieldTracker._pad,
    "upsample": FieldTracker._upsample,
    "pixel_shuffle": FieldTracker._pixel_shuffle,
    "unfold": FieldTracker._unfold,
    "global": FieldTracker._global,
    "unknown": FieldTracker._unknown_op,
}
