"""Benchmark sweeps: models x batch sizes, one BenchResult per row, on the CPU or CUDA."""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import os
from dataclasses import asdict
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from archscope.input_size import check_batch_size, parse_input_sizes
from archscope.analysis.forward_pass import analyze
from archscope.bench.device import machine, resolve_device, torch_threads
from archscope.bench.dtypes import run_dtype
from archscope.bench.memory import peak_memory
from archscope.analysis.compat import is_out_of_memory
from archscope.bench.out_of_memory import out_of_memory_message
from archscope.bench.peak import measured_peak
from archscope.bench.records import BenchEnvironment, BenchReport, BenchResult
from archscope.bench.timing import Clock, latency_stats, time_step
from archscope.errors import ArchscopeError
from archscope.models import ModelSpec, resolve_model

# One network from each family of the zoo: what `archscope bench` runs with no model named.
DEFAULT_MODELS = (
    "lenet5",
    "alexnet",
    "vgg16",
    "googlenet",
    "resnet50",
    "cifar-resnet56",
    "inception-v4",
    "bottleneck-block",
)
# A training step runs forward, backward (about twice the forward's work) and the update: 3x
# the forward FLOPs, the usual approximation (Kaplan et al. 2020, section 2.1).
TRAIN_FLOPS_FACTOR = 3

Progress = Callable[[int, int, str], None]
# Bounds on what a run may ask for: an hour per row, and no more warm-up runs than timed ones.
MAX_MIN_TIME = 3600.0
MAX_WARMUP = 100_000


def _whole(value: Any, name: str) -> int:
    """An int, never a bool or a float silently truncated."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number (int), not {type(value).__name__} {value!r}")
    return value


def cpu_count() -> int:
    """The CPUs this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_options(
    models: Any, batch_sizes: Any, warmup: Any, min_time: Any, threads: Any
) -> tuple[list[str | nn.Module], list[int]]:
    """Every option checked before anything is built: TypeError for a wrong type, ArchscopeError for a bad value."""
    if models is None:
        models = DEFAULT_MODELS
    if isinstance(models, (str, nn.Module, ModelSpec)):
        models = [models]
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, (str, nn.Module, ModelSpec)) for m in models):
        raise TypeError("models must be a name, an nn.Module, or a list of them")
    if not models:
        raise ArchscopeError("no model to benchmark")
    if isinstance(batch_sizes, int):
        batch_sizes = [batch_sizes]
    if not isinstance(batch_sizes, (list, tuple)) or not batch_sizes:
        raise TypeError("batch_sizes must be a whole number or a non-empty list of them, e.g. [1, 8, 32]")
    batches = [check_batch_size(_whole(b, "a batch size")) for b in batch_sizes]
    if not 0 <= _whole(warmup, "warmup") <= MAX_WARMUP:
        raise ArchscopeError(f"--warmup must be from 0 to {MAX_WARMUP:,}, not {warmup:,}")
    if isinstance(min_time, bool) or not isinstance(min_time, (int, float)):
        raise TypeError(f"min_time must be a number of seconds, not {type(min_time).__name__} {min_time!r}")
    if not (math.isfinite(min_time) and 0 < min_time <= MAX_MIN_TIME):
        raise ArchscopeError(f"--min-time must be a number of seconds above 0 and at most {MAX_MIN_TIME:g}, not {min_time}")
    if threads is not None:
        available = cpu_count()
        if not 1 <= _whole(threads, "threads") <= available:
            # More threads than CPUs only slows torch down; tens of thousands crash it.
            raise ArchscopeError(f"--threads must be from 1 to {available} (the CPUs available here), not {threads:,}")
    return list(models), batches


def _free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _loss(output: object) -> torch.Tensor:
    """A scalar to backpropagate from whatever the model returns (a tensor, a tuple, a dict)."""
    if isinstance(output, torch.Tensor):
        return output.float().mean()
    values = output.values() if isinstance(output, dict) else output
    return sum(_loss(v) for v in values if isinstance(v, (torch.Tensor, tuple, list, dict)))


