"""A receptive field in a few characters, as a table cell or a box in a picture shows it."""

from __future__ import annotations

from typing import Sequence

from archscope.analysis.records import ReceptiveField


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
