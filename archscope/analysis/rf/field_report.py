"""``receptive_fields``: a network's receptive fields by stride stage, optionally checked by gradients.

The record ``ReceptiveFieldReport`` owns the JSON contract ``archscope.rf/1`` (docs/json.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Sequence

from archscope.analysis.records import ReceptiveField, Summary, field_dict
from archscope.analysis.rf.stages import Stage, no_stage_reason, stages
from archscope.errors import ArchscopeError


@dataclass
class FieldCheck:
    """The analytic field of the map the report is about beside the same field measured by gradients.

    ``facts`` names what was compared, per axis, as (name, analytic, measured): a window's
    size, stride and padding; a range's smallest and largest size, the stride its pattern
    moves each repeat, and where those two windows start (``positions``: the coordinates of
    the two output positions measured, per axis). ``last_map`` is False when the last map
    sees the whole input and the last layer with a window was measured instead.
    """

    layer: str
    analytic: ReceptiveField
    facts: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    positions: tuple[tuple[int, ...], ...] | None = None
    last_map: bool = True

    @property
    def agree(self) -> bool:
        return all(a == m for _, a, m in self.facts)

    @property
    def measured(self) -> dict[str, list[int]]:
        return {name: list(m) for name, _, m in self.facts}

    def to_dict(self) -> dict[str, Any]:
        data = {"layer": self.layer, "analytic": self.analytic.to_dict(), "measured": self.measured, "agree": self.agree}
        if self.positions is not None:
            data["positions"] = [list(p) for p in self.positions]
        if not self.last_map:
            data["last_map"] = False
        return data


@dataclass
class ReceptiveFieldReport:
    SCHEMA: ClassVar[str] = "archscope.rf/1"

    summary: Summary
    stages: list[Stage]
    check: FieldCheck | None = None

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        data = {
            "schema": self.SCHEMA,
            "model": s.model,
            "input_shape": s.input_shape,
            "receptive_field": field_dict(s.receptive_field),
            "receptive_field_map": s.receptive_field_map.to_dict() if s.receptive_field_map else None,
            "issues": s.receptive_field_issues,
            "stages": [stage.to_dict() for stage in self.stages],
            "layers": [
                {"name": x.name, "type": x.type, "depth": x.depth, "output_shape": x.output_shape,
                 "receptive_field": field_dict(x.receptive_field)}
                for x in s.layers
            ],
        }  # fmt: skip
        if self.check is not None:
            data["verify"] = self.check.to_dict()
        return data


def check_field(model: Any, summary: Summary) -> FieldCheck:
    """Measure the last spatial map's field by gradients (rf.measure) and set it beside the analytic one."""
    from archscope.analysis.rf.measure import measure_receptive_field

    if isinstance(summary.input_shape[0], list):
        raise ArchscopeError("measuring a receptive field by gradients needs a model with a single input")
    target, measured = measure_receptive_field(model, summary.input_shape[1:], name=summary.model)
    rf = replace(target.receptive_field, parts=(), layout=None)
    if rf.is_range:
        facts = (("smallest", rf.size, measured.size), ("largest", rf.size_max, measured.largest),
                 ("stride", rf.stride, measured.stride),
                 ("padding_smallest", _phase_padding(rf, measured.positions, 0), measured.padding),
                 ("padding_largest", _phase_padding(rf, measured.positions, 1), measured.padding_largest))
        positions = tuple(tuple(p) for p in zip(*measured.positions))
    else:
        facts = (("size", rf.size, measured.size), ("stride", rf.stride, measured.stride),
                 ("padding", rf.padding, measured.padding))
        positions = None
    facts = tuple((name, tuple(a), tuple(m)) for name, a, m in facts)  # fmt: skip
    return FieldCheck(target.name, rf, facts, positions, target.last_map)


def _phase_padding(rf: ReceptiveField, positions: list[list[int]], which: int) -> tuple[int, ...]:
    """Where, by the analysis, the window of the position measured starts (as a padding), per axis."""
    return tuple(rf.phase_padding[a][p[which] % rf.period[a]] for a, p in enumerate(positions))


def receptive_fields(
    model_or_name: Any,
    input_size: str | Sequence[int] | None = None,
    *,
    verify: bool = False,
    model_kwargs: dict[str, Any] | None = None,
) -> ReceptiveFieldReport:
    """The field at the end of each stride stage and of the last spatial map; ``verify`` measures it again."""
    from archscope.analysis.summary import summarize
    from archscope.models import ModelSpec, resolve_model

    spec = resolve_model(model_or_name, model_kwargs) if isinstance(model_or_name, str) else model_or_name
    summary = summarize(spec, input_size)
    stage_list = stages(summary)
    if not stage_list and not (summary.receptive_field is not None and summary.receptive_field.is_range):
        raise ArchscopeError(no_stage_reason(summary))
    check = None
    if verify:
        model = spec.real_model() if isinstance(spec, ModelSpec) else spec
        check = check_field(model, summary)
    return ReceptiveFieldReport(summary, stage_list, check)
