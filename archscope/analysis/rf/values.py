"""Receptive-field values and their algebra.

The field of one position along one axis (``Span``: Distill's size r, stride j and padding P,
exact phase by phase after upsampling), of one position over every axis (``Field``), and the
other values a position's field can take (``WholeInput``, ``Unknown``, ``Paired`` for
attention scores); a tensor's field, channel range by channel range (``Part``), with its axis
map (``Tracked``); how fields combine (``merge``, ``overall``); and ``describe``, which turns a
tracked tensor into the ``ReceptiveField`` record of ``analysis.records``.

The operator rules (``rf.rules``) compute these values; the tracker (``rf.tracker``) keeps
them per tensor.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

from archscope.analysis.records import NO_SIGNAL, ChannelRange, ReceptiveField
from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Atom, Dims

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


def window(k: int, s: int, p: int, d: int) -> Callable[[Span], Span]:
    """A window of kernel k, stride s, padding p and dilation d: Distill's equations 1-3 on a span."""
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
class Paired(Unknown):
    """Attention scores before the softmax mixes the keys: each entry depends on two positions,
    so it has no field of its own. ``field`` is the field of the positions paired, for the
    softmax to tell whether the keys it mixes together see the whole input."""

    field: Field | None = None


PAIRED = "attention scores: each entry pairs a query position with a key position"


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
    positioned = record.is_window or record.is_range
    layout = ax.layout_json(tracked.dims) if positioned and not ax.is_standard(tracked.dims, len(value.axes)) else None
    return replace(record, parts=parts, layout=layout)


def _record(value: Value | None) -> ReceptiveField:
    if value is None:
        return NO_SIGNAL
    if isinstance(value, WholeInput):
        return ReceptiveField("whole_input")
    if isinstance(value, Unknown):
        return ReceptiveField("unknown", reason=value.reason)
    if not value.uniform:  # a pattern that repeats: each phase's window, per axis
        sizes, paddings = tuple(s.size for s in value.axes), tuple(s.padding for s in value.axes)
        return ReceptiveField("range", tuple(min(p) for p in sizes), value.stride, reason=value.irregularity(),
                              period=tuple(s.period for s in value.axes), phase_size=sizes, phase_padding=paddings)
    return ReceptiveField("window", value.size, value.stride, value.padding)


def consistent(dims: Dims, parts: TensorField, extra: Value | None = None) -> Tracked:
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
        parts = along(parts, axis, lambda span, s=step: span.resample(1, s, [(0, 0)]))
    return Tracked(dims, parts, tracked.extra)


def along(parts: TensorField, axis: int, change: Callable[[Span], Span]) -> TensorField:
    """Each part's field with ``change`` applied to its span along ``axis``."""
    return tuple(
        Part(p.start, p.stop, p.value.along(axis, change) if isinstance(p.value, Field) else p.value) for p in parts
    )


def map_values(parts: TensorField, change: Callable[[Value | None], Value | None]) -> TensorField:
    """Each part's value changed, its channel range kept."""
    return tuple(Part(p.start, p.stop, change(p.value)) for p in parts)


def has_field(tracked: Tracked) -> bool:
    """Whether any of a tensor's positions has a window field (not only whole, unknown or none)."""
    return any(isinstance(p.value, Field) for p in tracked.parts) or isinstance(tracked.extra, Field)
