"""Per-layer summary of a network on the meta device: shapes, parameters, MACs and FLOPs.

Two mechanisms work together. Forward pre- and post-hooks on every module open and close a
``LayerRecord`` for each call (as torchinfo does), so the records follow the calls, not the
module list. A ``TorchDispatchMode`` sees every ATen operator the forward pass runs, however
it was called (module, ``torch.cat``, ``x + y``), prices it with the operator table in
``counting`` and charges it to every record open at that moment, so a container's figures
include its children's.

Nothing is computed on real data and no weight is allocated: the network is built on the
meta device, or, for a model the user already built, run with meta stand-ins for its
parameters through ``torch.func.functional_call``, which leaves the model itself untouched.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from archscope.analysis.counting import op_cost, op_name
from archscope.analysis.dynamo_stub import without_dynamo_import
from archscope.analysis.input_size import check_batch_size, describe_shapes, parse_input_sizes
from archscope.analysis.receptive_field import FieldTracker, describe
from archscope.analysis.records import LayerRecord, Shape, Summary, Totals, UncountedOp
from archscope.errors import ArchscopeError, InputSizeError


def shape_of(value: Any) -> Shape:
    """A tensor's shape as a list; nested lists (or a dict) of shapes for containers."""
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (list, tuple)):
        shapes = [shape_of(v) for v in value]
        shapes = [s for s in shapes if s is not None]
        return shapes[0] if len(shapes) == 1 else (shapes or None)
    if isinstance(value, dict):
        shapes = {str(k): shape_of(v) for k, v in value.items()}
        return {k: s for k, s in shapes.items() if s is not None} or None
    return None


# Operators that carry weights: a path's weighted depth counts them (VGG-16 has 16).
_WEIGHTED = {"convolution", "_convolution", "addmm", "mm", "bmm", "baddbmm"}


