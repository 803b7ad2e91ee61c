"""Receptive fields measured by gradients: the independent check on the analytic fields.

``measure_receptive_field`` runs the network's linearised copy (``rf.linearised``) on an
input large enough that the fields it looks at are not clipped, and finds which input
positions get a non-zero gradient from one output position of the summary's last spatial
map (``rf.target``). For a window, two neighbouring positions give the stride and where the
first one's field starts gives the padding. For a range (a field that repeats with a period,
after upsampling), the positions whose windows are the smallest and the largest give both
ends, and the smallest's next repeat gives the stride the pattern moves.

Each spatial axis is measured on its own, with only that axis enlarged, by whole multiples of
the field's stride (a network that downsamples 32 times takes multiples of 32). A map whose
positions are not laid out as batch, channels, spatial axes (ViT's tokens, ConvNeXt's
channels-last blocks) says where they are in its field's ``layout`` (``rf.axes``). Before
the run allocates, the memory it needs is set against the memory available.

The effective receptive field (Luo et al. 2016) is in ``rf.effective``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Sequence

import torch
import torch.nn as nn

from archscope.analysis.compat import is_out_of_memory
from archscope.analysis.records import ReceptiveField, Summary
from archscope.analysis.rf.linearised import Linearised, linearised_copy
from archscope.analysis.rf.target import Target, capture, lengths, position, same_field_targets, target_of
from archscope.analysis.forward_pass import analyze
from archscope.errors import ArchscopeError
from archscope.system_memory import available_memory


@dataclass
class FieldMeasurement:
    """The field measured by gradients, per axis (docs/json.md, ``verify``)."""

    layer: str
    size: list[int]  # a window's size; a range's smallest
    stride: list[int]  # a window's stride; the input pixels a range's pattern moves per period
    padding: list[int]  # where the window (a range: the smallest) of the position measured starts
    input_sizes: list[list[int]]  # the input each axis was measured on (C x H x W)
    largest: list[int] | None = None  # a range's largest size
    padding_largest: list[int] | None = None  # and where it starts
    positions: list[list[int]] | None = None  # per axis, the coordinates measured (a range's smallest, largest)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"size": self.size, "stride": self.stride, "padding": self.padding}
        if self.largest is not None:
            data.update(largest=self.largest, padding_largest=self.padding_largest, positions=self.positions)
        return data


@dataclass(frozen=True)
class _Plan:
    """The output positions one axis is measured at, and what the analytic field says of them."""

    coords: list[int]  # along the axis: window (centre, centre + 1); range (smallest, largest, smallest + period)
    starts: list[int]  # the first input pixel each one sees, by the analytic field
    sizes: list[int]


def _plan(field: ReceptiveField, axis: int, outputs: int) -> _Plan | None:
    """Where to measure along ``axis`` of a map ``outputs`` long, or None when it is too short."""
    if field.is_range:
        period, sizes = field.period[axis], field.phase_size[axis]
        # The first smallest and the last largest: where every size is the same, two phases
        # whose windows start differently (a nearest x2's 2m and 2m + 1).
        small, large = sizes.index(min(sizes)), len(sizes) - 1 - sizes[::-1].index(max(sizes))
        m = (outputs // 2) // period
        while m > 0 and (m + 1) * period + small >= outputs:
            m -= 1
        coords = [m * period + small, m * period + large, (m + 1) * period + small]
        if coords[2] >= outputs:
            return None
        phases = [small, large, small]
        starts = [(x // period) * field.stride[axis] - field.phase_padding[axis][q] for x, q in zip(coords, phases)]
        return _Plan(coords, starts, [sizes[q] for q in phases])
    if outputs < 2:
        return None
    centre = outputs // 2 if outputs // 2 + 1 < outputs else outputs - 2
    coords = [centre, centre + 1]
    starts = [x * field.stride[axis] - field.padding[axis] for x in coords]  # a flip's stride is negative
    return _Plan(coords, starts, [field.size[axis]] * 2)


def _fits(plan: _Plan | None, input_length: int) -> bool:
    """Whether the fields of the positions measured lie inside the input."""
    if plan is None:
        return False
    return min(plan.starts) >= 0 and max(s + n - 1 for s, n in zip(plan.starts, plan.sizes)) < input_length


def _step(field: ReceptiveField, axis: int) -> int:
    """How far the field moves per repeat along ``axis``: the network's total stride there."""
    return max(abs(field.stride[axis]), 1)


