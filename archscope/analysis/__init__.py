"""Pure analysis of a network and an input shape into plain records; no rich, no typer.

The names below are imported on first use (PEP 562), so a light module of this package
(``records``) can be imported without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "LayerRecord": "archscope.analysis.records",
    "Summary": "archscope.analysis.records",
    "Totals": "archscope.analysis.records",
    "UncountedOp": "archscope.analysis.records",
    "analyze": "archscope.analysis.forward_pass",
    "summarize": "archscope.analysis.summary",
}

if TYPE_CHECKING:
    from archscope.analysis.records import LayerRecord, Summary, Totals, UncountedOp
    from archscope.analysis.summary import summarize
    from archscope.analysis.forward_pass import analyze


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'archscope.analysis' has no attribute {name!r}")


__all__ = ["LayerRecord", "Summary", "Totals", "UncountedOp", "analyze", "summarize"]
