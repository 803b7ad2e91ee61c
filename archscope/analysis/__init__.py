"""Pure analysis of a network and an input shape into plain records; no rich, no typer.

The names below are imported on first use (PEP 562), so a light module of this package
(``records``) can be imported without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archscope.lazy_exports import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["LayerRecord", "Summary", "Totals", "UncountedOp", "analyze", "summarize"]