def measure_receptive_field(
    model: nn.Module, input_size: Sequence[int], *, name: str | None = None, max_length: int = 16384
) -> tuple[Target, FieldMeasurement]:
    """The analytic field of the summary's last spatial map, and the same field measured by gradients.

    Each axis is measured on an input enlarged until the fields measured fit; the target
    returned holds the analytic field at the size each axis was measured on (the same field,
    except after a flip, whose padding depends on the input's size).
    """
    name = name or type(model).__name__
    base = analyze(model, (1, *input_size), name=name)
    target = target_of(base)
    axes = len(input_size) - 1
    measured: list[dict[str, int]] = []
    analytic: list[dict[str, Any]] = []
    inputs, coords = [], []
    linear = None
    for candidate in [target, *same_field_targets(base, target)]:
        # The summary's own target: its analysis at the size given is the one already run.
        known = base if candidate is target else None
        try:  # enlarge each axis until the fields measured are not clipped
            probes = [_enlarged(model, input_size, axis, candidate, name, max_length, known) for axis in range(axes)]
        except _SizeDependent as error:
            problem = error
            continue
        target = candidate
        break
    else:
        raise ArchscopeError(str(problem))
    for axis, (shape, probe, found, field, plan) in enumerate(probes):
        _check_memory(probe, shape, name)
        if linear is None:
            linear = linearised_copy(model)
        measured.append(_measure_axis(linear, shape, probe, found, axis, plan))
        analytic.append(_facts(field, axis, plan))
        inputs.append(shape)
        coords.append(plan.coords)
    field = _analytic_at_measured_sizes(target.receptive_field, analytic)
    target = replace(target, receptive_field=field)
    by = {k: [m[k] for m in measured] for k in measured[0]}
    result = FieldMeasurement(target.name, by["size"], by["stride"], by["padding"], inputs)
    if field.is_range:
        result = replace(result, largest=by["largest"], padding_largest=by["padding_largest"],
                         positions=[c[:2] for c in coords])  # fmt: skip
    return target, result


class _SizeDependent(ArchscopeError):
    """The map's field is another kind on the enlarged input (an adaptive pool's windows become uneven)."""


def _enlarged(model: nn.Module, input_size: Sequence[int], axis: int, target: Target, name: str,
              max_length: int, known: Summary | None = None) -> tuple[list[int], Summary, Target, ReceptiveField, _Plan]:  # fmt: skip
    """The input, enlarged along ``axis`` by multiples of the total stride, on which the fields
    measured are not clipped; its analysis, the target found again, its field and the plan.
    ``known``: the analysis of ``input_size`` itself, where the caller has it."""
    axes = len(input_size) - 1
    length = input_size[1 + axis]
    while True:
        shape = list(input_size)
        shape[1 + axis] = length
        if known is not None and length == input_size[1 + axis]:
            probe = known
        else:
            probe = analyze(model, (1, *shape), name=name, stop_after=target.stop_after)
        try:
            found = target_of(probe)
        except ArchscopeError as error:
            raise _SizeDependent(f"on an input {length} long, {error}") from error
        field = found.receptive_field
        if field.kind != target.receptive_field.kind or (found.name, found.layer) != (target.name, target.layer):
            raise _SizeDependent(f"the receptive field of {target.name} changes kind on an input {length} long")
        plan = _plan(field, axis, lengths(found, axes)[axis])
        if _fits(plan, length):
            return shape, probe, found, field, plan
        step = _step(field, axis)
        wanted = max(length + step, max(field.size_max[axis], 1) + 4 * step)
        # Whole multiples of the total stride: a network whose maps halve five times takes multiples of 32.
        length += math.ceil((wanted - length) / step) * step
        if length > max_length:
            raise ArchscopeError(
                f"the receptive field of {target.name} needs an input over {max_length} long to measure"
            )


def _facts(field: ReceptiveField, axis: int, plan: _Plan) -> dict[str, Any]:
    """What the analytic field says along ``axis`` at the input size measured."""
    if field.is_range:
        return {"period": field.period[axis], "stride": field.stride[axis], "phase_size": field.phase_size[axis],
                "phase_padding": field.phase_padding[axis]}  # fmt: skip
    return {"size": field.size[axis], "stride": field.stride[axis], "padding": field.padding[axis]}


def _analytic_at_measured_sizes(field: ReceptiveField, facts: list[dict[str, Any]]) -> ReceptiveField:
    by = {k: tuple(f[k] for f in facts) for k in facts[0]}
    if field.is_range:
        return replace(field, size=tuple(min(p) for p in by["phase_size"]), **by)
    return replace(field, **by)


