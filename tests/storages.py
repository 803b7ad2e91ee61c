"""An independent count of activation memory: the new storages a real forward pass allocates.

archscope counts activation memory on the meta device. This oracle runs the model for real on
the CPU under a dispatch mode of its own and adds up every floating-point result whose
storage (its base data pointer) is none seen before: not the input's, not a parameter's or a
buffer's, not an earlier result's. Every result is kept alive to the end, so an address cannot
be reused by a later allocation and counted twice or missed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


class _NewStorages(TorchDispatchMode):
    def __init__(self, known: list[torch.Tensor]) -> None:
        super().__init__()
        self.seen = {t.untyped_storage().data_ptr() for t in known if t.numel()}
        self.alive: list[torch.Tensor] = []
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        for t in _tensors(out):
            self.alive.append(t)
            if t.numel() == 0:
                continue
            pointer = t.untyped_storage().data_ptr()
            if pointer not in self.seen:
                self.seen.add(pointer)
                if t.is_floating_point():
                    self.bytes += t.untyped_storage().nbytes()
        return out


def new_storage_bytes(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Bytes of the floating-point storages ``model(*inputs)`` allocates on the CPU, in eval mode, without autograd."""
    known = [*inputs, *model.parameters(), *model.buffers()]
    mode = _NewStorages(known)
    with torch.no_grad(), mode:
        model(*inputs)
    return mode.bytes
