"""Receptive fields as short table cells and sentences; the CSV columns of `archscope rf`'s stages."""

from __future__ import annotations

from typing import Sequence

from archscope.analysis.records import ReceptiveField
from archscope.render.view import csv_columns


def axes_text(values: Sequence[int]) -> str:
    """[212, 212] -> '212'; [7, 1] -> '7x1'."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def rf_cell(rf: ReceptiveField | None) -> str:
    """A layer's field in a few characters: '212', '587-715' for parts, 'whole', '?'."""
    if rf is None or rf.kind == "no_signal":
        return "-"
    if rf.kind == "whole_input":
        return "whole"
    if rf.kind == "unknown":
        return "?"
    sizes = [p.field.largest for p in rf.parts if p.field.is_window]
    if len(set(sizes)) > 1:
        return f"{min(sizes)}-{max(sizes)}"
    return axes_text(rf.size)


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
