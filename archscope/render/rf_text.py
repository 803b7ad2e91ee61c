"""Receptive fields as short table cells and sentences; the CSV columns of `archscope rf`'s stages."""

from __future__ import annotations

from typing import Sequence

from archscope.analysis.records import FieldMap, ReceptiveField
from archscope.render.numbers import shape_text


def axes_text(values: Sequence[int]) -> str:
    """[212, 212] -> '212'; [7, 1] -> '7x1'."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def rf_cell(rf: ReceptiveField | None) -> str:
    """A layer's field in a few characters: '212', '587-715' for parts, '92..100' where it varies
    with position, 'whole', '?'."""
    if rf is None or rf.kind == "no_signal":
        return "-"
    if rf.kind == "whole_input":
        return "whole"
    if rf.kind == "unknown":
        return "?"
    if rf.is_range:  # '~92': the same size everywhere, the windows unevenly spaced
        return f"{max(rf.size)}..{max(rf.size_max)}" if rf.size != rf.size_max else f"~{max(rf.size)}"
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


STAGE_COLUMNS = ["stage", "stride", "first_layer", "last_layer", "largest_layer", "output_shape", "size", "padding"]
