"""Bytes an operator moves at the least: each tensor it reads once, each result it writes once.

The roofline model (Williams, Waterman & Patterson, "Roofline: an insightful visual performance
model for multicore architectures", CACM 2009) places a kernel by its arithmetic intensity,
FLOPs per byte of memory traffic. What the caches do is not known from shapes, so archscope
states a lower bound per operator: every distinct tensor argument read once and every result
written once. A view moves nothing; an in-place operator reads and writes its tensor; ``copy_``,
``fill_`` and ``zero_`` write theirs without reading it; a broadcast (stride-0) axis is read
once. A layer's traffic is the sum over the operators it ran, so a block's includes what its
layers hand each other (a residual addition reads two tensors and writes one).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from archscope.analysis.compat import alias_kind, new_results
from archscope.analysis.records import LayerRecord
from archscope.analysis.summary import AnalysisObserver
from archscope.analysis.tensors import tensors_in

# Operators that overwrite their first argument without reading it.
_WRITE_ONLY = {"copy_", "fill_", "zero_", "copy"}


def tensor_bytes(t: torch.Tensor, float_bytes: int | None = None) -> int:
    """Bytes of the distinct elements a tensor shows: broadcast (stride-0) axes count once.

    ``float_bytes`` counts floating-point elements at that size (2 for a float16 run under
    autocast) instead of their own.
    """
    elements = math.prod(size for size, stride in zip(t.shape, t.stride()) if stride != 0) if t.dim() else 1
    if t.numel() == 0:
        return 0
    size = float_bytes if float_bytes is not None and t.is_floating_point() else t.element_size()
    return elements * size




def _only_aliases(func: Any, args: Sequence[Any], kwargs: dict, out: Any) -> bool:
    """Results that all share an argument's storage (``aten::_unsafe_view``): a view in all but its schema."""
    return any(True for _ in tensors_in(out)) and not new_results(func, args, kwargs, out)


def operator_bytes(func: Any, args: Sequence[Any], kwargs: dict, out: Any, float_bytes: int | None = None) -> int:
    """The least memory traffic of one operator call: distinct tensor arguments read, results written."""
    kind = alias_kind(func)
    if kind == "view" or kind == "new" and _only_aliases(func, args, kwargs, out):
        return 0
    name = getattr(getattr(func, "overloadpacket", func), "__name__", "")
    reads = {id(t): t for t in tensors_in([list(args), kwargs])}
    if kind == "inplace" and name in _WRITE_ONLY and args and isinstance(args[0], torch.Tensor):
        reads.pop(id(args[0]), None)  # overwritten, not read
    written = 0 if name.startswith("empty") else sum(tensor_bytes(t, float_bytes) for t in tensors_in(out))
    return sum(tensor_bytes(t, float_bytes) for t in reads.values()) + written


class TrafficObserver(AnalysisObserver):
    """Rides on a summary pass and sums each layer call's operator traffic (its children's included)."""

    def __init__(self, float_bytes: int | None = None) -> None:
        self.float_bytes = float_bytes
        self.start()

    def start(self) -> None:
        self.layer_bytes: list[int] = []
        self.total = 0

    def layer_opened(self, index: int, record: LayerRecord, args: tuple) -> None:
        self.layer_bytes.append(0)

    def operator(self, func: Any, rule: Any, args: Sequence[Any], kwargs: dict, out: Any, open_layers: Sequence[int]) -> None:
        moved = operator_bytes(func, args, kwargs, out, self.float_bytes)
        if moved:
            self.total += moved
            for index in open_layers:
                self.layer_bytes[index] += moved
