"""Several networks side by side: the same summary figures, and each one's ratio to the first.

``Comparison.to_dict()`` is the JSON contract ``archscope.compare/1`` (docs/json.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

import torch.nn as nn

from archscope.analysis.records import Summary, field_dict
from archscope.analysis.summary import summarize
from archscope.errors import ArchscopeError

@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: Callable[[Summary], Any]
    numeric: bool  # has a ratio to the baseline


def _rf_size(s: Summary) -> int | None:
    rf = s.receptive_field
    return rf.largest if rf is not None and rf.is_window else None


METRICS = [
    Metric("input_shape", "Input", lambda s: s.input_shape, False),
    Metric("output_shape", "Output shape", lambda s: s.output_shape, False),
    Metric("params", "Params", lambda s: s.totals.params, True),
    Metric("macs", "MACs", lambda s: s.totals.macs, True),
    Metric("flops", "FLOPs", lambda s: s.totals.flops, True),
    Metric("weighted_depth", "Weighted depth", lambda s: s.weighted_depth, True),
    Metric("receptive_field", "Receptive field", _rf_size, True),
    Metric("param_bytes", "Parameter memory", lambda s: s.totals.param_bytes, True),
    Metric("activation_bytes", "Activation memory", lambda s: s.totals.activation_bytes, True),
]


def ratio(value: Any, baseline: Any) -> float | None:
    """value / baseline, or None where there is no number to divide (or the baseline is 0)."""
    if not isinstance(value, (int, float)) or not isinstance(baseline, (int, float)) or baseline == 0:
        return None
    return value / baseline


@dataclass
class Comparison:
    """Summaries of several networks in the order given; the first is the baseline of every ratio."""

    SCHEMA: ClassVar[str] = "archscope.compare/1"

    summaries: list[Summary]
    # With compare --bench: each model's median latency in ms, in the order of ``summaries``.
    latencies: list[float | None] | None = None
    # With a budget (--max-params, --max-macs, --max-memory): the models left out, each with the limits it is over.
    dropped: list[tuple[str, list[str]]] | None = None

    @property
    def baseline(self) -> Summary:
        return self.summaries[0]

    def metrics(self) -> list[Metric]:
        """METRICS, and the latency when the models were timed."""
        if self.latencies is None:
            return METRICS
        by_summary = {id(s): t for s, t in zip(self.summaries, self.latencies)}
        return [*METRICS, Metric("latency_ms", "Latency (ms)", lambda s: by_summary.get(id(s)), True)]

    def ratios(self, summary: Summary) -> dict[str, float | None]:
        """Each numeric metric of ``summary`` over the baseline's (None where there is nothing to divide)."""
        return {m.key: ratio(m.value(summary), m.value(self.baseline)) for m in self.metrics() if m.numeric}

    def to_dict(self) -> dict[str, Any]:
        """The ``archscope.compare/1`` document (docs/json.md)."""
        models = [
            {
                "model": s.model,
                "source": s.source,
                "input_shape": s.input_shape,
                "output_shape": s.output_shape,
                "totals": s.to_dict()["totals"],
                "weighted_depth": s.weighted_depth,
                "receptive_field": field_dict(s.receptive_field),
                "uncounted": [u.op for u in s.uncounted],
                **({"latency_ms": t} if self.latencies is not None else {}),
                "ratios": self.ratios(s),
            }
            for s, t in zip(self.summaries, self.latencies or [None] * len(self.summaries))
        ]
        document = {"schema": self.SCHEMA, "baseline": self.baseline.model, "models": models}
        if self.dropped is not None:
            document["dropped"] = [{"model": name, "over": over} for name, over in self.dropped]
        return document


def compare(
    models: Sequence[nn.Module | str],
    input_size: str | Sequence[int] | None = None,
    batch_size: int = 1,
    model_kwargs: dict[str, Any] | None = None,
) -> Comparison:
    """Summaries of each model in the order given; the first is the baseline."""
    if len(models) < 2:
        raise ArchscopeError("compare needs at least two models, e.g. 'archscope compare googlenet-naive googlenet'")
    return Comparison([summarize(m, input_size, batch_size, model_kwargs=model_kwargs) for m in models])
