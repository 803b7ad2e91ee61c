"""An allocation that cannot succeed is one line: how much was asked, how much there is, a batch that may fit.

Nothing here allocates much: a model raises the CPU allocator's own error, as vgg16 at batch
1024 does on a 24 GB machine, and /proc/meminfo is read from a file written in the test.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from archscope.bench.out_of_memory import asked_bytes, memory_available, out_of_memory_message, smaller_batch
from archscope.bench.profile import profile
from archscope.errors import ArchscopeError

ASKED = 13_153_337_344  # vgg16's first activations at batch 1024: 1024 x 64 x 224 x 224 x 4 bytes


class TooBigAbove(nn.Module):
    """Raises what PyTorch's CPU allocator raises, for a real batch above ``limit`` (the meta analysis passes)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        if not x.is_meta and x.shape[0] > self.limit:
            raise RuntimeError(
                f"[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to "
                f"allocate {ASKED} bytes."
            )
        return self.conv(x)


@pytest.fixture
def machine_with_24_gib(monkeypatch, tmp_path):
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       25165824 kB\nMemFree:         1000000 kB\nMemAvailable:    8388608 kB\n")
    import archscope.system_memory

    monkeypatch.setattr(archscope.system_memory, "MEMINFO", str(info))


def test_the_size_asked_is_read_from_the_cpu_and_cuda_allocators_messages():
    assert asked_bytes(RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {ASKED} bytes")) == ASKED
    assert asked_bytes(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has")) == 2 * 2**30
    assert asked_bytes(RuntimeError("out of memory")) is None


def test_what_there_is_comes_from_meminfo(machine_with_24_gib):
    assert memory_available(torch.device("cpu")) == (8 * 2**30, 24 * 2**30)


def test_a_smaller_batch_is_what_the_free_memory_holds_or_half():
    assert smaller_batch(1024, 8 * 2**30, 60 * 2**20) == 136
    assert smaller_batch(1024, None, None) == 512
    assert smaller_batch(1024, 8 * 2**30, 1000) == 512  # the estimate said it fits, so it is no guide
    assert smaller_batch(1, 8 * 2**30, 60 * 2**20) is None


def test_profile_of_a_batch_that_cannot_be_allocated_is_one_line_with_the_sizes(machine_with_24_gib):
    with pytest.raises(ArchscopeError) as caught:
        profile(TooBigAbove(4), (3, 8, 8), batch_size=1024, min_time=0.01, warmup=1, calibrate=False)
    message = str(caught.value)
    assert message.startswith("out of memory at batch 1,024 on cpu: an allocation of 12.2 GiB failed with 8.0 GiB of 24.0 GiB free")
    # The analysis says 1,024 samples of this tiny model should fit, so it is no guide: half.
    assert "\n" not in message and message.endswith("; try batch 512")


def test_the_message_without_what_there_is_still_names_the_batch():
    text = out_of_memory_message(RuntimeError("CUDA out of memory"), torch.device("cpu"), 8)
    assert text.startswith("out of memory at batch 8 on cpu: an allocation failed")
