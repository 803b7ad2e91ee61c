"""Pure analysis of a network and an input shape into plain records; no rich, no typer.

The names below are imported on first use (PEP 562), so a light module of this package
(``records``) can be imported without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archscope.lazy_exports import lazy_getattr

_EXPORTS = {
    "archscope.analysis.records": ("LayerRecord", "Summary", "Totals", "UncountedOp"),
    "archscope.analysis.forward_pass": ("analyze",),
    "archscope.analysis.summary": ("summarize",),
}

if TYPE_CHECKING:
    from archscope.analysis.forward_pass import analyze
    from archscope.analysis.records import LayerRecord, Summary, Totals, UncountedOp
    from archscope.analysis.summary import summarize


__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
