"""A sliding window's geometry, read once from an operator's arguments, and what it implies.

Convolutions and pooling take their kernel, stride, padding and dilation in several spellings
(an int, a one-element list for every axis, an empty stride meaning "the kernel"). ``Window``
holds them per spatial axis, read by the operator registry's rows (``analysis.ops``), so the
cost rules, ``archscope explain`` and the drawing read the same geometry. From it follow, per
axis, the output length and the receptive-field step, each as a formula (``analysis.formula``):

* output length, PyTorch's rule (``torch.nn.Conv2d``, ``MaxPool2d`` docs; Dumoulin & Visin
  2016, relationship 6 and, transposed, 14): ``⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1``; in ceil
  mode ``⌈…⌉ + 1``, less one where the last window would start in the right padding;
  transposed ``(H − 1)·s − 2·p + d·(k − 1) + p_out + 1``;
* the receptive field (Araujo et al., Distill 2019, equations 1 and 2):
  ``r_out = r_in + (k − 1)·d·j_in`` and ``j_out = j_in·s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from archscope.analysis.formula import EXPLAIN, Expr

# The letters of the spatial axes, by how many there are: a Conv1d's L, a Conv2d's H and W.
AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_names(axes: int) -> tuple[str, ...]:
    return AXIS_NAMES.get(axes, tuple(f"X{i}" for i in range(axes)))


def per_axis(value: int | Sequence[int], axes: int) -> list[int]:
    """A pool's or conv's ``kernel_size`` or ``stride`` for each of ``axes`` spatial axes, as PyTorch reads it.

    One int, or a list of one, stands for every axis (``kernel_size=3`` on a 2-D pool is 3x3); a full list is
    kept as given, and an empty one (a pool's stride left out) stays empty. ``axes`` below 1 (an unknown rank)
    keeps the values as written. The one reading of it: the registry's windows, costs and ``draw`` use it.
    """
    values = [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]
    return values * axes if len(values) == 1 and axes > 1 else values


@dataclass(frozen=True)
class Window:
    """Per spatial axis: kernel, stride, padding and dilation (None: the operator has none)."""

    kernel: list[int]
    stride: list[int]
    padding: list[int]
    dilation: list[int] | None = None
    ceil_mode: bool = False
    transposed: bool = False
    output_padding: list[int] | None = None

    @property
    def axes(self) -> int:
        return len(self.kernel)


def pool_window(
    kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = None, ceil_mode: Any = False, *, axes: int
) -> Window:
    """A pooling operator's window: its kernel per axis, the stride the kernel where none is given."""
    kernel = per_axis(kernel_size, axes)
    return Window(
        kernel=kernel,
        stride=per_axis(stride, axes) if stride not in ((), [], None) else list(kernel),
        padding=per_axis(padding, axes),
        dilation=per_axis(dilation, axes) if dilation is not None else None,
        ceil_mode=bool(ceil_mode),
    )


@dataclass(frozen=True)
class AxisLength:
    """One axis's output length as a formula, and why a term is there where it needs saying."""

    formula: Expr
    note: str = ""


def output_length(window: Window, axis: int, length: int, name: str) -> AxisLength:
    """The output length along ``axis`` of an input ``length`` long, as PyTorch computes it."""
    f = EXPLAIN
    L, k, s, p = f(name, length), f("k", window.kernel[axis]), f("s", window.stride[axis]), f("p", window.padding[axis])
    spread = (k - 1) if window.dilation is None else f("d", window.dilation[axis]) * (k - 1)
    if window.transposed:
        extra = window.output_padding[axis] if window.output_padding else 0
        return AxisLength((L - 1) * s - 2 * p + spread + f("p_out", extra) + 1)
    numerator = L + 2 * p - k if window.dilation is None else L + 2 * p - spread - 1
    if not window.ceil_mode:
        return AxisLength(f.floor(numerator, s) + 1)
    out = f.ceil(numerator, s) + 1
    if (out.value - 1) * window.stride[axis] >= length + window.padding[axis]:
        return AxisLength(out - 1, "less one: in ceil mode the last window may not start in the right padding")
    return AxisLength(out)


@dataclass(frozen=True)
class FieldStep:
    """The receptive field's size and stride after the window, along one axis, as formulas."""

    size: Expr
    stride: Expr


def field_step(window: Window, axis: int, size_in: int, stride_in: int) -> FieldStep:
    """Distill's equations 1 and 2: r_out = r_in + (k − 1)·d·j_in, j_out = j_in·s."""
    f = EXPLAIN
    r, j, k = f("r_in", size_in), f("j_in", stride_in), f("k", window.kernel[axis])
    grow = (k - 1) * j if window.dilation is None else (k - 1) * f("d", window.dilation[axis]) * j
    return FieldStep(r + grow, j * f("s", window.stride[axis]))


def axis_label(names: Sequence[str]) -> str:
    """'H, W' for the axes a formula stands for."""
    return ", ".join(names)
