"""The records of ``archscope explain`` (JSON ``archscope.explain/1``, docs/json.md).

A layer's explanation is a list of quantities (output shape, parameters, MACs, FLOPs, output
memory, what autograd saves, receptive field). Each quantity has its value and, where one
can be stated, its formula in symbols, the same formula with the layer's numbers, and the
values bound to each symbol. A quantity that is a sum (a block's, or a layer's that runs
several operators) lists its ``parts``; one stated per spatial axis lists its ``axes``.
Rendering lives in ``render.explain_view``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from archscope.analysis.formula import Expr


@dataclass
class Term:
    """One formula with its numbers, or a value with the reason it has none."""

    label: str  # "aten::convolution", "conv1", "H", "weight"
    value: Any
    formula: str | None = None  # in symbols: "N·H_out·W_out·C_out·k_h·k_w·(C_in/g)"
    numbers: str | None = None  # the same with the values: "1·55·55·96·11·11·(3/1)"
    bindings: dict[str, Any] = field(default_factory=dict)  # symbol -> int, or a tensor's shape
    note: str = ""
    kind: str = ""  # a part's kind: the child layer's type ("Conv2d"), or "operator"

    @staticmethod
    def of(label: str, expr: Expr, note: str = "") -> Term:
        return Term(label, expr.value, expr.text(), expr.numbers(), expr.bindings(), note)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "formula": self.formula, "bindings": dict(self.bindings),
                                "value": self.value}  # fmt: skip
        if self.note:
            data["note"] = self.note
        if self.kind:
            data["kind"] = self.kind
        return data


@dataclass
class Quantity:
    """One figure of a layer and how it comes about."""

    key: str  # "output_shape", "params", "macs", "flops", "output_bytes", "saved_bytes", "receptive_field"
    unit: str  # what the value counts: "parameters", "multiply-accumulates", "bytes", ...
    value: Any
    formula: str | None = None
    numbers: str | None = None
    bindings: dict[str, Any] = field(default_factory=dict)
    operator: str | None = None  # the operator whose rule the formula is, when one operator makes it
    parts: list[Term] = field(default_factory=list)  # a sum's terms, in call order; they add up to value
    axes: list[Term] = field(default_factory=list)  # one per spatial axis (output lengths, field steps)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"unit": self.unit, "formula": self.formula, "bindings": dict(self.bindings),
                                "value": self.value}  # fmt: skip
        if self.operator is not None:
            data["operator"] = self.operator
        if self.parts:
            data["parts"] = [p.to_dict() for p in self.parts]
        if self.axes:
            data["axes"] = [a.to_dict() for a in self.axes]
        if self.notes:
            data["notes"] = list(self.notes)
        return data


@dataclass
class LayerExplanation:
    """One layer call (or the whole model, ``name`` ""), quantity by quantity."""

    name: str
    type: str
    depth: int
    leaf: bool
    input_shape: Any
    output_shape: Any
    quantities: list[Quantity] = field(default_factory=list)
    call: int = 1  # which call of the module this is (a ReLU module run three times: 1, 2, 3)

    def quantity(self, key: str) -> Quantity | None:
        return next((q for q in self.quantities if q.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "leaf": self.leaf,
            "call": self.call,
            "input_shape": self.input_shape,
            "output_shape": self.output_shape,
            "quantities": {q.key: q.to_dict() for q in self.quantities},
        }


@dataclass
class Explanation:
    """``archscope explain MODEL [LAYER...]``: the layers asked for, each figure with its arithmetic."""

    SCHEMA: ClassVar[str] = "archscope.explain/1"

    model: str
    source: str | None
    input_shape: Any
    train: bool
    layers: list[LayerExplanation]
    whole: LayerExplanation | None = None  # the model as the sum of its children, when no layer was named

    def layer(self, name: str) -> LayerExplanation:
        """The first call of the layer called ``name``."""
        return next(x for x in self.layers if x.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "model": self.model,
            "source": self.source,
            "input_shape": self.input_shape,
            "train": self.train,
            "layers": [x.to_dict() for x in self.layers],
            "model_total": self.whole.to_dict() if self.whole is not None else None,
        }
