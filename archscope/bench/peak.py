"""The device's attainable compute, measured: a large dense matrix multiply of the benchmark's dtype."""

from __future__ import annotations

from typing import Callable

import torch

from archscope.bench.timing import Clock

# Largest multiply per device: enough to reach the peak of a big GPU or a many-core CPU.
MAX_SIZE = {"cuda": 8192, "cpu": 2048}
START_SIZE = 256
# One multiply this long is long enough to measure; going bigger only costs time. A CPU without
# native float16 kernels runs a 2048^2 half multiply for minutes, so the size is chosen by time.
TARGET_MS = 100.0


def choose_size(time_ms_at: Callable[[int], float], max_size: int, start: int = START_SIZE, target_ms: float = TARGET_MS) -> int:
    """Double the matrix side from ``start`` until one multiply takes ``target_ms`` or ``max_size`` is reached."""
    n = min(start, max_size)
    while n < max_size and time_ms_at(n) < target_ms:
        n *= 2
    return min(n, max_size)


def calibrate_peak(
    device: torch.device, dtype: torch.dtype, size: int | None = None, repeats: int = 3
) -> tuple[float, int]:
    """Best FLOP/s of ``repeats`` multiplies of two size x size matrices, and the size used.

    Without ``size``, the side grows from 256 until one multiply takes about 0.1 s (or reaches
    8192 on CUDA, 2048 on the CPU), so calibration stays short whatever the dtype's speed.
    """
    clock = Clock(device)

    def matrices(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, n, device=device).to(dtype), torch.randn(n, n, device=device).to(dtype)

    def time_at(n: int) -> float:
        a, b = matrices(n)
        a @ b  # warm-up: first calls pick kernels and allocate workspaces
        clock.synchronize()
        return clock.time_ms(lambda: a @ b)

    n = size or choose_size(time_at, MAX_SIZE.get(device.type, MAX_SIZE["cpu"]))
    a, b = matrices(n)
    a @ b
    clock.synchronize()
    best_ms = min(clock.time_ms(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / (best_ms / 1e3), n


def measured_peak(device: torch.device, dtype: torch.dtype) -> tuple[float, str]:
    """``calibrate_peak``'s FLOP/s, and the sentence that says how it was measured (bench's and profile's peak_source)."""
    flops, n = calibrate_peak(device, dtype)
    name = str(dtype).removeprefix("torch.")
    return flops, f"best of 3 dense {name} {n}x{n} matrix multiplies on {device}"
