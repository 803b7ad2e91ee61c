"""The operator registry: everything archscope knows about an ATen operator, in one row.

Each row is keyed by the ``torch.ops.aten`` packet itself (``aten.convolution``), so a typo
fails when this module is imported, and holds four facts:

* ``cost``: MACs and FLOPs from the operator's arguments and output, shapes only, so it
  works on the meta device. The units are defined once in docs/counting.md: MACs are the
  multiply-accumulates of convolutions and matrix products, bias excluded; FLOPs are 2 x MACs
  plus every other operator. ``None`` means the operator never reaches the dispatcher (a
  composite that decomposes into others, listed only for its linearisation).
* ``field``: how a receptive field passes through it: the name of a rule registered with
  ``@field_rule`` in ``analysis.rf.rules`` (one module per kind), which the tracker
  (``analysis.rf.tracker``) applies to each call.
* ``weighted``: whether it applies learned weights (a step of the "weighted depth").
* ``linearise``: what the gradient measurement of receptive fields does with it
  (``analysis.rf.measure``), which sees torch functions (``F.conv2d``) and finds their row by
  name (``functions`` adds the names a function goes by when they differ from the
  operator's): keep it, drop it (an activation or a normalisation becomes the identity), or
  replace it (a convolution sums its channels through a kernel of ones, a max pool becomes
  the average pool of the same geometry, its ``stand_in``).

An operator with no row is not guessed at: the summary lists it as uncounted. Users add rows
for their own operators with ``archscope.register_op`` (docs/counting.md, "Your own
operators"), as fvcore's ``set_op_handle`` and torch's ``register_flop_formula`` allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence, get_args

import torch
import torch.nn.functional as F

from archscope.analysis.rf.rules import FIELD_RULES, field_rule_names

aten = torch.ops.aten


@dataclass(frozen=True)
class OpCost:
    """The cost of one operator call, in the two units of docs/counting.md."""

    macs: int
    flops: int


FREE = OpCost(0, 0)

CostRule = Callable[[Sequence[Any], dict, Any], OpCost]

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
    stand_in: Callable[..., Any] | None = None  # linearise "avg_pool": what the linearised network runs instead
    functions: tuple[str, ...] = ()  # torch functions that run it under another name (F.threshold: _threshold)

    @property
    def name(self) -> str:
        return self.packet.__name__


REGISTRY: dict[Any, OpRule] = {}
# The rows by the names of the torch functions that run them (the gradient measurement's view):
# an ATen operator's own name, and the other names its row lists.
_BY_FUNCTION: dict[str, OpRule] = {}


def _packet(op: Any) -> Any:
    """The OpOverloadPacket of an operator given as a packet or one of its overloads."""
    packet = getattr(op, "overloadpacket", op)
    if not isinstance(packet, torch._ops.OpOverloadPacket):
        raise TypeError(f"expected a torch.ops operator such as torch.ops.aten.mm, got {op!r}")
    return packet


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
) -> OpRule:
    """Add a row for ``op`` (``torch.ops.mylib.fused_conv``, or an ATen operator).

    ``cost(args, kwargs, out)`` returns an ``OpCost`` from the call's arguments and result;
    it must use shapes only (the analysis runs on the meta device). ``field`` says how a
    receptive field passes through it: the name of a rule registered in
    ``analysis.rf.rules`` (``pointwise``, ``conv``, ``window``, ``matmul``, ``view``, ...).
    Registering an operator twice raises unless ``replace=True``, so two rules cannot
    silently disagree.
    """
    packet = _packet(op)
    if field not in FIELD_RULES:
        raise ValueError(f"unknown field rule {field!r}; one of: {', '.join(field_rule_names())}")
    if linearise not in get_args(Linearise):
        raise ValueError(f"unknown linearisation {linearise!r}; one of: {', '.join(get_args(Linearise))}")
    if cost is not None and not callable(cost):
        raise TypeError("cost must be a function (args, kwargs, out) -> OpCost, or None")
    if packet in REGISTRY and not replace:
        raise ValueError(f"{packet} already has a rule; pass replace=True to change it")
    if linearise == "avg_pool" and not callable(stand_in):
        raise TypeError("linearise='avg_pool' needs stand_in, the average pool the linearised network runs instead")
    rule = OpRule(packet, cost, field, weighted, linearise, stand_in, tuple(functions))
    REGISTRY[packet] = rule
    if getattr(aten, packet.__name__, None) is packet:
        _BY_FUNCTION[packet.__name__] = rule
    for name in rule.functions:
        _BY_FUNCTION[name] = rule
    return rule


# Rows for other libraries' operators (torchvision::nms), registered when the library has
# registered the operator: archscope never imports torchvision to price it. The key is the
# qualified name; a test resolves every key with torchvision imported.
DEFERRED: dict[str, tuple[CostRule | None, dict[str, Any]]] = {}


def rule_for(func: Any) -> OpRule | None:
    """The row for an operator overload (as the dispatcher hands it over), or None."""
    packet = getattr(func, "overloadpacket", func)
    rule = REGISTRY.get(packet)
    if rule is None and DEFERRED:
        qualified = getattr(getattr(packet, "_qualified_op_name", None), "__str__", lambda: "")()
        if qualified in DEFERRED:
            cost, flags = DEFERRED.pop(qualified)
            rule = register_op(packet, cost, **flags)
    return rule


def op_cost(func: Any, args: Sequence[Any], kwargs: dict, out: Any) -> OpCost | None:
    """The cost of one operator call, or None when the registry cannot price it."""
    rule = rule_for(func)
    if rule is None or rule.cost is None:
        return None
    return rule.cost(args, kwargs or {}, out)


def linearised_row(function_name: str) -> OpRule | None:
    """The row of the torch function called ``function_name`` (F.relu -> aten.relu, F.threshold's
    ``_threshold`` -> aten.threshold), for the gradient measurement's linearisation; None for
    a function no row describes (kept as it is)."""
    return _BY_FUNCTION.get(function_name)


# ---------------------------------------------------------------------------------------
# Cost rules: small pure functions of shapes (docs/counting.md states each one).


def _numel(t: Any) -> int:
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _first_tensor(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) and out else out


def _all_outputs(out: Any) -> int:
    return sum(_numel(t) for t in out) if isinstance(out, (tuple, list)) else _numel(out)


def _free(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    return FREE


def per_output(flops: int) -> CostRule:
    """``flops`` FLOPs per element of the (first) result."""

    def rule(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
        return OpCost(0, flops * _numel(_first_tensor(out)))

    rule.__doc__ = f"{flops} FLOP(s) per output element."
    return rule


def per_input(flops: int) -> CostRule:
    """``flops`` FLOPs per element of the first argument (reductions)."""

    def rule(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
        return OpCost(0, flops * _numel(args[0]))

    rule.__doc__ = f"{flops} FLOP(s) per input element."
    return rule


def _convolution(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Each output element is a dot product over (C_in / groups) x kernel positions.

    A transposed convolution scatters instead: each input element is multiplied into
    (C_out / groups) x kernel outputs, and its weight is stored [C_in, C_out / groups, k...].
    """
    x, weight, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else bool(kwargs.get("transposed", False))
    kernel = math.prod(weight.shape[2:])
    macs = (x.numel() if transposed else out.numel()) * weight.shape[1] * kernel
    return OpCost(macs, 2 * macs + (out.numel() if bias is not None else 0))


