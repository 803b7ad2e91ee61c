"""``archscope explain``: every figure of a layer as its formula, with the layer's numbers in it.

Nothing here counts. One analysis pass (the summary's, ``analysis.forward_pass``) runs with an
observer that keeps, for each layer call, what the counting already had in hand: each
operator's row (``analysis.ops``) run once more with symbols instead of numbers, so its
formula is the very code that counted it; the operator's window (kernel, stride, padding,
dilation), from which the output length and the receptive-field step follow
(``analysis.windows``); the receptive fields the engine gave the tensors going in and out
(``analysis.rf``); and, in training, which tensors autograd saved. Parameters
are read off the module: a convolution's weight is [C_out, C_in/g, k_h, k_w], so its count
is k_h·k_w·(C_in/g)·C_out + C_out.

A block (a Sequential, an inception module, a bottleneck) is the sum of its parts: the calls
of its children and the operators it runs itself (a residual addition), in call order. The
values are the summary's own; a test holds every formula to them, layer by layer, for every
zoo network.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from archscope.analysis.compat import storage_key
from archscope.analysis.explain_records import Explanation, LayerExplanation, Quantity, Term
from archscope.analysis.formula import EXPLAIN, Expr, Max, number_text
from archscope.analysis.ops import OpRule, explain_call, window_of
from archscope.analysis.rf.values import describe
from archscope.analysis.records import LayerRecord, ReceptiveField, Summary
from archscope.analysis.tensors import tensors_in

from archscope.analysis.training import GraphOwners
from archscope.analysis.windows import Window, axis_names, field_step, output_length
from archscope.errors import ArchscopeError

def _tensors(value: Any) -> list[torch.Tensor]:
    return list(tensors_in(value))


NO_FORMULA = "counted by its rule, no formula to show"
NO_RULE = "no counting rule: not in the totals (listed as uncounted)"


# ---------------------------------------------------------------------------------------
# What the pass leaves behind


@dataclass
class OpTrace:
    """One operator call: its cost, its formula, and the geometry and fields that explain it."""

    op: str  # "aten::convolution"
    rule: OpRule | None
    macs: int
    flops: int
    formula: Any = None  # CostFormula, or None
    problem: str = ""  # why a row's formula could not be stated (a bug: tests hold it empty)
    window: Window | None = None
    lengths: list[int] = field(default_factory=list)  # the input's spatial lengths
    out: Any = None  # the first output, for the operators a layer's shape or field is read from
    field_in: ReceptiveField | None = None
    merged: list[tuple[int | None, ReceptiveField]] = field(default_factory=list)  # a merge's inputs: (producer, field)


@dataclass
class CallTrace:
    index: int
    record: LayerRecord
    parent: int | None
    events: list[Any] = field(default_factory=list)  # in call order: child call indices and OpTraces
    input_field: ReceptiveField | None = None
    outputs: list[tuple[list[int], int]] = field(default_factory=list)  # (shape, bytes per element)
    first_output: Any = None


_SHAPED_FIELDS = ("conv", "window", "upsample", "adaptive_pool")


class ExplainObserver(GraphOwners):
    """Rides on the summary's pass (a ``GraphOwners``, so in training it also sees what autograd saves)."""

    def start(self) -> None:
        super().start()
        self.calls: dict[int, CallTrace] = {}
        self.model_events: list[Any] = []
        self.saver: dict[int, int | None] = {}  # storage -> the innermost layer call open when it was saved
        self.saved_shape: dict[int, tuple[list[int], int]] = {}
        self._stack: list[int] = []
        self._producer: dict[int, tuple[torch.Tensor, int]] = {}
        self.model: nn.Module | None = None
        self.fields: Any = None

    def attach(self, model: nn.Module, fields: Any) -> None:
        self.model, self.fields = model, fields

    def _field(self, value: Any) -> ReceptiveField | None:
        tensors = _tensors(value)
        return describe(self.fields.get(tensors[0])) if tensors and self.fields is not None else None

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        key = storage_key(tensor)
        if key not in self.saver:
            self.saver[key] = self._stack[-1] if self._stack else None
            self.saved_shape[key] = (list(tensor.shape), tensor.element_size())
        return super().pack(tensor)

    def layer_opened(self, index: int, record: LayerRecord, args: tuple) -> None:
        super().layer_opened(index, record, args)
        parent = self._stack[-1] if self._stack else None
        self.calls[index] = CallTrace(index, record, parent, input_field=self._field(args))
        (self.calls[parent].events if parent is not None else self.model_events).append(index)
        self._stack.append(index)

    def layer_closed(self, index: int, record: LayerRecord, output: Any) -> None:
        super().layer_closed(index, record, output)
        self._stack.pop()
        trace = self.calls[index]
        outputs = _tensors(output)
        trace.outputs = [(list(t.shape), t.element_size()) for t in outputs]
        trace.first_output = outputs[0] if outputs else None
        for t in outputs:
            self._producer[id(t)] = (t, index)

    def _made_by(self, t: torch.Tensor) -> int | None:
        entry = self._producer.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def operator(self, func: Any, rule: Any, args: Sequence[Any], kwargs: dict, out: Any, open_layers: Sequence[int]) -> None:
        super().operator(func, rule, args, kwargs, out, open_layers)
        name = f"{func.namespace}::{func.overloadpacket.__name__}"
        trace = OpTrace(name, rule, 0, 0)
        if rule is not None and rule.cost is not None:
            cost = rule.cost(args, kwargs, out)
            trace.macs, trace.flops = cost.macs, cost.flops
            try:
                trace.formula = explain_call(rule, args, kwargs, out)
            except Exception as error:  # noqa: BLE001 - said in the explanation; a test keeps the zoo free of it
                trace.problem = f"its formula could not be stated: {type(error).__name__}: {error}"
        if rule is not None and rule.field in _SHAPED_FIELDS:
            outputs = _tensors(out)
            trace.out = outputs[0] if outputs else None
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            trace.window = window_of(rule, args, kwargs, out) if rule.window is not None else None
            if x is not None:
                axes = trace.window.axes if trace.window is not None else max(x.dim() - 2, 0)
                trace.lengths = [int(n) for n in x.shape[x.dim() - axes:]] if axes else []
                trace.field_in = self._field(x)
        elif rule is not None and rule.field in ("pointwise", "concat"):
            inputs = [t for t in _tensors([*args, *kwargs.values()]) if self.fields is not None and self.fields.get(t) is not None]
            if len(inputs) > 1 or (rule.field == "concat" and inputs):
                trace.merged = [(self._made_by(t), describe(self.fields.get(t))) for t in inputs]
                outputs = _tensors(out)
                trace.out = outputs[0] if outputs else None
        (self.calls[open_layers[-1]].events if open_layers else self.model_events).append(trace)

    def saved_by_call(self) -> tuple[Counter, dict[int | None, list[tuple[list[int], int, int]]]]:
        """Bytes of activations autograd saved, by the layer call that saved each storage first."""
        activations = self._activation_storages()
        totals: Counter = Counter()
        tensors: dict[int | None, list[tuple[list[int], int, int]]] = {}
        for key, nbytes in activations.items():
            owner = self.saver.get(key)
            totals[owner] += nbytes
            shape, size = self.saved_shape.get(key, ([], 1))
            tensors.setdefault(owner, []).append((shape, size, nbytes))
        return totals, tensors


