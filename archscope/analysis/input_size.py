"""What a model's input is: ``3x224x224``, ``224``, ``4x200``, ``50:int64``, ``3x224x224+16``.

A size never includes the batch dimension. How many dimensions a model takes, and how many
channels, is read from its first layer (``expectation_of``): a Conv1d wants C x L, a Conv2d
C x H x W, a Conv3d C x D x H x W, a Linear its features, an Embedding integer tokens. The
channel count is filled in only where the size given is one dimension short of that, and a
single number for a 2-D or 3-D convolution is a square (or cube) input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from archscope.errors import ArchscopeError, InputSizeError

_FORMS = "CxHxW, HxW or N (square), optionally :dtype, e.g. 3x224x224, 224 or 50:int64"
# The element types an input can be given as (torch's names).
DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
# No analysis needs more than this many elements in one input (2^40: a terabyte of floats).
MAX_ELEMENTS = 2**40


@dataclass(frozen=True)
class InputSpec:
    """One model input: its shape without the batch dimension, and its element type (None: the model's)."""

    shape: tuple[int, ...]
    dtype: str | None = None

    def text(self) -> str:
        return format_shape(self.shape) + (f":{self.dtype}" if self.dtype else "")


@dataclass(frozen=True)
class Expectation:
    """What a model's first layer takes: dimensions without the batch, channels, element type."""

    rank: int | None  # None: any rank (a Linear reads only the last dimension)
    channels: int | None
    dtype: str | None
    layer: str  # e.g. "Conv1d 'conv1'", for messages


def expectation_of(model: Any) -> Expectation | None:
    """The first layer that fixes the input's form: a convolution, a linear layer or an embedding."""
    import torch.nn as nn

    for name, module in model.named_modules():
        where = f"{type(module).__name__} {name!r}" if name else type(module).__name__
        if isinstance(module, nn.modules.conv._ConvNd):
            axes = len(module.kernel_size)
            channels = module.in_channels if module.in_channels else None  # lazy: 0 until it has seen data
            return Expectation(axes + 1, channels, None, where)
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            return Expectation(None, None, "int64", where)
        if isinstance(module, nn.Linear):
            return Expectation(None, module.in_features or None, None, where)
    return None


def _dims_of(text: str, whole: str) -> list[int]:
    spec = text.strip().lower().replace("×", "x")
    if not re.fullmatch(r"\d+(x\d+)*", spec):
        raise InputSizeError(f"malformed input size {whole!r}: expected {_FORMS}")
    dims = [int(d) for d in spec.split("x")]
    if any(d <= 0 for d in dims):
        raise InputSizeError(f"input size {whole!r} has a dimension of 0; every dimension must be at least 1")
    return dims


def _checked(dims: Sequence[int], whole: Any) -> tuple[int, ...]:
    if math.prod(dims) > MAX_ELEMENTS:
        raise InputSizeError(f"input size {whole!r} has {math.prod(dims):,} elements; at most {MAX_ELEMENTS:,} are supported")
    return tuple(dims)


def _split_dtype(text: str) -> tuple[str, str | None]:
    body, sep, dtype = text.partition(":")
    if not sep:
        return text, None
    dtype = dtype.strip().lower()
    if dtype not in DTYPES:
        raise InputSizeError(f"unknown element type {dtype!r} in {text!r}; one of: {', '.join(DTYPES)}")
    return body, dtype


def _complete(
    dims: list[int], expect: Expectation | None, default: Sequence[int] | None, whole: Any
) -> tuple[int, ...]:
    """Fill in the channels (and square a single number) from the first layer, else the default."""
    rank = expect.rank if expect is not None else (len(default) if default else None)
    channels = expect.channels if expect is not None and expect.rank is not None else None
    if channels is None and default and rank == len(default):
        channels = int(default[0])
    if rank is None or len(dims) == rank:
        return _checked(dims, whole)
    if len(dims) == rank - 1 or (len(dims) == 1 and rank >= 3):
        if channels is None:
            layer = f" ({expect.layer})" if expect is not None else ""
            raise InputSizeError(
                f"input size {whole!r} has no channel count and the model's first layer{layer} does not say it; "
                f"give all {rank} dimensions"
            )
        spatial = dims if len(dims) == rank - 1 else dims * (rank - 1)
        return _checked([channels, *spatial], whole)
    layer = expect.layer if expect is not None else "the model"
    raise InputSizeError(
        f"input size {whole!r} has {len(dims)} dimensions; {layer} takes {rank} without the batch "
        f"(e.g. {format_shape([channels or 3, *[32] * (rank - 1)])})"
    )


def parse_inputs(
    text: str | int | Sequence[int] | Sequence[Sequence[int]] | None,
    default: Sequence[int] | None,
    expect: Expectation | None = None,
    dtype: str | None = None,
) -> list[InputSpec]:
    """One ``InputSpec`` per model input.

    ``text`` is what the user typed (``3x224x224``, ``224``, ``50:int64``, ``3x224x224+16``),
    an int, or from Python a shape tuple (taken as given) or a list of shapes. ``default`` is
    the model's own input; ``expect`` its first layer; ``dtype`` the element type of inputs
    that do not name one (an Embedding-first model defaults to int64).
    """
    fallback_dtype = dtype or (expect.dtype if expect is not None else None)
    if text is None:
        if default is None:
            if expect is not None and expect.rank is None and expect.channels:
                return [InputSpec((expect.channels,), fallback_dtype)]  # a Linear-first model: its features
            raise InputSizeError(f"this model has no default input size; give one as {_FORMS}")
        if default and all(isinstance(d, (tuple, list)) for d in default):  # a model of several inputs
            return [InputSpec(_checked([int(x) for x in d], d), fallback_dtype) for d in default]
        return [InputSpec(_checked([int(d) for d in default], default), fallback_dtype)]
    if isinstance(text, bool):
        raise InputSizeError(f"input size must be a size such as 3x224x224, not {text!r}")
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, str):
        parts = text.split("+")
        specs = []
        for part in parts:
            body, own_dtype = _split_dtype(part)
            dims = _dims_of(body, text)
            # With several inputs each is taken as written; one input is completed from the model.
            shape = _checked(dims, text) if len(parts) > 1 else _complete(dims, expect, default, text)
            specs.append(InputSpec(shape, own_dtype or fallback_dtype))
        return specs
    shapes = list(text)
    several = bool(shapes) and all(isinstance(s, (list, tuple)) for s in shapes)
    return [InputSpec(_python_shape(s), fallback_dtype) for s in (shapes if several else [shapes])]


