"""Where the time goes, layer by layer, against the device's roofline.

Each layer call at the chosen depth becomes one row: its measured time beside its MACs and
FLOPs (from the summary), the least bytes it moves (``analysis.traffic``), its arithmetic
intensity, and where that puts it under the roofline (Williams, Waterman & Patterson, CACM
2009): attainable FLOP/s = min(peak FLOP/s, intensity x bandwidth), both ceilings measured in
the same run (``bench.peak``, ``bench.bandwidth``).

Timing does not distort what it measures. Module hooks mark each row's boundaries: on CUDA a
recorded event (no synchronisation until the step has ended), on the CPU the host clock; in
training, a hook on each row's output marks when its gradient arrives, so the backward pass
is cut at the same boundaries. Runs with the marks alternate with runs without them, timed
as ``bench`` times a step, so a change in the machine's load hits both alike, and the sum of
the rows stands beside the whole-model median: the instrumentation's cost is visible.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from archscope.input_size import check_depth, parse_input_sizes
from archscope.analysis.records import LayerRecord, Summary
from archscope.analysis.forward_pass import analyze
from archscope.analysis.traffic import TrafficObserver
from archscope.bench.bandwidth import measured_bandwidth
from archscope.bench.device import machine, resolve_device, torch_threads
from archscope.bench.peak import measured_peak
from archscope.bench.profile_records import ProfileDevice, ProfileLayer, ProfileReport
from archscope.analysis.compat import is_out_of_memory
from archscope.bench.out_of_memory import out_of_memory_message
from archscope.bench.dtypes import run_dtype
from archscope.bench.runner import _loss, check_options
from archscope.bench.timing import Clock, percentile
from archscope.errors import ArchscopeError
from archscope.models import ModelSpec, resolve_model

MODES = {"eval": "eval", "inference": "eval", "train": "train"}
MIN_RUNS = 5
MAX_RUNS = 100_000
Progress = Callable[[str], None]


# ------------------------------------------------------------------ rows and their figures


def row_indices(layers: Sequence[LayerRecord], depth: int) -> list[int]:
    """The layer calls at ``depth``, and shallower ones with no call inside them: rows that do not nest.

    Records are in call order, a container before its children, so a call has a child call
    when the next record is one level deeper and named under it.
    """
    rows = []
    for i, layer in enumerate(layers):
        if layer.depth > depth:
            continue
        following = layers[i + 1] if i + 1 < len(layers) else None
        has_child = (
            following is not None
            and following.depth == layer.depth + 1
            and following.name.startswith(layer.name + ".")
        )
        if layer.depth == depth or not has_child:
            rows.append(i)
    return rows


def roofline(intensity: float | None, peak_flops: float | None, bandwidth: float | None) -> float | None:
    """Attainable FLOP/s at an intensity: min(peak, intensity x bandwidth) (Williams et al. 2009)."""
    if intensity is None or not peak_flops or not bandwidth:
        return None
    return min(peak_flops, intensity * bandwidth)


def layer_figures(
    time_ms: float,
    macs: int,
    flops: int,
    moved: int,
    device: ProfileDevice,
) -> dict[str, Any]:
    """A row's derived figures: intensity, achieved rates, the roof at its intensity, the fraction, the bound."""
    seconds = time_ms / 1e3
    intensity = flops / moved if moved else None
    achieved = flops / seconds if seconds > 0 else None
    achieved_bytes = moved / seconds if seconds > 0 else None
    roof = roofline(intensity, device.peak_flops, device.bandwidth_bytes_per_s)
    if flops and roof and achieved is not None:
        fraction = achieved / roof
    elif moved and device.bandwidth_bytes_per_s and achieved_bytes is not None:
        fraction = achieved_bytes / device.bandwidth_bytes_per_s  # no FLOPs: only the memory roof applies
    else:
        fraction = None
    ridge = device.ridge_intensity
    if intensity is None:
        bound = None
    elif ridge is None:
        bound = None
    else:
        bound = "compute" if intensity >= ridge else "memory"
    return dict(
        macs=macs, flops=flops, bytes=moved, intensity=intensity, achieved_flops=achieved,
        achieved_bytes_per_s=achieved_bytes, roofline_flops=roof, roofline_fraction=fraction, bound=bound,
    )  # fmt: skip


# ------------------------------------------------------------------ marks at module boundaries


class Timeline:
    """Timestamps at module boundaries, read after the step has ended.

    On the CPU, the host clock. On CUDA, an event recorded on the current stream: recording
    does not wait for the GPU, so the marks leave the kernels' overlap as it was; ``settle``
    waits once, at the end (torch.cuda.Event, "Timing" in PyTorch's CUDA semantics notes).
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.device = device
        self.marks: list[Any] = []

    def mark(self) -> int:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())
        return len(self.marks) - 1

    def settle(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def ms(self, start: int, end: int) -> float:
        if self.cuda:
            return self.marks[start].elapsed_time(self.marks[end])
        return (self.marks[end] - self.marks[start]) * 1e3


@dataclass
class _Run:
    """One instrumented step: per row, forward and backward milliseconds; the step's own span."""

    forward: list[float]
    backward: list[float]
    total: float
    optimizer: float | None


