"""archscope: look inside convolutional networks.

Python API::

    import archscope
    archscope.list_models("resnet*")        # ['resnet18', 'resnet34', ...]
    model = archscope.create_model("vgg16")  # an nn.Module with freshly initialised weights
    s = archscope.summarize("vgg16")         # per-layer shapes, params, MACs, FLOPs (meta device)
    s.totals.macs, s.to_dict()
    s.explain("features.0")                 # its figures as formulas with the numbers in them
    archscope.compare(["googlenet-naive", "googlenet"])        # side by side, ratios to the first
    archscope.receptive_fields("vgg16", verify=True)          # by stride stage, checked by gradients
    archscope.lesson(5)                                       # a worked design comparison
    r = archscope.benchmark("resnet18", batch_sizes=[1, 8])  # latency, throughput, memory
    archscope.profile("resnet18")                             # time per layer against the roofline
    archscope.build_report("vgg16")                           # all of it, for one page
    archscope.register_op(torch.ops.mylib.op, cost)           # price an operator of your own

``summarize``, ``compare``, ``receptive_fields``, ``benchmark``, ``profile`` and ``build_report``
each return a typed record whose ``to_dict()`` is the JSON of the command of the same name
(``lessons.work_through()`` for ``archscope lessons``).

The names are imported on first use (PEP 562), so ``import archscope`` and ``archscope --help``
do not import torch until something needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archscope.errors import ArchscopeError, InputSizeError, UnknownModelError

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "LayerRecord": "archscope.analysis.records",
    "ReceptiveField": "archscope.analysis.records",
    "Summary": "archscope.analysis.records",
    "Totals": "archscope.analysis.records",
    "UncountedOp": "archscope.analysis.records",
    "summarize": "archscope.analysis.summary",
    "explain": "archscope.analysis.explain",
    "Explanation": "archscope.analysis.explain_records",
    "Comparison": "archscope.analysis.compare",
    "compare": "archscope.analysis.compare",
    "ReceptiveFieldReport": "archscope.analysis.rf.field_report",
    "receptive_fields": "archscope.analysis.rf.field_report",
    "Lesson": "archscope.lessons",
    "LessonSet": "archscope.lessons",
    "ZooListing": "archscope.zoo",
    "lesson": "archscope.lessons",
    "Report": "archscope.report_builder",
    "build_report": "archscope.report_builder",
    "ProfileReport": "archscope.bench.profile_records",
    "profile": "archscope.bench.profile",
    "OpCost": "archscope.analysis.ops",
    "register_op": "archscope.analysis.ops",
    "BenchReport": "archscope.bench.records",
    "BenchResult": "archscope.bench.records",
    "benchmark": "archscope.bench.runner",
}

if TYPE_CHECKING:  # for type checkers and editors; at run time these come through __getattr__
    import torch
    import torch.nn as nn

    from archscope.analysis.ops import OpCost, register_op
    from archscope.analysis.compare import Comparison, compare
    from archscope.analysis.explain import explain
    from archscope.analysis.explain_records import Explanation
    from archscope.analysis.records import LayerRecord, ReceptiveField, Summary, Totals, UncountedOp
    from archscope.analysis.rf.field_report import ReceptiveFieldReport, receptive_fields
    from archscope.analysis.summary import summarize
    from archscope.bench.profile import profile
    from archscope.bench.profile_records import ProfileReport
    from archscope.bench.records import BenchReport, BenchResult
    from archscope.bench.runner import benchmark
    from archscope.lessons import Lesson, LessonSet, lesson
    from archscope.zoo import ZooListing
    from archscope.report_builder import Report, build_report


# Subpackages reachable as attributes (``archscope.lessons.work_through()``) without an import.
_SUBPACKAGES = ("analysis", "bench", "draw", "lessons", "render", "zoo")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        importlib.import_module("archscope.render.display")  # so print(summary) is the table
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"archscope.{name}")
    raise AttributeError(f"module 'archscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def create_model(name: str, device: str | torch.device | None = None, **kwargs: Any) -> nn.Module:
    """Build a zoo network by name (or alias). ``device="meta"`` builds it without weights.

    ``device`` is ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"`` or ``"meta"``; one that is
    unknown or not available here raises ``ArchscopeError``, a wrong type ``TypeError``.
    """
    import torch

    from archscope.zoo import get_entry

    if not isinstance(name, str):
        raise TypeError(f"create_model() takes a zoo name such as 'vgg16', not {type(name).__name__}")
    entry = get_entry(name)
    if device is None:
        return entry.build(**kwargs)
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a string such as 'cpu' or 'meta', or a torch.device, not {type(device).__name__}")
    if str(device).strip().lower() == "meta":
        target = torch.device("meta")
    else:
        from archscope.bench.device import resolve_device

        target = resolve_device(str(device))
    with target:
        return entry.build(**kwargs)


def list_models(pattern: str | None = None) -> list[str]:
    """Zoo names, optionally filtered by a shell-style pattern such as ``vgg*``."""
    from archscope.zoo import list_entries

    if pattern is not None and not isinstance(pattern, str):
        raise TypeError(f"list_models() takes a pattern such as 'vgg*', not {type(pattern).__name__}")
    return [e.name for e in list_entries(pattern)]


__all__ = [
    "ArchscopeError",
    "BenchReport",
    "BenchResult",
    "Comparison",
    "Explanation",
    "InputSizeError",
    "LayerRecord",
    "Lesson",
    "LessonSet",
    "OpCost",
    "ProfileReport",
    "ReceptiveField",
    "ReceptiveFieldReport",
    "Report",
    "Summary",
    "Totals",
    "UncountedOp",
    "UnknownModelError",
    "ZooListing",
    "benchmark",
    "build_report",
    "compare",
    "create_model",
    "explain",
    "lesson",
    "list_models",
    "profile",
    "receptive_fields",
    "register_op",
    "summarize",
]
