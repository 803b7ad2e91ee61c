"""One ATen operator call as the receptive-field rules read it.

``Call``: the operator, its inputs with a known field, its outputs, and its arguments by
their schema names (``bound``); and the readers of arguments the rules share: which values
are tensors (``tensors``), an integer argument spread over the axes (``ints``), a ``dim``
argument as a list of dimensions (``dims_arg``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import torch

from archscope.analysis.compat import overload_name, schema_arguments


def tensors(values: Iterable[Any]) -> list[torch.Tensor]:
    """The tensors among ``values``, lists and tuples searched, in order."""
    found: list[torch.Tensor] = []
    for v in values:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            found.extend(tensors(v))
    return found


def ints(value: Any, n: int, default: int) -> list[int]:
    """An int-or-list argument (a kernel size, a stride) as ``n`` ints; ``default`` when absent."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return [default] * n
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    return values * n if len(values) == 1 else values


def dims_arg(value: Any, rank: int) -> list[int]:
    """A ``dim`` argument (int, list, or None for all) as a sorted list of non-negative dims."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return list(range(rank))
    values = [value] if isinstance(value, int) else list(value)
    return sorted({int(d) % max(rank, 1) for d in values})


@dataclass
class Call:
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

    @property
    def overload(self) -> str:
        """Which overload ran: 'other' for max(a, b), 'default' for max(x), ..."""
        return overload_name(self.func)

    @functools.cached_property
    def bound(self) -> dict[str, Any]:
        """The arguments by their names in the operator's schema, defaults filled in."""
        bound: dict[str, Any] = {}
        for i, (name, has_default, default) in enumerate(schema_arguments(self.func)):
            if i < len(self.args):
                bound[name] = self.args[i]
            elif name in self.kwargs:
                bound[name] = self.kwargs[name]
            elif has_default:
                bound[name] = default
        return bound