def make_step(
    model: nn.Module, xs: Sequence[torch.Tensor], mode: str, dtype: torch.dtype, device: torch.device
) -> Callable[[], None]:
    """One inference step (no autograd) or one training step (forward, backward, SGD update)."""
    autocast = (
        torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()
    )
    if mode == "inference":

        def inference() -> None:
            with torch.inference_mode(), autocast:
                model(*xs)

        return inference
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def train() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            output = model(*xs)
        _loss(output).backward()
        optimizer.step()

    train.optimizer = optimizer  # type: ignore[attr-defined] - its state is resident memory (bench.memory)
    return train


def _resident(model: nn.Module, xs: Sequence[torch.Tensor], step: Callable[[], None]) -> list[torch.Tensor]:
    """The tensors alive through a step: weights, buffers, inputs and the optimizer's state.

    The previous step's gradients are not: a training step starts with ``zero_grad(set_to_none=True)``.
    """
    tensors = [*model.parameters(), *model.buffers(), *xs]
    optimizer = getattr(step, "optimizer", None)
    if optimizer is not None:
        tensors += [v for state in optimizer.state.values() for v in state.values() if isinstance(v, torch.Tensor)]
    return tensors


def _prepare(
    model: nn.Module, device: torch.device, channels_last: bool, compile_model: bool, mode: str
) -> nn.Module:
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train(mode == "train")
    return torch.compile(model) if compile_model else model


