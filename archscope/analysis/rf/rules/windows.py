"""Window rules: each output position reads a window of input positions.

``conv`` (transposed too), ``window`` (max and average pooling), ``adaptive_pool``,
``constant_pad`` and ``pad`` (reflect, replicate: a window of one, shifted), ``upsample``
(interpolation: windows that repeat with a period) and ``unfold`` (im2col: the windows moved
into channels). Distill's equations 1-3 per spatial axis (``values.window``; Araujo et al.
2019).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Sequence

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.axes import Dims
from archscope.analysis.rf.call import Call, ints
from archscope.analysis.rf.rules.common import lost, padded_field, replaced
from archscope.analysis.rf.rules.mixing import mix, reduced
from archscope.analysis.rf.rules.registry import field_rule
from archscope.analysis.rf.values import Part, Tracked, along, consistent, merge, overall, window

if TYPE_CHECKING:
    from archscope.analysis.rf.tracker import FieldTracker


def spatial_rank(name: str) -> int:
    """How many spatial axes an ATen pooling or interpolation works on: its name says so
    (max_pool2d_with_indices, avg_pool3d, upsample_nearest2d, _upsample_bilinear2d_aa)."""
    found = re.search(r"(\d)d", name)
    if found is None:
        raise ValueError(f"aten::{name} does not name its number of spatial axes (as in max_pool2d)")
    return int(found.group(1))


def window_roles(tracker: FieldTracker, dims: Dims, window_dims: Sequence[int], kernel: Sequence[int],
                 padding: Sequence[int], stride: Sequence[int]) -> list[int | str | None] | str:  # fmt: skip
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
    missing = [i for i in range(tracker.axes) if i not in held]
    return [(missing.pop(0) if missing else None) if r == "?" else r for r in roles]


def spatial_roles(tracker: FieldTracker, dims: Dims, window_dims: Sequence[int]) -> list[int] | str:
    """The spatial axis each of ``window_dims`` holds, or why they are not all spatial axes."""
    n = len(window_dims)
    roles = window_roles(tracker, dims, window_dims, [1] * n, [0] * n, [1] * n)
    if isinstance(roles, str):
        return roles
    if any(not isinstance(r, int) for r in roles):
        return "not over spatial axes"
    return roles  # type: ignore[return-value]


def windowed(tracker: FieldTracker, call: Call, tracked: Tracked, window_dims: Sequence[int], kernel: Sequence[int],
             stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
             channel_dim: int | None = None) -> Tracked:  # fmt: skip
    """A window op (convolution, pooling) over ``window_dims``: Distill's equations per axis.

    ``channel_dim`` is where a convolution puts its new channels (every input channel
    reaches every output, so the parts merge first)."""
    out = call.out
    roles = window_roles(tracker, tracked.dims, window_dims, kernel, padding, stride)
    if isinstance(roles, str):
        return lost(tracker, call, f"aten::{call.name}: {roles}", ax.opaque(out.shape))
    dims = list(tracked.dims)
    for d, role in zip(window_dims, roles):
        if isinstance(role, int):
            dims[d] = (ax.space(role, out.shape[d]),)  # a size-1 atom still says which axis
        elif role == "channel":
            dims[d] = (ax.channel(out.shape[d]),)
        else:
            dims[d] = ax.resized(dims[d], out.shape[d])
    parts = tracked.parts
    mixes_channels = channel_dim is not None or any(r == "channel" and k > 1 for r, k in zip(roles, kernel))
    if mixes_channels:
        where = " of a convolution's input channels" if channel_dim is not None else ""
        parts = (Part(0, 1, merge([p.value for p in parts], tracker.reasons, where)),)
    if channel_dim is not None:
        dims[channel_dim] = (ax.channel(out.shape[channel_dim]),)
    for role, k, s, p, dl in zip(roles, kernel, stride, padding, dilation):
        if isinstance(role, int):
            parts = along(parts, role, window(k, s, p, dl))
    return consistent(tuple(dims), parts, tracked.extra)


@field_rule("conv")
def conv(tracker: FieldTracker, call: Call) -> Tracked:
    """A convolution window over every spatial axis; its channels mix (transposed: a scatter)."""
    a = call.bound
    x, weight, out = a["input"], a["weight"], call.out
    tracked = tracker.get(x)
    n = weight.dim() - 2
    if tracked is None:  # only the weights carry a field: a dynamic convolution
        return lost(tracker, call, "a convolution whose weights come from the input", ax.opaque(out.shape))
    dynamic = tracker.get(weight)
    if dynamic is not None:  # weights computed from the input (CondConv): they join every output
        value = merge([overall(tracked.parts), dynamic.value])
        tracked = replace(tracked, parts=(Part(0, tracked.parts[-1].stop, value),))
    if ax.positional(tracked.dims[1]):
        # Space to depth before it (TResNet's stem): the channels it mixes hold positions.
        mixed = mix(tracker, tracked, {1}, keep=False, name=call.name)
        tracked = consistent(mixed.dims, mixed.parts, mixed.extra)
    kernel = list(weight.shape[2:])
    stride, padding, dilation = ints(a["stride"], n, 1), ints(a["padding"], n, 0), ints(a["dilation"], n, 1)
    if a.get("transposed"):
        return transposed(tracker, call, tracked, kernel, stride, padding, dilation)
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and all(p == 0 for p in padding):
        # A 1x1 convolution mixes channels only, whatever the layout of its positions.
        dims = replaced(tracked.dims, 1, (ax.channel(out.shape[1]),))
        value = merge([p.value for p in tracked.parts], tracker.reasons, " of a convolution's input channels")
        return consistent(dims, (Part(0, out.shape[1], value),), tracked.extra)
    return windowed(tracker, call, tracked, range(2, 2 + n), kernel, stride, padding, dilation, channel_dim=1)


def transposed(tracker: FieldTracker, call: Call, tracked: Tracked, kernel: Sequence[int], stride: Sequence[int],
               padding: Sequence[int], dilation: Sequence[int]) -> Tracked:  # fmt: skip
    """A transposed convolution scatters input u to outputs u s - p + t d (t < k): output y
    reads the inputs u with u s = y + p - t d, a pattern that repeats every s outputs."""
    out = call.out
    n = len(kernel)
    roles = spatial_roles(tracker, tracked.dims, range(2, 2 + n))
    if isinstance(roles, str):
        return lost(tracker, call, f"aten::{call.name} (transposed): {roles}", ax.opaque(out.shape))
    value = merge([p.value for p in tracked.parts], tracker.reasons, " of a convolution's input channels")
    parts = (Part(0, 1, value),)
    dims = list(tracked.dims)
    dims[1] = (ax.channel(out.shape[1]),)
    for d, role, k, s, p, dl in zip(range(2, 2 + n), roles, kernel, stride, padding, dilation):
        ranges = []
        for phase in range(s):
            sources = [(phase + p - t * dl) // s for t in range(k) if (phase + p - t * dl) % s == 0]
            if not sources:
                reason = f"a transposed convolution with kernel {k} < stride {s} leaves outputs with no input"
                return lost(tracker, call, reason)
            ranges.append((min(sources), max(sources)))
        parts = along(parts, role, lambda span, r=ranges, s=s: span.resample(s, 1, r))
        dims[d] = (ax.space(role, out.shape[d]),)
    return consistent(tuple(dims), parts, tracked.extra)


@field_rule("window")
def pool(tracker: FieldTracker, call: Call) -> Tracked:
    """Max and average pooling: a window per spatial axis; a window over the whole map is global."""
    a = call.bound
    x, out = call.args[0], call.out
    tracked = tracker.get(x)
    n = spatial_rank(call.name)
    kernel = ints(a.get("kernel_size"), n, 1)
    stride = [s or k for s, k in zip(ints(a.get("stride"), n, 0), kernel)]  # an empty stride means the kernel
    padding = ints(a.get("padding"), n, 0)
    dilation = ints(a.get("dilation"), n, 1)
    window_dims = list(range(x.dim() - n, x.dim()))
    if all(out.shape[d] == 1 and k >= x.shape[d] for d, k in zip(window_dims, kernel)):
        return reduced(tracker, call, tracked, window_dims, keepdim=True)  # a window over the whole map
    return windowed(tracker, call, tracked, window_dims, kernel, stride, padding, dilation)


@field_rule("adaptive_pool")
def adaptive_pool(tracker: FieldTracker, call: Call) -> Tracked:
    """Adaptive pooling: a window when the sizes divide, global when the output is 1."""
    x, out = call.args[0], call.out
    tracked = tracker.get(x)
    size = call.bound["output_size"]
    n = 1 if isinstance(size, int) else len(size)
    window_dims = list(range(x.dim() - n, x.dim()))
    sizes_in, sizes_out = [x.shape[d] for d in window_dims], [out.shape[d] for d in window_dims]
    if all(o == 1 for o in sizes_out):
        return reduced(tracker, call, tracked, window_dims, keepdim=True)
    if any(i % o for i, o in zip(sizes_in, sizes_out)):
        return lost(tracker, call, f"adaptive pooling from {sizes_in} to {sizes_out} has windows of uneven size")
    kernel = [i // o for i, o in zip(sizes_in, sizes_out)]
    return windowed(tracker, call, tracked, window_dims, kernel, kernel, [0] * n, [1] * n)


@field_rule("constant_pad")
def constant_pad(tracker: FieldTracker, call: Call) -> Tracked:
    """constant_pad_nd (F.pad with zeros): padded channels carry no signal."""
    return padded(tracker, call, constant=True)


@field_rule("pad")
def pad(tracker: FieldTracker, call: Call) -> Tracked:
    """Reflect and replicate padding: borders with the geometry of zeros."""
    return padded(tracker, call, constant=False)


def padded(tracker: FieldTracker, call: Call, constant: bool) -> Tracked:
    """p positions padded before an axis shift the field by p strides (Distill's P' = P + p j)."""
    amounts = list(call.bound.get("pad") or call.bound.get("padding") or [])
    return padded_field(tracker, call, tracker.get(call.args[0]), call.out.shape, amounts, constant)


@field_rule("upsample")
def upsample(tracker: FieldTracker, call: Call) -> Tracked:
    """Nearest, linear and cubic interpolation: output y reads source positions near y * scale.

    With scale = P / Q the sources repeat every Q outputs, P positions on, so the field is
    a ``Span`` of period Q: exact, and uniform again after a stride of Q (or when P = Q).
    ATen's name says the mode and the rank (upsample_nearest2d, _upsample_bilinear2d_aa).
    """
    name, x, out = call.name, call.args[0], call.out
    tracked = tracker.get(x)
    if name.endswith("_aa"):
        return lost(tracker, call, f"aten::{name}: antialiased interpolation (its window depends on the scale)")
    n = spatial_rank(name)
    window_dims = list(range(x.dim() - n, x.dim()))
    roles = window_roles(tracker, tracked.dims, window_dims, [1] * n, [0] * n, [1] * n)
    if isinstance(roles, str) or any(r is None or r == "channel" for r in roles):
        return lost(tracker, call, f"aten::{name}: {roles if isinstance(roles, str) else 'not over spatial axes'}")
    b = call.bound
    scales = b.get("scale_factors") or [b.get(k) for k in ("scales", "scales_d", "scales_h", "scales_w") if k in b]
    scales = list(scales or [None] * n)[-n:] if scales else [None] * n
    mode = "nearest_exact" if "nearest_exact" in name else "nearest" if "nearest" in name else (
        "cubic" if "bicubic" in name else "linear"
    )  # fmt: skip
    parts = tracked.parts
    dims = list(tracked.dims)
    for d, role, scale in zip(window_dims, roles, scales):
        plan = interpolation(mode, scale, bool(b.get("align_corners")), x.shape[d], out.shape[d])
        if isinstance(plan, str):
            return lost(tracker, call, f"aten::{name}: {plan}")
        parts = along(parts, role, lambda span, p=plan: span.resample(*p))
        dims[d] = (ax.space(role, out.shape[d]),)
    return consistent(tuple(dims), parts, tracked.extra)


def interpolation(mode: str, scale: float | None, align_corners: bool, n_in: int, n_out: int
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


@field_rule("unfold")
def unfold(tracker: FieldTracker, call: Call) -> Tracked:
    """im2col (F.unfold): each column holds one window, flattened into channels; columns are the grid, row-major."""
    x, out = call.args[0], call.out
    tracked = tracker.get(x)
    b = call.bound
    kernel, dilation = ints(b["kernel_size"], 2, 1), ints(b["dilation"], 2, 1)
    padding, stride = ints(b["padding"], 2, 0), ints(b["stride"], 2, 1)
    window_dims = [x.dim() - 2, x.dim() - 1]
    roles = window_roles(tracker, tracked.dims, window_dims, kernel, padding, stride)
    if isinstance(roles, str) or any(not isinstance(role, int) for role in roles):
        return lost(tracker, call, f"aten::im2col: {roles if isinstance(roles, str) else 'not over spatial axes'}")
    parts = (Part(0, 1, overall(tracked.parts)),)
    grid = []
    for d, role, k, s, p, dl in zip(window_dims, roles, kernel, stride, padding, dilation):
        parts = along(parts, role, window(k, s, p, dl))
        grid.append(ax.space(role, (x.shape[d] + 2 * p - dl * (k - 1) - 1) // s + 1))
    dims = (*tracked.dims[: x.dim() - 3], (ax.channel(out.shape[-2]),), ax.joined(grid))
    return consistent(dims, parts, tracked.extra)
