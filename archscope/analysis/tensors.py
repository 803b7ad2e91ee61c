"""Finding the tensors in an operator's arguments or results, however they are nested, and
making empty stand-ins for them."""

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


def empty_like(t: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """``torch.empty_like(t, device=device)``, without PyTorch's Python reference where it can.

    On the meta device ``torch.empty_like`` runs a Python decomposition that imports sympy and
    the symbolic-shapes machinery (seconds, the first time) and is slow on every call. For a
    contiguous or channels-last tensor (dense, not overlapping) it keeps the strides, which is
    what ``empty_strided`` makes directly; any other layout goes through ``empty_like`` itself.
    """
    if t.is_contiguous() or t.is_contiguous(memory_format=torch.channels_last):
        return torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device=t.device if device is None else device)
    return torch.empty_like(t, device=device)
