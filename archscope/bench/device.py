"""Choosing the device to benchmark on, and saying clearly when it is not there."""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Iterator

import torch

from archscope.bench.records import Machine
from archscope.errors import ArchscopeError


def available_devices() -> list[str]:
    return ["cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))] if torch.cuda.is_available() else ["cpu"]


def resolve_device(name: str) -> torch.device:
    """'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA when there is one) -> a torch.device, or one clear error."""
    text = name.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ArchscopeError(f"unknown device {name!r}; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise ArchscopeError(f"device {name!r} is not supported; use cpu, cuda, cuda:N or auto")
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise ArchscopeError(
            f"CUDA is not available (torch {torch.version.__version__}, {build}); available: {', '.join(available_devices())}"
        )
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ArchscopeError(f"there is no {device}; available: {', '.join(available_devices())}")
    return device


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    """The 1-minute load average (os.getloadavg), or None where the system has none (Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine(device: torch.device) -> Machine:
    """The machine as a measurement on ``device`` begins: torch, the device, threads, and how busy it is."""
    return Machine(
        torch_version=torch.version.__version__,
        device=str(device),
        device_name=device_name(device),
        cpu_threads=torch.get_num_threads(),
        load_average=load_average(),
        cpu_count=os.cpu_count(),
    )


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` (None or 0: left as it is) inside the block, restored after."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
