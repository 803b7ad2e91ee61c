"""The operator registry: everything archscope knows about an ATen operator, in one row.

Each row is keyed by the ``torch.ops.aten`` packet itself (``aten.convolution``), so a typo
fails when this module is imported, and holds these facts:

* ``cost``: MACs and FLOPs from the operator's arguments and output, shapes only, so it
  works on the meta device. The units are defined once in docs/counting.md: MACs are the
  multiply-accumulates of convolutions and matrix products, bias excluded; FLOPs are 2 x MACs
  plus every other operator. ``None`` means the operator never reaches the dispatcher (a
  composite that decomposes into others, listed only for its linearisation).
* ``formula``: the same cost rule, written once against a maker of quantities
  (``analysis.formula``) with the operator's arguments by name. Run with numbers it is the
  ``cost``; run with symbols it says itself (``archscope explain``): the formula, the values
  bound to its symbols, the value. Each rule sits under the decorator that registers its rows
  (``@op_rule("convolution", "_convolution", ...)``), as torch's ``register_flop_formula`` does.
* ``window``: for a convolution or a pooling, its kernel, stride, padding and dilation per
  axis (``analysis.windows``), from which the output length and the receptive-field step follow.
* ``field``: how a receptive field passes through it: the name of a rule registered with
  ``@field_rule`` in ``analysis.rf.rules`` (one module per kind), which the tracker
  (``analysis.rf.tracker``) applies to each call.
* ``weighted``: whether it applies learned weights (a step of the "weighted depth").
* ``linearise``: what the gradient measurement of receptive fields does with it
  (``analysis.rf.linearised``), which sees torch functions (``F.conv2d``) and finds their row by
  name (``functions`` adds the names a function goes by when they differ from the
  operator's): keep it, drop it (an activation or a normalisation becomes the identity), or
  replace it (a convolution sums its channels through a kernel of ones, a max pool becomes
  the average pool of the same geometry, its ``stand_in``).

An operator with no row is not guessed at: the summary lists it as uncounted. Users add rows
for their own operators with ``archscope.register_op`` (docs/counting.md, "Your own
operators"), as fvcore's ``set_op_handle`` and torch's ``register_flop_formula`` allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence, get_args

import torch
import torch.nn.functional as F

from archscope.analysis.compat import is_operator_packet, qualified_name
from archscope.analysis.formula import COUNT, EXPLAIN, CostFormula
from archscope.analysis.rf.rules import FIELD_RULES, field_rule_names
from archscope.analysis.windows import Window, axis_names, per_axis, pool_window

aten = torch.ops.aten


@dataclass(frozen=True)
class OpCost:
    """The cost of one operator call, in the two units of docs/counting.md."""

    macs: int
    flops: int


# cost(args, kwargs, out) -> OpCost: the form the analysis calls, and users write.
CostRule = Callable[[Sequence[Any], dict, Any], OpCost]
# formula(f, *args, result=out, **kwargs) -> f.cost(macs, flops): written once, run with
# numbers (the cost) or with symbols (its explanation); see analysis.formula.
Formula = Callable[..., Any]
# window(*args, result=out, **kwargs) -> Window: a convolution's or a pooling's geometry.
WindowRule = Callable[..., Window]

# The name of a receptive-field rule registered in analysis.rf.rules ("pointwise", "conv", "view", ...).
FieldRule = str
Linearise = Literal["keep", "identity", "ones_conv", "ones_conv_transposed", "avg_pool"]


@dataclass(frozen=True)
class OpRule:
    """One row of the registry."""

    packet: Any  # the torch.ops.<namespace>.<name> OpOverloadPacket
    cost: CostRule | None
    field: FieldRule = "pointwise"
    weighted: bool = False
    linearise: Linearise = "keep"
    formula: Formula | None = None  # the cost as a formula that can say itself (None: a user's plain cost)
    window: WindowRule | None = None
    stand_in: Callable[..., Any] | None = None  # linearise "avg_pool": what the linearised network runs instead
    functions: tuple[str, ...] = ()  # torch functions that run it under another name (F.threshold: _threshold)

    @property
    def name(self) -> str:
        return self.packet.__name__

    @property
    def about(self) -> str:
        """What the rule counts, in a line: its formula's docstring's first line."""
        doc = (getattr(self.formula, "__doc__", None) or "").strip()
        return doc.splitlines()[0] if doc else ""


REGISTRY: dict[Any, OpRule] = {}
# The rows by the names of the torch functions that run them (the gradient measurement's view):
# an ATen operator's own name, and the other names its row lists.
_BY_FUNCTION: dict[str, OpRule] = {}


def _packet(op: Any) -> Any:
    """The OpOverloadPacket of an operator given as a packet or one of its overloads."""
    packet = getattr(op, "overloadpacket", op)
    if not is_operator_packet(packet):
        raise TypeError(f"expected a torch.ops operator such as torch.ops.aten.mm, got {op!r}")
    return packet


def counting(formula: Formula) -> CostRule:
    """The cost rule (args, kwargs, out) -> OpCost that runs ``formula`` with numbers."""

    def cost(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
        macs, flops = formula(COUNT, *args, result=out, **(kwargs or {}))
        return OpCost(macs, flops)

    cost.__doc__ = formula.__doc__
    return cost


def register_op(
    op: Any,
    cost: CostRule | None,
    *,
    field: FieldRule = "pointwise",
    weighted: bool = False,
    linearise: Linearise = "keep",
    stand_in: Callable[..., Any] | None = None,
    functions: Sequence[str] = (),
    replace: bool = False,
    formula: Formula | None = None,
    window: WindowRule | None = None,
) -> OpRule:
    """Add a row for ``op`` (``torch.ops.mylib.fused_conv``, or an ATen operator).

    ``cost(args, kwargs, out)`` returns an ``OpCost`` from the call's arguments and result;
    it must use shapes only (the analysis runs on the meta device). Or give ``formula``
    instead (``cost=None``), a rule written against the makers of ``analysis.formula``, and
    ``archscope explain`` shows it; without one, explain says the operator is counted by its
    rule with no formula to show. ``field`` says how a receptive field passes through it: the
    name of a rule registered in ``analysis.rf.rules`` (``pointwise``, ``conv``, ``window``,
    ``matmul``, ``view``, ...). Registering an operator twice raises unless ``replace=True``, so two rules cannot silently
    disagree.
    """
    packet = _packet(op)
    if field not in FIELD_RULES:
        raise ValueError(f"unknown field rule {field!r}; one of: {', '.join(field_rule_names())}")
    if linearise not in get_args(Linearise):
        raise ValueError(f"unknown linearisation {linearise!r}; one of: {', '.join(get_args(Linearise))}")
    if cost is not None and not callable(cost):
        raise TypeError("cost must be a function (args, kwargs, out) -> OpCost, or None")
    if formula is not None and not callable(formula):
        raise TypeError("formula must be a function (f, *args, result, **kwargs) -> f.cost(macs, flops)")
    if packet in REGISTRY and not replace:
        raise ValueError(f"{packet} already has a rule; pass replace=True to change it")
    if linearise == "avg_pool" and not callable(stand_in):
        raise TypeError("linearise='avg_pool' needs stand_in, the average pool the linearised network runs instead")
    if cost is None and formula is not None:
        cost = counting(formula)
    rule = OpRule(packet, cost, field, weighted, linearise, formula, window, stand_in, tuple(functions))
    REGISTRY[packet] = rule
    if getattr(aten, packet.__name__, None) is packet:
        _BY_FUNCTION[packet.__name__] = rule
    for name in rule.functions:
        _BY_FUNCTION[name] = rule
    return rule


# Rows for other libraries' operators (torchvision::nms), registered when the library has
# registered the operator: archscope never imports torchvision to price it. The key is the
# qualified name, the value the formula and the row's flags; a test resolves every key with
# torchvision imported.
DEFERRED: dict[str, tuple[Formula, dict[str, Any]]] = {}


def rule_for(func: Any) -> OpRule | None:
    """The row for an operator overload (as the dispatcher hands it over), or None."""
    packet = getattr(func, "overloadpacket", func)
    rule = REGISTRY.get(packet)
    if rule is None and DEFERRED:
        qualified = qualified_name(packet)
        if qualified in DEFERRED:
            formula, flags = DEFERRED.pop(qualified)
            rule = register_op(packet, None, formula=formula, **flags)
    return rule


def explain_call(rule: OpRule, args: Sequence[Any], kwargs: dict, out: Any) -> CostFormula | None:
    """The row's formula for one call, its symbols bound to the call's values; None without one."""
    if rule.formula is None:
        return None
    return rule.formula(EXPLAIN, *args, result=out, **(kwargs or {}))


def window_of(rule: OpRule, args: Sequence[Any], kwargs: dict, out: Any) -> Window | None:
    """The row's window (kernel, stride, padding, dilation per axis) for one call; None without one."""
    if rule.window is None:
        return None
    return rule.window(*args, result=out, **(kwargs or {}))


