"""What a model's input is: ``3x224x224``, ``224``, ``4x200``, ``50:int64``, ``3x224x224+16``,
``=16000`` (exactly as written), ``image=3x32x32+meta=4`` (keyword arguments).

A size never includes the batch dimension. How many dimensions a model takes, and how many
channels, is read from its first layer (``expectation_of``): a Conv1d wants C x L, a Conv2d
C x H x W, a Conv3d C x D x H x W, a Linear its features, an Embedding integer tokens. The
channel count is filled in only where the size given is one dimension short of that, and a
single number for a 2-D or 3-D convolution is a square (or cube) input. A model that reshapes
its input before its first layer (a raw-audio encoder takes B x L and unsqueezes it for its
Conv1d) needs the size as written: a leading ``=`` says so. Named inputs (``name=SIZE``, a
dotted name for a nested dict: ``batch.image=3x32x32``) go to the forward as keyword
arguments, and are taken as written too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from archscope.errors import ArchscopeError, InputSizeError

_FORMS = (
    "CxHxW, HxW or N (square), optionally :dtype, =SIZE for exactly as written, name=SIZE for a keyword "
    "input, '+' between inputs; e.g. 3x224x224, 224, 50:int64, =16000 or image=3x32x32+meta=4"
)
# The element types an input tensor can be given as (torch's names; -i 50:int64): not the dtypes
# bench and profile run a model in (archscope.bench.dtypes.RUN_DTYPES).
INPUT_DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
# No analysis needs more than this many elements in one input (2^40: a terabyte of floats).
MAX_ELEMENTS = 2**40
# A dimension written with more digits than this is larger than MAX_ELEMENTS anyway; reading it
# is refused before Python converts it (int() of 5,000 digits raises past sys.int_info's limit).
_MAX_DIGITS = len(str(MAX_ELEMENTS))
# What goes before '=' in a named input: a keyword, or dotted keywords for a nested dict.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class InputSpec:
    """One model input: its shape without the batch dimension, its element type (None: the
    model's) and, for a keyword input, its name (dotted for a nested dict: ``batch.image``)."""

    shape: tuple[int, ...]
    dtype: str | None = None
    name: str | None = None
    # What the user typed, where archscope completed it from the first layer ("16000" read as
    # 1x16000): a failure in that layer then names the exact form.
    guessed_from: str | None = field(default=None, compare=False)

    def text(self) -> str:
        named = f"{self.name}=" if self.name else ""
        return named + format_shape(self.shape) + (f":{self.dtype}" if self.dtype else "")


@dataclass(frozen=True)
class Expectation:
    """What a model's first layer takes: dimensions without the batch, channels, element type."""

    rank: int | None  # None: any rank (a Linear reads only the last dimension)
    channels: int | None
    dtype: str | None
    layer: str  # e.g. "Conv1d 'conv1'", for messages
    module: str | None = None  # the layer's name in the model ('conv1'); None: not one layer


def expectation_of(model: Any) -> Expectation | None:
    """The first layer that fixes the input's form: a convolution, a linear layer or an embedding."""
    import torch.nn as nn

    for name, module in model.named_modules():
        where = f"{type(module).__name__} {name!r}" if name else type(module).__name__
        if isinstance(module, nn.modules.conv._ConvNd):
            axes = len(module.kernel_size)
            channels = module.in_channels if module.in_channels else None  # lazy: 0 until it has seen data
            return Expectation(axes + 1, channels, None, where, name)
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            return Expectation(None, None, "int64", where, name)
        if isinstance(module, nn.Linear):
            return Expectation(None, module.in_features or None, None, where, name)
    return None


def _dims_of(text: str, whole: str) -> list[int]:
    spec = text.strip().lower().replace("×", "x")
    if not re.fullmatch(r"\d+(x\d+)*", spec):
        raise InputSizeError(f"malformed input size {_quoted(whole)}: expected {_FORMS}")
    digits = spec.split("x")
    longest = max(len(d.lstrip("0")) for d in digits)
    if longest > _MAX_DIGITS:
        raise InputSizeError(
            f"input size {_quoted(whole)} has a dimension of {longest:,} digits; at most {MAX_ELEMENTS:,} elements are supported"
        )
    dims = [int(d) for d in digits]
    if any(d <= 0 for d in dims):
        raise InputSizeError(f"input size {_quoted(whole)} has a dimension of 0; every dimension must be at least 1")
    return dims


def _quoted(whole: Any, limit: int = 60) -> str:
    """What the user typed, quoted for a one-line message; 5,000 digits are cut in the middle."""
    if isinstance(whole, int) and not isinstance(whole, bool) and abs(whole) > 10**30:
        return f"of about 10^{int(math.log10(abs(whole)))}"  # repr() of 5,000 digits raises past Python's limit
    text = repr(whole)
    return text if len(text) <= limit else text[: limit // 2 - 2] + "..." + text[-(limit // 2 - 1) :]


def _checked(dims: Sequence[int], whole: Any) -> tuple[int, ...]:
    if math.prod(dims) > MAX_ELEMENTS:
        elements = math.prod(dims)
        count = f"{elements:,}" if elements < 10**30 else f"about 10^{len(str(elements)) - 1}"
        raise InputSizeError(f"input size {_quoted(whole)} has {count} elements; at most {MAX_ELEMENTS:,} are supported")
    return tuple(dims)


def _split_dtype(text: str) -> tuple[str, str | None]:
    body, sep, dtype = text.partition(":")
    if not sep:
        return text, None
    dtype = dtype.strip().lower()
    if dtype not in INPUT_DTYPES:
        raise InputSizeError(f"unknown element type {_quoted(dtype)} in {_quoted(text)}; one of: {', '.join(INPUT_DTYPES)}")
    return body, dtype


def _split_name(part: str, whole: str) -> tuple[str | None, bool, str]:
    """'image=3x32x32' -> ('image', True, '3x32x32'); '=16000' -> (None, True, '16000'); '224' -> (None, False, '224')."""
    head, sep, body = part.partition("=")
    if not sep:
        return None, False, part
    name = head.strip()
    if name and not _NAME.fullmatch(name):
        raise InputSizeError(
            f"malformed input name {_quoted(name)} in {_quoted(whole)}: a keyword of the forward (image=3x32x32), "
            "dotted for a nested dict (batch.image=3x32x32)"
        )
    return name or None, True, body


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
                f"input size {_quoted(whole)} has no channel count and the model's first layer{layer} does not say it; "
                f"give all {rank} dimensions, or ={whole} to take it exactly as written"
            )
        spatial = dims if len(dims) == rank - 1 else dims * (rank - 1)
        return _checked([channels, *spatial], whole)
    layer = expect.layer if expect is not None else "the model"
    raise InputSizeError(
        f"input size {_quoted(whole)} has {len(dims)} dimensions; {layer} takes {rank} without the batch "
        f"(e.g. {format_shape([channels or 3, *[32] * (rank - 1)])})"
        + (f"; ={whole} takes it exactly as written" if expect is None or expect.module is not None else "")
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
        if not 0 < text <= MAX_ELEMENTS:
            raise InputSizeError(f"input size {_quoted(text)} must be from 1 to {MAX_ELEMENTS:,}")
        text = str(text)
    if isinstance(text, str):
        parts = re.split(r"[+,]", text)
        specs = []
        for part in parts:
            name, exact, rest = _split_name(part, text)
            body, own_dtype = _split_dtype(rest)
            dims = _dims_of(body, text)
            # One plain input is completed from the model; several, named or '=' ones are taken as written.
            if exact or len(parts) > 1:
                shape, guessed = _checked(dims, text), None
            else:
                shape = _complete(dims, expect, default, text)
                guessed = part.strip() if list(shape) != dims else None
            specs.append(InputSpec(shape, own_dtype or fallback_dtype, name, guessed))
        names = [s.name for s in specs if s.name]
        clash = _name_clash(names)
        if clash:
            raise InputSizeError(f"input size {_quoted(text)} names {clash!r} twice (or as a value and as a dict)")
        return specs
    try:
        shapes = list(text)
    except TypeError:  # 3.5, an object: neither a size string, a number nor a sequence of them
        raise InputSizeError(
            f"input size must be a size such as '3x224x224', (3, 224, 224) or 224, not {type(text).__name__} {text!r}"
        ) from None
    several = bool(shapes) and all(isinstance(s, (list, tuple)) for s in shapes)
    return [InputSpec(_python_shape(s), fallback_dtype) for s in (shapes if several else [shapes])]


def _name_clash(names: Sequence[str]) -> str | None:
    """A name given twice, or used both as an input and as a dict of inputs ('a' and 'a.b')."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[:i]) in seen:
                return ".".join(parts[:i])
    return None


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
    """The shapes of every input (see ``parse_inputs``), for callers that pass them in order."""
    specs = parse_inputs(text, default, expect)
    named = [s.name for s in specs if s.name]
    if named:
        raise InputSizeError(
            f"named inputs ({', '.join(named)}) are read by summary, compare, rf, draw and report; "
            "this command passes its inputs in order: give them as SIZE+SIZE"
        )
    return [s.shape for s in specs]


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
