"""``summarize``: a network by name, file, library or module, at the input asked, forward or training,
through the one forward pass (``analysis.forward_pass``, ``analysis.training``); and ``fit_batch``, the
largest training batch a memory budget holds, found by summarising."""

from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import torch
import torch.nn as nn

from archscope.analysis.forward_pass import AnalysisObserver, ExampleInputs, model_dtype, analyze
from archscope.analysis.module_state import exclusive
from archscope.analysis.records import BatchFit, Summary
from archscope.analysis.training import analyze_training
from archscope.errors import ArchscopeError, InputSizeError
from archscope.input_size import INPUT_DTYPES, MAX_ELEMENTS, check_batch_size, expectation_of, parse_inputs


def summarize(
    model_or_name: nn.Module | str | Any,
    input_size: str | int | Sequence[int] | Sequence[Sequence[int]] | None = None,
    batch_size: int = 1,
    *,
    dtype: str | torch.dtype | None = None,
    input_data: Any = None,
    train: bool = False,
    model_kwargs: dict[str, Any] | None = None,
    observers: Sequence[AnalysisObserver] = (),
    optimizer: str = "sgd",
) -> Summary:
    """Summarise a network without allocating weights.

    ``model_or_name`` is a module you built, a zoo name, or any spec ``archscope.models``
    understands (``path/to/file.py:Net``, ``package.module:build``, ``torchvision:resnet50``),
    built with ``model_kwargs``; or a ``ModelSpec`` already resolved.

    The input is either ``input_data`` (a tensor, a tuple of arguments, or a dict of keyword
    arguments, as torchinfo takes it, with tensors nested in dicts, lists and tuples at any
    depth; only shapes and dtypes are used unless the forward needs real values) or
    ``input_size`` without the batch dimension (``3x224x224``, ``224``, ``4x200`` for a Conv1d,
    ``50:int64`` for tokens, ``=16000`` exactly as written, ``image=3x32x32+meta=4`` as keywords;
    see ``archscope.input_size``) with ``batch_size`` and ``dtype``. By default, the network's
    own input: a model file's ``example_inputs()``, else its input size. A Hugging Face model
    gets its input as its ``main_input_name`` keyword.

    ``train=True`` analyses the training-mode graph and adds what a training step costs
    (``analysis.training``): the backward pass per layer, one step of ``optimizer`` ("sgd" with
    momentum, or "adam") and the training memory.
    """
    from archscope.models import ModelSpec, resolve_model

    batch = check_batch_size(batch_size)
    dtype_name = _dtype_name(dtype)
    if isinstance(model_or_name, str):
        spec = resolve_model(model_or_name, model_kwargs)
    elif isinstance(model_or_name, ModelSpec):
        spec = model_or_name
    elif isinstance(model_or_name, nn.Module):
        spec = None
    else:
        raise TypeError(f"summarize() takes a model name or a torch.nn.Module, not {type(model_or_name).__name__}")
    try:
        return _summarize(spec, model_or_name, input_size, batch, dtype_name, input_data, train, observers, optimizer)
    except RecursionError:
        name = spec.name if spec is not None else type(model_or_name).__name__
        raise ArchscopeError(
            f"{name} is nested too deeply to analyse: its module tree or its forward goes past Python's "
            f"recursion limit of {sys.getrecursionlimit():,} calls"
        ) from None


