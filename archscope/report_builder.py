"""``build_report``: everything ``archscope report`` puts on its page, from one build of the model.

The record holds analyses only; the page and its pictures are drawn by ``archscope.render.report``.
``Report.to_dict()`` is the JSON contract ``archscope.report/1`` (docs/json.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

from archscope.analysis.records import Summary
from archscope.analysis.rf.stages import GrowthPoint, Stage, growth, stages
from archscope.input_size import check_depth


@dataclass
class Report:
    """A model's summary, drawing trace, receptive-field stages and, when asked, timings."""

    SCHEMA: ClassVar[str] = "archscope.report/1"

    summary: Summary
    flow: Any  # the dataflow of the same pass (archscope.draw), which the drawing is made from
    depth: int  # how deep the layer table and the per-layer chart go
    bench: Any = None  # archscope.bench.records.BenchReport, with report --bench
    profile: Any = None  # archscope.bench.profile_records.ProfileReport, with report --profile
    # How each figure of the layers down to ``depth`` is computed (analysis.explain), from the same pass.
    explanation: Any = None

    @functools.cached_property
    def stages(self) -> list[Stage]:
        """The summary's stride stages (rf.stages), as ``archscope rf`` shows them."""
        return stages(self.summary)

    @functools.cached_property
    def growth(self) -> list[GrowthPoint]:
        """The receptive field of each leaf layer in call order: the growth chart's points."""
        return growth(self.summary)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "summary": self.summary.to_dict(),
            "stages": [stage.to_dict() for stage in self.stages],
            "depth": self.depth,
            "bench": self.bench.to_dict() if self.bench is not None else None,
            "profile": self.profile.to_dict() if self.profile is not None else None,
            "explain": self.explanation.to_dict() if self.explanation is not None else None,
        }


def build_report(
    model: Any,
    input_size: str | Sequence[int] | None = None,
    batch_size: int = 1,
    *,
    depth: int = 3,
    bench: bool = False,
    profile: bool = False,
    model_kwargs: dict[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    """Analyse ``model`` (a name, a ``path.py:Factory``, a module or a ModelSpec) for one report.

    The model is built once: the summary and the drawing come from the same pass, and the
    benchmark and profile (on the CPU, when asked) time that same spec. ``on_step`` hears
    each step's name ("analysing", "benchmarking", "profiling") as it starts.
    """
    from archscope.analysis.explain import ExplainObserver, build_explanation
    from archscope.draw import trace
    from archscope.models import resolve_model

    check_depth(depth)
    step = on_step or (lambda name: None)
    step("analysing")
    spec = resolve_model(model, model_kwargs) if isinstance(model, str) else model
    explaining = ExplainObserver()
    summary, flow = trace(spec, input_size, batch_size, observers=[explaining])
    report = Report(summary, flow, depth, explanation=build_explanation(summary, explaining, None, depth))
    if bench:
        from archscope.bench import benchmark

        step("benchmarking")
        report.bench = benchmark([spec], [batch_size], input_size)
    if profile:
        from archscope.bench.profile import profile as run_profile

        step("profiling")
        report.profile = run_profile(spec, input_size, batch_size=batch_size, depth=min(depth, 2))
    return report