class _Instruments:
    """Forward hooks on the rows' modules, installed for one instrumented step and removed after."""

    def __init__(self, modules: list[nn.Module], names: list[str], train: bool) -> None:
        self.modules = modules  # one per row, in call order (a module called twice appears twice)
        self.names = names
        self.train = train

    def run(self, step: Callable[[Timeline, Callable[[], None]], None], device: torch.device) -> _Run:
        timeline = Timeline(device)
        calls: list[list[int | None]] = []  # per call: [start mark, end mark]
        arrivals: list[tuple[int, int]] = []  # (call, mark) as each row's output gradient arrives
        open_calls: list[int] = []

        def opened(module: nn.Module, args: tuple) -> None:
            open_calls.append(len(calls))
            calls.append([timeline.mark(), None])

        def closed(module: nn.Module, args: tuple, output: Any) -> None:
            call = open_calls.pop()
            calls[call][1] = timeline.mark()
            if self.train:
                first = _first_tensor(output)
                if first is not None and first.requires_grad:
                    first.register_hook(_arrival(call, arrivals, timeline))

        handles = []
        for module in dict.fromkeys(self.modules):  # each module hooked once, however often it is called
            handles.append(module.register_forward_pre_hook(opened))
            handles.append(module.register_forward_hook(closed))
        backward_span: list[int] = []

        def between_passes() -> None:
            backward_span.append(timeline.mark())

        try:
            start = timeline.mark()
            step(timeline, between_passes)
            end = timeline.mark()
        finally:
            for handle in handles:
                handle.remove()
        timeline.settle()
        if len(calls) != len(self.modules):
            raise ArchscopeError(
                f"the model made {len(calls)} calls of the profiled layers, the analysis saw {len(self.modules)}: "
                "its forward differs from run to run, so its layers cannot be timed one by one"
            )
        forward = [timeline.ms(s, e) for s, e in calls]  # type: ignore[arg-type]
        backward = [0.0] * len(calls)
        optimizer = None
        if self.train and len(backward_span) >= 2:
            backward_end = backward_span[1]
            # Each row's backward runs from its output gradient's arrival to the next arrival.
            bounds = [mark for _, mark in arrivals] + [backward_end]
            for (call, mark), following in zip(arrivals, bounds[1:]):
                backward[call] += timeline.ms(mark, following)
            optimizer = timeline.ms(backward_end, end)
        return _Run(forward, backward, timeline.ms(start, end), optimizer)


def _arrival(call: int, arrivals: list[tuple[int, int]], timeline: Timeline) -> Callable[[torch.Tensor], None]:
    """A gradient hook that marks when row ``call``'s output gradient arrives (and leaves the gradient alone)."""

    def hook(grad: torch.Tensor) -> None:
        arrivals.append((call, timeline.mark()))

    return hook


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            found = _first_tensor(v)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


# ------------------------------------------------------------------ the steps


def _steps(
    model: nn.Module, xs: list[torch.Tensor], train: bool, dtype: torch.dtype, device: torch.device
) -> tuple[Callable[[], None], Callable[[Timeline, Callable[[], None]], None]]:
    """The plain step (as bench runs it) and the same step with marks between its passes."""
    autocast = torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()
    if not train:

        def plain() -> None:
            with torch.inference_mode(), autocast:
                model(*xs)

        def marked(timeline: Timeline, between: Callable[[], None]) -> None:
            plain()

        return plain, marked
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def forward() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            return _loss(model(*xs))

    def plain_train() -> None:
        forward().backward()
        optimizer.step()

    def marked_train(timeline: Timeline, between: Callable[[], None]) -> None:
        loss = forward()
        between()  # the backward starts
        loss.backward()
        between()  # the backward has ended; the optimizer step follows
        optimizer.step()

    return plain_train, marked_train


# ------------------------------------------------------------------ the profile


def _build(model: Any, model_kwargs: dict | None) -> tuple[str, nn.Module, Any]:
    """(name, a model to run, its default input size), as bench builds them: the caller's module is copied."""
    if isinstance(model, str):
        model = resolve_model(model, model_kwargs)
    if isinstance(model, nn.Module):
        return type(model).__name__, copy.deepcopy(model), None
    if not isinstance(model, ModelSpec):
        raise TypeError(f"profile() takes a model name, a ModelSpec or an nn.Module, not {type(model).__name__}")
    if model.trusted:
        return model.name, model.build(), model.input_size  # fresh weights, no user code
    return model.name, model.real_copy(), model.input_size


