"""Plain records of a sweep: one ``SweepRow`` per model, its bench figures, and the columns they
are written as. Rendering (CSV, JSON Lines, Markdown, Parquet, the terminal) lives in
``archscope.render.sweep_rows``; this module only says what a row holds.

``SweepRow.to_dict()`` is one line of the ``archscope.sweep/1`` JSON Lines (docs/json.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

Shape = Any  # a list of ints, a list of shapes (several inputs or outputs), a dict, or None

SCHEMA = "archscope.sweep/1"


@dataclass
class BenchFigures:
    """One timed configuration of one model: what ``archscope bench`` gives for that batch and dtype."""

    batch_size: int
    dtype: str
    latency_ms_median: float | None = None
    latency_ms_p10: float | None = None
    latency_ms_p90: float | None = None
    throughput: float | None = None  # samples per second at the median latency
    error: str | None = None  # out of memory at this batch, say; the figures are then None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class SweepRow:
    """One model of a sweep, with the figures ``summary`` (and ``bench``) give for it.

    ``model``, ``input_size`` and ``options`` are the row's key: a second run of the same
    sweep skips a row whose key is already in its output. ``error`` is None when the model
    worked; a failed row keeps its key and its error, and figures it did not reach are None.
    """

    SCHEMA: ClassVar[str] = SCHEMA

    model: str  # the spec, as the sweep expanded it: "vgg16", "torchvision:resnet50", "net.py:Net"
    input_size: str = ""  # the --input-size asked for; "" for each model's own
    options: str = ""  # the options that change a figure, as one canonical text (``SweepOptions.key``)
    source: str | None = None  # the paper and table a zoo network follows, or the library
    input_shape: Shape = None  # batch first
    output_shape: Shape = None
    params: int | None = None
    trainable_params: int | None = None
    macs: int | None = None
    flops: int | None = None
    param_bytes: int | None = None
    activation_bytes: int | None = None
    weighted_depth: int | None = None
    # The last spatial map's receptive field: its largest side when it is a window, else its
    # kind ("whole_input", "unknown", "no_signal"); stride and padding on that side.
    receptive_field: int | str | None = None
    receptive_field_stride: int | None = None
    receptive_field_padding: int | None = None
    uncounted: list[tuple[str, int]] = field(default_factory=list)  # (operator, times it ran)
    data_dependent: str | None = None  # "aten::nonzero in rpn": the analysis ran on the CPU from there
    # With --train (and --fit): what a training step costs.
    backward_macs: int | None = None
    training_memory: int | None = None  # TrainingMemory.peak
    fit_batch: int | None = None
    # With --bench: one entry per batch size and dtype.
    bench: list[BenchFigures] = field(default_factory=list)
    error: str | None = None
    seconds: float | None = None  # how long the worker took over this model

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.input_size, self.options)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def memory(self) -> int | None:
        """Parameters plus activations: an inference's memory, as ``bench`` estimates it."""
        if self.param_bytes is None or self.activation_bytes is None:
            return None
        return self.param_bytes + self.activation_bytes

    def latency(self) -> float | None:
        """The first timed configuration's median latency (ms), or None."""
        return next((b.latency_ms_median for b in self.bench if b.latency_ms_median is not None), None)

    def to_summary(self) -> Any:
        """A layer-less ``Summary`` of what the row holds, for ``compare --from``.

        Totals, shapes, depth and uncounted operators are the row's exactly; the receptive
        field is its largest side's size, stride and padding on every spatial axis (a row
        keeps no per-axis field, no concatenated parts, no reason for an unknown one).
        """
        from archscope.analysis.records import DataDependence, ReceptiveField, Summary, Totals, UncountedOp

        totals = Totals(self.params or 0, self.trainable_params if self.trainable_params is not None else self.params or 0,
                        self.macs or 0, self.flops or 0, self.param_bytes or 0, self.activation_bytes or 0)  # fmt: skip
        rf = None
        if isinstance(self.receptive_field, int):
            first = self.input_shape[0] if self.input_shape and isinstance(self.input_shape[0], list) else self.input_shape
            axes = max(1, len(first) - 2) if isinstance(first, list) else 1
            rf = ReceptiveField("window", (self.receptive_field,) * axes,
                                (self.receptive_field_stride or 1,) * axes, (self.receptive_field_padding or 0,) * axes)  # fmt: skip
        elif self.receptive_field in ("whole_input", "no_signal"):
            rf = ReceptiveField(self.receptive_field)
        elif self.receptive_field == "unknown":
            rf = ReceptiveField("unknown", reason="not kept in the results file")
        dependence = None
        if self.data_dependent:
            op, _, layer = self.data_dependent.partition(" in ")
            dependence = DataDependence(op, layer or None)
        return Summary(self.model, self.source, self.input_shape, self.output_shape, totals,
                       uncounted=[UncountedOp(op, count) for op, count in self.uncounted], receptive_field=rf,
                       weighted_depth=self.weighted_depth or 0, data_dependent=dependence)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """One ``archscope.sweep/1`` line (docs/json.md): every field with its native JSON type."""
        data: dict[str, Any] = {"schema": self.SCHEMA}
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if name == "uncounted":
                value = [{"op": op, "count": count} for op, count in value]
            elif name == "bench":
                value = [b.to_dict() for b in value]
            data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepRow:
        """A row from its ``to_dict()`` (a JSON Lines line); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        known["uncounted"] = [(u["op"], int(u["count"])) for u in known.get("uncounted") or []]
        known["bench"] = [
            BenchFigures(**{k: v for k, v in b.items() if k in {f.name for f in fields(BenchFigures)}})
            for b in known.get("bench") or []
        ]
        return cls(**known)


ColumnKind = Literal["text", "int", "float", "shape", "ops", "field"]


@dataclass(frozen=True)
class Column:
    """One column of a tabular results file (CSV, Markdown, Parquet): its name, its kind, what it means."""

    key: str
    kind: ColumnKind
    meaning: str


COLUMNS = [
    Column("model", "text", "the model spec, as the sweep expanded it"),
    Column("source", "text", "the paper and table a zoo network follows, or the library"),
    Column("input_shape", "shape", "the input, batch first (1x3x224x224; several inputs joined by ', ')"),
    Column("output_shape", "shape", "the output's shape"),
    Column("params", "int", "parameters, each once"),
    Column("trainable_params", "int", "of which trainable"),
    Column("macs", "int", "multiply-accumulates (docs/counting.md)"),
    Column("flops", "int", "2 x MACs plus every other operator (docs/counting.md)"),
    Column("param_bytes", "int", "parameter memory, bytes"),
    Column("activation_bytes", "int", "activation memory, bytes"),
    Column("weighted_depth", "int", "conv, linear and matmul layers on the longest path"),
    Column("receptive_field", "field", "the last spatial map's largest side, or whole_input, unknown, no_signal"),
    Column("receptive_field_stride", "int", "its stride on that side"),
    Column("receptive_field_padding", "int", "its padding on that side"),
    Column("uncounted", "ops", "operators with no counting rule and how often each ran (aten::foo x2)"),
    Column("data_dependent", "text", "the operator (and layer) that needed real values; empty if none"),
]
TRAIN_COLUMNS = [
    Column("backward_macs", "int", "the backward pass's MACs (--train)"),
    Column("training_memory", "int", "a training step's peak memory, bytes (--train)"),
]
FIT_COLUMNS = [Column("fit_batch", "int", "the largest batch whose training memory fits --fit")]
KEY_COLUMNS = [
    Column("error", "text", "why the model failed; empty when it worked"),
    Column("seconds", "float", "how long the worker took over the model"),
    Column("input_size", "text", "the --input-size asked for; empty for each model's own"),
    Column("options", "text", "the options that change a figure (batch, --train, --arg, --bench ...)"),
]
BENCH_FIELDS = [
    ("latency_ms_median", "float", "median latency, ms"),
    ("latency_ms_p10", "float", "10th percentile latency, ms"),
    ("latency_ms_p90", "float", "90th percentile latency, ms"),
    ("throughput", "float", "samples per second at the median"),
    ("error", "text", "why this configuration failed (out of memory ...)"),
]


def bench_column(name: str, batch_size: int, dtype: str) -> str:
    """'latency_ms_median_b8_float16': one bench figure of one configuration, as a flat column."""
    return f"bench_{name}_b{batch_size}_{dtype}"


def columns_for(train: bool, fit: bool, bench: list[tuple[int, str]]) -> list[Column]:
    """The tabular columns of a sweep with these options, in order."""
    out = list(COLUMNS)
    if train or fit:
        out += TRAIN_COLUMNS
    if fit:
        out += FIT_COLUMNS
    for batch, dtype in bench:
        out += [Column(bench_column(name, batch, dtype), kind, meaning) for name, kind, meaning in BENCH_FIELDS]  # type: ignore[arg-type]
    return out + KEY_COLUMNS