def _summarize(
    spec: Any, model_or_name: Any, input_size: Any, batch: int, dtype_name: str | None, input_data: Any,
    train: bool, observers: Sequence[AnalysisObserver], optimizer: str,
) -> Summary:  # fmt: skip
    model = spec.analysis_model() if spec is not None else model_or_name
    specs: list[Any] = []
    expect = None
    if input_data is not None:
        inputs = _example_inputs(input_data)
    elif input_size is None and spec is not None and spec.example_inputs is not None:
        if batch != 1:
            raise InputSizeError(f"{spec.name}'s example_inputs() include their batch; -b/batch_size cannot change it")
        inputs = _example_inputs(spec.example_inputs())
    else:
        expect = spec.expectation if spec is not None and spec.expectation is not None else expectation_of(model)
        specs = parse_inputs(input_size, spec.input_size if spec is not None else None, expect, dtype_name)
        for s in specs:
            if batch * math.prod(s.shape) > MAX_ELEMENTS:
                raise InputSizeError(
                    f"batch {batch:,} of {s.text()} is {batch * math.prod(s.shape):,} elements; at most {MAX_ELEMENTS:,} are supported"
                )
        inputs = _inputs_from_specs(specs, batch, model, _main_input_name(model, spec))
    options: dict[str, Any] = dict(
        inputs=inputs,
        name=spec.name if spec is not None else None,
        source=spec.source if spec is not None else None,
        real_model=spec.real_model if spec is not None else None,
        observers=observers,
    )
    try:
        # The whole analysis, not only its passes: reading the weights while another thread's
        # pass has swapped in its stand-ins would copy those.
        with exclusive(model):
            if train:
                result = analyze_training(model, optimizer=optimizer, **options)
            else:
                result = analyze(model, **options)
    except InputSizeError as error:
        hint = _exact_form_hint(error, specs, expect)
        if hint is None:
            raise
        raise InputSizeError(f"{error}; {hint}") from error

    def again(more_observers: Sequence[AnalysisObserver]) -> Summary:
        """The same analysis once more, with more observers (``Summary.explain``)."""
        return summarize(
            spec if spec is not None else model_or_name, input_size, batch, dtype=dtype_name, input_data=input_data,
            train=train, observers=[*observers, *more_observers], optimizer=optimizer,
        )  # fmt: skip

    result.rerun = again
    return result


def _main_input_name(model: nn.Module, spec: Any) -> str | None:
    """The keyword a Hugging Face model takes its input as (``pixel_values``, ``input_ids``, ``input_values``)."""
    name = getattr(spec, "input_name", None) or getattr(model, "main_input_name", None)
    return name if isinstance(name, str) and name.isidentifier() else None


def _inputs_from_specs(specs: Sequence[Any], batch: int, model: nn.Module, main_input: str | None) -> ExampleInputs:
    """Meta tensors for parsed input sizes: positional in order, named ones as (nested) keywords.

    A single positional input of a model with a ``main_input_name`` goes to that keyword, as
    Hugging Face models take it.
    """
    args: list[torch.Tensor] = []
    kwargs: dict[str, Any] = {}
    for s in specs:
        t = torch.empty((batch, *s.shape), device="meta", dtype=_torch_dtype(s.dtype) if s.dtype else model_dtype(model))
        if s.name is None:
            args.append(t)
            continue
        *path, last = s.name.split(".")
        into = kwargs
        for key in path:
            into = into.setdefault(key, {})
        into[last] = t
    if main_input is not None and len(args) == 1 and main_input not in kwargs:
        kwargs = {main_input: args.pop(), **kwargs}
    return ExampleInputs(tuple(args), kwargs)


def _exact_form_hint(error: InputSizeError, specs: Sequence[Any], expect: Any) -> str | None:
    """When a size archscope completed fails in the layer it was completed for, how to say it exactly."""
    guessed = [s for s in specs if s.guessed_from]
    failed_in = getattr(error, "failed_layer", None)
    # expect.module is None where the form is known for certain (a Hugging Face config): no hint.
    if len(guessed) != 1 or expect is None or expect.module is None or failed_in != expect.module:
        return None
    typed, shape = guessed[0].guessed_from, guessed[0].shape
    return (
        f"archscope read {typed!r} as {'x'.join(map(str, shape))} for {expect.layer}; if the model reshapes its "
        f"input itself, give the size exactly as written: -i ={typed}"
    )


def _dtype_name(dtype: str | torch.dtype | None) -> str | None:
    if dtype is None:
        return None
    name = str(dtype).removeprefix("torch.")
    if name not in INPUT_DTYPES:
        raise InputSizeError(f"unknown dtype {dtype!r}; one of: {', '.join(INPUT_DTYPES)}")
    return name


def _torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