# ---------------------------------------------------------------------------------------
# Parameters, from the module


def _kernel(f: Any, kernel: Sequence[int]) -> list[Expr]:
    return [f(f"k_{a.lower()}", k) for a, k in zip(axis_names(len(kernel)), kernel)]


def _conv_params(m: nn.Module) -> Expr | None:
    """k_h·k_w·(C_in/g)·C_out + C_out (transposed: the weight is [C_in, C_out/g, k...])."""
    f = EXPLAIN
    kernel = _kernel(f, list(m.weight.shape[2:]))
    g = f("g", m.groups)
    c_in, c_out = f("C_in", m.in_channels), f("C_out", m.out_channels)
    weights = f.product([*kernel, f.exact(c_out, g), c_in] if m.transposed else [*kernel, f.exact(c_in, g), c_out])
    return weights + c_out if m.bias is not None else weights


def _linear_params(m: nn.Module) -> Expr:
    """C_in·C_out + C_out."""
    f = EXPLAIN
    c_out = f("C_out", m.out_features)
    weights = f("C_in", m.in_features) * c_out
    return weights + c_out if m.bias is not None else weights


def _norm_params(m: nn.Module) -> Expr | None:
    """γ and β, one each per channel: 2·C (layer norm: 2·d over the normalised shape)."""
    f = EXPLAIN
    if isinstance(m, nn.LayerNorm):
        size = f("d", int(torch.Size(m.normalized_shape).numel()))
    else:
        size = f("C", m.num_channels if isinstance(m, nn.GroupNorm) else m.num_features)
    if getattr(m, "weight", None) is None:
        return None
    return 2 * size if getattr(m, "bias", None) is not None else size


