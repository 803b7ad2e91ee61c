"""Finding the tensors in an operator's arguments or results, however they are nested."""

from __future__ import annotations

from typing import Any, Iterator

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