def _run_one(
    name: str,
    model: nn.Module,
    sizes: list[tuple[int, ...]],
    batch: int,
    *,
    device: torch.device,
    dtype: torch.dtype,
    dtype_name: str,
    mode: str,
    channels_last: bool,
    compile_model: bool,
    warmup: int,
    min_time: float,
    peak_flops: float | None,
) -> BenchResult:
    shapes = [[batch, *s] for s in sizes]
    result = BenchResult(name, batch, shapes[0] if len(shapes) == 1 else shapes, dtype_name, mode)
    shape = shapes[0] if len(shapes) == 1 else shapes
    if mode == "train":
        from archscope.analysis.training import analyze_training

        summary = analyze_training(model, shape, name=name, optimizer="sgd")
    else:
        summary = analyze(model, shape, name=name)
    factor = TRAIN_FLOPS_FACTOR if mode == "train" else 1
    result.flops = summary.totals.flops * factor
    # Inference holds the weights and the activations. A training step's estimate is the
    # training analysis's peak (analysis.training): weights, SGD's momentum, the activations
    # autograd saves and the gradients as backward produces them, beside the measured peak.
    t = summary.totals
    if t.training_memory is not None:
        result.analytic_memory_bytes = t.training_memory.peak
    else:
        result.analytic_memory_bytes = t.param_bytes + t.activation_bytes

    xs = [torch.randn(shape, device=device) for shape in shapes]
    if channels_last:
        xs = [x.to(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs]
    prepared = _prepare(model, device, channels_last, compile_model, mode)
    step = make_step(prepared, xs, mode, dtype, device)
    times = time_step(step, Clock(device), warmup=warmup, min_time=min_time)
    result.latency_ms = latency_stats(times)
    seconds = result.latency_ms.median / 1e3
    result.throughput = batch / seconds
    result.achieved_flops = result.flops / seconds
    if peak_flops:
        result.peak_fraction = result.achieved_flops / peak_flops
    result.peak_memory_bytes, result.memory_source = peak_memory(step, device, _resident(prepared, xs, step))
    return result


def benchmark(
    models: Sequence[str | nn.Module | ModelSpec] | str | nn.Module | ModelSpec | None = None,
    batch_sizes: Sequence[int] = (1,),
    input_size: str | Sequence[int] | None = None,
    *,
    device: str = "cpu",
    dtype: str = "float32",
    channels_last: bool = False,
    compile: bool = False,  # noqa: A002 - the option's name
    mode: str = "inference",
    warmup: int = 3,
    min_time: float = 1.0,
    threads: int | None = None,
    auto_batch: bool = False,
    calibrate: bool = True,
    on_progress: Progress | None = None,
    model_kwargs: dict | None = None,
) -> BenchReport:
    """Latency, throughput, memory and achieved vs peak compute for each model and batch size.

    Models are zoo names (built with fresh random weights) or modules of your own, which are
    copied, never moved or changed. On Ctrl-C the rows finished so far are returned with
    ``interrupted`` set.
    """
    models, batches = check_options(models, batch_sizes, warmup, min_time, threads)
    if mode not in ("inference", "train"):
        raise ArchscopeError(f"unknown mode {mode!r}; choose inference or train")
    torch_device = resolve_device(device)
    torch_dtype = run_dtype(dtype)
    # Resolve every name before anything runs, so a typo fails at once, not after an hour.
    entries = [resolve_model(m, model_kwargs) if isinstance(m, str) else m for m in models]

    with torch_threads(threads):
        environment = BenchEnvironment(
            **asdict(machine(torch_device)),
            dtype=dtype,
            compile=compile,
            channels_last=channels_last,
            mode=mode,
            warmup=warmup,
            min_time_s=min_time,
        )
        report = BenchReport(environment)
        if calibrate:
            environment.peak_flops, environment.peak_source = measured_peak(torch_device, torch_dtype)
        total = len(entries) * len(batches)
        try:
            for i, entry in enumerate(entries):
                if isinstance(entry, nn.Module):
                    name, model, default = type(entry).__name__, copy.deepcopy(entry), None
                elif entry.trusted:
                    name, model, default = entry.name, entry.build(), entry.input_size  # fresh weights, no user code
                else:
                    # The user's factory runs once per command: benchmark a copy of the model it built.
                    name, model, default = entry.name, entry.real_copy(), entry.input_size
                sizes = parse_input_sizes(input_size, default)
                for j, batch in enumerate(batches):
                    if on_progress:
                        on_progress(i * len(batches) + j, total, f"{name} batch {batch}")
                    report.results.append(
                        _run_with_memory_guard(
                            name, model, sizes, batch, auto_batch, torch_device,
                            dict(dtype=torch_dtype, dtype_name=dtype, mode=mode, channels_last=channels_last,
                                 compile_model=compile, warmup=warmup, min_time=min_time,
                                 peak_flops=environment.peak_flops),
                        )
                    )  # fmt: skip
                del model
                _free_memory(torch_device)
            if on_progress:
                on_progress(total, total, "done")
        except KeyboardInterrupt:
            report.interrupted = True
        return report


def _run_with_memory_guard(
    name: str,
    model: nn.Module,
    sizes: list[tuple[int, ...]],
    batch: int,
    auto_batch: bool,
    device: torch.device,
    options: dict,
) -> BenchResult:
    """Run one row; out of memory becomes the row's error (or, with auto_batch, a halved batch)."""
    requested = batch
    while True:
        try:
            result = _run_one(name, model, sizes, batch, device=device, **options)
            if batch != requested:
                result.note = f"batch halved from {requested} to {batch} by --auto-batch to fit in memory"
            return result
        except Exception as error:  # noqa: BLE001 - every failure becomes a row, the sweep goes on
            _free_memory(device)
            if is_out_of_memory(error):
                if auto_batch and batch > 1:
                    batch //= 2
                    continue
                return BenchResult(
                    name, requested, _shape(requested, sizes), options["dtype_name"], options["mode"],
                    error=out_of_memory_message(error, device, batch),
                )  # fmt: skip
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return BenchResult(
                name, requested, _shape(requested, sizes), options["dtype_name"], options["mode"],
                error=f"{type(error).__name__}: {message}",
            )  # fmt: skip


def _shape(batch: int, sizes: list[tuple[int, ...]]) -> list:
    shapes = [[batch, *s] for s in sizes]
    return shapes[0] if len(shapes) == 1 else shapes
