"""Finding the tensors in an operator's arguments, results or a model's inputs, however they are nested."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import torch


def tensors_in(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``: itself, or inside lists, tuples and dicts at any depth."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors_in(v)


def map_tensors(fn: Callable[[torch.Tensor], Any], value: Any) -> Any:
    """``value`` with every tensor in it replaced by ``fn(tensor)``, the nesting kept.

    Lists, tuples (named tuples too) and dicts are rebuilt as their own type where it can be
    built from its items, else as the plain type; anything else is kept as it is.
    """
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        items = [map_tensors(fn, v) for v in value]
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple takes its fields one by one
            return type(value)(*items)
        return _rebuilt(type(value), items, tuple if isinstance(value, tuple) else list)
    if isinstance(value, dict):
        return _rebuilt(type(value), {k: map_tensors(fn, v) for k, v in value.items()}, dict)
    return value


def _rebuilt(kind: type, items: Any, plain: type) -> Any:
    if kind is plain:
        return items if kind is not tuple else tuple(items)
    try:
        return kind(items)
    except Exception:  # noqa: BLE001 - a subclass with a constructor of its own
        return plain(items)
