"""One ATen operator call as the receptive-field tracker reads it.

Which of its arguments are tensors (``_tensors``), integer arguments spread over the axes
(``_ints``, ``_dims_arg``), and ``_Call``: the operator, its inputs with a known field, its
outputs, and its arguments by their schema names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import torch

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