def linearised_row(function_name: str) -> OpRule | None:
    """The row of the torch function called ``function_name`` (F.relu -> aten.relu, F.threshold's
    ``_threshold`` -> aten.threshold), for the gradient measurement's linearisation; None for
    a function no row describes (kept as it is)."""
    return _BY_FUNCTION.get(function_name)


# ---------------------------------------------------------------------------------------
# Registering rows.


def _row(
    names: str | Sequence[str],
    formula: Formula | None,
    field: FieldRule = "pointwise",
    *,
    weighted: bool = False,
    linearise: Linearise = "keep",
    window: WindowRule | None = None,
    optional: bool = False,
    stand_in: Callable[..., Any] | None = None,
    functions: Sequence[str] = (),
    namespace: Any = aten,
) -> None:
    """Register each named ATen operator, and its in-place variant where one exists.

    ``optional``: the operator exists only in some PyTorch versions; elsewhere a missing name
    is a typo and fails here, at import.
    """
    cost = counting(formula) if formula is not None else None
    flags = dict(field=field, weighted=weighted, linearise=linearise, formula=formula, window=window,
                 stand_in=stand_in)  # fmt: skip
    for name in [names] if isinstance(names, str) else names:
        if optional and not hasattr(namespace, name):
            continue
        register_op(getattr(namespace, name), cost, functions=functions, **flags)
        inplace = name + "_"
        if not name.endswith("_") and name in _HAS_INPLACE and hasattr(namespace, inplace):
            register_op(getattr(namespace, inplace), cost, **flags)


def _optional_rows(names: Sequence[str], formula: Formula | None, field: FieldRule = "pointwise", **flags: Any) -> None:
    """Rows for operators that only some PyTorch versions have."""
    _row(names, formula, field, optional=True, **flags)


def op_rule(*names: str, field: FieldRule = "pointwise", **flags: Any) -> Callable[[Formula], Formula]:
    """Register the decorated formula as the rule of the named ATen operators (``_row``'s flags)."""

    def register(formula: Formula) -> Formula:
        _row(list(names), formula, field, **flags)
        return formula

    return register


# ---------------------------------------------------------------------------------------
# Small pieces of the rules.


def first_tensor(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) and out else out


def free(f: Any, *args: Any, result: Any = None, **kwargs: Any) -> Any:
    """Moves, views or allocates data: 0 FLOPs."""
    return f.cost(0, 0)


def per_output(flops: int) -> Formula:
    """``flops`` FLOPs per element of the (first) result."""

    def rule(f: Any, *args: Any, result: Any = None, **kwargs: Any) -> Any:
        y = f.elements("y", first_tensor(result))
        return f.cost(0, y if flops == 1 else flops * y)

    rule.__doc__ = f"{flops} FLOP{'s' if flops != 1 else ''} per output element."
    return rule


