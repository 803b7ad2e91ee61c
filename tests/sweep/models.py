"""Tiny models for the sweep's tests, and models that misbehave as a sweep must survive."""

import os
import time

import torch
import torch.nn as nn

INPUT_SIZE = (3, 8, 8)


def tiny(width: int = 4) -> nn.Module:
    """Conv 3x3 to ``width`` channels: 27 * width + width params, 6 * 6 * width * 27 MACs at 8x8."""
    return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU())


def crash() -> nn.Module:
    os.abort()  # the worker dies of SIGABRT, as a segfaulting extension would die of SIGSEGV


def segfault() -> nn.Module:
    import ctypes

    ctypes.string_at(0)  # reads address 0: SIGSEGV


def slow() -> nn.Module:
    time.sleep(120)
    return tiny()


def hog() -> nn.Module:
    torch.empty(2**33, dtype=torch.uint8)  # 8 GiB of address space: past any --memory-limit a test sets
    return tiny()


def raises() -> nn.Module:
    raise ValueError("bad width")


def slow_once() -> nn.Module:
    """Sleeps the first time (writing its pid where ARCHSCOPE_TEST_PID_FILE says, for a test to kill it), not after."""
    marker = os.environ["ARCHSCOPE_TEST_PID_FILE"]
    if not os.path.exists(marker):
        with open(marker + ".tmp", "w") as file:
            file.write(str(os.getpid()))
        os.replace(marker + ".tmp", marker)
        time.sleep(30)
    return tiny(6)


def sleepy() -> nn.Module:
    """A second, so an interrupted sweep has rows still to do."""
    time.sleep(float(os.environ.get("ARCHSCOPE_TEST_SLEEP", "1")))
    return tiny(5)
