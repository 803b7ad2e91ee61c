"""An allocation that cannot succeed, said in one line: how much was asked, how much there is, what may fit.

bench's rows and profile's error share the sentence. The amount asked is read from the
allocator's own message (the CPU's "you tried to allocate N bytes", CUDA's "Tried to
allocate 2.00 GiB"); what there is, from the device: ``torch.cuda.mem_get_info`` on CUDA,
``MemAvailable`` and ``MemTotal`` of /proc/meminfo on the CPU (Linux; elsewhere unknown).
"""

from __future__ import annotations

import re

import torch

from archscope.system_memory import meminfo
from archscope.text.numbers import human_bytes

_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def asked_bytes(error: BaseException) -> int | None:
    """The size of the allocation that failed, from the allocator's message; None when it does not say."""
    text = str(error)
    cpu = re.search(r"tried to allocate (\d+) bytes", text)
    if cpu:
        return int(cpu.group(1))
    cuda = re.search(r"Tried to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)", text)
    if cuda:
        return int(float(cuda.group(1)) * _UNITS[cuda.group(2)])
    return None


def memory_available(device: torch.device) -> tuple[int | None, int | None]:
    """(bytes free now, bytes in all) on ``device``; None where the system does not say."""
    if device.type == "cuda":
        try:
            free, total = torch.cuda.mem_get_info(device)
            return int(free), int(total)
        except (RuntimeError, AssertionError):
            return None, None
    info = meminfo()
    return info.get("MemAvailable"), info.get("MemTotal")


def smaller_batch(batch: int, available: int | None, per_sample: int | None) -> int | None:
    """A batch that may fit: as many samples as the free memory holds at ``per_sample`` bytes each, else half.

    Half too when the estimate says the batch should have fitted: it did not, so the estimate is no guide.
    """
    if batch <= 1:
        return None
    if available and per_sample and available // per_sample < batch:
        return max(1, available // per_sample)
    return batch // 2


def out_of_memory_message(error: BaseException, device: torch.device, batch: int, per_sample: int | None = None) -> str:
    """'out of memory at batch 1024 on cpu: an allocation of 12.2 GiB failed with 7.9 GiB of 23.4 GiB free; try batch 112'."""
    asked = asked_bytes(error)
    free, total = memory_available(device)
    what = f"an allocation of {human_bytes(asked)} failed" if asked else "an allocation failed"
    if free is not None and total is not None:
        what += f" with {human_bytes(free)} of {human_bytes(total)} free"
    suggestion = smaller_batch(batch, free, per_sample)
    hint = f"; try batch {suggestion}" if suggestion else ""
    return f"out of memory at batch {batch:,} on {device}: {what}{hint}"