def _embedding_params(m: nn.Module) -> Expr:
    """One row of d per token of the vocabulary: V·d."""
    return EXPLAIN("V", m.num_embeddings) * EXPLAIN("d", m.embedding_dim)


def _attention_params(m: nn.Module) -> Expr | None:
    """The query, key and value projections in one: 3·d·d weights + 3·d biases (out_proj is a child)."""
    if not getattr(m, "_qkv_same_embed_dim", False) or m.bias_k is not None:
        return None
    d = EXPLAIN("d", m.embed_dim)
    weights = 3 * d * d
    return weights + 3 * d if m.in_proj_bias is not None else weights


# A module's own parameters (not its children's) by kind; the generic |name| sum otherwise.
PARAMETER_FORMULAS: list[tuple[type, Callable[[nn.Module], Expr | None]]] = [
    (nn.modules.conv._ConvNd, _conv_params),
    (nn.Linear, _linear_params),
    (nn.modules.batchnorm._NormBase, _norm_params),
    (nn.LayerNorm, _norm_params),
    (nn.GroupNorm, _norm_params),
    (nn.Embedding, _embedding_params),
    (nn.MultiheadAttention, _attention_params),
]


def _own_parameters(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return [(n, p) for n, p in module.named_parameters(recurse=False)]


def _own_formula(module: nn.Module) -> tuple[Expr | None, str]:
    """The module's own parameters as a formula, and what to say about its buffers."""
    own = _own_parameters(module)
    numel = sum(p.numel() for _, p in own)
    formula: Expr | None = None
    for kind, rule in PARAMETER_FORMULAS:
        if isinstance(module, kind):
            try:
                formula = rule(module)
            except (AttributeError, TypeError, ValueError):
                formula = None
            break
    if formula is None or formula.value != numel:  # an unusual subclass: name its tensors instead
        formula = EXPLAIN.total([EXPLAIN.elements(n, p) for n, p in own]) if own else None
    note = ""
    buffers = [(n, b) for n, b in module.named_buffers(recurse=False) if b is not None and b.is_floating_point()]
    if buffers:
        count = sum(b.numel() for _, b in buffers)
        names = " and ".join(n for n, _ in buffers)
        note = f"{names} ({count:,} values) are buffers: state, not parameters"
    return formula, note


def _params_quantity(module: nn.Module | None, record_params: int, name: str) -> Quantity:
    q = Quantity("params", "parameters", record_params)
    if module is None:
        q.notes.append("the module is not at hand: the count is the summary's")
        return q
    children = list(module.named_children())
    formula, note = _own_formula(module)
    if note:
        q.notes.append(note)
    if not children:
        if formula is not None:
            q.formula, q.numbers, q.bindings = formula.text(), formula.numbers(), formula.bindings()
        else:
            q.notes.append("it holds no parameters")
        return q
    seen: dict[int, str] = {}
    for child_name, child in children:
        child_name = symbol_name(f"{name}.{child_name}" if name else child_name)
        tensors = {id(p): p for p in child.parameters()}
        tied = [k for k in tensors if k in seen]
        value = sum(p.numel() for k, p in tensors.items() if k not in seen)
        part = Term(child_name, value, kind=type(child).__name__)
        if tied:
            shared = sum(tensors[k].numel() for k in tied)
            part.note = f"{shared:,} tied to {seen[tied[0]]}, counted there once"
        for k in tensors:
            seen.setdefault(k, child_name)
        q.parts.append(part)
    own_new = [(n, p) for n, p in _own_parameters(module) if id(p) not in seen]
    if own_new:
        if formula is not None and len(own_new) == len(_own_parameters(module)):
            q.parts.append(Term.of("own", formula))
        else:
            q.parts.append(Term("own", sum(p.numel() for _, p in own_new)))
    _sum_of_parts(q)
    return q


# ---------------------------------------------------------------------------------------
# MACs and FLOPs, from the operators' rows


def symbol_name(name: str) -> str:
    """A layer's name as a symbol of a sum: '[0]' for a name that starts with a digit, which would read as a number."""
    return f"[{name}]" if name[:1].isdigit() else name


def _labels(events: Sequence[Any], calls: dict[int, CallTrace], parent_name: str) -> list[str]:
    """A label per event: the child's name (as the summary prints it), the operator's; repeats numbered."""
    raw = [symbol_name(calls[e].record.name) if isinstance(e, int) else e.op for e in events]
    seen: Counter = Counter()
    out = []
    for label in raw:
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} (call {seen[label]})")
    return out


