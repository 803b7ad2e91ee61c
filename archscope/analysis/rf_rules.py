"""The receptive-field rule of each kind of operator: its outputs' fields from its inputs'.

An operator's registry row (``analysis.ops``) names its rule (``OpRule.field``): pointwise,
conv, window, adaptive_pool, reduction, matmul, attention, concat, view, slice, split,
index_select, pad, upsample, pixel_shuffle, unfold, global, unknown; ``_RULES`` at the bottom
maps each name to its method here. The methods live on ``FieldRules``, the base of
``FieldTracker`` (``analysis.receptive_field``), which holds the state they read: ``get`` (a
tensor's tracked field), ``_issues`` and ``_issue`` (what could not be stated exactly),
``_axes`` and ``_lengths`` (the input's spatial axes and their lengths).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable, Sequence

import torch

from archscope.analysis import rf_axes as ax
from archscope.analysis.rf_axes import Atom, Dims
from archscope.analysis.rf_call import _Call, _dims_arg, _ints
from archscope.analysis.rf_rule_helpers import (
    _SAME_POSITIONS,
    _Groups,
    _axis_mixing,
    _broadcast_dims,
    _broadcast_problem,
    _channel_dim_from_end,
    _folded,
    _interpolation,
    _located,
    _permutation,
    _replaced,
    _rescaled,
    _slice_atom,
    _slice_grid,
    _tiled,
    _unpaired,
    _without_dim,
)
from archscope.analysis.rf_values import (
    PAIRED,
    WHOLE,
    Field,
    Paired,
    Part,
    Tracked,
    Unknown,
    Value,
    WholeInput,
    _along,
    _consistent,
    _has_field,
    _map_values,
    _window,
    merge,
    overall,
)


class FieldRules:
    """The operator rules of ``FieldTracker``, one method per kind of operator, and their helpers."""

    _issues: list[str]
    _axes: int
    _lengths: tuple[int, ...]

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



_RULES: dict[str, Callable[[FieldRules, _Call], Any]] = {
    "pointwise": FieldRules._pointwise,
    "conv": FieldRules._conv,
    "window": FieldRules._pool,
    "adaptive_pool": FieldRules._adaptive_pool,
    "reduction": FieldRules._reduction,
    "matmul": FieldRules._matmul,
    "attention": FieldRules._attention,
    "concat": FieldRules._concat,
    "view": FieldRules._view,
    "slice": FieldRules._slice_op,
    "split": FieldRules._split,
    "index_select": FieldRules._index,
    "pad": FieldRules._pad,
    "upsample": FieldRules._upsample,
    "pixel_shuffle": FieldRules._pixel_shuffle,
    "unfold": FieldRules._unfold,
    "global": FieldRules._global,
    "unknown": FieldRules._unknown_op,
}
