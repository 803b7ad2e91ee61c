"""The device's attainable compute, measured: a large dense matrix multiply of the benchmark's dtype."""

from __future__ import annotations

import torch

from archscope.bench.timing import Clock


def matmul_peak_flops(device: torch.device, dtype: torch.dtype, size: int | None = None, repeats: int = 3) -> float:
    """Best FLOP/s of ``repeats`` multiplies of two size x size matrices (2 n^3 FLOPs each)."""
    n = size or (8192 if device.type == "cuda" else 2048)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    clock = Clock(device)
    a @ b  # warm-up: first calls pick kernels and allocate workspaces
    clock.synchronize()
    best_ms = min(clock.time_ms(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / (best_ms / 1e3)