def _op_term(trace: OpTrace, label: str, key: str) -> Term | None:
    """The operator's formula for MACs or FLOPs; None for a rule that says it does nothing."""
    value = getattr(trace, key)
    if trace.rule is None:
        return Term(label, 0, note=f"{trace.op}: {NO_RULE}")
    if trace.formula is None:
        note = f"{trace.op}: {trace.problem or NO_FORMULA}"
        return Term(label, value, note=note) if value or not trace.rule.formula else None
    expr = getattr(trace.formula, key)
    if expr.value == 0:
        return None
    return Term.of(label, expr, trace.rule.about)


def _sum_of_parts(q: Quantity) -> None:
    """A sum's formula: its labelled parts that are not zero, and their values."""
    nonzero = [p for p in q.parts if p.value]
    if nonzero:
        q.formula = " + ".join(p.label for p in nonzero)
        q.numbers = " + ".join(number_text(p.value) for p in nonzero)
        q.bindings = {p.label: p.value for p in nonzero}
    total = sum(p.value for p in q.parts)
    if total != q.value:
        q.notes.append(f"the parts add up to {total:,}, not {q.value:,}")


def _cost_quantity(key: str, value: int, events: Sequence[Any], calls: dict[int, CallTrace], name: str, leaf: bool) -> Quantity:
    unit = "multiply-accumulates" if key == "macs" else "floating-point operations"
    q = Quantity(key, unit, value)
    labels = _labels(events, calls, name)
    for event, label in zip(events, labels):
        if isinstance(event, int):
            q.parts.append(Term(label, getattr(calls[event].record, key), kind=calls[event].record.type))
        else:
            term = _op_term(event, label, key)
            if term is not None:
                term.kind = "operator"
                q.parts.append(term)
    single = [p for p in q.parts if p.value or p.note]
    if leaf and len(single) == 1 and single[0].formula is not None and single[0].value == value:
        term = single[0]
        q.formula, q.numbers, q.bindings, q.operator = term.formula, term.numbers, term.bindings, term.label
        if term.note:
            q.notes.append(term.note)
        q.parts = []
        return q
    if not q.parts and value == 0:
        q.notes.append("none of its operators multiply-accumulates" if key == "macs" else "its operators compute nothing")
        return q
    if leaf:
        q.notes += [p.note for p in q.parts if p.note and p.formula is None]
    _sum_of_parts(q)
    return q


# ---------------------------------------------------------------------------------------
# Shapes and receptive fields, from the operator that made the output


def _maker(trace: CallTrace, calls: dict[int, CallTrace]) -> OpTrace | None:
    """The operator of this call whose result is the call's output (a conv's, a pool's)."""
    for e in trace.events:
        if isinstance(e, OpTrace) and e.out is not None and e.out is trace.first_output:
            return e
    return None