def _analysis(model: nn.Module, shapes: list[list[int]], name: str, train: bool, float_bytes: int | None) -> tuple[Summary, list[int], list[int]]:
    """The summary on the meta device, with each layer call's forward and backward traffic."""
    traffic = TrafficObserver(float_bytes)
    shape = shapes[0] if len(shapes) == 1 else shapes
    if not train:
        summary = analyze(model, shape, name=name, observers=[traffic])
        return summary, traffic.layer_bytes, [0] * len(summary.layers)
    from archscope.analysis.training import GraphOwners, analyze_training

    graph = GraphOwners(float_bytes)
    summary = analyze_training(model, shape, name=name, observers=[traffic], owners=graph)
    backward = graph.count.layer_bytes  # type: ignore[attr-defined]
    return summary, traffic.layer_bytes, backward + [0] * (len(summary.layers) - len(backward))


def profile(
    model: str | nn.Module | ModelSpec,
    input_size: str | Sequence[int] | None = None,
    *,
    batch_size: int = 1,
    device: str = "cpu",
    dtype: str = "float32",
    channels_last: bool = False,
    mode: str = "eval",
    warmup: int = 3,
    min_time: float = 1.0,
    depth: int = 2,
    threads: int | None = None,
    calibrate: bool = True,
    ceilings: ProfileDevice | None = None,
    model_kwargs: dict | None = None,
    on_progress: Progress | None = None,
) -> ProfileReport:
    """Per-layer time against counts and the roofline, for one model at one batch size.

    ``mode`` is "eval" (inference, no autograd) or "train" (forward, backward and an SGD step
    with momentum, as ``bench --mode train``). ``depth`` chooses the rows as ``summary --depth``
    does. ``min_time`` is the time spent on uninstrumented steps; as long again goes to
    instrumented ones, alternating with them. ``ceilings`` reuses the peak and bandwidth of an
    earlier profile on the same device and dtype instead of measuring them again.
    """
    check_options([model], [batch_size], warmup, min_time, threads)
    if mode not in MODES:
        raise ArchscopeError(f"unknown mode {mode!r}; choose eval or train")
    train = MODES[mode] == "train"
    check_depth(depth)
    torch_device = resolve_device(device)
    torch_dtype = run_dtype(dtype)
    say = on_progress or (lambda text: None)
    name, built, default = _build(model, model_kwargs)
    sizes = parse_input_sizes(input_size, default)
    shapes = [[batch_size, *s] for s in sizes]

    with torch_threads(threads):
        say("analysing on the meta device...")
        float_bytes = 2 if torch_dtype in (torch.float16, torch.bfloat16) else None
        summary, forward_bytes, backward_bytes = _analysis(built, shapes, name, train, float_bytes)
        rows = row_indices(summary.layers, depth)
        if not rows:
            raise ArchscopeError(f"{name} has no layer to profile: its forward calls no submodule")
        # By the names the analysis recorded, not get_submodule, which reads a name as a dotted path.
        by_name = dict(built.named_modules())
        modules = [by_name[summary.layers[i].name] for i in rows]

        peak = peak_source = bandwidth = bandwidth_source = None
        if ceilings is not None:
            peak, peak_source = ceilings.peak_flops, ceilings.peak_source
            bandwidth, bandwidth_source = ceilings.bandwidth_bytes_per_s, ceilings.bandwidth_source
        elif calibrate:
            say(f"calibrating peak {dtype} FLOP/s...")
            peak, peak_source = measured_peak(torch_device, torch_dtype)
            say("calibrating memory bandwidth...")
            bandwidth, bandwidth_source = measured_bandwidth(torch_device)
        where = machine(torch_device)
        device_record = ProfileDevice(
            name=where.device_name, device=where.device, dtype=dtype, threads=where.cpu_threads,
            peak_flops=peak, peak_source=peak_source, bandwidth_bytes_per_s=bandwidth, bandwidth_source=bandwidth_source,
        )  # fmt: skip

        say(f"timing {name} layer by layer...")
        try:
            plain_times, runs = _measure(built, shapes, summary, rows, modules, train, torch_dtype, torch_device,
                                         channels_last, warmup, min_time)  # fmt: skip
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            # A real allocation that cannot succeed: how much was asked, how much there is, a batch that may fit.
            # Every activation the forward creates, per sample: an upper bound on what a step holds.
            per_sample = summary.totals.activation_bytes // batch_size
            raise ArchscopeError(out_of_memory_message(error, torch_device, batch_size, per_sample)) from None

    layers = _layers(summary, rows, runs, forward_bytes, backward_bytes, device_record, train)
    return ProfileReport(
        model=name, input_shape=shapes[0] if len(shapes) == 1 else shapes, batch_size=batch_size,
        mode="train" if train else "eval", depth=depth, channels_last=channels_last, machine=where,
        warmup=warmup, min_time_s=min_time, device=device_record, **_step_times(plain_times, runs, layers),
        layers=layers, timing_source=_timing_source(torch_device, train),
    )  # fmt: skip


