"""``receptive_fields``: a network's receptive fields by stride stage, optionally checked by gradients.

The record ``ReceptiveFieldReport`` owns the JSON contract ``archscope.rf/1`` (docs/json.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Sequence

from archscope.analysis.records import ReceptiveField, Summary, field_dict
from archscope.analysis.rf.stages import Stage, no_stage_reason, stages
from archscope.errors import ArchscopeError

AXES_FACTS = ("size", "stride", "padding")


@dataclass
class FieldCheck:
    """The analytic field of the last spatial layer beside the same field measured by gradients
    (both windows: size, stride and padding per axis)."""

    layer: str
    analytic: ReceptiveField
    measured: ReceptiveField

    @property
    def agree(self) -> bool:
        return all(getattr(self.analytic, k) == getattr(self.measured, k) for k in AXES_FACTS)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "analytic": self.analytic.to_dict(), "measured": self.measured.to_dict(),
                "agree": self.agree}  # fmt: skip


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
    """Measure the last spatial layer's field by gradients (rf.measure) and set it beside the analytic one."""
    from archscope.analysis.rf.measure import measure_receptive_field

    if isinstance(summary.input_shape[0], list):
        raise ArchscopeError("measuring a receptive field by gradients needs a model with a single input")
    record, measured = measure_receptive_field(model, summary.input_shape[1:], name=summary.model)
    analytic = record.receptive_field
    found = ReceptiveField("window", tuple(measured.size), tuple(measured.stride), tuple(measured.padding))
    return FieldCheck(record.name, replace(analytic, parts=(), layout=None), found)


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
    if not stage_list:
        raise ArchscopeError(no_stage_reason(summary))
    check = None
    if verify:
        model = spec.real_model() if isinstance(spec, ModelSpec) else spec
        check = check_field(model, summary)
    return ReceptiveFieldReport(summary, stage_list, check)
