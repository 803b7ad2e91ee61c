"""Receptive fields, exactly, through the network's real graph.

Each tensor the forward pass creates gets, per spatial axis, the receptive field of one of
its positions: its size r, its effective stride j and its effective padding P, relative to
the network's input (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019, equations 1-3 and section "Handling arbitrary graphs"):

    a window of kernel k, stride s, padding p, dilation d applied to (r, j, P) gives
    r' = r + d (k - 1) j,    j' = s j,    P' = P + p j

Output position x of a tensor then sees input positions [x j - P, x j - P + r - 1].

The fields follow the data, not the module list: every ATen operator the forward runs is
seen (by the same dispatch mode that counts FLOPs), so residual additions, concatenations,
reused modules and functional calls are all handled, and the cost is one step per operator,
however many paths the graph has (CIFAR ResNet-1202 has 2^600).

A tensor is a list of channel ranges ("parts"), each with its own field, so a concatenation
keeps each branch's field: GoogLeNet's inception modules see several scales at once. A merge
(an addition, or a convolution over all parts) takes the largest field of its inputs after
checking that they are aligned (same stride, same centre); an unaligned merge is reported,
not guessed. Once a layer mixes every position (global pooling, flatten, a linear layer) its
outputs see the whole input, which is recorded as such rather than as a size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Sequence

import torch

from archscope.analysis.ops import OpRule


@dataclass(frozen=True)
class Field:
    """The receptive field of one position, per spatial axis (height, width, ...)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    @staticmethod
    def of_input(axes: int) -> Field:
        return Field((1,) * axes, (1,) * axes, (0,) * axes)

    def centre(self, axis: int) -> Fraction:
        """Input coordinate of the centre of output position 0's field."""
        return Fraction(self.size[axis] - 1, 2) - self.padding[axis]

    def window(
        self, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int]
    ) -> Field:
        """Distill equations 1-3 for a convolution or pooling window on every axis."""
        return Field(
            tuple(r + d * (k - 1) * j for r, k, d, j in zip(self.size, kernel, dilation, self.stride)),
            tuple(j * s for j, s in zip(self.stride, stride)),
            tuple(pp + p * j for pp, p, j in zip(self.padding, padding, self.stride)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"size": list(self.size), "stride": list(self.stride), "padding": list(self.padding)}


@dataclass(frozen=True)
class WholeInput:
    """Every output sees every input position (after global pooling, flatten, a linear layer)."""

    def to_dict(self) -> dict[str, Any]:
        return {"whole_input": True}


@dataclass(frozen=True)
class Unknown:
    """A field archscope cannot state exactly, and why."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"unknown": self.reason}


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

    Aligned fields (same stride and centre on every axis) merge into the largest; unaligned
    ones become Unknown, and the reason is appended to ``issues`` when given.
    """
    present = [v for v in values if v is not None]
    if not present:
        return None
    unknown = next((v for v in present if isinstance(v, Unknown)), None)
    if unknown is not None:
        return unknown
    fields = [v for v in present if isinstance(v, Field)]
    if len(fields) < len(present):
        return WHOLE  # anything combined with a global value sees the whole input
    first = fields[0]
    for other in fields[1:]:
        for axis in range(len(first.size)):
            if other.stride[axis] != first.stride[axis] or other.centre(axis) != first.centre(axis):
                reason = (
                    f"unaligned merge{where}: stride {first.stride[axis]} vs {other.stride[axis]}, "
                    f"centre {float(first.centre(axis)):g} vs {float(other.centre(axis)):g} on axis {axis}"
                )
                if issues is not None:
                    issues.append(reason)
                return Unknown(reason)
    axes = range(len(first.size))
    largest = [max(fields, key=lambda f: f.size[a]) for a in axes]
    return Field(
        tuple(largest[a].size[a] for a in axes),
        first.stride,
        tuple(largest[a].padding[a] for a in axes),
    )


def overall(parts: TensorField) -> Value | None:
    """One value for a whole tensor: its parts merged, without reporting anything."""
    return merge((p.value for p in parts), issues=None)


def describe(parts: TensorField | None) -> dict[str, Any] | None:
    """JSON for a tensor's field: the overall field, and its parts when there are several."""
    if parts is None:
        return None
    value = overall(parts)
    data = value.to_dict() if value is not None else {"no_signal": True}
    if len(parts) > 1:
        data["parts"] = [
            {"channels": [p.start, p.stop], **(p.value.to_dict() if p.value is not None else {"no_signal": True})}
            for p in parts
        ]
    return data


def _as_list(value: Any, n: int, default: int) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return [default] * n
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    return values * n if len(values) == 1 else values


def _tensors(values: Iterable[Any]) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    for v in values:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            found.extend(_tensors(v))
    return found


class FieldTracker:
    """Follows receptive fields through the operators of one forward pass."""

    def __init__(self) -> None:
        self._fields: dict[int, tuple[torch.Tensor, TensorField]] = {}
        self.issues: list[str] = []
        self.last_spatial: TensorField | None = None
        self._axes = 0

    def seed(self, x: torch.Tensor) -> None:
        """The network's input: every position sees itself. Axes after batch and channel are spatial."""
        if x.dim() - 2 >= 1 and not self._axes:
            self._axes = x.dim() - 2
        if x.dim() - 2 >= 1 and x.dim() - 2 == self._axes:
            # Stored directly: the input itself is not a feature map (last_spatial stays None).
            self._fields[id(x)] = (x, (Part(0, x.shape[1], Field.of_input(self._axes)),))

    def get(self, t: Any) -> TensorField | None:
        if not isinstance(t, torch.Tensor):
            return None
        entry = self._fields.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def _set(self, t: torch.Tensor, parts: TensorField) -> None:
        self._fields[id(t)] = (t, parts)  # the tensor is kept so its id is not reused
        # The last spatial map: a tensor whose positions do not yet see the whole input
        # (an unknown field counts, so that an unaligned merge at the end is not hidden).
        if any(isinstance(p.value, (Field, Unknown)) for p in parts):
            self.last_spatial = parts

    def record(self, func: Any, rule: OpRule | None, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        """Give the outputs of one operator their fields, from its inputs' fields (its registry row's rule)."""
        name = func.overloadpacket.__name__
        kind = rule.field if rule is not None else "unknown"
        if kind == "creation":
            return
        inputs = [t for t in _tensors([*args, *kwargs.values()]) if self.get(t) is not None]
        if not inputs:
            return
        outputs = _tensors([out])
        if not outputs:
            return
        result = self._propagate(kind, name, args, kwargs, outputs[0], inputs)
        if isinstance(result, Unknown):
            result = (Part(0, _channels(outputs[0]), result),)
        self._set(outputs[0], result)

    def _propagate(
        self, kind: str, name: str, args: Sequence[Any], kwargs: dict, out: torch.Tensor, inputs: list[torch.Tensor]
    ) -> TensorField | Unknown:
        x = args[0] if args and isinstance(args[0], torch.Tensor) else inputs[0]
        parts = self.get(x)
        if kind == "pointwise":
            return self._pointwise(inputs, out, name)
        if kind == "conv":
            if args[6]:
                return Unknown("transposed convolutions are not supported")
            merged = merge((p.value for p in parts or ()), self.issues, " of a convolution's input channels")
            weight = args[1]
            n = weight.dim() - 2
            kernel = list(weight.shape[2:])
            value = self._window(merged, kernel, _as_list(args[3], n, 1), _as_list(args[4], n, 0), _as_list(args[5], n, 1))
            return (Part(0, _channels(out), value),)
        if kind == "window":
            n = x.dim() - 2
            kernel = _as_list(args[1], n, 1)
            stride = _as_list(args[2] if len(args) > 2 else None, n, 0)
            stride = [s or k for s, k in zip(stride, kernel)]  # an empty stride means the kernel size
            padding = _as_list(args[3] if len(args) > 3 else 0, n, 0)
            dilation = _as_list(args[4], n, 1) if name.startswith("max") and len(args) > 4 else [1] * n
            if all(o == 1 for o in out.shape[-n:]) and all(k >= s for k, s in zip(kernel, x.shape[-n:])):
                return self._all(parts, out, WHOLE)  # a window over the whole map is global pooling
            return tuple(
                Part(p.start, p.stop, self._window(p.value, kernel, stride, padding, dilation)) for p in parts or ()
            )
        if kind == "adaptive_pool":
            n = x.dim() - 2
            sizes_in, sizes_out = list(x.shape[-n:]), list(out.shape[-n:])
            if all(o == 1 for o in sizes_out):
                return self._all(parts, out, WHOLE)
            if any(i % o for i, o in zip(sizes_in, sizes_out)):
                return Unknown(f"adaptive pooling from {sizes_in} to {sizes_out} has windows of uneven size")
            kernel = [i // o for i, o in zip(sizes_in, sizes_out)]
            return tuple(Part(p.start, p.stop, self._window(p.value, kernel, kernel, [0] * n, [1] * n)) for p in parts)
        if kind == "reduction":
            dims = args[1] if len(args) > 1 else kwargs.get("dim")
            dims = list(range(x.dim())) if dims is None or dims == [] else _as_list(dims, 1, 0)
            dims = {d % x.dim() for d in dims}
            if dims & set(range(x.dim() - self._axes, x.dim())):
                return self._all(parts, out, WHOLE)
            if 1 in dims:
                return (Part(0, _channels(out), overall(parts)),)
            return parts
        if kind == "matmul":
            mixed = merge([overall(self.get(t)) for t in inputs])
            return self._all(parts, out, mixed if isinstance(mixed, Unknown) else WHOLE)
        if kind == "concat":
            return self._cat(name, args, kwargs, out)
        if kind == "view":
            return self._view(name, args, x, out, parts)
        if name == "slice":  # the other slicing operators: see FieldRule "slice"
            return self._slice(x, args, parts)
        if name == "constant_pad_nd":
            return self._pad(x, args[1], parts)
        if name == "index_select" and isinstance(args[1], int) and (args[1] % x.dim()) == 1:
            return (Part(0, _channels(out), overall(parts)),)
        reason = f"aten::{name} is not understood for receptive fields"
        if reason not in self.issues:
            self.issues.append(reason)
        return Unknown(reason)

    def _window(self, value: Value | None, kernel, stride, padding, dilation) -> Value | None:
        if not isinstance(value, Field):
            return value
        n = len(value.size)
        if len(kernel) < n:
            return Unknown("a window over fewer axes than the input's spatial axes")
        # Only the trailing axes are the input's spatial ones (LRN pools over a channel axis first).
        tail = slice(len(kernel) - n, None)
        return value.window(kernel[tail], stride[tail], padding[tail], dilation[tail])

    def _all(self, parts: TensorField | None, out: torch.Tensor, value: Value | None) -> TensorField:
        return (Part(0, _channels(out), value),)

    def _pointwise(self, inputs: list[torch.Tensor], out: torch.Tensor, name: str) -> TensorField:
        fields = [self.get(t) for t in inputs]
        channels = _channels(out)
        if len(fields) == 1:
            return fields[0] if _channels(inputs[0]) == channels else (Part(0, channels, overall(fields[0])),)
        bounds = {tuple((p.start, p.stop) for p in f) for f in fields}
        where = f" in aten::{name}"
        if len(bounds) == 1 and all(_channels(t) == channels for t in inputs):
            return tuple(
                Part(p.start, p.stop, merge([f[i].value for f in fields], self.issues, where))
                for i, p in enumerate(fields[0])
            )
        return (Part(0, channels, merge([overall(f) for f in fields], self.issues, where)),)

    def _cat(self, name: str, args: Sequence[Any], kwargs: dict, out: torch.Tensor) -> TensorField | Unknown:
        tensors = list(args[0])
        dim = (args[1] if len(args) > 1 else kwargs.get("dim", 0)) % out.dim()
        if name == "cat" and dim == 1:
            parts: list[Part] = []
            offset = 0
            for t in tensors:
                own = self.get(t) or (Part(0, t.shape[1], None),)
                parts += [Part(p.start + offset, p.stop + offset, p.value) for p in own]
                offset += t.shape[1]
            return tuple(parts)
        if dim == 0:
            return (Part(0, _channels(out), merge([overall(self.get(t)) for t in tensors], self.issues, " in a batch concatenation")),)
        return Unknown(f"aten::{name} along axis {dim}")

    def _view(self, name: str, args: Sequence[Any], x: torch.Tensor, out: torch.Tensor, parts: TensorField) -> TensorField | Unknown:
        """Views, reshapes and permutes: the field survives only while the spatial axes stay put.

        Folding the spatial axes into the features (flatten before a classifier) means every
        later output sees the whole input. Anything else that moves them (a permute to
        channels-last, a reshape into the batch) is reported as unknown, never guessed.
        """
        n = self._axes
        value = overall(parts)
        if not isinstance(value, Field):
            return self._all(parts, out, value)  # nothing spatial left to lose
        spatial_dims = list(range(x.dim() - n, x.dim()))
        moves = False
        if name == "permute":
            order = [d % x.dim() for d in args[1]]
            moves = order[-n:] != spatial_dims or (x.dim() > 1 and order[1] != 1)
        elif name in ("transpose", "t"):
            swapped = {d % x.dim() for d in args[1:3]} if name == "transpose" else {0, 1}
            moves = bool(swapped & {1, *spatial_dims}) and len(swapped) > 1
        spatial_in = tuple(x.shape[-n:])
        kept = out.dim() >= n + 1 and tuple(out.shape[-n:]) == spatial_in
        if not moves and kept and math.prod(out.shape[:-n]) == math.prod(x.shape[:-n]):
            if out.dim() == x.dim() and out.shape[1] == x.shape[1]:
                return parts
            return (Part(0, _channels(out), value),)
        if not moves and out.dim() < n + 2 and out.shape[0] == x.shape[0]:
            return self._all(parts, out, WHOLE)  # flatten: positions become features
        reason = f"aten::{name} moves the spatial axes (channels-last layers, or positions folded into the batch)"
        if reason not in self.issues:
            self.issues.append(reason)
        return Unknown(reason)

    def _slice(self, x: torch.Tensor, args: Sequence[Any], parts: TensorField) -> TensorField | Unknown:
        dim = (args[1] if len(args) > 1 else 0) % x.dim()
        size = x.shape[dim]
        start = args[2] if len(args) > 2 and args[2] is not None else 0
        stop = args[3] if len(args) > 3 and args[3] is not None else size
        step = args[4] if len(args) > 4 else 1
        start = start + size if start < 0 else min(start, size)
        stop = min(stop + size if stop < 0 else stop, size)
        spatial = list(range(x.dim() - self._axes, x.dim()))
        if dim in spatial:
            axis = spatial.index(dim)

            def shifted(value: Value | None) -> Value | None:
                if not isinstance(value, Field):
                    return value
                stride, padding = list(value.stride), list(value.padding)
                padding[axis] -= start * stride[axis]
                stride[axis] *= step
                return Field(value.size, tuple(stride), tuple(padding))

            return tuple(Part(p.start, p.stop, shifted(p.value)) for p in parts)
        if dim == 1:
            if step != 1:
                return (Part(0, len(range(start, stop, step)), overall(parts)),)
            kept = [Part(max(p.start, start) - start, min(p.stop, stop) - start, p.value) for p in parts]
            return tuple(p for p in kept if p.stop > p.start)
        return parts

    def _pad(self, x: torch.Tensor, pad: Sequence[int], parts: TensorField) -> TensorField:
        pad = list(pad)
        before = {x.dim() - 1 - i // 2: pad[i] for i in range(0, len(pad), 2)}
        after = {x.dim() - 1 - i // 2: pad[i + 1] for i in range(0, len(pad), 2)}
        spatial = list(range(x.dim() - self._axes, x.dim()))

        def padded(value: Value | None) -> Value | None:
            if not isinstance(value, Field):
                return value
            padding = list(value.padding)
            for axis, dim in enumerate(spatial):
                padding[axis] += before.get(dim, 0) * value.stride[axis]
            return Field(value.size, value.stride, tuple(padding))

        shifted = [Part(p.start + before.get(1, 0), p.stop + before.get(1, 0), padded(p.value)) for p in parts]
        if before.get(1, 0) > 0:
            shifted.insert(0, Part(0, before[1], None))
        if after.get(1, 0) > 0:
            end = shifted[-1].stop
            shifted.append(Part(end, end + after[1], None))
        return tuple(shifted)


def _channels(t: torch.Tensor) -> int:
    return t.shape[1] if t.dim() > 1 else 1
