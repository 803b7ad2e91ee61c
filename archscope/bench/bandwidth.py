"""The device's attainable memory bandwidth, measured: a large copy and add, timed like the peak FLOP/s.

STREAM's "copy" and "add" kernels (McCalpin, "Memory bandwidth and machine balance in current
high performance computers", IEEE TCCA Newsletter 1995): ``b[:] = a`` counted as two words per
element, ``c[:] = a + b`` as three, the better of the two kept. The arrays must be larger than the caches, or the copy
measures a cache; the size grows until one copy takes long enough to time, from a start
beyond the last-level cache (CPU) or the L2 (GPU).
"""

from __future__ import annotations

import torch

from archscope.bench.peak import choose_size
from archscope.bench.timing import Clock

# Bytes of each array: where the search starts and where it stops, per device. 256 MiB is
# beyond most CPUs' last-level cache; a larger one (this machine's shared L3 is 480 MiB) moves
# the start up to its size; a GPU's L2 is tens of MiB.
START_BYTES = {"cuda": 256 * 2**20, "cpu": 256 * 2**20}
MAX_BYTES = {"cuda": 2 * 2**30, "cpu": 2**30}
TARGET_MS = 50.0


def _last_level_cache_bytes() -> int | None:
    """The CPU's largest cache, from Linux's sysfs; None where it cannot be read."""
    import glob

    largest = None
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(path) as f:
                text = f.read().strip().upper()
        except OSError:
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            size = int(digits) * scale
            largest = size if largest is None else max(largest, size)
    return largest


def start_bytes(device: torch.device) -> int:
    """The first array size tried: 256 MiB, or the CPU's last-level cache where that is larger (up to the maximum)."""
    start = START_BYTES.get(device.type, START_BYTES["cpu"])
    limit = MAX_BYTES.get(device.type, MAX_BYTES["cpu"])
    if device.type == "cpu":
        start = max(start, _last_level_cache_bytes() or 0)
    return min(start, limit)


def calibrate_bandwidth(
    device: torch.device, dtype: torch.dtype = torch.float32, size_bytes: int | None = None, repeats: int = 3
) -> tuple[float, int, str]:
    """The best bytes/s of STREAM's copy and add kernels on large arrays: (rate, each array's bytes, kernel).

    Copy, ``b[:] = a``, moves 2 words per element; add, ``c[:] = a + b``, moves 3. Each is run
    ``repeats`` times and the faster kernel's best run is the device's bandwidth: a store that
    first reads its cache line (most CPUs) costs a copy a third word it does not count, and an
    add hides that cost better. Without ``size_bytes`` each array starts at ``start_bytes``
    and doubles until one copy takes about 50 ms, up to 1 GiB on the CPU and 2 GiB on CUDA.
    """
    clock = Clock(device)
    element = torch.empty((), dtype=dtype).element_size()
    limit = MAX_BYTES.get(device.type, MAX_BYTES["cpu"])

    def arrays(nbytes: int, count: int) -> list[torch.Tensor]:
        n = max(nbytes // element, 1)
        return [torch.ones(n, device=device, dtype=dtype) for _ in range(count)]

    def time_at(nbytes: int) -> float:
        a, b = arrays(nbytes, 2)
        b.copy_(a)  # warm-up: the pages are touched and mapped
        clock.synchronize()
        return clock.time_ms(lambda: b.copy_(a))

    nbytes = size_bytes or choose_size(time_at, limit, start=start_bytes(device), target_ms=TARGET_MS)
    a, b, c = arrays(nbytes, 3)
    kernels = {"copy": (lambda: b.copy_(a), 2), "add": (lambda: torch.add(a, b, out=c), 3)}
    rates = {}
    for name, (kernel, words) in kernels.items():
        kernel()  # warm-up
        clock.synchronize()
        best_ms = min(clock.time_ms(kernel) for _ in range(repeats))
        rates[name] = words * a.numel() * element / (best_ms / 1e3)
    best = max(rates, key=rates.get)
    return rates[best], a.numel() * element, best


def measured_bandwidth(device: torch.device) -> tuple[float, str]:
    """``calibrate_bandwidth``'s bytes/s, and the sentence that says how it was measured (profile's bandwidth_source)."""
    rate, array, kernel = calibrate_bandwidth(device)
    moved = {"copy": "b = a, 2 arrays moved", "add": "c = a + b, 3 arrays moved"}[kernel]
    return rate, (
        f"STREAM's {kernel} ({moved}) on {array / 2**20:.0f} MiB float32 arrays on {device}, the faster of copy and add, best of 3"
    )