def _shape_quantity(trace: CallTrace, calls: dict[int, CallTrace]) -> Quantity:
    record = trace.record
    q = Quantity("output_shape", "elements per axis", record.output_shape)
    maker = _maker(trace, calls)
    out_shape = list(trace.first_output.shape) if trace.first_output is not None else None
    if maker is not None and maker.rule is not None and out_shape is not None:
        axes = len(maker.lengths)
        names = axis_names(axes)
        produced = out_shape[len(out_shape) - axes:] if axes else []
        if maker.window is not None and maker.lengths:
            for i, (name, length) in enumerate(zip(names, maker.lengths)):
                result = output_length(maker.window, i, length, name)
                term = Term.of(name + "_out", result.formula, result.note)
                if term.value != produced[i]:
                    term.note = f"the formula gives {term.value}, PyTorch made {produced[i]}"
                q.axes.append(term)
            q.operator = maker.op
        elif maker.rule.field == "upsample" and maker.lengths:
            for name, length, made in zip(names, maker.lengths, produced):
                if length and made % length == 0:
                    q.axes.append(Term.of(name + "_out", EXPLAIN(name, length) * EXPLAIN("σ", made // length), "σ: the scale factor"))
                else:
                    q.axes.append(Term(name + "_out", made, note="the size asked for (not a whole multiple of the input)"))
            q.operator = maker.op
        elif maker.rule.field == "adaptive_pool":
            q.notes.append(
                "adaptive pooling: the output size is the one asked for; output i pools inputs ⌊i·H/H_out⌋ to ⌈(i + 1)·H/H_out⌉ − 1"
            )
    if not q.axes and not q.notes and record.type.startswith("Adaptive"):
        # an adaptive pool to 1×1 runs as a mean (or amax), so no pooling operator made the output
        q.notes.append("adaptive pooling: the output size is the one asked for")
    if not q.axes and not q.notes and record.output_shape == record.input_shape:
        q.notes.append("the same as its input")
    return q


def _field_value(rf: ReceptiveField | None) -> Any:
    return rf.to_dict() if rf is not None else None


def _steps(maker: OpTrace, out: ReceptiveField) -> list[Term]:
    """r_out = r_in + (k − 1)·d·j_in and j_out = j_in·s along each axis, checked against the engine."""
    rf_in = maker.field_in
    if maker.window is None or maker.window.transposed or rf_in is None or not rf_in.is_window or not out.is_window:
        return []
    if len(rf_in.size) != maker.window.axes or any(j <= 0 for j in rf_in.stride):
        return []
    terms = []
    for i, name in enumerate(axis_names(maker.window.axes)):
        step = field_step(maker.window, i, rf_in.size[i], rf_in.stride[i])
        size, stride = Term.of(f"{name}: r_out", step.size), Term.of(f"{name}: j_out", step.stride)
        if (size.value, stride.value) != (out.size[i], out.stride[i]):
            return []  # not one window after another (a layer whose field is no single step): the engine's value stands
        terms += [size, stride]
    return terms


def _union(merge: OpTrace, labels: dict[int | None, str]) -> list[Term]:
    """The inputs' fields of a residual addition and their union, per axis:
    max(r_i − P_i) + max(P_i), the extent of the windows [−P_i, r_i − P_i − 1] together."""
    fields = [rf for _, rf in merge.merged]
    if len(fields) < 2 or not all(rf is not None and rf.is_window for rf in fields):
        return []
    if len({rf.stride for rf in fields}) != 1:
        return []
    terms = []
    for number, (producer, rf) in enumerate(merge.merged, 1):
        terms.append(Term(f"{number}: {labels.get(producer, 'the input')}", rf.to_dict(),
                          bindings={f"r_{number}": list(rf.size), f"P_{number}": list(rf.padding)}))  # fmt: skip
    for i, name in enumerate(axis_names(len(fields[0].size))):
        f = EXPLAIN
        sizes = [f(f"r_{n}", rf.size[i]) for n, rf in enumerate(fields, 1)]
        pads = [f(f"P_{n}", rf.padding[i]) for n, rf in enumerate(fields, 1)]
        union = Max([r - p for r, p in zip(sizes, pads)]) + Max(pads)
        terms.append(Term.of(f"{name}: union", union))
    return terms


def _field_quantity(trace: CallTrace, calls: dict[int, CallTrace], name: str) -> Quantity | None:
    rf = trace.record.receptive_field
    if rf is None:
        return None
    q = Quantity("receptive_field", "input pixels per axis", _field_value(rf))
    maker = _maker(trace, calls)
    if trace.record.leaf:
        if maker is not None and maker.window is not None:
            q.axes = _steps(maker, rf)
            q.operator = maker.op
            if not q.axes:
                q.notes.append("the engine's field: this window is not one step of the field (Araujo et al. 2019)")
        elif trace.input_field == rf:
            # a linear layer after global pooling mixes everything, but its input already saw everything
            q.notes.append("unchanged: its input already sees the whole input" if rf.kind == "whole_input"
                           else "unchanged: its operators act position by position")  # fmt: skip
        return q
    own = [e for e in trace.events if isinstance(e, OpTrace) and e.merged]
    events = trace.events
    labels = dict(zip([e if isinstance(e, int) else None for e in events], _labels(events, calls, name)))
    labels.pop(None, None)
    for merge in own:
        if merge.rule is not None and merge.rule.field == "concat":
            for number, (producer, part) in enumerate(merge.merged, 1):
                q.parts.append(Term(labels.get(producer, "input"), _field_value(part)))
            q.notes.append("a concatenation keeps each branch's field, side by side in the channels")
        else:
            union = _union(merge, labels)
            if union:
                q.parts += [t for t in union if not t.label.endswith("union")]
                q.axes += [t for t in union if t.label.endswith("union")]
                q.operator = merge.op
                q.notes.append(f"{merge.op} merges the fields: the output sees the union of its inputs' windows")
    return q


# ---------------------------------------------------------------------------------------
# Memory


def _output_memory(trace: CallTrace) -> Quantity:
    q = Quantity("output_bytes", "bytes", sum(_numel(s) * b for s, b in trace.outputs))
    f = EXPLAIN
    terms = [f.elements("y", shape) * f("b", size) for shape, size in trace.outputs]
    if len(terms) == 1:
        q.formula, q.numbers, q.bindings = terms[0].text(), terms[0].numbers(), terms[0].bindings()
        q.notes.append("b: bytes per element")
    else:
        q.parts = [Term.of(f"output_{i}", t) for i, t in enumerate(terms, 1)]
        _sum_of_parts(q)
    return q


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _saved_quantity(
    index: int | None, events: Sequence[Any], calls: dict[int, CallTrace], name: str,
    totals: dict[int | None, int], tensors: dict[int | None, list[tuple[list[int], int, int]]],
) -> Quantity:  # fmt: skip
    """What autograd saves for backward while this call runs, each storage once (by its first saver)."""

    def within(i: int) -> int:
        return totals.get(i, 0) + sum(within(e) for e in calls[i].events if isinstance(e, int))

    value = within(index) if index is not None else sum(totals.values())
    q = Quantity("saved_bytes", "bytes", value)
    labels = _labels(events, calls, name)
    for event, label in zip(events, labels):
        if isinstance(event, int):
            q.parts.append(Term(label, within(event), kind=calls[event].record.type))
    f = EXPLAIN
    for number, (shape, size, nbytes) in enumerate(tensors.get(index, []), 1):
        expr = f.elements(f"t{number}", shape) * f("b", size)
        label = f"tensor_{number}"
        term = Term.of(label, expr) if expr.value == nbytes else Term(label, nbytes, note="a view's storage")
        q.parts.append(term)
    if len(q.parts) == 1 and q.parts[0].formula is not None:
        term = q.parts.pop()
        q.formula, q.numbers, q.bindings = term.formula, term.numbers, term.bindings
    elif q.parts:
        _sum_of_parts(q)
    else:
        q.notes.append("autograd saves nothing new here")
    return q


# ---------------------------------------------------------------------------------------
# Putting it together


def _explain_call(trace: CallTrace, observer: ExplainObserver, modules: dict[str, nn.Module], saved: Any, call: int) -> LayerExplanation:
    record = trace.record
    calls = observer.calls
    quantities = [
        _shape_quantity(trace, calls),
        _params_quantity(modules.get(record.name), record.params, record.name),
        _cost_quantity("macs", record.macs, trace.events, calls, record.name, record.leaf),
        _cost_quantity("flops", record.flops, trace.events, calls, record.name, record.leaf),
        _output_memory(trace),
    ]
    if saved is not None:
        quantities.append(_saved_quantity(trace.index, trace.events, calls, record.name, *saved))
    rf = _field_quantity(trace, calls, record.name)
    if rf is not None:
        quantities.append(rf)
    return LayerExplanation(record.name, record.type, record.depth, record.leaf, record.input_shape,
                            record.output_shape, quantities, call)  # fmt: skip


def _explain_model(summary: Summary, observer: ExplainObserver, saved: Any) -> LayerExplanation:
    model, calls, events = observer.model, observer.calls, observer.model_events
    quantities = [
        _params_quantity(model, summary.totals.params, ""),
        _cost_quantity("macs", summary.totals.macs, events, calls, "", False),
        _cost_quantity("flops", summary.totals.flops, events, calls, "", False),
    ]
    if saved is not None:
        quantities.append(_saved_quantity(None, events, calls, "", *saved))
    return LayerExplanation("", type(model).__name__ if model is not None else summary.model, 0, False,
                            summary.input_shape, summary.output_shape, quantities)  # fmt: skip


def _chosen(summary: Summary, names: Sequence[str] | None, depth: int | None) -> list[int]:
    """Indices of the layer calls to explain: each call of each name (and, with ``depth``, the
    calls that many levels below it), or every call down to ``depth`` (default 1)."""
    layers = summary.layers
    if not names:
        return [i for i, x in enumerate(layers) if x.depth <= (depth or 1)]
    known = {x.name for x in layers}
    chosen: list[int] = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; 'archscope summary {summary.model} --depth 9' lists them"
            raise ArchscopeError(f"{summary.model} has no layer named {name!r}{hint}")
        for i, x in enumerate(layers):
            if x.name == name or (depth and x.name.startswith(name + ".") and x.depth <= _depth_of(layers, name) + depth):
                if i not in chosen:
                    chosen.append(i)
    return sorted(chosen)


def _depth_of(layers: Sequence[LayerRecord], name: str) -> int:
    return next(x.depth for x in layers if x.name == name)


def build_explanation(summary: Summary, observer: ExplainObserver, names: Sequence[str] | None, depth: int | None) -> Explanation:
    """The explanation of the chosen layer calls of one pass that ``observer`` rode on."""
    modules = dict(observer.model.named_modules()) if observer.model is not None else {}
    train = summary.totals.training_memory is not None
    saved = observer.saved_by_call() if train else None
    chosen = _chosen(summary, names, depth)
    seen: Counter = Counter()
    calls_of = {}
    for i, x in enumerate(summary.layers):
        seen[x.name] += 1
        calls_of[i] = seen[x.name]
    layers = [_explain_call(observer.calls[i], observer, modules, saved, calls_of[i]) for i in chosen if i in observer.calls]
    whole = _explain_model(summary, observer, saved) if not names else None
    return Explanation(summary.model, summary.source, summary.input_shape, train, layers, whole)


def explain(
    model_or_name: Any,
    layers: Sequence[str] | None = None,
    *,
    depth: int | None = None,
    input_size: Any = None,
    batch_size: int = 1,
    train: bool = False,
    optimizer: str = "sgd",
    model_kwargs: dict[str, Any] | None = None,
) -> Explanation:
    """Each figure of ``layers`` (names as ``summary`` prints them; every child of the model by
    default, ``depth`` levels deep) as its formula with the layer's numbers in it."""
    from archscope.analysis.summary import summarize

    observer = ExplainObserver()
    summary = summarize(model_or_name, input_size, batch_size, train=train, optimizer=optimizer,
                        model_kwargs=model_kwargs, observers=[observer])  # fmt: skip
    return build_explanation(summary, observer, layers, depth)


def explain_summary(summary: Summary, layers: Sequence[str] | None, depth: int | None) -> Explanation:
    """``Summary.explain``: the same analysis once more, with the explaining observer on it."""
    if summary.rerun is None:
        raise ArchscopeError("this summary was not made by archscope.summarize(); call archscope.explain(model, ...)")
    observer = ExplainObserver()
    again = summary.rerun([observer])
    return build_explanation(again, observer, layers, depth)