def _python_shape(shape: Sequence[Any]) -> tuple[int, ...]:
    """A shape from the Python API, taken as given but never coerced: 32.7 is an error, not 32."""
    if not shape:
        raise InputSizeError("input size must have at least one dimension")
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int) and not (hasattr(d, "__index__") and not isinstance(d, float)):
            raise InputSizeError(f"input size {tuple(shape)} must be whole numbers, not {d!r}")
        if int(d) <= 0:
            raise InputSizeError(f"input size {tuple(shape)} must have dimensions of at least 1")
    return _checked([int(d) for d in shape], tuple(shape))


def parse_input_size(text: str | int | Sequence[int] | None, default: Sequence[int] | None) -> tuple[int, ...]:
    """The shape of a single input (see ``parse_inputs``), completed from ``default``."""
    specs = parse_inputs(text, default)
    if len(specs) != 1:
        raise InputSizeError(f"expected one input size, got {len(specs)}")
    return specs[0].shape


def parse_input_sizes(
    text: str | int | Sequence[int] | Sequence[Sequence[int]] | None,
    default: Sequence[int] | None,
    expect: Expectation | None = None,
) -> list[tuple[int, ...]]:
    """The shapes of every input (see ``parse_inputs``)."""
    return [s.shape for s in parse_inputs(text, default, expect)]


def check_batch_size(batch_size: Any) -> int:
    """A batch size from the user: a whole number from 1 up, never coerced (2.5 is an error)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InputSizeError(f"batch size must be a whole number, not {batch_size!r}")
    if batch_size < 1:
        raise InputSizeError(f"batch size must be at least 1, not {batch_size}")
    if batch_size > MAX_ELEMENTS:
        raise InputSizeError(f"batch size {batch_size:,} is larger than any analysis can hold")
    return int(batch_size)


def check_depth(depth: Any) -> int:
    """How deep a table, chart or drawing nests (1 = the model's children): a whole number from 1 up."""
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ArchscopeError(f"--depth must be a whole number, not {depth!r}")
    if depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    return depth


def format_shape(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def describe_shapes(shapes: Sequence[Sequence[int]]) -> str:
    return " + ".join(format_shape(s) for s in shapes)