class _DepthTracker:
    """The longest chain of weighted layers (conv, linear, matmul) behind each tensor.

    GoogLeNet is "22 layers deep" along its longest path; ResNet-50 has 50. One step per
    operator, like the receptive fields.
    """

    def __init__(self) -> None:
        self._depth: dict[int, tuple[torch.Tensor, int]] = {}

    def seed(self, x: torch.Tensor) -> None:
        self._depth[id(x)] = (x, 0)

    def of(self, value: Any) -> int:
        if isinstance(value, torch.Tensor):
            entry = self._depth.get(id(value))
            return entry[1] if entry is not None and entry[0] is value else 0
        if isinstance(value, (list, tuple)):
            return max((self.of(v) for v in value), default=0)
        if isinstance(value, dict):
            return max((self.of(v) for v in value.values()), default=0)
        return 0

    def record(self, name: str, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        depth = max(self.of(list(args)), self.of(kwargs)) + (1 if name in _WEIGHTED else 0)
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self._depth[id(t)] = (t, depth)


_NATIVE_BATCH_NORM = torch.ops.aten.native_batch_norm.default


def batch_norm_on_meta(
    x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, running_mean: torch.Tensor | None, *rest: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """native_batch_norm's outputs on the meta device, without PyTorch's Python decomposition.

    On meta tensors PyTorch computes batch norm's output shapes by running its Python
    reference implementation, about 2 ms a call: most of the time of a ResNet-152 summary
    and seconds for CIFAR ResNet-1202. The shapes are simple: the output is laid out like the
    input, and the saved mean and inverse deviation have one value per channel in the
    input's compute dtype (a test holds them to PyTorch's own).
    """
    channels = x.shape[1] if x.dim() > 1 else 1
    for t in (weight, bias, running_mean):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"batch norm expected {t.numel()} channels, got input of shape {list(x.shape)}")
    stats_dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    stats = (torch.empty((channels,), dtype=stats_dtype, device="meta"), torch.empty((channels,), dtype=stats_dtype, device="meta"))
    return torch.empty_like(x), *stats


class _StopAnalysis(Exception):
    """Raised once the layer call an analysis was asked to stop after has finished."""


class _Recorder(TorchDispatchMode):
    """Collects layer records from module hooks and operator costs from the dispatcher."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Recent PyTorch wraps every mode's __torch_dispatch__ in a dynamo guard, and building
        # that guard imports torch._dynamo: 1.5 s, more than the analysis itself. Nothing is
        # compiled while we analyse, so the guard buys nothing here.
        return False

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.names = {m: n for n, m in model.named_modules()}
        self.modules = {n: m for m, n in self.names.items()}
        self.params_of = {m: sum(p.numel() for p in m.parameters()) for m in self.names}
        self.leaf = {m: next(m.children(), None) is None for m in self.names}
        self.stack: list[LayerRecord] = []
        self.layers: list[LayerRecord] = []
        self.macs = 0
        self.flops = 0
        self.activation_bytes = 0
        self.uncounted: Counter[str] = Counter()
        self.fields = FieldTracker()
        self.depths = _DepthTracker()
        self.stop_after: int | None = None
        self._creates_memory: dict[Any, bool] = {}
        self._handles: list[Any] = []
        for module, name in self.names.items():
            if name:  # the model itself is the summary, not a row
                self._handles.append(module.register_forward_pre_hook(self._open))
                self._handles.append(module.register_forward_hook(self._close))

    def unused_modules(self) -> list[str]:
        """The outermost modules holding parameters that never ran."""
        called = {layer.name for layer in self.layers}
        unused = [n for m, n in self.names.items() if n and n not in called and self.params_of[m]]
        return [n for n in unused if not any(n.startswith(f"{other}.") for other in unused)]

    def remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _open(self, module: nn.Module, args: tuple) -> None:
        name = self.names[module]
        record = LayerRecord(
            name=name,
            type=type(module).__name__,
            depth=name.count(".") + 1,
            leaf=self.leaf[module],
            input_shape=shape_of(args),
            output_shape=None,
            params=self.params_of[module],
        )
        self.layers.append(record)
        self.stack.append(record)

    def _close(self, module: nn.Module, args: tuple, output: Any) -> None:
        record = self.stack.pop()
        record.output_shape = shape_of(output)
        first = output[0] if isinstance(output, (tuple, list)) and output else output
        record.receptive_field = describe(self.fields.get(first))
        if self.stop_after is not None and len(self.layers) > self.stop_after and record is self.layers[self.stop_after]:
            raise _StopAnalysis

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        if func is _NATIVE_BATCH_NORM and args[0].is_meta:
            out = batch_norm_on_meta(*args)
        else:
            out = func(*args, **kwargs)
        cost = op_cost(func, args, kwargs, out)
        if cost is None:
            self.uncounted[f"aten::{func.overloadpacket.__name__}"] += 1
        elif cost.macs or cost.flops:
            self.macs += cost.macs
            self.flops += cost.flops
            for record in self.stack:
                record.macs += cost.macs
                record.flops += cost.flops
        self.fields.record(func, args, kwargs, out)
        self.depths.record(op_name(func), args, kwargs, out)
        if self._allocates(func):
            outputs = out if isinstance(out, (tuple, list)) else (out,)
            self.activation_bytes += sum(
                t.numel() * t.element_size() for t in outputs if isinstance(t, torch.Tensor) and t.is_floating_point()
            )
        return out

    def _allocates(self, func: Any) -> bool:
        """False for views and in-place operators, whose results share memory with an input."""
        if func not in self._creates_memory:
            self._creates_memory[func] = all(r.alias_info is None for r in func._schema.returns)
        return self._creates_memory[func]


def _meta_state(model: nn.Module) -> dict[str, torch.Tensor] | None:
    """Meta stand-ins for a model's real parameters and buffers; None if it is already on meta."""
    tensors = dict(model.named_parameters(remove_duplicate=False))
    tensors.update(model.named_buffers(remove_duplicate=False))
    if all(t.is_meta for t in tensors.values()):
        return None
    return {name: torch.empty_like(t, device="meta") for name, t in tensors.items()}


def _input_dtype(model: nn.Module) -> torch.dtype:
    param = next((p for p in model.parameters() if p.is_floating_point()), None)
    return param.dtype if param is not None else torch.get_default_dtype()


def _expected_channels(module: nn.Module | None, record: LayerRecord | None) -> str | None:
    """'expects 1 input channel, got 3' when a layer's input has the wrong channel count."""
    expected = getattr(module, "in_channels", None) or getattr(module, "num_features", None)
    got = record.input_shape if record is not None else None
    if isinstance(got, list) and got and isinstance(got[0], list):
        got = got[0]
    if expected is None or not isinstance(got, list) or len(got) < 2 or got[1] == expected:
        return None
    return f"expects {expected} input channel{'s' if expected != 1 else ''}, got {got[1]}"


def _describe_failure(
    error: Exception,
    record: LayerRecord | None,
    model_name: str,
    shapes: Sequence[Sequence[int]],
    module: nn.Module | None = None,
) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    where = f"{record.name} ({record.type})" if record is not None else "the model's own forward"
    channels = _expected_channels(module, record)
    if channels:
        return f"{model_name} cannot take input {describe_shapes(shapes)}: {where} {channels}"
    too_small = ("too small", "can't be greater than actual input size", "non-positive", "output size")
    if any(phrase in message.lower() for phrase in too_small):
        return f"input {describe_shapes(shapes)} is too small for {model_name}: {where} would produce an empty output ({message})"
    return f"{model_name} cannot take input {describe_shapes(shapes)}: {where} failed: {message}"


def analyze(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    *,
    name: str | None = None,
    source: str | None = None,
    train: bool = False,
    stop_after: int | None = None,
) -> Summary:
    """Summarise ``model`` on an input of ``input_shape`` (batch dimension included).

    A list of shapes feeds a model with several inputs, in order. ``stop_after`` ends the
    forward pass once the layer call with that index (in ``Summary.layers``) has returned:
    the network's head need not accept the input.
    """
    name = name or type(model).__name__
    several = bool(input_shape) and isinstance(input_shape[0], (list, tuple))
    shapes = [[int(d) for d in s] for s in input_shape] if several else [[int(d) for d in input_shape]]
    shape = shapes[0] if not several else shapes
    xs = [torch.empty(s, device="meta", dtype=_input_dtype(model)) for s in shapes]
    modes = {m: m.training for m in model.modules()}
    state = _meta_state(model)
    recorder = _Recorder(model)
    recorder.stop_after = stop_after
    output = None
    try:
        model.train(train)
        for x in xs:
            recorder.fields.seed(x)
            recorder.depths.seed(x)
        with without_dynamo_import(), recorder:
            output = model(*xs) if state is None else torch.func.functional_call(model, state, tuple(xs))
    except _StopAnalysis:
        pass
    except ArchscopeError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure inside the user's forward is reported, not raised
        failed_at = recorder.stack[-1] if recorder.stack else None
        module = recorder.modules.get(failed_at.name) if failed_at is not None else None
        raise InputSizeError(_describe_failure(error, failed_at, name, shapes, module)) from error
    finally:
        recorder.remove_hooks()
        for module, was_training in modes.items():
            module.training = was_training

    params = {id(p): p for p in model.parameters()}.values()
    totals = Totals(
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        macs=recorder.macs,
        flops=recorder.flops,
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        activation_bytes=recorder.activation_bytes,
    )
    return Summary(
        model=name,
        source=source,
        input_shape=shape,
        output_shape=shape_of(output),
        totals=totals,
        uncounted=[UncountedOp(op, n) for op, n in sorted(recorder.uncounted.items())],
        layers=recorder.layers,
        unused_modules=recorder.unused_modules(),
        receptive_field=describe(recorder.fields.last_spatial),
        weighted_depth=recorder.depths.of(output),
        receptive_field_issues=list(recorder.fields.issues),
    )


def summarize(
    model_or_name: nn.Module | str,
    input_size: str | int | Sequence[int] | None = None,
    batch_size: int = 1,
    *,
    train: bool = False,
    model_kwargs: dict[str, Any] | None = None,
) -> Summary:
    """Summarise a network without allocating weights.

    ``model_or_name`` is a module you built, a zoo name, or any spec ``archscope.models``
    understands (``path/to/file.py:Net``, ``package.module:build``, ``torchvision:resnet50``),
    built with ``model_kwargs``. ``input_size`` is ``CxHxW`` (or ``HxW``/``N``, keeping the
    network's channels) without the batch dimension; by default, the network's own input.
    """
    from archscope.models import resolve_model

    batch = check_batch_size(batch_size)
    if isinstance(model_or_name, str):
        spec = resolve_model(model_or_name, model_kwargs)
        shapes = [(batch, *s) for s in parse_input_sizes(input_size, spec.input_size)]
        model = spec.build_for_analysis()
        return analyze(model, shapes if len(shapes) > 1 else shapes[0], name=spec.name, source=spec.source, train=train)
    shapes = [(batch, *s) for s in parse_input_sizes(input_size, None)]
    return analyze(model_or_name, shapes if len(shapes) > 1 else shapes[0], train=train)