def per_input(flops: int) -> Formula:
    """``flops`` FLOPs per element of the first argument (reductions)."""

    def rule(f: Any, x: Any = None, *args: Any, result: Any = None, **kwargs: Any) -> Any:
        elements = f.elements("x", x)
        return f.cost(0, elements if flops == 1 else flops * elements)

    rule.__doc__ = f"{flops} FLOP{'s' if flops != 1 else ''} per input element."
    return rule


def _kernel_symbols(f: Any, kernel: Sequence[int]) -> list[Any]:
    """k_h, k_w (k_l for one axis, k_d, k_h, k_w for three), bound to the kernel's sizes."""
    return [f(f"k_{name.lower()}", k) for name, k in zip(axis_names(len(kernel)), kernel)]


def _positions(f: Any, shape: Sequence[int], suffix: str) -> list[Any]:
    """The spatial sizes of a [N, C, ...] shape as symbols: H_out, W_out (or H, W)."""
    spatial = list(shape[2:])
    return [f(name + suffix, n) for name, n in zip(axis_names(len(spatial)), spatial)]


# ---------------------------------------------------------------------------------------
# The rows. Each rule is a small pure function of shapes (docs/counting.md states each one);
# in-place (relu_) variants share their operator's row (see _row).


_ACTIVATIONS = [
    "relu", "hardtanh", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "sigmoid", "tanh", "hardswish", "hardsigmoid", "softplus", "softshrink", "hardshrink",
    "rrelu_with_noise", "_prelu_kernel",
]  # fmt: skip
_ARITHMETIC = [
    "add", "sub", "rsub", "mul", "div", "neg", "abs", "reciprocal", "pow", "sqrt", "rsqrt", "exp", "exp2", "expm1",
    "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "erf",
    "erfc", "erfinv", "sign", "sgn", "floor", "ceil", "round", "trunc", "frac", "remainder", "fmod", "floor_divide",
    "clamp", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin", "where", "addcmul", "addcdiv", "lerp",
    "square", "xlogy", "hypot", "nan_to_num", "masked_fill", "logit", "copysign",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite",
    "native_dropout", "bernoulli",
]  # fmt: skip
# Operators whose in-place variant (name_) exists and should share the row.
_HAS_INPLACE = set(_ACTIVATIONS + _ARITHMETIC) | {"threshold", "fill", "zero", "copy", "index_put", "masked_scatter", "scatter", "scatter_add", "index_fill", "cumsum", "uniform", "normal", "exponential", "random",
    "as_strided", "squeeze", "unsqueeze", "transpose", "t", "swapaxes", "detach", "tril", "triu"}

_row(_ACTIVATIONS, per_output(1), linearise="identity")
# F.threshold and F.logsigmoid are torch functions named otherwise than their operators.
_row("threshold", per_output(1), linearise="identity", functions=["_threshold"])
_row("log_sigmoid_forward", per_output(1), linearise="identity", functions=["logsigmoid", "log_sigmoid"])
_row("glu", per_output(1), "glu", linearise="identity")
_row(_ARITHMETIC, per_output(1))


# Weighted products.


def _conv_window(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, transposed: Any = False,
    output_padding: Any = 0, groups: Any = 1, *_: Any, result: Any = None, **__: Any,
) -> Window:  # fmt: skip
    axes = weight.dim() - 2
    return Window(
        kernel=[int(k) for k in weight.shape[2:]],
        stride=per_axis(stride, axes),
        padding=per_axis(padding, axes),
        dilation=per_axis(dilation, axes),
        transposed=bool(transposed),
        output_padding=per_axis(output_padding, axes),
    )


