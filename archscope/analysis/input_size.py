"""Parsing and checking input sizes: ``3x224x224``, ``224x224`` or ``224``."""

from __future__ import annotations

import re
from typing import Sequence

from archscope.errors import InputSizeError

_FORMS = "CxHxW, HxW or N (square), e.g. 3x224x224, 224x224 or 224"


def parse_input_size(
    text: str | int | Sequence[int] | None,
    default: Sequence[int] | None,
) -> tuple[int, ...]:
    """An input size without the batch dimension.

    ``HxW`` and ``N`` keep the channel count of ``default`` (the network's own input);
    ``None`` is ``default`` itself.
    """
    if text is None:
        if default is None:
            raise InputSizeError(f"this model has no default input size; give one as {_FORMS}")
        return tuple(int(d) for d in default)
    if not isinstance(text, (str, int)):
        # A sequence from the Python API is the whole shape, taken as given.
        dims = tuple(int(d) for d in text)
        if not dims or any(d <= 0 for d in dims):
            raise InputSizeError(f"input size {tuple(text)} must have dimensions of at least 1")
        return dims
    spec = str(text).strip().lower().replace("×", "x")
    if not re.fullmatch(r"\d+(x\d+){0,2}", spec):
        raise InputSizeError(f"malformed input size {text!r}: expected {_FORMS}")
    dims_list = [int(d) for d in spec.split("x")]
    if any(d <= 0 for d in dims_list):
        raise InputSizeError(f"input size {text!r} has a dimension of 0; every dimension must be at least 1")
    if len(dims_list) == 1:
        dims_list = dims_list * 2
    if len(dims_list) == 2:
        if default is None:
            raise InputSizeError(f"input size {text!r} has no channel count and this model has no default; give CxHxW")
        dims_list = [int(default[0]), *dims_list]
    return tuple(dims_list)

def check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise InputSizeError(f"batch size must be at least 1, not {batch_size}")
    return int(batch_size)


def format_shape(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def parse_input_sizes(
    text: str | int | Sequence[int] | Sequence[Sequence[int]] | None,
    default: Sequence[int] | None,
) -> list[tuple[int, ...]]:
    """One size per model input. ``3x224x224+16`` (or a list of tuples) is a model with two inputs.

    With several inputs each is taken as written (no channels filled in from a default).
    """
    if isinstance(text, str) and "+" in text:
        parts = [p for p in text.split("+")]
        sizes = []
        for part in parts:
            spec = part.strip().lower()
            if not re.fullmatch(r"\d+(x\d+)*", spec):
                raise InputSizeError(f"malformed input size {part!r} in {text!r}: expected e.g. 3x224x224+16")
            sizes.append(parse_input_size(tuple(int(d) for d in spec.split("x")), None))
        return sizes
    if isinstance(text, (list, tuple)) and text and all(isinstance(t, (list, tuple)) for t in text):
        return [parse_input_size(tuple(t), None) for t in text]
    return [parse_input_size(text, default)]


def describe_shapes(shapes: Sequence[Sequence[int]]) -> str:
    return " + ".join(format_shape(s) for s in shapes)