def _mm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """(M x K) @ (K x N): M x K x N MACs."""
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * b.shape[1]
    return OpCost(macs, 2 * macs)


def _addmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """bias + m1 @ m2, a linear layer: M x K x N MACs and one add per output for the bias."""
    macs = _mm(args[1:], kwargs, out).macs
    return OpCost(macs, 2 * macs + out.numel())


def _bmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return OpCost(macs, 2 * macs)


def _baddbmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    macs = _bmm(args[1:], kwargs, out).macs
    return OpCost(macs, 2 * macs + out.numel())


def _attention(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Fused scaled dot-product attention, q [..., L, E], k [..., S, E], v [..., S, Ev].

    Q K^T is L x S x E MACs per batch and head, and P V is L x S x Ev; softmax 4 FLOPs per
    score, as ``_softmax``; the scale one per score. The unfused path
    (``_scaled_dot_product_attention_math``) runs the same products as ``bmm``.
    """
    q, k, v = args[0], args[1], args[2]
    batch = math.prod(q.shape[:-2])
    length, source, embed, value = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    macs = batch * length * source * (embed + value)
    return OpCost(macs, 2 * macs + 5 * batch * length * source)


def _batch_norm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Inference folds the statistics into one scale and one shift: 2 per element.

    Training also computes the batch mean and variance: 2 more per element.
    """
    training = next((a for a in args[5:] if isinstance(a, bool)), False)
    return OpCost(0, (4 if training else 2) * _numel(args[0]))


def _window(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Pooling: one comparison (max) or addition (average) per window element per output."""
    out_t = _first_tensor(out)
    kernel = args[1] if len(args) > 1 else kwargs["kernel_size"]
    kernel = [kernel] if isinstance(kernel, int) else list(kernel)
    if len(kernel) == 1:
        kernel = kernel * max(args[0].dim() - 2, 1)
    return OpCost(0, math.prod(kernel) * out_t.numel())


def _interpolation(points: int) -> CostRule:
    """Each output is a weighted sum of ``points`` inputs: ``points`` multiplies, ``points - 1`` adds."""
    return per_output(2 * points - 1)


def _upsample(kind: str, axes: int) -> CostRule:
    """Nearest copies (0 FLOPs); linear interpolation weighs 2 inputs per axis, cubic 4."""
    if kind == "nearest":
        return _free
    return _interpolation((2 if kind == "linear" else 4) ** axes)


def _grid_sampler(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Per output element: bilinear (mode 0) weighs 2^axes inputs, nearest (1) copies, bicubic (2) 4^axes."""
    mode = args[2] if len(args) > 2 else kwargs.get("interpolation_mode", 0)
    axes = args[0].dim() - 2
    points = {0: 2**axes, 1: 1, 2: 4**axes}.get(int(mode), 2**axes)
    return OpCost(0, (2 * points - 1 if points > 1 else 0) * _numel(_first_tensor(out)))


def _col2im(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """col2im sums overlapping windows back into an image: one addition per input element."""
    return OpCost(0, _numel(args[0]))


def _embedding_bag(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """A bag sums (or averages) its rows: one addition per gathered element."""
    weight, indices = args[0], args[1]
    return OpCost(0, indices.numel() * weight.shape[1])


def _cross_entropy_like(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    return OpCost(0, _numel(args[0]))


# ---------------------------------------------------------------------------------------
# The rows. In-place (relu_) variants share their operator's row (see _row).


def _row(
    names: str | Sequence[str],
    cost: CostRule | None,
    field: FieldRule = "pointwise",
    *,
    weighted: bool = False,
    linearise: Linearise = "keep",
    stand_in: Callable[..., Any] | None = None,
    functions: Sequence[str] = (),
    namespace: Any = aten,
) -> None:
    """Register each named ATen operator, and its in-place variant where one exists."""
    for name in [names] if isinstance(names, str) else names:
        packet = getattr(namespace, name)  # a typo fails here, at import
        flags = dict(field=field, weighted=weighted, linearise=linearise, stand_in=stand_in)
        register_op(packet, cost, functions=functions, **flags)
        inplace = name + "_"
        if not name.endswith("_") and name in _HAS_INPLACE and hasattr(namespace, inplace):
            register_op(getattr(namespace, inplace), cost, **flags)


def _optional_rows(names: Sequence[str], cost: CostRule | None, field: FieldRule = "pointwise", **flags: Any) -> None:
    """Rows for operators that only some PyTorch versions have."""
    _row([n for n in names if hasattr(aten, n)], cost, field, **flags)


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
_row(["convolution", "_convolution"], _convolution, "conv", weighted=True)
_row("addmm", _addmm, "biased_matmul", weighted=True)
_row("mm", _mm, "matmul", weighted=True)
_row("bmm", _bmm, "matmul", weighted=True)
_row("baddbmm", _baddbmm, "biased_matmul", weighted=True)
_optional_rows(
    ["_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
     "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention"],
    _attention, "attention", weighted=True,
)  # fmt: skip

# Normalisations: identities in the linearised network.
_row(["native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_functional"], _batch_norm,
     linearise="identity")  # fmt: skip
_row("_native_batch_norm_legit_no_training", per_input(2), linearise="identity")
_optional_rows(["_batch_norm_with_update", "_batch_norm_with_update_functional"], per_input(4), linearise="identity")
_optional_rows(["_batch_norm_no_update"], per_input(2), linearise="identity")
# Layer, group and instance norm always compute their statistics: 4 per element.
_row(["native_layer_norm", "native_group_norm"], per_input(4), linearise="identity")
_optional_rows(["_fused_rms_norm"], per_input(4), linearise="identity")

# Pooling.
_row(["max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool2d", "avg_pool3d"], _window, "window")
_row(["_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_max_pool2d", "adaptive_max_pool3d"], per_input(1),
     "adaptive_pool")  # fmt: skip

# Reductions: each input element is added (or compared) once.
_row(["mean", "sum", "amax", "amin", "max", "min", "prod", "any", "all", "argmax", "argmin", "logsumexp"], per_input(1),
     "reduction")  # fmt: skip
# Mean, subtract, square, accumulate: 4 per input element for a variance or deviation.
_row(["var", "std", "var_mean", "std_mean"], per_input(4), "reduction")
# Square (or |x|^p) and accumulate: 2 per input element.
_row("linalg_vector_norm", per_input(2), "reduction")
_row("cumsum", per_input(1), "cumsum")
# Softmax: subtract the max, exponentiate, sum, divide.
_row(["_softmax", "_log_softmax", "_safe_softmax"], per_output(4), "softmax")
_row(["topk", "sort", "_unique2", "unique_dim", "unique_consecutive", "unique_dim_consecutive"], per_input(1), "global")

# Interpolation (docs/counting.md: a weighted sum of 2^axes or 4^axes neighbours per output).
_row(["upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
      "_upsample_nearest_exact2d", "_upsample_nearest_exact3d"], _upsample("nearest", 0), "upsample")  # fmt: skip
_row("upsample_linear1d", _upsample("linear", 1), "upsample")
_row(["upsample_bilinear2d", "_upsample_bilinear2d_aa"], _upsample("linear", 2), "upsample")
_row("upsample_trilinear3d", _upsample("linear", 3), "upsample")
_row(["upsample_bicubic2d", "_upsample_bicubic2d_aa"], _upsample("cubic", 2), "upsample")
_row(["grid_sampler_2d", "grid_sampler_3d"], _grid_sampler, "unknown")
_row("col2im", _col2im, "unknown")
_row("_embedding_bag", _embedding_bag, "unknown")

# Data movement, views and allocation: 0 FLOPs by rule, never "uncounted".
_row(["view", "_unsafe_view", "reshape", "_reshape_alias", "flatten", "unflatten", "view_as", "reshape_as"], _free,
     "view")  # fmt: skip
_row(["t", "transpose", "permute", "movedim", "swapaxes"], _free, "permute")
_row(["expand", "expand_as"], _free, "expand")
for _name in ("squeeze", "unsqueeze", "as_strided", "view_as_real", "view_as_complex", "repeat", "roll", "flip"):
    _row(_name, _free, _name)  # each its own rule, of the same name
_row(["alias", "clone", "contiguous", "_to_copy", "lift_fresh", "lift_fresh_copy", "tril", "triu"], _free,
     "same_positions")  # fmt: skip
# detach cuts the gradient the measurement follows: there it is the identity.
_row("detach", _free, "same_positions", linearise="identity")
_row("cat", _free, "concat")
_row("stack", _free, "stack")
for _name in ("slice", "narrow", "select", "diagonal", "unbind", "index", "embedding", "pixel_shuffle",
              "pixel_unshuffle"):
    _row(_name, _free, _name)  # fmt: skip
_row(["split", "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes", "chunk", "unsafe_chunk",
      "split_with_sizes_copy", "tensor_split"], _free, "split")  # fmt: skip
_row(["index_select", "gather", "take_along_dim"], _free, "index_select")
_row("constant_pad_nd", _free, "constant_pad")
_row(["reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
      "replication_pad3d"], _free, "pad")  # fmt: skip
_row(["channel_shuffle", "native_channel_shuffle"], _free, "channel_shuffle")
_row("im2col", _free, "unfold")
# copy_ into a slice (out[:, :c] = x) carries the source's field.
_row("copy", _free, "copy")
_row(["fill", "zero"], _free)
_row(["index_put", "masked_scatter", "scatter", "scatter_add", "index_fill", "index_copy",
      "masked_select", "nonzero"], _free, "unknown")  # fmt: skip
_row(["empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
      "new_zeros", "new_empty", "new_ones", "new_full", "new_empty_strided", "arange", "linspace", "logspace",
      "scalar_tensor", "randn", "rand", "randint", "randn_like", "rand_like", "randint_like", "randperm", "uniform",
      "normal", "exponential", "random", "eye", "sym_size", "sym_numel", "sym_stride", "sym_storage_offset",
      "_local_scalar_dense", "set_", "resize_", "is_nonzero", "item", "_assert_async", "_assert_tensor_metadata",
      "_functional_assert_async", "lift", "bucketize", "searchsorted"], _free, "creation")  # fmt: skip

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


def _roi_align(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Each output averages a grid of bilinear samples (4 neighbours: 7 FLOPs) plus one add per sample.

    The grid is ``sampling_ratio`` squared, or where that is adaptive (<= 0) ceil(box / bin) per
    axis, which needs the boxes' values: then it is computed from them, box by box.
    """
    rois, pooled_h, pooled_w, ratio = args[1], int(args[3]), int(args[4]), int(args[5])
    channels = _first_tensor(out).shape[1]  # position-sensitive pooling samples only its own channels
    if ratio > 0:
        samples = ratio * ratio * rois.shape[0]
    elif rois.is_meta:
        return OpCost(0, 8 * _numel(out))  # one sample per bin: the least the operator can do
    else:
        scale = float(args[2])
        heights = ((rois[:, 4] - rois[:, 2]) * scale).clamp(min=1.0)
        widths = ((rois[:, 3] - rois[:, 1]) * scale).clamp(min=1.0)
        samples = int((torch.ceil(heights / pooled_h) * torch.ceil(widths / pooled_w)).sum())
    return OpCost(0, 8 * samples * channels * pooled_h * pooled_w)


def _nms(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Sort the scores (one comparison per box, as sort) and compare each pair of boxes once at most.

    An IoU is 12 FLOPs: 4 min/max, 2 subtractions and a product for the intersection, 2 areas,
    the union's add and subtract, and a division. Counted for every pair: an upper bound.
    """
    boxes = args[0].shape[0]
    return OpCost(0, boxes + 12 * boxes * (boxes - 1) // 2)


def _deform_conv(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """A convolution over bilinearly sampled inputs: the convolution's MACs, plus 7 FLOPs per sample.

    torchvision::deform_conv2d(input, weight, offset, mask, bias, ...): every output position
    samples (C_in / groups) x kernel values.
    """
    weight = args[1]
    kernel = math.prod(weight.shape[2:])
    macs = out.numel() * weight.shape[1] * kernel
    samples = out.shape[0] * out.shape[2] * out.shape[3] * args[0].shape[1] * kernel
    bias = args[4] if len(args) > 4 else None
    return OpCost(macs, 2 * macs + 7 * samples + (out.numel() if isinstance(bias, torch.Tensor) and bias.numel() else 0))


DEFERRED.update({
    "torchvision::roi_align": (_roi_align, {"field": "unknown"}),
    "torchvision::ps_roi_align": (_roi_align, {"field": "unknown"}),
    "torchvision::roi_pool": (per_output(1), {"field": "unknown"}),
    "torchvision::ps_roi_pool": (per_output(1), {"field": "unknown"}),
    "torchvision::nms": (_nms, {"field": "creation"}),
    "torchvision::deform_conv2d": (_deform_conv, {"field": "unknown", "weighted": True}),
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


def _mask(args: Sequence[Any], kwargs: dict, position: int, size: int = 3) -> list[bool]:
    """An operator's ``output_mask`` argument (which gradients to compute); all of them if absent."""
    mask = args[position] if len(args) > position else kwargs.get("output_mask")
    return [bool(m) for m in mask] if mask is not None else [True] * size


def _convolution_backward(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Input and weight gradients, each as many MACs as the forward; the bias gradient sums the output gradient.

    convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation,
    transposed, output_padding, groups, output_mask).
    """
    grad_output, x, weight = args[0], args[1], args[2]
    transposed = bool(args[7]) if len(args) > 7 else bool(kwargs.get("transposed", False))
    grad_input, grad_weight, grad_bias = _mask(args, kwargs, 10)
    forward_macs = (x.numel() if transposed else grad_output.numel()) * weight.shape[1] * math.prod(weight.shape[2:])
    macs = forward_macs * (int(grad_input) + int(grad_weight))
    return OpCost(macs, 2 * macs + (grad_output.numel() if grad_bias else 0))


def _normalisation_backward(training_position: int | None, mask_position: int) -> CostRule:
    """Batch, layer and group norm gradients, per element of the input (x^ = normalised input, dy = output gradient).

    Recomputing x^: 2 (subtract, multiply). sum(dy), the bias gradient: 1. sum(dy * x^), the
    weight gradient: 2. The input gradient with batch statistics, gamma * invstd * (dy -
    mean(dy) - x^ * mean(dy * x^)): 4, and it needs both sums; with running statistics
    (batch norm in eval mode) it is a scale: 1. So 9 per element for a full training-mode
    backward, 6 in eval mode.
    """

    def rule(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
        grad_input, grad_weight, grad_bias = _mask(args, kwargs, mask_position)
        training = True if training_position is None else bool(args[training_position])
        statistics = grad_input and training  # the input gradient needs both sums
        per_element = (
            (2 if grad_weight or statistics else 0)
            + (1 if grad_bias or statistics else 0)
            + (2 if grad_weight or statistics else 0)
            + ((4 if training else 1) if grad_input else 0)
        )
        return OpCost(0, per_element * _numel(args[1]))

    rule.__doc__ = _normalisation_backward.__doc__
    return rule


# A backward operator's first argument is the gradient of its forward's output: per_input prices per element of it.
_per_grad_output = per_input


def _avg_pool_backward(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Each output gradient is spread over its window: one addition per window element, as the forward."""
    grad_output, kernel = args[0], args[2]
    kernel = [kernel] if isinstance(kernel, int) else list(kernel)
    if len(kernel) == 1:
        kernel = kernel * max(args[1].dim() - 2, 1)
    return OpCost(0, math.prod(kernel) * grad_output.numel())


def _upsample_backward(points: int) -> CostRule:
    """Each output gradient goes back to the ``points`` inputs it was made from: a multiply (linear) and an add each."""
    return _per_grad_output(2 * points if points > 1 else 1)


def _attention_backward(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q: twice the forward's MACs; 5 per score for the softmax and scale.

    Every variant takes (grad_out, query, key, value, ...). A kernel that recomputes the scores
    (flash attention) does more; the count is what the gradient needs.
    """
    forward = _attention(args[1:4], kwargs, out)
    scores = (forward.flops - 2 * forward.macs) // 5
    return OpCost(2 * forward.macs, 4 * forward.macs + 5 * scores)


def _embedding_backward(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Each gathered row's gradient is added into the weight gradient: one addition per element of grad_output."""
    return OpCost(0, _numel(args[0]))


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

_optional_rows(["convolution_backward"], _convolution_backward, "unknown", weighted=True)
_optional_rows(["native_batch_norm_backward"], _normalisation_backward(7, 9), "unknown")
_optional_rows(["batch_norm_backward"], _normalisation_backward(7, 9), "unknown")
_optional_rows(["cudnn_batch_norm_backward", "miopen_batch_norm_backward"], _normalisation_backward(None, 9), "unknown")
_optional_rows(["native_layer_norm_backward"], _normalisation_backward(None, 7), "unknown")
_optional_rows(["native_group_norm_backward"], _normalisation_backward(None, 9), "unknown")

# Max pooling sends each output gradient to the position that won: one addition each (windows
# may overlap); average pooling spreads it over the window, as its forward.
_optional_rows(["max_pool2d_with_indices_backward", "max_pool3d_with_indices_backward", "adaptive_max_pool2d_backward",
                "adaptive_max_pool3d_backward"], _per_grad_output(1), "unknown")  # fmt: skip
_optional_rows(["avg_pool2d_backward", "avg_pool3d_backward"], _avg_pool_backward, "unknown")
# Adaptive average pooling: each input receives its window's gradient over the window's size: 1 per input.
_optional_rows(["_adaptive_avg_pool2d_backward", "_adaptive_avg_pool3d_backward"], per_output(1), "unknown")

# Softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy): 4 per element each.
_optional_rows(["_softmax_backward_data", "_log_softmax_backward_data"], per_output(4), "unknown")

_optional_rows(["upsample_nearest1d_backward", "upsample_nearest2d_backward", "upsample_nearest3d_backward",
                "_upsample_nearest_exact1d_backward", "_upsample_nearest_exact2d_backward",
                "_upsample_nearest_exact3d_backward"], _upsample_backward(1), "unknown")  # fmt: skip
_optional_rows(["upsample_linear1d_backward"], _upsample_backward(2), "unknown")
_optional_rows(["upsample_bilinear2d_backward", "_upsample_bilinear2d_aa_backward"], _upsample_backward(4), "unknown")
_optional_rows(["upsample_trilinear3d_backward"], _upsample_backward(8), "unknown")
_optional_rows(["upsample_bicubic2d_backward", "_upsample_bicubic2d_aa_backward"], _upsample_backward(16), "unknown")

_optional_rows(
    ["_scaled_dot_product_flash_attention_for_cpu_backward", "_scaled_dot_product_flash_attention_backward",
     "_scaled_dot_product_efficient_attention_backward", "_scaled_dot_product_cudnn_attention_backward"],
    _attention_backward, "unknown", weighted=True,
)  # fmt: skip
_optional_rows(["embedding_dense_backward"], _embedding_backward, "unknown")

# Gradients of padding and of overlapping windows sum what fell on the border or overlaps:
# 1 per element of the output gradient. Slicing, selecting and a diagonal only place the
# gradient into zeros: data movement, 0.
_optional_rows(["reflection_pad1d_backward", "reflection_pad2d_backward", "reflection_pad3d_backward",
                "replication_pad1d_backward", "replication_pad2d_backward", "replication_pad3d_backward",
                "unfold_backward"], _per_grad_output(1), "unknown")  # fmt: skip
_optional_rows(["slice_backward", "select_backward", "diagonal_backward", "as_strided_scatter", "slice_scatter",
                "select_scatter", "diagonal_scatter"], _free, "unknown")  # fmt: skip
