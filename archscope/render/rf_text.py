"""Receptive fields as sentences (the cells are in text.fields); the CSV columns of `archscope rf`'s stages."""

from __future__ import annotations

from archscope.analysis.records import ReceptiveField
from archscope.render.view import csv_columns
from archscope.text.fields import axes_text, rf_cell


def field_sentence(rf: ReceptiveField | None) -> str:
    """'212 (stride 32, padding 90)', or what stands in for a number."""
    if rf is None or rf.kind == "no_signal":
        return "none: no output position depends on a spatial input position"
    if rf.kind == "whole_input":
        return "the whole input"
    if rf.kind == "unknown":
        return f"unknown: {rf.reason}"
    return f"{axes_text(rf.size)} (stride {axes_text(rf.stride)}, padding {axes_text(rf.padding)})"


def parts_sentence(rf: ReceptiveField | None) -> str | None:
    """'587 (channels 0-63), 651 (64-191), ...' for a concatenated output, else None."""
    if rf is None or not rf.parts:
        return None
    return ", ".join(f"{rf_cell(p.field)} (channels {p.start}-{p.stop - 1})" for p in rf.parts)


STAGE_COLUMNS = csv_columns("rf", ["stage", "stride", "first_layer", "last_layer", "largest_layer", "output_shape", "size", "padding"])
