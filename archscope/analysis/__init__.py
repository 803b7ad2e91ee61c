"""Pure analysis of a network and an input shape into plain records; no rich, no typer."""

from archscope.analysis.records import LayerRecord, Summary, Totals, UncountedOp
from archscope.analysis.summary import analyze, summarize

__all__ = ["LayerRecord", "Summary", "Totals", "UncountedOp", "analyze", "summarize"]