def _example_inputs(data: Any) -> ExampleInputs:
    """torchinfo's input_data: a tensor, a sequence of arguments, or a dict of keyword arguments.

    Each argument may itself be a tensor or any nesting of dicts, lists and tuples of them
    (``{"batch": {"image": x, "meta": m}}``); every tensor in it is replaced by a meta stand-in
    of its shape and dtype, and by a copy of its values if the forward needs real data.
    """
    if isinstance(data, torch.Tensor):
        inputs = ExampleInputs((data,), {})
    elif isinstance(data, dict):
        if not all(isinstance(k, str) for k in data):
            raise TypeError("input_data as a dict is the forward's keyword arguments: its keys must be strings")
        inputs = ExampleInputs((), dict(data))
    elif isinstance(data, (list, tuple)):
        inputs = ExampleInputs(tuple(data), {})
    else:
        raise TypeError(
            f"input_data must be a tensor, a tuple of arguments or a dict of keyword arguments, not {type(data).__name__}"
        )
    try:
        inputs.tensors
    except RecursionError:
        raise InputSizeError("input_data is nested too deeply to read") from None
    return inputs


MAX_FIT_BATCH = 2**31 - 1


# How many lines the search solves on before it bisects: the peak is close to a line beyond a
# few samples, so two or three secants land on the answer.
_FIT_STEPS = 6


def fit_batch(
    model_or_name: Any,
    budget: int,
    input_size: Any = None,
    *,
    optimizer: str = "sgd",
    model_kwargs: dict[str, Any] | None = None,
) -> BatchFit:
    """The largest batch whose training memory (``TrainingMemory.peak``) is within ``budget`` bytes.

    The saved activations grow in proportion to the batch, but the peak does not quite: it
    falls where the saved activations still held and the gradients already made are most,
    and that point moves with the batch (ResNet-50's peak grows by 64 MiB from batch 1 to 2,
    by 79 MiB a sample near batch 100). So the search solves on a line through the two
    batches analysed last (first 1 and 2, then its own guesses: the secant method), analyses
    the guess and the batch after it, and stops when one fits and the other does not; where
    that takes too many steps, it bisects. Every answer is measured: ``peak`` at the batch,
    ``next_peak`` at one more; ``fixed`` and ``per_sample`` are the last line it solved on.
    """

    if budget <= 0:
        raise ArchscopeError(f"the memory budget must be positive, not {budget}")
    peaks: dict[int, int] = {}

    def peak(batch: int) -> int:
        if batch not in peaks:
            s = summarize(model_or_name, input_size, batch, train=True, optimizer=optimizer, model_kwargs=model_kwargs)
            peaks[batch] = s.totals.training_memory.peak
        return peaks[batch]

    def result(batch: int, line: tuple[int, int]) -> BatchFit:
        after = peak(batch + 1) if batch < MAX_FIT_BATCH else None
        return BatchFit(budget, batch, peak(max(batch, 1)), line[0], line[1], after)

    order = [1, 2]  # the batches analysed, in order: each line goes through the last two
    line = (0, 0)
    for _ in range(_FIT_STEPS):
        low, high = sorted(order[-2:])
        per_sample = (peak(high) - peak(low)) // (high - low)
        if per_sample <= 0:
            raise ArchscopeError("the training memory does not grow with the batch: every batch fits or none does")
        line = (peak(high) - per_sample * high, per_sample)
        if peak(1) > budget:
            return result(0, line)
        guess = max(1, min((budget - line[0]) // per_sample, MAX_FIT_BATCH))
        tried = [guess]
        if peak(guess) <= budget:
            if guess == MAX_FIT_BATCH or peak(guess + 1) > budget:
                return result(guess, line)
            tried.append(guess + 1)
        order += [b for b in tried if b != order[-1]]
        if len(set(order[-2:])) < 2:
            break
    # The lines did not settle: bisect between what is known to fit and what is not.
    fits = max(b for b, p in peaks.items() if p <= budget)
    too_big = min((b for b, p in peaks.items() if p > budget), default=None)
    while too_big is None:
        candidate = min(fits * 2, MAX_FIT_BATCH)
        if peak(candidate) > budget:
            too_big = candidate
        elif candidate == MAX_FIT_BATCH:
            return result(candidate, line)
        else:
            fits = candidate
    while too_big - fits > 1:
        middle = (fits + too_big) // 2
        if peak(middle) <= budget:
            fits = middle
        else:
            too_big = middle
    return result(fits, line)
