"""Plain records of an analysis. Rendering lives in archscope.render, never here.

``Summary.to_dict()`` is the JSON contract ``archscope.summary/1`` documented in docs/json.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SUMMARY_SCHEMA = "archscope.summary/1"

# A tensor's shape is a list of ints; a layer that returns several tensors has a list (or a
# dict) of shapes; a layer that returns no tensor has None.
Shape = Any


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
    # Receptive field of one output position (docs/json.md): size/stride/padding per spatial
    # axis, "parts" for concatenated channel ranges, or whole_input / unknown.
    receptive_field: dict[str, Any] | None = None
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
    fixed: int  # what does not grow with the batch: parameters, gradients, optimizer state
    per_sample: int  # saved activations per sample


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
    receptive_field: dict[str, Any] | None = None
    receptive_field_issues: list[str] = field(default_factory=list)
    # Weighted layers (conv, linear, matmul) on the longest path from input to output.
    weighted_depth: int = 0
    # The element type of each input tensor ("float32", "int64", ...).
    input_dtypes: list[str] = field(default_factory=list)
    # Set when an operator needed real values and the analysis ran on the CPU instead.
    data_dependent: DataDependence | None = None
    # With summary --fit: the largest batch that fits the budget.
    fit: BatchFit | None = None

    def __str__(self) -> str:
        """The table ``archscope summary`` prints (depth 3), without colour: ``print(summarize("vgg16"))``."""
        from archscope.render.views import summary_view
        from archscope.render.writers import plain_text

        return plain_text(summary_view(self), None)

    def _repr_html_(self) -> str:
        """The same table as HTML, for Jupyter notebooks."""
        from archscope.render.views import summary_view
        from archscope.render.writers import html

        return html(summary_view(self))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SUMMARY_SCHEMA,
            "model": self.model,
            "source": self.source,
            "input_shape": list(self.input_shape),
            "output_shape": self.output_shape,
            "totals": _without_absent_training(asdict(self.totals)),
            "uncounted": [asdict(u) for u in self.uncounted],
            "layers": [_without_absent_training(asdict(layer)) for layer in self.layers],
            "unused_modules": list(self.unused_modules),
            "receptive_field": self.receptive_field,
            "receptive_field_issues": list(self.receptive_field_issues),
            "weighted_depth": self.weighted_depth,
            "input_dtypes": list(self.input_dtypes),
            "data_dependent": asdict(self.data_dependent) if self.data_dependent is not None else None,
            **({"fit": asdict(self.fit)} if self.fit is not None else {}),
        }


def _without_absent_training(data: dict[str, Any]) -> dict[str, Any]:
    """A summary without a training analysis keeps exactly its earlier JSON: no null training fields."""
    return {k: v for k, v in data.items() if not (k in TRAINING_FIELDS and v is None)}