@op_rule("convolution", "_convolution", field="conv", weighted=True, window=_conv_window)
def convolution(
    f: Any, input: Any, weight: Any, bias: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
    transposed: Any = False, output_padding: Any = 0, groups: Any = 1, *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """(C_in/g)·k_h·k_w products per output (transposed: (C_out/g)·k_h·k_w per input); a bias adds one.

    A transposed convolution scatters instead of gathering: its weight is stored
    [C_in, C_out / groups, k...] and each input element is multiplied into (C_out / groups) x
    kernel outputs (Dumoulin & Visin 2016, section 4). The bias adds one per output.
    """
    kernel = _kernel_symbols(f, weight.shape[2:])
    g = f("g", groups)
    laid_out = input.dim() == weight.dim() and result.dim() == weight.dim()  # batched [N, C, ...]
    if transposed:
        seen = [f("N", input.shape[0]), *_positions(f, input.shape, ""), f("C_in", input.shape[1])] if laid_out else [f.elements("x", input)]
        macs = f.product([*seen, *kernel, f.exact(f("C_out", result.shape[1] if laid_out else weight.shape[1] * groups), g)])
    else:
        made = [f("N", result.shape[0]), *_positions(f, result.shape, "_out"), f("C_out", result.shape[1])] if laid_out else [f.elements("y", result)]
        macs = f.product([*made, *kernel, f.exact(f("C_in", input.shape[1] if laid_out else weight.shape[1] * groups), g)])
    flops = 2 * f.named("MACs", macs)
    if bias is not None:
        outputs = [f("N", result.shape[0]), *_positions(f, result.shape, "_out"), f("C_out", result.shape[1])]
        flops = flops + (f.product(outputs) if laid_out and not transposed else f.elements("y", result))
    return f.cost(macs, flops)


@op_rule("addmm", field="biased_matmul", weighted=True)
def addmm(f: Any, bias: Any, m1: Any, m2: Any, *_: Any, result: Any, **__: Any) -> Any:
    """A linear layer with bias: N·C_in·C_out multiply-accumulates, one add per output for the bias."""
    n, c_out = f("N", m1.shape[0]), f("C_out", m2.shape[1])
    macs = n * f("C_in", m1.shape[1]) * c_out
    return f.cost(macs, 2 * f.named("MACs", macs) + n * c_out)


@op_rule("mm", field="matmul", weighted=True)
def mm(f: Any, a: Any, b: Any, *_: Any, result: Any, **__: Any) -> Any:
    """(M×K)·(K×N): M·K·N multiply-accumulates."""
    macs = f("M", a.shape[0]) * f("K", a.shape[1]) * f("N", b.shape[1])
    return f.cost(macs, 2 * f.named("MACs", macs))


def _bmm_macs(f: Any, a: Any, b: Any) -> Any:
    return f("B", a.shape[0]) * f("M", a.shape[1]) * f("K", a.shape[2]) * f("N", b.shape[2])


@op_rule("bmm", field="matmul", weighted=True)
def bmm(f: Any, a: Any, b: Any, *_: Any, result: Any, **__: Any) -> Any:
    """B matrix products (M×K)·(K×N): B·M·K·N multiply-accumulates."""
    macs = _bmm_macs(f, a, b)
    return f.cost(macs, 2 * f.named("MACs", macs))


@op_rule("baddbmm", field="biased_matmul", weighted=True)
def baddbmm(f: Any, c: Any, a: Any, b: Any, *_: Any, result: Any, **__: Any) -> Any:
    """c + a·b over B matrices: B·M·K·N multiply-accumulates, one add per output."""
    macs = _bmm_macs(f, a, b)
    return f.cost(macs, 2 * f.named("MACs", macs) + f.elements("y", result))


def _attention_terms(f: Any, query: Any, key: Any, value: Any) -> tuple[Any, Any]:
    """The MACs of Q·Kᵀ and P·V, and the number of scores, per batch and head."""
    lead = list(query.shape[:-2])
    names = ("N", "h") if len(lead) == 2 else ("N",) if len(lead) == 1 else tuple(f"B{i}" for i in range(len(lead)))
    batch = [f(name, n) for name, n in zip(names, lead)]
    length, source = f("L", query.shape[-2]), f("S", key.shape[-2])
    embed, values = f("E", query.shape[-1]), f("E_v", value.shape[-1])
    macs = f.product([*batch, length * source * embed + length * source * values])
    scores = f.product([*batch, length, source])
    return macs, scores


@op_rule(
    "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
    field="attention", weighted=True, optional=True,
)  # fmt: skip
def attention(f: Any, query: Any, key: Any, value: Any, *_: Any, result: Any, **__: Any) -> Any:
    """Fused attention: Q·Kᵀ is L·S·E, P·V is L·S·E_v per batch and head; 5 per score for the scale and softmax.

    q [..., L, E], k [..., S, E], v [..., S, E_v]; softmax 4 FLOPs per score (as _softmax),
    the scale one. The unfused path (``_scaled_dot_product_attention_math``) runs the same
    products as ``bmm``.
    """
    macs, scores = _attention_terms(f, query, key, value)
    return f.cost(macs, 2 * f.named("MACs", macs) + 5 * scores)


@op_rule("_grouped_mm", field="matmul", weighted=True, optional=True)
def grouped_mm(f: Any, a: Any, b: Any, offs: Any = None, bias: Any = None, *_: Any, result: Any, **__: Any) -> Any:
    """Mixture-of-experts products, G matrices at once: M·K·N multiply-accumulates (G·M·K·N for two stacks).

    aten::_grouped_mm's layouts (its meta function, ``_create_grouped_mm_output_tensor``):
    [G, M, K] x [G, K, N] is G products; [M, K] x [G, K, N] gives each group of rows (split by
    ``offs``) its expert's matrix, so every row meets one matrix: M·K·N; [G, M, K] x [K, N]
    splits the columns, M·K·N with N all the columns; [M, K] x [K, N] with ``offs`` splits
    the contraction (a weight gradient), M·K·N with K all of it. The offsets' values are
    not needed: every row, column or step of the contraction belongs to exactly one group.
    """
    if a.dim() == 3 and b.dim() == 3:
        macs = f("G", a.shape[0]) * f("M", a.shape[1]) * f("K", a.shape[2]) * f("N", b.shape[2])
    else:
        rows = a.shape[0] if a.dim() == 2 else a.shape[1]
        macs = f("M", rows) * f("K", a.shape[-1]) * f("N", b.shape[-1])
    flops = 2 * f.named("MACs", macs)
    return f.cost(macs, flops + f.elements("y", result) if bias is not None else flops)


# Normalisations: identities in the linearised network.


@op_rule("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_functional", linearise="identity")
def batch_norm(f: Any, input: Any, weight: Any = None, bias: Any = None, *rest: Any, result: Any = None, **__: Any) -> Any:
    """Inference: the statistics fold into one scale and one shift, 2 per element; training: 4, also the batch mean and variance."""
    training = next((a for a in rest[2:] if isinstance(a, bool)), False)  # after running_mean, running_var
    return f.cost(0, (4 if training else 2) * f.elements("x", input))


_row("_native_batch_norm_legit_no_training", per_input(2), linearise="identity")
_optional_rows(["_batch_norm_with_update", "_batch_norm_with_update_functional"], per_input(4), linearise="identity")
_optional_rows(["_batch_norm_no_update"], per_input(2), linearise="identity")
# Layer, group and instance norm always compute their statistics: 4 per element.
_row(["native_layer_norm", "native_group_norm"], per_input(4), linearise="identity")
_optional_rows(["_fused_rms_norm"], per_input(4), linearise="identity")


# Pooling.


def _max_pool_window(
    x: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1, ceil_mode: Any = False,
    *_: Any, result: Any = None, **__: Any,
) -> Window:  # fmt: skip
    return pool_window(kernel_size, stride, padding, dilation, ceil_mode, axes=max(x.dim() - 2, 1))


def _avg_pool_window(
    x: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: Any = False, *_: Any, result: Any = None,
    **__: Any,
) -> Window:  # fmt: skip
    return pool_window(kernel_size, stride, padding, None, ceil_mode, axes=max(x.dim() - 2, 1))


def _window_flops(f: Any, kernel: Sequence[int], outputs: Any) -> Any:
    """One comparison (max) or addition (average) per window element per output: k_h·k_w·|y|."""
    return f.product([*_kernel_symbols(f, kernel), f.elements("y", outputs)])


@op_rule("max_pool2d_with_indices", "max_pool3d_with_indices", field="window", window=_max_pool_window)
def max_pool(f: Any, x: Any, kernel_size: Any, *_: Any, result: Any, **__: Any) -> Any:
    """One comparison per window element per output."""
    kernel = pool_window(kernel_size, axes=max(x.dim() - 2, 1)).kernel
    return f.cost(0, _window_flops(f, kernel, first_tensor(result)))


@op_rule("avg_pool2d", "avg_pool3d", field="window", window=_avg_pool_window)
def avg_pool(f: Any, x: Any, kernel_size: Any, *_: Any, result: Any, **__: Any) -> Any:
    """One addition per window element per output."""
    kernel = pool_window(kernel_size, axes=max(x.dim() - 2, 1)).kernel
    return f.cost(0, _window_flops(f, kernel, first_tensor(result)))


_row(["_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_max_pool2d", "adaptive_max_pool3d"], per_input(1),
     "adaptive_pool")  # fmt: skip

# Reductions: each input element is added (or compared) once.
_row(["mean", "sum", "amax", "amin", "max", "min", "prod", "any", "all", "argmax", "argmin", "logsumexp"], per_input(1),
     "reduction")  # fmt: skip
# Mean, subtract, square, accumulate: 4 per input element for a variance or deviation.
_row(["var", "std", "var_mean", "std_mean"], per_input(4), "reduction")
# Square (or |x|^p) and accumulate: 2 per input element.
_row("linalg_vector_norm", per_input(2), "reduction")
# Weight normalisation, w = g v / ||v|| (Salimans & Kingma 2016; wav2vec2's positional conv):
# square and accumulate for the norm, then one multiply per element of v.
_row("_weight_norm_interface", per_input(3))
_row("cumsum", per_input(1), "cumsum")
# Softmax: subtract the max, exponentiate, sum, divide.
_row(["_softmax", "_log_softmax", "_safe_softmax"], per_output(4), "softmax")
_row(["topk", "sort", "_unique2", "unique_dim", "unique_consecutive", "unique_dim_consecutive"], per_input(1), "global")
# A histogram (a mixture of experts counting the tokens routed to each expert): one binning per input element.
_row("histc", per_input(1), "global")


# Interpolation (docs/counting.md: a weighted sum of 2^axes or 4^axes neighbours per output).


def _upsample(kind: str, axes: int) -> Formula:
    """Nearest copies (0 FLOPs); linear interpolation weighs 2 inputs per axis, cubic 4, each a multiply and an add."""
    if kind == "nearest":
        return free
    points = (2 if kind == "linear" else 4) ** axes
    rule = per_output(2 * points - 1)
    rule.__doc__ = f"A weighted sum of {points} inputs per output: {points} multiplies and {points - 1} adds."
    return rule


_row(["upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
      "_upsample_nearest_exact2d", "_upsample_nearest_exact3d"], _upsample("nearest", 0), "upsample")  # fmt: skip
_row("upsample_linear1d", _upsample("linear", 1), "upsample")
_row(["upsample_bilinear2d", "_upsample_bilinear2d_aa"], _upsample("linear", 2), "upsample")
_row("upsample_trilinear3d", _upsample("linear", 3), "upsample")
_row(["upsample_bicubic2d", "_upsample_bicubic2d_aa"], _upsample("cubic", 2), "upsample")


@op_rule("grid_sampler_2d", "grid_sampler_3d", field="unknown")
def grid_sampler(f: Any, input: Any, grid: Any, interpolation_mode: Any = 0, *_: Any, result: Any, **__: Any) -> Any:
    """Per output: bilinear (mode 0) weighs 2^axes inputs, nearest (1) copies, bicubic (2) weighs 4^axes."""
    axes = input.dim() - 2
    points = {0: 2**axes, 1: 1, 2: 4**axes}.get(int(interpolation_mode), 2**axes)
    return f.cost(0, (2 * points - 1) * f.elements("y", first_tensor(result)) if points > 1 else 0)


@op_rule("col2im", field="unknown")
def col2im(f: Any, input: Any, *_: Any, result: Any, **__: Any) -> Any:
    """Sums overlapping windows back into an image: one addition per input element."""
    return f.cost(0, f.elements("x", input))


@op_rule("_embedding_bag", field="unknown")
def embedding_bag(f: Any, weight: Any, indices: Any, *_: Any, result: Any, **__: Any) -> Any:
    """A bag sums (or averages) its rows: one addition per gathered element, |indices|·d."""
    return f.cost(0, f.elements("indices", indices) * f("d", weight.shape[1]))


# Data movement, views and allocation: 0 FLOPs by rule, never "uncounted".
_row(["view", "_unsafe_view", "reshape", "_reshape_alias", "flatten", "unflatten", "view_as", "reshape_as"], free,
     "view")  # fmt: skip
_row(["t", "transpose", "permute", "movedim", "swapaxes"], free, "permute")
_row(["expand", "expand_as"], free, "expand")
for _name in ("squeeze", "unsqueeze", "as_strided", "view_as_real", "view_as_complex", "repeat", "roll", "flip"):
    _row(_name, free, _name)  # each its own rule, of the same name
_row(["alias", "clone", "contiguous", "_to_copy", "lift_fresh", "lift_fresh_copy", "tril", "triu"], free,
     "same_positions")  # fmt: skip
# detach cuts the gradient the measurement follows: there it is the identity.
_row("detach", free, "same_positions", linearise="identity")
_row("cat", free, "concat")
_row("stack", free, "stack")
for _name in ("slice", "narrow", "select", "diagonal", "unbind", "index", "embedding", "pixel_shuffle",
              "pixel_unshuffle"):
    _row(_name, free, _name)  # fmt: skip
_row(["split", "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes", "chunk", "unsafe_chunk",
      "split_with_sizes_copy", "tensor_split"], free, "split")  # fmt: skip
_row(["index_select", "gather", "take_along_dim"], free, "index_select")
_row("constant_pad_nd", free, "constant_pad")
_row(["reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
      "replication_pad3d"], free, "pad")  # fmt: skip
_row(["channel_shuffle", "native_channel_shuffle"], free, "channel_shuffle")
_row("im2col", free, "unfold")
# copy_ into a slice (out[:, :c] = x) carries the source's field.
_row("copy", free, "copy")
_row(["fill", "zero"], free)
_row(["index_put", "masked_scatter", "scatter", "scatter_add", "index_fill", "index_copy",
      "masked_select", "nonzero"], free, "unknown")  # fmt: skip
_row(["empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
      "new_zeros", "new_empty", "new_ones", "new_full", "new_empty_strided", "arange", "linspace", "logspace",
      "scalar_tensor", "randn", "rand", "randint", "randn_like", "rand_like", "randint_like", "randperm", "uniform",
      "normal", "exponential", "random", "eye", "sym_size", "sym_numel", "sym_stride", "sym_storage_offset",
      "_local_scalar_dense", "set_", "resize_", "is_nonzero", "item", "_assert_async", "_assert_tensor_metadata",
      "_functional_assert_async", "lift", "bucketize", "searchsorted"], free, "creation")  # fmt: skip
# Computes a dtype, not a tensor (a mixture of experts' router asks it): nothing to count.
_row("promote_types", free, "creation")

# Composite operators never reach the dispatcher (they run as the operators above) and so
# carry no cost; they are listed only for how the gradient measurement linearises the torch
# function of the same name (F.batch_norm, F.max_pool2d, F.conv2d, Tensor.detach).
_row(["batch_norm", "instance_norm", "layer_norm", "group_norm", "dropout", "alpha_dropout",
      "feature_alpha_dropout", "prelu", "rms_norm"], None, linearise="identity")  # fmt: skip
_row("feature_dropout", None, linearise="identity", functions=["dropout1d", "dropout2d", "dropout3d"])
_row(["conv1d", "conv2d", "conv3d"], None, "conv", weighted=True, linearise="ones_conv")
_row(["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"], None, "conv", weighted=True,
     linearise="ones_conv_transposed")  # fmt: skip
_row("max_pool1d", None, "window", linearise="avg_pool", stand_in=F.avg_pool1d)
_row("max_pool2d", None, "window", linearise="avg_pool", stand_in=F.avg_pool2d)
_row("max_pool3d", None, "window", linearise="avg_pool", stand_in=F.avg_pool3d)
# Kept as it is: what asks for the indices (max_unpool) needs real ones, which no average pool has.
_row("max_pool1d_with_indices", None, "window")


# --- torchvision's operators (detection heads), priced when torchvision has registered them.


def roi_align(
    f: Any, input: Any, rois: Any, spatial_scale: Any, pooled_height: Any, pooled_width: Any, sampling_ratio: Any,
    *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """Each output averages a grid of bilinear samples: 7 FLOPs per sample (4 neighbours) and 1 for the average.

    The grid is ``sampling_ratio`` squared, or where that is adaptive (<= 0) ceil(box / bin) per
    axis, which needs the boxes' values: then it is computed from them, box by box.
    """
    pooled_h, pooled_w, ratio = int(pooled_height), int(pooled_width), int(sampling_ratio)
    channels = first_tensor(result).shape[1]  # position-sensitive pooling samples only its own channels
    if ratio > 0:
        samples = f("r", ratio) * f("r", ratio) * f("R", rois.shape[0])
    elif rois.is_meta:
        return f.cost(0, 8 * f.elements("y", result))  # one sample per bin: the least the operator can do
    else:
        scale = float(spatial_scale)
        heights = ((rois[:, 4] - rois[:, 2]) * scale).clamp(min=1.0)
        widths = ((rois[:, 3] - rois[:, 1]) * scale).clamp(min=1.0)
        samples = f("samples", int((torch.ceil(heights / pooled_h) * torch.ceil(widths / pooled_w)).sum()))
    return f.cost(0, 8 * samples * f("C", channels) * f("P_h", pooled_h) * f("P_w", pooled_w))


def nms(f: Any, dets: Any, scores: Any, *_: Any, result: Any, **__: Any) -> Any:
    """Sort the scores (one comparison per box, as sort) and compare each pair of boxes once at most.

    An IoU is 12 FLOPs: 4 min/max, 2 subtractions and a product for the intersection, 2 areas,
    the union's add and subtract, and a division. Counted for every pair: an upper bound.
    """
    boxes = f("B", dets.shape[0])
    return f.cost(0, boxes + 12 * f.exact(boxes * (boxes - 1), 2))


def deform_conv(
    f: Any, input: Any, weight: Any, offset: Any = None, mask: Any = None, bias: Any = None, stride_h: Any = 1,
    stride_w: Any = 1, pad_h: Any = 0, pad_w: Any = 0, dilation_h: Any = 1, dilation_w: Any = 1,
    weight_groups: Any = 1, *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """A convolution over bilinearly sampled inputs: the convolution's MACs, plus 7 FLOPs per sample.

    torchvision::deform_conv2d(input, weight, offset, mask, bias, ...): every output position
    samples (C_in / groups) x kernel values.
    """
    kernel = _kernel_symbols(f, weight.shape[2:])
    c_in = f("C_in", input.shape[1])
    outputs = [f("N", result.shape[0]), *_positions(f, result.shape, "_out")]
    macs = f.product([*outputs, f("C_out", result.shape[1]), *kernel, f.exact(c_in, f("g", weight_groups))])
    samples = f.product([*outputs, c_in, *kernel])
    flops = 2 * f.named("MACs", macs) + 7 * samples
    if isinstance(bias, torch.Tensor) and bias.numel():
        flops = flops + f.elements("y", result)
    return f.cost(macs, flops)


DEFERRED.update({
    "torchvision::roi_align": (roi_align, {"field": "unknown"}),
    "torchvision::ps_roi_align": (roi_align, {"field": "unknown"}),
    "torchvision::roi_pool": (per_output(1), {"field": "unknown"}),
    "torchvision::ps_roi_pool": (per_output(1), {"field": "unknown"}),
    "torchvision::nms": (nms, {"field": "creation"}),
    "torchvision::deform_conv2d": (deform_conv, {"field": "unknown", "weighted": True}),
})  # fmt: skip


# ---------------------------------------------------------------------------------------
# Backward operators: what autograd runs for a training step (analysis.training).
#
# Each gradient is priced like the forward operator it differentiates, by the same units
# (docs/counting.md, "The backward pass"). A convolution's two gradients are each a
# convolution of the same size (Dumoulin & Visin 2016, section 4: the input gradient is the
# transposed convolution); ``output_mask`` says which of them autograd asked for, so the
# first layer's input gradient, which nothing needs, is never counted. Matrix products
# (a linear layer's gradients) arrive as ``mm`` and are priced by its row above.
# Their field rule is "unknown": they belong to no forward pass.


def _mask(output_mask: Any, size: int = 3) -> list[bool]:
    """Which gradients an operator computes (its ``output_mask``); all of them if absent."""
    return [bool(m) for m in output_mask] if output_mask is not None else [True] * size


@op_rule("convolution_backward", field="unknown", weighted=True, optional=True)
def convolution_backward(
    f: Any, grad_output: Any, input: Any, weight: Any, bias_sizes: Any = None, stride: Any = 1, padding: Any = 0,
    dilation: Any = 1, transposed: Any = False, output_padding: Any = 0, groups: Any = 1, output_mask: Any = None,
    *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """Input and weight gradients, each as many MACs as the forward; the bias gradient sums the output gradient."""
    grad_input, grad_weight, grad_bias = _mask(output_mask)
    # The forward's MACs: each output (transposed: each input) meets (C/g)·kernel weights.
    if transposed:
        seen, per_group = f.elements("x", input), f.exact(f("C_out", grad_output.shape[1]), f("g", groups))
    else:
        seen, per_group = f.elements("dy", grad_output), f.exact(f("C_in", input.shape[1]), f("g", groups))
    forward = f.product([seen, per_group, *_kernel_symbols(f, weight.shape[2:])])
    macs = f("gradients", int(grad_input) + int(grad_weight)) * forward
    flops = 2 * f.named("MACs", macs)
    return f.cost(macs, flops + f.elements("dy", grad_output) if grad_bias else flops)


def _normalisation_backward_flops(f: Any, x: Any, mask: Any, training: bool) -> Any:
    """Per element of the input (x^ = normalised input, dy = output gradient).

    Recomputing x^: 2 (subtract, multiply). sum(dy), the bias gradient: 1. sum(dy * x^), the
    weight gradient: 2. The input gradient with batch statistics, gamma * invstd * (dy -
    mean(dy) - x^ * mean(dy * x^)): 4, and it needs both sums; with running statistics
    (batch norm in eval mode) it is a scale: 1. So 9 per element for a full training-mode
    backward, 6 in eval mode.
    """
    grad_input, grad_weight, grad_bias = _mask(mask)
    statistics = grad_input and training  # the input gradient needs both sums
    per_element = (
        (2 if grad_weight or statistics else 0)
        + (1 if grad_bias or statistics else 0)
        + (2 if grad_weight or statistics else 0)
        + ((4 if training else 1) if grad_input else 0)
    )
    return f.cost(0, per_element * f.elements("x", x))


@op_rule("native_batch_norm_backward", "batch_norm_backward", field="unknown", optional=True)
def batch_norm_backward(
    f: Any, grad_out: Any, input: Any, weight: Any = None, running_mean: Any = None, running_var: Any = None,
    save_mean: Any = None, save_invstd: Any = None, train: Any = True, eps: Any = 0.0, output_mask: Any = None,
    *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """Batch norm's gradients: 9 per element in training (2 recompute x^, 1 sum(dy), 2 sum(dy·x^), 4 the input's), 6 in eval."""
    return _normalisation_backward_flops(f, input, output_mask, bool(train))


@op_rule("cudnn_batch_norm_backward", "miopen_batch_norm_backward", field="unknown", optional=True)
def vendor_batch_norm_backward(f: Any, input: Any, grad_output: Any, *_: Any, result: Any, **__: Any) -> Any:
    """cuDNN's and MIOpen's batch norm gradients, always with batch statistics: 9 per element."""
    return _normalisation_backward_flops(f, grad_output, None, True)


@op_rule("native_layer_norm_backward", field="unknown", optional=True)
def layer_norm_backward(
    f: Any, grad_out: Any, input: Any, normalized_shape: Any = None, mean: Any = None, rstd: Any = None,
    weight: Any = None, bias: Any = None, output_mask: Any = None, *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """Layer norm's gradients, always with the statistics: 9 per element for all three."""
    return _normalisation_backward_flops(f, input, output_mask, True)


@op_rule("native_group_norm_backward", field="unknown", optional=True)
def group_norm_backward(
    f: Any, grad_out: Any, input: Any, mean: Any = None, rstd: Any = None, weight: Any = None, n: Any = None,
    c: Any = None, hxw: Any = None, group: Any = None, output_mask: Any = None, *_: Any, result: Any, **__: Any,
) -> Any:  # fmt: skip
    """Group norm's gradients, always with the statistics: 9 per element for all three."""
    return _normalisation_backward_flops(f, input, output_mask, True)


# A backward operator's first argument is the gradient of its forward's output: per_input prices per element of it.
_per_grad_output = per_input

# A mask (ReLU's, hardtanh's) selects the gradient or zero: 1 per element. Any other
# activation's gradient evaluates its derivative (1, as the forward counts any function
# once) and multiplies (1): 2 per element. PReLU also sums its weight's gradient: 3.
_optional_rows(["threshold_backward", "hardtanh_backward"], per_output(1), "unknown")
_optional_rows(
    ["leaky_relu_backward", "elu_backward", "gelu_backward", "silu_backward", "mish_backward", "sigmoid_backward",
     "tanh_backward", "hardswish_backward", "hardsigmoid_backward", "softplus_backward", "log_sigmoid_backward",
     "rrelu_with_noise_backward", "logit_backward", "glu_backward"],
    per_output(2), "unknown",
)  # fmt: skip
_optional_rows(["_prelu_kernel_backward"], per_output(3), "unknown")
# Dropout's gradient: the mask and the scale, 2 per element.
_optional_rows(["native_dropout_backward"], per_output(2), "unknown")

# Max pooling sends each output gradient to the position that won: one addition each (windows
# may overlap); average pooling spreads it over the window, as its forward.
_optional_rows(["max_pool2d_with_indices_backward", "max_pool3d_with_indices_backward", "adaptive_max_pool2d_backward",
                "adaptive_max_pool3d_backward"], _per_grad_output(1), "unknown")  # fmt: skip


@op_rule("avg_pool2d_backward", "avg_pool3d_backward", field="unknown", optional=True)
def avg_pool_backward(f: Any, grad_output: Any, x: Any, kernel_size: Any, *_: Any, result: Any, **__: Any) -> Any:
    """Each output gradient is spread over its window: one addition per window element, as the forward."""
    kernel = pool_window(kernel_size, axes=max(x.dim() - 2, 1)).kernel
    return f.cost(0, f.product([*_kernel_symbols(f, kernel), f.elements("dy", grad_output)]))


# Adaptive average pooling: each input receives its window's gradient over the window's size: 1 per input.
_optional_rows(["_adaptive_avg_pool2d_backward", "_adaptive_avg_pool3d_backward"], per_output(1), "unknown")

# Softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy): 4 per element each.
_optional_rows(["_softmax_backward_data", "_log_softmax_backward_data"], per_output(4), "unknown")


def _upsample_backward(points: int) -> Formula:
    """Each output gradient goes back to the ``points`` inputs it was made from: a multiply (linear) and an add each."""
    return _per_grad_output(2 * points if points > 1 else 1)


_optional_rows(["upsample_nearest1d_backward", "upsample_nearest2d_backward", "upsample_nearest3d_backward",
                "_upsample_nearest_exact1d_backward", "_upsample_nearest_exact2d_backward",
                "_upsample_nearest_exact3d_backward"], _upsample_backward(1), "unknown")  # fmt: skip
_optional_rows(["upsample_linear1d_backward"], _upsample_backward(2), "unknown")
_optional_rows(["upsample_bilinear2d_backward", "_upsample_bilinear2d_aa_backward"], _upsample_backward(4), "unknown")
_optional_rows(["upsample_trilinear3d_backward"], _upsample_backward(8), "unknown")
_optional_rows(["upsample_bicubic2d_backward", "_upsample_bicubic2d_aa_backward"], _upsample_backward(16), "unknown")


@op_rule(
    "_scaled_dot_product_flash_attention_for_cpu_backward", "_scaled_dot_product_flash_attention_backward",
    "_scaled_dot_product_efficient_attention_backward", "_scaled_dot_product_cudnn_attention_backward",
    field="unknown", weighted=True, optional=True,
)  # fmt: skip
def attention_backward(f: Any, grad_out: Any, query: Any, key: Any, value: Any, *_: Any, result: Any, **__: Any) -> Any:
    """dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀ·Q: four products, twice the forward's MACs; 5 per score.

    Every variant takes (grad_out, query, key, value, ...). A kernel that recomputes the scores
    (flash attention) does more; the count is what the gradient needs.
    """
    forward, scores = _attention_terms(f, query, key, value)
    return f.cost(2 * forward, 4 * forward + 5 * scores)


@op_rule("embedding_dense_backward", field="unknown", optional=True)
def embedding_backward(f: Any, grad_output: Any, *_: Any, result: Any, **__: Any) -> Any:
    """Each gathered row's gradient is added into the weight gradient: one addition per element of grad_output."""
    return f.cost(0, f.elements("dy", grad_output))


# Gradients of padding and of overlapping windows sum what fell on the border or overlaps:
# 1 per element of the output gradient. Slicing, selecting and a diagonal only place the
# gradient into zeros: data movement, 0.
_optional_rows(["reflection_pad1d_backward", "reflection_pad2d_backward", "reflection_pad3d_backward",
                "replication_pad1d_backward", "replication_pad2d_backward", "replication_pad3d_backward",
                "unfold_backward"], _per_grad_output(1), "unknown")  # fmt: skip
_optional_rows(["slice_backward", "select_backward", "diagonal_backward", "as_strided_scatter", "slice_scatter",
                "select_scatter", "diagonal_scatter"], free, "unknown")  # fmt: skip