def _measure(
    built: nn.Module, shapes: list[list[int]], summary: Summary, rows: list[int], modules: list[nn.Module], train: bool,
    torch_dtype: torch.dtype, torch_device: torch.device, channels_last: bool, warmup: int, min_time: float,
) -> tuple[list[float], list[_Run]]:
    """The model on the device, its inputs, and the alternating plain and instrumented steps."""
    prepared = built.to(torch_device)
    if channels_last:
        prepared = prepared.to(memory_format=torch.channels_last)
    prepared.train(train)
    xs = [torch.randn(shape, device=torch_device) for shape in shapes]
    if channels_last:
        xs = [x.to(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs]
    plain, marked = _steps(prepared, xs, train, torch_dtype, torch_device)
    instruments = _Instruments(modules, [summary.layers[i].name for i in rows], train)
    return _time(plain, marked, instruments, torch_device, warmup, min_time)


def _time(
    plain: Callable[[], None],
    marked: Callable[[Timeline, Callable[[], None]], None],
    instruments: _Instruments,
    device: torch.device,
    warmup: int,
    min_time: float,
) -> tuple[list[float], list[_Run]]:
    """Uninstrumented and instrumented steps, alternately, until the uninstrumented ones fill ``min_time``."""
    clock = Clock(device)
    for _ in range(warmup):
        plain()
        instruments.run(marked, device)
    clock.synchronize()
    plain_times: list[float] = []
    runs: list[_Run] = []
    while len(plain_times) < MAX_RUNS and (len(plain_times) < MIN_RUNS or sum(plain_times) < min_time * 1e3):
        plain_times.append(clock.time_ms(plain))
        runs.append(instruments.run(marked, device))
    return plain_times, runs


def _median_and_spread(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), percentile(ordered, 0.10), percentile(ordered, 0.90)


def _layers(
    summary: Summary, rows: list[int], runs: list[_Run], forward_bytes: list[int], backward_bytes: list[int],
    device: ProfileDevice, train: bool,
) -> list[ProfileLayer]:
    """One row per layer call: its median time and spread beside its counts, bytes and share of the whole."""
    layers: list[ProfileLayer] = []
    for position, index in enumerate(rows):
        record = summary.layers[index]
        forward = [run.forward[position] for run in runs]
        backward = [run.backward[position] for run in runs]
        both = [f + b for f, b in zip(forward, backward)]
        time_ms, p10, p90 = _median_and_spread(both)
        macs = record.macs + (record.backward_macs or 0)
        flops = record.flops + (record.backward_flops or 0)
        moved = forward_bytes[index] + backward_bytes[index]
        layers.append(
            ProfileLayer(
                name=record.name, type=record.type, depth=record.depth, kernel=record.kernel, leaf=record.leaf, time_ms=time_ms,
                p10_ms=p10, p90_ms=p90,
                share=0.0, forward_ms=statistics.median(forward) if train else None,
                backward_ms=statistics.median(backward) if train else None,
                **layer_figures(time_ms, macs, flops, moved, device),
            )
        )  # fmt: skip
    layers_sum = sum(layer.time_ms for layer in layers)
    all_macs = sum(layer.macs for layer in layers)
    for layer in layers:
        layer.share = layer.time_ms / layers_sum if layers_sum else 0.0
        layer.mac_share = layer.macs / all_macs if all_macs else 0.0
    return layers


def _step_times(plain_times: list[float], runs: list[_Run], layers: list[ProfileLayer]) -> dict[str, Any]:
    """ProfileReport's whole-step figures: the plain steps' median and spread, the instrumented ones', the rows' sum."""
    total, p10, p90 = _median_and_spread(plain_times)
    optimizer = [run.optimizer for run in runs if run.optimizer is not None]
    return dict(
        total_ms=total, total_p10_ms=p10, total_p90_ms=p90, runs=len(plain_times),
        instrumented_ms=statistics.median(run.total for run in runs), layers_sum_ms=sum(layer.time_ms for layer in layers),
        optimizer_ms=statistics.median(optimizer) if optimizer else None,
    )  # fmt: skip


def _timing_source(device: torch.device, train: bool) -> str:
    """How the layer boundaries were timed, as the report says it."""
    marks = (
        "CUDA events recorded at module boundaries, read after the step (no synchronisation between layers)"
        if device.type == "cuda"
        else "the host clock (time.perf_counter) at module boundaries"
    )
    return marks + ("; backward cut where each layer's output gradient arrives" if train else "")

