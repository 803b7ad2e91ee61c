"""Receptive-field growth through a network, read off a Summary's layer records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from archscope.analysis.records import LayerRecord, ReceptiveField, Summary


@dataclass
class GrowthPoint:
    """One leaf layer call with a spatial field, in call order."""

    index: int  # position among such calls: the x axis of the growth chart
    name: str
    type: str
    size: list[int]
    stride: list[int]


@dataclass
class Stage:
    """Consecutive leaf layers at the same effective stride; the field it ends with is its largest."""

    index: int
    stride: list[int]
    first_layer: str
    last_layer: str
    largest_layer: str  # the layer whose field is largest (a branch, in a branched stage)
    output_shape: Any
    size: list[int]
    padding: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _spatial(layer: LayerRecord) -> ReceptiveField | None:
    rf = layer.receptive_field
    return rf if rf is not None and rf.is_window else None


def no_stage_reason(summary: Summary) -> str:
    """Why a summary has no stride stage to show: no spatial output at all, or a last map whose
    field is not one window (unknown, with the reason) or is the whole input from the start."""
    rf = summary.receptive_field
    if rf is not None and rf.kind == "unknown":
        return f"the receptive field of {summary.model} is unknown: {rf.reason}"
    if rf is not None and rf.kind == "whole_input":
        return f"every spatial output of {summary.model} sees the whole input: there is no window size to show"
    return f"{summary.model} has no layer with a spatial output: there is no receptive field to show"


def growth(summary: Summary) -> list[GrowthPoint]:
    points = []
    for layer in summary.layers:
        rf = _spatial(layer)
        if layer.leaf and rf is not None:
            points.append(GrowthPoint(len(points), layer.name, layer.type, list(rf.size), list(rf.stride)))
    return points


def stages(summary: Summary) -> list[Stage]:
    result: list[Stage] = []
    group: list[LayerRecord] = []

    def close() -> None:
        if not group:
            return
        largest = max(group, key=lambda x: (_spatial(x).largest, -group.index(x)))
        rf = _spatial(largest)
        result.append(
            Stage(
                index=len(result) + 1,
                stride=list(_spatial(group[0]).stride),
                first_layer=group[0].name,
                last_layer=group[-1].name,
                largest_layer=largest.name,
                output_shape=largest.output_shape,
                size=list(rf.size),
                padding=list(rf.padding),
            )
        )
        group.clear()

    for layer in summary.layers:
        rf = _spatial(layer)
        if not layer.leaf or rf is None:
            continue
        if group and _spatial(group[0]).stride != rf.stride:
            close()
        group.append(layer)
    close()
    return result