def _measure_axis(linear: nn.Module, shape: list[int], summary: Summary, target: Target, axis: int,
                  plan: _Plan) -> dict[str, int]:  # fmt: skip
    """The field along ``axis``, from the input positions that reach the positions of ``plan``.

    The one-channel run comes first (fast); the run with the real channel counts follows when
    the network cannot take one channel (a reshape, a split, a linear layer fails) or slices
    channels so that nothing reaches the output.
    """
    centre = [n // 2 for n in lengths(target, len(shape) - 1)]
    positions = []
    for x in plan.coords:
        coords = list(centre)
        coords[axis] = x
        positions.append(coords)
    hits = None
    for channels in (False, True):
        try:
            hits = _reaching(linear, shape, summary, target, positions, axis, channels)
        except Exception as error:  # noqa: BLE001 - a reshape, split or linear layer needs the real channel count
            if is_out_of_memory(error):
                raise _out_of_memory(summary.model, shape, _asked(error)) from error
            if channels:
                raise
            continue
        if hits is not None:
            break
    if hits is None:
        raise ArchscopeError(
            f"no input position reaches {target.name} through gradients in the linearised network "
            "(a non-linearity with a zero gradient, or a forward run under torch.no_grad)"
        )
    starts = [int(h.min()) for h in hits]
    extents = [int(h.max()) - s + 1 for h, s in zip(hits, starts)]
    field = target.receptive_field
    if field.is_range:
        m = plan.coords[0] // field.period[axis]
        return {"size": extents[0], "largest": extents[1], "stride": starts[2] - starts[0],
                "padding": m * (starts[2] - starts[0]) - starts[0],
                "padding_largest": m * (starts[2] - starts[0]) - starts[1]}  # fmt: skip
    stride = starts[1] - starts[0]
    return {"size": extents[0], "stride": stride, "padding": plan.coords[0] * stride - starts[0]}


def _reaching(linear: nn.Module, shape: list[int], summary: Summary, target: Target, positions: list[list[int]],
              axis: int, channels: bool) -> list[torch.Tensor] | None:  # fmt: skip
    """For each output position, the input coordinates along ``axis`` with a non-zero gradient (None if none)."""
    x = torch.ones((1, *shape), dtype=torch.float64, requires_grad=True)
    with Linearised(channels=channels):
        out = capture(linear, summary, target, x)
    hits = []
    for i, coords in enumerate(positions):
        x.grad = None
        position(out, target, coords).sum().backward(retain_graph=i + 1 < len(positions))
        if x.grad is None or not x.grad.any():
            return None
        profile = x.grad[0].abs().sum(dim=[d for d in range(x.dim() - 1) if d != axis + 1])
        hits.append(torch.nonzero(profile).flatten())
    return hits


# ---------------------------------------------------------------------------------------------
# Memory: refused before allocating, said in one line when an allocation fails anyway


def _needed_bytes(summary: Summary, shape: Sequence[int]) -> int:
    """About what the one-channel run holds at its peak: the input, its gradient and a copy in
    float64, and a few one-channel maps of the largest grid the forward makes."""
    grid = max((math.prod(s[2:]) for s in _shapes(summary)), default=math.prod(shape[1:]))
    return 8 * (3 * math.prod(shape) + 4 * grid)


def _shapes(summary: Summary) -> list[list[int]]:
    found = []

    def walk(shape: Any) -> None:
        if isinstance(shape, list) and shape and all(isinstance(d, int) for d in shape):
            found.append(shape)
        elif isinstance(shape, (list, tuple)):
            for s in shape:
                walk(s)
        elif isinstance(shape, dict):
            for s in shape.values():
                walk(s)

    for layer in summary.layers:
        walk(layer.output_shape)
    return [s for s in found if len(s) > 2]


def _check_memory(summary: Summary, shape: Sequence[int], name: str) -> None:
    available = available_memory()
    need = _needed_bytes(summary, shape)
    if available is not None and need > available:
        raise _out_of_memory(name, shape, need, available)


def _asked(error: BaseException) -> int | None:
    found = re.search(r"allocate (\d+) bytes", str(error))
    return int(found.group(1)) if found else None


def _out_of_memory(name: str, shape: Sequence[int], need: int | None, available: int | None = None) -> ArchscopeError:
    """One line, in bench's words for a row that ran out of memory, with the figures and a smaller size."""
    from archscope.input_size import describe_shapes

    available = available_memory() if available is None else available
    asked = f" needs about {_gib(need)}" if need else ""
    there = f" and {_gib(available)} is available" if available is not None else ""
    scale = math.sqrt(available / need) * 0.8 if need and available else 0.5
    smaller = [shape[0], *(max(1, int(n * min(scale, 0.5))) for n in shape[1:])]
    return ArchscopeError(
        f"out of memory measuring the receptive field of {name} on an input of {describe_shapes([list(shape)])}:"
        f" the gradient run{asked}{there}; try a smaller input, such as -i {'x'.join(map(str, smaller))}"
    )


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"
