"""Plain records of an analysis. Rendering lives in archscope.render, never here.

Each top-level record names its JSON contract in ``SCHEMA`` and writes it with ``to_dict()``
(docs/json.md): ``Summary`` is ``archscope.summary/1``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar, Literal

# How a summary shows itself, by kind ("text" for print(), "html" for a notebook): the render
# layer fills this in (archscope.render.display), so a record never imports what draws it.
DISPLAYS: dict[str, Callable[[Any], str]] = {}

# A tensor's shape is a list of ints; a layer that returns several tensors has a list (or a
# dict) of shapes; a layer that returns no tensor has None.
Shape = Any

FieldKind = Literal["window", "range", "whole_input", "unknown", "no_signal"]


@dataclass(frozen=True)
class ReceptiveField:
    """What one output position of a tensor sees of the input (docs/json.md, "Receptive fields").

    ``kind`` is one of:
    - "window": ``size`` input positions per spatial axis; a neighbouring output position
      sees a window ``stride`` positions further on; the first window starts ``padding``
      positions before the input (Araujo et al., "Computing receptive fields", Distill 2019);
    - "range": positions see windows of different sizes, in a pattern that repeats every
      ``period`` positions and moves ``stride`` input pixels each time (after upsampling with
      no stride after it: a U-Net's output). Position x = m * period + q sees input pixels
      m * stride - phase_padding[q] to that + phase_size[q] - 1, per axis; ``size`` is the
      smallest per axis, ``size_max`` the largest, and ``reason`` says why it is no window;
    - "whole_input": every position sees all of it (after global pooling or attention);
    - "unknown": no single window or repeating pattern describes every position, and
      ``reason`` says why;
    - "no_signal": no position depends on a spatial input position (zero-padded channels).

    ``parts`` holds each concatenated channel range's own field when there are several;
    ``layout`` is the tensor's axis map (rf.axes.layout_json) when its positions are not laid
    out as batch, channels, then the spatial axes (a transformer's tokens).
    """

    kind: FieldKind
    size: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    reason: str = ""
    parts: tuple[ChannelRange, ...] = ()
    layout: Any = field(default=None, hash=False)
    # A range: per axis, the repeat's length in positions, and one size and one padding per phase.
    period: tuple[int, ...] = ()
    phase_size: tuple[tuple[int, ...], ...] = ()
    phase_padding: tuple[tuple[int, ...], ...] = ()

    @property
    def is_window(self) -> bool:
        return self.kind == "window"

    @property
    def is_range(self) -> bool:
        return self.kind == "range"

    @property
    def size_max(self) -> tuple[int, ...]:
        """The largest size per axis: the window's own, or a range's largest phase."""
        return tuple(max(p) for p in self.phase_size) if self.is_range else self.size

    @property
    def largest(self) -> int:
        """The longest side of the window, or a range's largest (0 for anything else)."""
        return max(self.size_max) if self.size else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/json.md, "Receptive fields"): the key names the kind."""
        if self.kind == "window":
            data: dict[str, Any] = {"size": list(self.size), "stride": list(self.stride), "padding": list(self.padding)}
        elif self.kind == "range":
            # "unknown" stays, as before ranges were stated: a reader of schema 1 sees no single window.
            data = {"unknown": self.reason, "range": {
                "smallest": list(self.size), "largest": list(self.size_max), "period": list(self.period),
                "stride": list(self.stride), "phase_size": [list(p) for p in self.phase_size],
                "phase_padding": [list(p) for p in self.phase_padding]}}  # fmt: skip
        elif self.kind == "unknown":
            data = {"unknown": self.reason}
        else:
            data = {self.kind: True}
        if self.parts:
            data["parts"] = [{"channels": [p.start, p.stop], **p.field.to_dict()} for p in self.parts]
        if self.layout is not None:
            data["layout"] = self.layout
        return data


@dataclass(frozen=True)
class ChannelRange:
    """Channels [start, stop) of a concatenated tensor and their own field."""

    start: int
    stop: int
    field: ReceptiveField


NO_SIGNAL = ReceptiveField("no_signal")


@dataclass(frozen=True)
class FieldMap:
    """The tensor a summary's receptive field belongs to: the last spatial map (docs/json.md).

    ``layer`` is the outermost layer call that returns it (``call``: which call of that
    module, 0 for the first; ``layer_tensor``: its place among that call's output tensors),
    None when only an operator outside any layer's return makes it; ``output`` its place
    among the model's output tensors when the model returns it;
    ``after`` what the model's outputs see when they come after it: "whole_input", or
    the kind of their field ("window", "unknown", ...), or None (no output has a field).
    """

    op: str  # the operator that made it, e.g. "aten::convolution"
    shape: list[int]
    layer: str | None = None
    call: int = 0
    layer_tensor: int = 0
    output: int | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

@dataclass
class LayerRecord:
    """One call of one module. A module called twice gives two records."""

    name: str  # qualified name, e.g. "features.0"
    type: str  # class name, e.g. "Conv2d"
    depth: int  # 1 for the model's direct children, 2 for theirs, ...
    leaf: bool  # has no child modules
    input_shape: Shape
    output_shape: Shape
    params: int  # parameters the module holds, its children's included
    macs: int = 0  # everything computed while the module ran, its children's included
    flops: int = 0
    # The receptive field of one output position; None when the output is not a tensor.
    receptive_field: ReceptiveField | None = None
    # The module's window, for convolutions and pooling: kernel size and stride per axis.
    kernel: list[int] | None = None
    stride: list[int] | None = None
    # With a training analysis (summary --train): the backward pass's cost charged to this call
    # (analysis.training), its children's included; None otherwise, and then not in the JSON.
    backward_macs: int | None = None
    backward_flops: int | None = None


@dataclass
class TrainingMemory:
    """Bytes a training step holds (analysis.training, docs/counting.md, "Training")."""

    optimizer_name: str  # "sgd" (with momentum) or "adam"
    params: int  # every parameter
    grads: int  # one gradient per trainable parameter
    optimizer: int  # the optimizer's state: SGD's momentum (1x), Adam's two moments (2x)
    saved_activations: int  # what autograd saves for backward, each storage once, parameters excluded
    backward_start: int  # held as backward starts: parameters, optimizer state, saved activations
    peak: int  # the step's most: during backward (activations released as gradients appear) or the optimizer step
    peak_phase: str  # "backward" or "optimizer step"


@dataclass
class BatchFit:
    """The largest batch whose training memory fits a budget (summary --fit)."""

    budget: int  # bytes
    batch_size: int  # 0 when not even one sample fits
    peak: int  # training memory at that batch
    # The last line the search solved on, through the two batches analysed last: peak ~ fixed + per_sample x batch.
    fixed: int
    per_sample: int
    next_peak: int | None = None  # training memory at batch_size + 1, measured (None at the largest batch archscope tries)


@dataclass
class Totals:
    params: int  # each parameter once, however often its module runs
    trainable_params: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int  # every floating-point tensor the forward pass creates (docs/counting.md)
    # A training analysis (summary --train) adds these; None otherwise, and then not in the JSON.
    backward_macs: int | None = None
    backward_flops: int | None = None
    optimizer_flops: int | None = None  # one optimizer step (training_memory.optimizer_name)
    training_memory: TrainingMemory | None = None


# Fields a training analysis adds; left out of the JSON when absent.
TRAINING_FIELDS = ("backward_macs", "backward_flops", "optimizer_flops", "training_memory")


@dataclass
class UncountedOp:
    op: str  # e.g. "aten::upsample_bilinear2d"
    count: int  # how many times it ran


@dataclass
class DataDependence:
    """The meta pass could not go on: an operator needed real values, so the analysis ran on the CPU.

    Shapes after ``op`` (and the counts that follow from them, such as the number of boxes a
    detector keeps) hold for the random input the CPU pass used, not for every input.
    """

    op: str  # e.g. "aten::nonzero"
    layer: str | None  # the innermost module running when it happened


@dataclass
class Summary:
    SCHEMA: ClassVar[str] = "archscope.summary/1"

    model: str
    source: str | None
    input_shape: list[int]
    output_shape: Shape
    totals: Totals
    uncounted: list[UncountedOp] = field(default_factory=list)
    layers: list[LayerRecord] = field(default_factory=list)
    # Modules that hold parameters the forward pass never ran (an auxiliary head in eval
    # mode, say): their parameters are in the totals, their cost is not.
    unused_modules: list[str] = field(default_factory=list)
    # The receptive field of the last spatial feature map (before global pooling or flatten),
    # and what could not be stated exactly (an unaligned merge, an operator with no rule).
    receptive_field: ReceptiveField | None = None
    receptive_field_issues: list[str] = field(default_factory=list)
    # Which tensor that field belongs to (None when there is no spatial map).
    receptive_field_map: FieldMap | None = None
    # Weighted layers (conv, linear, matmul) on the longest path from input to output.
    weighted_depth: int = 0
    # The element type of each input tensor ("float32", "int64", ...).
    input_dtypes: list[str] = field(default_factory=list)
    # Set when an operator needed real values and the analysis ran on the CPU instead.
    data_dependent: DataDependence | None = None
    # With summary --fit: the largest batch that fits the budget.
    fit: BatchFit | None = None
    # The model's own row (name "", depth 0): the parameters it holds itself and the operators
    # its forward runs outside every child (a positional embedding and its add); None when it
    # has neither. Not a module call, so not in ``layers``: those keep their call order.
    own: LayerRecord | None = None

    # How to run this analysis again with more observers; set by ``summarize``, not a field
    # (so not in the JSON, and not compared). ``explain`` uses it.
    rerun: ClassVar[Any] = None

    def explain(self, *layers: str, depth: int | None = None) -> Any:
        """Every figure of these layers (names as the table prints them) as its formula with the
        numbers in it: the record ``archscope explain`` prints (``archscope.explain/1``).
        Without names, each of the model's children (``depth`` goes deeper)."""
        from archscope.analysis.explain import explain_summary

        return explain_summary(self, list(layers) or None, depth)

    def __str__(self) -> str:
        """The table ``archscope summary`` prints (depth 3), without colour: ``print(summarize("vgg16"))``.

        Once the render layer is loaded (``archscope``'s API loads it); before, one line."""
        shown = DISPLAYS.get("text")
        return shown(self) if shown else f"Summary of {self.model}: {self.totals.params:,} parameters, {self.totals.macs:,} MACs"

    def _repr_html_(self) -> str | None:
        """The same table as HTML, for Jupyter notebooks (None, the plain text, before render is loaded)."""
        shown = DISPLAYS.get("html")
        return shown(self) if shown else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "model": self.model,
            "source": self.source,
            "input_shape": list(self.input_shape),
            "output_shape": self.output_shape,
            "totals": _without_absent_training(asdict(self.totals)),
            "uncounted": [asdict(u) for u in self.uncounted],
            "layers": [layer_dict(layer) for layer in self.layers],
            "unused_modules": list(self.unused_modules),
            "receptive_field": field_dict(self.receptive_field),
            "receptive_field_issues": list(self.receptive_field_issues),
            "receptive_field_map": self.receptive_field_map.to_dict() if self.receptive_field_map else None,
            "weighted_depth": self.weighted_depth,
            "input_dtypes": list(self.input_dtypes),
            "data_dependent": asdict(self.data_dependent) if self.data_dependent is not None else None,
            "own": layer_dict(self.own) if self.own is not None else None,
            **({"fit": asdict(self.fit)} if self.fit is not None else {}),
        }


def field_dict(rf: ReceptiveField | None) -> dict[str, Any] | None:
    return rf.to_dict() if rf is not None else None


def layer_dict(layer: LayerRecord) -> dict[str, Any]:
    """A layer's JSON: its fields, the receptive field in its JSON form."""
    data = {k: getattr(layer, k) for k in layer.__dataclass_fields__}
    data["receptive_field"] = field_dict(layer.receptive_field)
    return _without_absent_training(data)


def _without_absent_training(data: dict[str, Any]) -> dict[str, Any]:
    """A summary without a training analysis keeps exactly its earlier JSON: no null training fields."""
    return {k: v for k, v in data.items() if not (k in TRAINING_FIELDS and v is None)}
