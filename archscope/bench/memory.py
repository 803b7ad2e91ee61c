"""Peak memory of one step: the allocator's own count on CUDA, live tensor bytes on the CPU.

On CUDA, ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` is the peak of
bytes in live tensors, weights included.

The CPU allocator has no such counter, and the process's resident size does not show a
step's peak: memory freed by the warm-up runs is reused, so it stays resident and flat. So
on the CPU the step runs once under a dispatch mode that sees every tensor PyTorch's
operators return (forward, backward and optimizer alike) and follows each storage's life
with a finalizer: the peak of the bytes alive at once, plus the weights, inputs and
optimizer state that were alive before the step began. Scratch space an operator allocates
and frees inside itself (a convolution's workspace) is not seen: the figure is the peak of
tensors, not of the process.
"""

from __future__ import annotations

import gc
import weakref
from typing import Callable, Iterable

import torch

from archscope.analysis.compat import TorchDispatchMode, skip_dynamo_guard
from archscope.analysis.tensors import tensors_in

CUDA_SOURCE = "torch.cuda.max_memory_allocated during one step (weights included)"
CPU_SOURCE = "peak bytes of live tensors during one step, each storage followed from creation to release, plus the tensors alive before it"


@skip_dynamo_guard
class _LiveTensorBytes(TorchDispatchMode):
    """The running total and the peak of bytes in storages created while the mode is active."""

    def __init__(self, resident: set[int] = frozenset()) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._seen: set[int] = set()
        # Storages alive before the step (weights, optimizer state): an in-place update of one
        # (the optimizer's step) returns it, and that is no new memory.
        self._resident = set(resident)

    def _released(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        for t in tensors_in(out):
            storage = t.untyped_storage()
            key = storage.data_ptr()
            if key == 0 or key in self._seen or key in self._resident:
                continue  # a view or an in-place result: no new memory
            self._seen.add(key)
            nbytes = storage.nbytes()
            self.live += nbytes
            weakref.finalize(storage, self._released, key, nbytes)
        self.peak = max(self.peak, self.live)
        return out




def live_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind ``tensors`` (tied weights counted once)."""
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors if t.numel()}
    return sum(storages.values())


def cpu_step_peak(step: Callable[[], object], resident: Iterable[torch.Tensor]) -> int:
    """Peak bytes of tensors alive during one run of ``step`` on the CPU.

    ``resident`` are the tensors alive before the step (weights, inputs, optimizer state).
    """
    resident = [t for t in resident if t.numel()]
    gc.collect()
    tracker = _LiveTensorBytes({t.untyped_storage().data_ptr() for t in resident})
    with tracker:
        step()
    gc.collect()
    return live_bytes(resident) + tracker.peak


def peak_memory(
    step: Callable[[], object], device: torch.device, resident: Iterable[torch.Tensor]
) -> tuple[int | None, str]:
    """Bytes at the peak of one run of ``step``, and how they were measured."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device), CUDA_SOURCE
    if device.type != "cpu":
        return None, f"not measured: no peak-memory counter for {device.type}"
    return cpu_step_peak(step, resident), CPU_SOURCE
