"""The operator table: how many multiply-accumulates and FLOPs each PyTorch operator costs.

Units, stated once for all of archscope (docs/counting.md explains each rule):

* **MACs** are the multiply-accumulates of convolutions, linear layers and matrix products,
  bias additions excluded. This is the unit the papers (AlexNet, VGG, GoogLeNet's "ops",
  ResNet's "FLOPs") and torchvision's "GFLOPS" use.
* **FLOPs** are 2 x MACs (one multiply and one add each) plus every other operator by the
  rules below, each counted from shapes alone.

Every rule is a small pure function of the operator's arguments and output, keyed by the
ATen operator's name, so the count works on the meta device. An operator with no rule is
not guessed at: ``op_cost`` returns None and the caller reports it as uncounted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch


@dataclass(frozen=True)
class OpCost:
    macs: int
    flops: int


FREE = OpCost(0, 0)

Rule = Callable[[Sequence[Any], dict, Any], OpCost]


def _numel(t: Any) -> int:
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _first_tensor(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _convolution(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Each output element is a dot product over (C_in / groups) x kernel positions.

    A transposed convolution scatters instead: each input element is multiplied into
    (C_out / groups) x kernel outputs, and its weight is stored [C_in, C_out / groups, k...].
    """
    x, weight, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else bool(kwargs.get("transposed", False))
    kernel = math.prod(weight.shape[2:])
    if transposed:
        macs = x.numel() * weight.shape[1] * kernel
    else:
        macs = out.numel() * weight.shape[1] * kernel
    return OpCost(macs, 2 * macs + (out.numel() if bias is not None else 0))


def _addmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """bias + m1 @ m2, the linear layer: M x K x N MACs and one add per output for the bias."""
    m1, m2 = args[1], args[2]
    macs = m1.shape[0] * m1.shape[1] * m2.shape[1]
    return OpCost(macs, 2 * macs + out.numel())


def _mm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * b.shape[1]
    return OpCost(macs, 2 * macs)


def _bmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return OpCost(macs, 2 * macs)


def _baddbmm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    macs = _bmm(args[1:], kwargs, out).macs
    return OpCost(macs, 2 * macs + out.numel())


def _per_output(flops_per_element: int) -> Rule:
    def rule(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
        return OpCost(0, flops_per_element * _numel(_first_tensor(out)))

    return rule


def _per_input(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Reductions: each input element is added (or compared) once."""
    return OpCost(0, _numel(args[0]))


def _batch_norm(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Inference folds the statistics into one scale and one shift: 2 per element.

    Training also computes the batch mean and variance: 2 more per element.
    """
    training = next((a for a in args[5:] if isinstance(a, bool)), False)
    per_element = 4 if training else 2
    return OpCost(0, per_element * _numel(args[0]))


def _batch_norm_no_training(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    return OpCost(0, 2 * _numel(args[0]))


def _normalization_with_statistics(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Layer, group and instance norm always compute their statistics: 4 per element."""
    return OpCost(0, 4 * _numel(args[0]))


def _window(args: Sequence[Any], kwargs: dict, out: Any) -> OpCost:
    """Pooling: one comparison (max) or addition (average) per window element per output."""
    out_t = _first_tensor(out)
    kernel = args[1] if len(args) > 1 else kwargs["kernel_size"]
    spatial = args[0].dim() - 2
    if isinstance(kernel, int):
        kernel = [kernel]
    kernel = list(kernel)
    if len(kernel) == 1:
        kernel = kernel * max(spatial, 1)
    return OpCost(0, math.prod(kernel) * out_t.numel())


# Operators that only move, view or allocate data: 0 FLOPs by rule, and not "uncounted".
_FREE_OPS = {
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand",
    "squeeze", "unsqueeze", "flatten", "unflatten", "cat", "stack", "clone", "contiguous", "detach",
    "alias", "slice", "select", "split", "split_with_sizes", "unbind", "chunk", "narrow",
    "constant_pad_nd", "pad", "copy", "_to_copy", "to", "empty", "empty_like", "empty_strided",
    "zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "fill", "zero", "new_zeros",
    "new_empty", "new_ones", "new_full", "dropout", "as_strided", "lift_fresh", "lift_fresh_copy",
    "index_select", "sym_size", "sym_numel", "sym_stride", "sym_storage_offset", "_local_scalar_dense",
    "expand_as", "view_as", "reshape_as", "repeat", "roll", "flip",
}

# One FLOP per output element: elementwise arithmetic and activations, transcendental or not.
_ELEMENTWISE = {
    "add", "sub", "rsub", "mul", "div", "neg", "abs", "reciprocal", "pow", "sqrt", "rsqrt", "exp",
    "log", "relu", "threshold", "hardtanh", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu",
    "silu", "mish", "sigmoid", "tanh", "hardswish", "hardsigmoid", "softplus", "clamp", "clamp_min",
    "clamp_max", "maximum", "minimum", "where", "native_dropout", "bernoulli", "addcmul", "addcdiv",
}

RULES: dict[str, Rule] = {
    "convolution": _convolution,
    "_convolution": _convolution,
    "addmm": _addmm,
    "mm": _mm,
    "bmm": _bmm,
    "baddbmm": _baddbmm,
    "native_batch_norm": _batch_norm,
    "_native_batch_norm_legit": _batch_norm,
    "_native_batch_norm_legit_no_training": _batch_norm_no_training,
    "native_layer_norm": _normalization_with_statistics,
    "native_group_norm": _normalization_with_statistics,
    "max_pool1d": _window,
    "max_pool2d": _window,
    "max_pool3d": _window,
    "max_pool2d_with_indices": _window,
    "max_pool3d_with_indices": _window,
    "avg_pool1d": _window,
    "avg_pool2d": _window,
    "avg_pool3d": _window,
    "adaptive_avg_pool1d": _per_input,
    "adaptive_avg_pool2d": _per_input,
    "_adaptive_avg_pool2d": _per_input,
    "adaptive_avg_pool3d": _per_input,
    "_adaptive_avg_pool3d": _per_input,
    "adaptive_max_pool1d": _per_input,
    "adaptive_max_pool2d": _per_input,
    "adaptive_max_pool3d": _per_input,
    "mean": _per_input,
    "sum": _per_input,
    "amax": _per_input,
    "amin": _per_input,
    # Softmax: subtract the max, exponentiate, sum, divide.
    "_softmax": _per_output(4),
    "_log_softmax": _per_output(4),
}
RULES.update({name: _per_output(1) for name in _ELEMENTWISE})
RULES.update({name: (lambda args, kwargs, out: FREE) for name in _FREE_OPS})


def op_name(func: Any) -> str:
    """The ATen name that keys the table: ``relu_`` and ``relu`` share a rule."""
    name = func.overloadpacket.__name__
    if name.endswith("_") and not name.endswith("__"):
        name = name[:-1]
    return name


def op_cost(func: Any, args: Sequence[Any], kwargs: dict, out: Any) -> OpCost | None:
    """The cost of one operator call, or None when the table has no rule for it."""
    rule = RULES.get(op_name(func))
    return None if rule is None else rule(args, kwargs or {}, out)
