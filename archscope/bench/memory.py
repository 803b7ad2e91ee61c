"""Peak memory of one step: the allocator's own count on CUDA, the process's peak RSS on the CPU."""

from __future__ import annotations

import re
from typing import Callable

import torch

CUDA_SOURCE = "torch.cuda.max_memory_allocated during one step (weights included)"
CPU_SOURCE = "parameter bytes + peak RSS growth of the process during one step (Linux /proc VmHWM, reset first)"


def _status_bytes(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            match = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _reset_peak_rss() -> bool:
    """Linux lets a process reset its own peak RSS (VmHWM) by writing 5 to clear_refs."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_memory(step: Callable[[], object], device: torch.device, param_bytes: int) -> tuple[int | None, str]:
    """Bytes at the peak of one run of ``step``, and where the number comes from."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device), CUDA_SOURCE
    if not _reset_peak_rss():
        return None, "unavailable: this system does not let a process reset its peak RSS"
    before = _status_bytes("VmRSS")
    step()
    peak = _status_bytes("VmHWM")
    if before is None or peak is None:
        return None, "unavailable: /proc/self/status has no VmRSS/VmHWM"
    return param_bytes + max(peak - before, 0), CPU_SOURCE
