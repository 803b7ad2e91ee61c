"""archscope: look inside convolutional networks.

Python API::

    import archscope
    archscope.list_models("resnet*")        # ['resnet18', 'resnet34', ...]
    model = archscope.create_model("vgg16")  # an nn.Module with freshly initialised weights
    s = archscope.summarize("vgg16")         # per-layer shapes, params, MACs, FLOPs (meta device)
    s.totals.macs, s.to_dict()
    r = archscope.benchmark("resnet18", batch_sizes=[1, 8])  # latency, throughput, memory
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from archscope.analysis import LayerRecord, Summary, Totals, UncountedOp, summarize
from archscope.analysis.ops import OpCost, register_op
from archscope.bench import BenchReport, BenchResult, benchmark
from archscope.errors import ArchscopeError, InputSizeError, UnknownModelError
from archscope.zoo import get_entry, list_entries

__version__ = "0.1.0"


def create_model(name: str, device: str | torch.device | None = None, **kwargs: Any) -> nn.Module:
    """Build a zoo network by name (or alias). ``device="meta"`` builds it without weights."""
    entry = get_entry(name)
    if device is None:
        return entry.build(**kwargs)
    with torch.device(device):
        return entry.build(**kwargs)


def list_models(pattern: str | None = None) -> list[str]:
    """Zoo names, optionally filtered by a shell-style pattern such as ``vgg*``."""
    return [e.name for e in list_entries(pattern)]


__all__ = [
    "ArchscopeError",
    "BenchReport",
    "BenchResult",
    "InputSizeError",
    "LayerRecord",
    "OpCost",
    "Summary",
    "Totals",
    "UncountedOp",
    "UnknownModelError",
    "benchmark",
    "create_model",
    "list_models",
    "register_op",
    "summarize",
]
