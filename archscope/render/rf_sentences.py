"""Receptive fields as sentences (the cells are in text.fields); the CSV columns of `archscope rf`'s stages."""

from __future__ import annotations

from archscope.analysis.records import FieldMap, ReceptiveField
from archscope.render.blocks import csv_columns
from archscope.text.fields import axes_text, rf_cell
from archscope.text.numbers import shape_text


def field_sentence(rf: ReceptiveField | None) -> str:
    """'212 (stride 32, padding 90)', or what stands in for a number."""
    if rf is None or rf.kind == "no_signal":
        return "none: no output position depends on a spatial input position"
    if rf.kind == "whole_input":
        return "the whole input"
    if rf.kind == "unknown":
        return f"unknown: {rf.reason}"
    if rf.is_range:
        moves = axes_text(rf.stride)
        sizes = f"{axes_text(rf.size)} to {axes_text(rf.size_max)}, by position" if rf.size != rf.size_max else (
            f"{axes_text(rf.size)} at every position, unevenly spaced")
        return (f"{sizes} (upsampling: the pattern repeats every {axes_text(rf.period)} positions, {moves} input "
                f"pixel{'' if moves == '1' else 's'} on)")  # fmt: skip
    return f"{axes_text(rf.size)} (stride {axes_text(rf.stride)}, padding {axes_text(rf.padding)})"


def map_sentence(where: FieldMap | None) -> str:
    """Which tensor a field belongs to: 'avgpool (1x512x7x7)', 'head (1x2x128x128), the model's output'."""
    if where is None:
        return "the last spatial map"
    if where.layer is not None:
        call = f", call {where.call + 1}" if where.call else ""
        text = f"{where.layer} ({shape_text(where.shape)}{call})"
    else:
        text = f"the result of {where.op} ({shape_text(where.shape)})"
    return text + (", the model's output" if where.output is not None else "")


def parts_sentence(rf: ReceptiveField | None) -> str | None:
    """'587 (channels 0-63), 651 (64-191), ...' for a concatenated output, else None."""
    if rf is None or not rf.parts:
        return None
    return ", ".join(f"{rf_cell(p.field)} (channels {p.start}-{p.stop - 1})" for p in rf.parts)


STAGE_COLUMNS = csv_columns("rf", ["stage", "stride", "first_layer", "last_layer", "largest_layer", "output_shape", "size", "padding"])
