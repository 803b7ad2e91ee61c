"""The analysis's one forward pass: every layer call recorded, every operator priced (``analyze``).

Two mechanisms work together. Forward pre- and post-hooks on every module open and close a
``LayerRecord`` for each call (as torchinfo does), so the records follow the calls, not the
module list. A ``TorchDispatchMode`` sees every ATen operator the forward pass runs, however
it was called (module, ``torch.cat``, ``x + y``), prices it with the operator table in
the operator registry (``analysis.ops``) and charges it to every record open at that moment, so a container's figures
include its children's.

Nothing is computed on real data and no weight is allocated: the network is built on the
meta device, or, for a model the user already built, run with meta stand-ins for its
parameters through ``torch.func.functional_call``, which leaves the model itself untouched.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

from archscope.analysis.compat import (
    TorchDispatchMode,
    is_meta_limitation,
    new_results,
    run_operator,
    says_output_too_small,
    skip_dynamo_guard,
    without_dynamo_import,
)
from archscope.analysis.module_state import attributes_restored, exclusive
from archscope.analysis.ops import rule_for
from archscope.analysis.records import DataDependence, FieldMap, LayerRecord, Shape, Summary, Totals, UncountedOp
from archscope.analysis.rf.tracker import FieldTracker
from archscope.analysis.rf.values import describe
from archscope.analysis.tensors import empty_like, map_tensors, tensors_in
from archscope.errors import ArchscopeError, InputSizeError
from archscope.input_size import describe_shapes


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


def model_output(value: Any) -> Any:
    """What a forward's result is, read as torchinfo and fvcore read it: a Hugging Face ``ModelOutput``
    is its first tensor (``logits``, ``last_hidden_state``); anything else is itself."""
    if isinstance(value, dict) and callable(getattr(value, "to_tuple", None)) and type(value).__module__.startswith("transformers"):
        return next(tensors_in(list(value.values())), None)
    return value


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

    def record(self, weighted: bool, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        depth = max(self.of(list(args)), self.of(kwargs)) + (1 if weighted else 0)
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self._depth[id(t)] = (t, depth)


class AnalysisObserver:
    """Sees one analysis pass as it runs: every layer call and every operator (``analyze(observers=...)``).

    Other analyses (the dataflow graph behind ``archscope draw``, say) ride on the summary's
    single pass instead of running the model again. ``start`` is called before each pass: a
    data-dependent model is analysed once on meta and, if that stops, once more on the CPU.
    """

    def start(self) -> None:
        """A pass begins; forget anything from an earlier, abandoned one."""

    def attach(self, model: nn.Module, fields: FieldTracker) -> None:
        """The module this pass runs (its layers by name) and the receptive-field tracker
        following its tensors (``fields.get(tensor)``), given after ``start``."""

    def inputs(self, tensors: Sequence[torch.Tensor]) -> None:
        """The input tensors the forward is about to be called with (after ``start``)."""

    def layer_opened(self, index: int, record: LayerRecord, args: tuple) -> None:
        """Layer call ``index`` (its position in ``Summary.layers``) starts, with these inputs."""

    def layer_closed(self, index: int, record: LayerRecord, output: Any) -> None:
        """Layer call ``index`` returned ``output``."""

    def operator(self, func: Any, rule: Any, args: Sequence[Any], kwargs: dict, out: Any, open_layers: Sequence[int]) -> None:
        """One ATen operator ran while the layer calls ``open_layers`` (outermost first) were open."""

    def finished(self, output: Any) -> None:
        """The forward pass returned ``output`` (None if it was stopped early); the recorder is no longer active."""


class _StopAnalysis(Exception):
    """Raised once the layer call an analysis was asked to stop after has finished."""


class _NeedsRealData(Exception):
    """An operator could not run on the meta device: its result depends on the values."""

    def __init__(self, op: str, layer: str | None) -> None:
        super().__init__(op)
        self.op = op
        self.layer = layer


@skip_dynamo_guard
class _Recorder(TorchDispatchMode):
    """Collects layer records from module hooks and operator costs from the dispatcher."""

    def __init__(
        self, model: nn.Module, parameter_names: dict[int, str], observers: Sequence[AnalysisObserver] = ()
    ) -> None:
        super().__init__()
        self.observers = list(observers)
        self._open_indices: list[int] = []
        self.names = {m: n for n, m in model.named_modules()}
        self.modules = {n: m for m, n in self.names.items()}
        self.params_of = {m: sum(p.numel() for p in {id(p): p for p in m.parameters()}.values()) for m in self.names}
        self.leaf = {m: next(m.children(), None) is None for m in self.names}
        self.stack: list[LayerRecord] = []
        self.layers: list[LayerRecord] = []
        self.macs = 0
        self.flops = 0
        # What the model's own forward computes outside any child's call (a positional add).
        self.own_macs = 0
        self.own_flops = 0
        self.activation_bytes = 0
        self.uncounted: Counter[str] = Counter()
        self.fields = FieldTracker()
        # The layer calls that return a spatial map, by the map's id: (layer index, which output
        # tensor, its field then: an in-place operator may give the same tensor another later).
        self.map_returns: dict[int, list[tuple[int, int, Any]]] = {}
        self.depths = _DepthTracker()
        self.stop_after: int | None = None
        # Which parameters an operator read (by the id of the tensor the forward sees), so a
        # module used through a functional call (nn.MultiheadAttention's out_proj) counts as used.
        self.parameter_names = parameter_names
        self.used_parameters: set[str] = set()
        self._handles: list[Any] = []
        for module, name in self.names.items():
            if name:  # the model itself is the summary, not a row
                self._handles.append(module.register_forward_pre_hook(self._open))
                self._handles.append(module.register_forward_hook(self._close))

    def unused_modules(self) -> list[str]:
        """The outermost modules holding parameters that never ran, directly or through a child or a functional call."""
        called = {layer.name for layer in self.layers}
        used = set(called)
        for parameter in self.used_parameters:
            used.add(parameter.rpartition(".")[0])
        # A module is used when it, one of its descendants, or one of its parameters was.
        used_prefixes = {n for u in used for n in _ancestors(u)}
        unused = [n for m, n in self.names.items() if n and n not in used_prefixes and self.params_of[m]]
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
            kernel=_per_axis(getattr(module, "kernel_size", None)),
            stride=_per_axis(getattr(module, "stride", None)),
        )
        self.layers.append(record)
        self.stack.append(record)
        self._open_indices.append(len(self.layers) - 1)
        for observer in self.observers:
            observer.layer_opened(len(self.layers) - 1, record, args)

    def _close(self, module: nn.Module, args: tuple, output: Any) -> None:
        record = self.stack.pop()
        index = self._open_indices.pop()
        record.output_shape = shape_of(output)
        first = output[0] if isinstance(output, (tuple, list)) and output else output
        if isinstance(first, dict):
            first = next(iter(first.values()), None)
        record.receptive_field = describe(self.fields.get(first))
        last = self.fields.last_spatial_tensor
        place = next((k for k, t in enumerate(tensors_in(output)) if t is last), None) if last is not None else None
        if place is not None:
            self.map_returns.setdefault(id(last), []).append((index, place, self.fields.last_spatial))
        for observer in self.observers:
            observer.layer_closed(index, record, output)
        if self.stop_after is not None and len(self.layers) > self.stop_after and record is self.layers[self.stop_after]:
            raise _StopAnalysis

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        try:
            out = run_operator(func, args, kwargs)
        except Exception as error:
            if _on_meta(args, kwargs) and is_meta_limitation(error):
                raise _NeedsRealData(f"aten::{func.overloadpacket.__name__}", self.stack[-1].name if self.stack else None) from error
            raise
        rule = rule_for(func)
        if rule is None or rule.cost is None:
            self.uncounted[f"{func.namespace}::{func.overloadpacket.__name__}"] += 1
        else:
            cost = rule.cost(args, kwargs, out)
            if cost.macs or cost.flops:
                self.macs += cost.macs
                self.flops += cost.flops
                for record in self.stack:
                    record.macs += cost.macs
                    record.flops += cost.flops
                if not self.stack:
                    self.own_macs += cost.macs
                    self.own_flops += cost.flops
        for value in (*args, *kwargs.values()):
            if isinstance(value, torch.Tensor) and id(value) in self.parameter_names:
                self.used_parameters.add(self.parameter_names[id(value)])
        self.fields.record(func, rule, args, kwargs, out)
        for observer in self.observers:
            observer.operator(func, rule, args, kwargs, out, self._open_indices)
        self.depths.record(rule is not None and rule.weighted, args, kwargs, out)
        self.activation_bytes += sum(
            t.numel() * t.element_size() for t in new_results(func, args, kwargs, out) if t.is_floating_point()
        )
        return out


def _per_axis(value: Any) -> list[int] | None:
    """A module's kernel_size or stride as a list of ints (3 -> [3]); None when it has none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, int) for v in value):
        return list(value)
    return None


def check_names(model: nn.Module, name: str) -> None:
    """Refuse, in one line, a module, parameter or buffer whose own name has a '.': PyTorch reads it as a path.

    ``add_module`` refuses such names, but ``module._modules["a.b"] = ...`` does not, and then
    ``functional_call``, ``get_submodule`` and ``state_dict`` look for ``a`` and fail inside the
    forward. Any other text is a fine name (``"<script>x"``, CJK, emoji, spaces).
    """
    for owner, module in model.named_modules():
        for kind, table in (("module", module._modules), ("parameter", module._parameters), ("buffer", module._buffers)):
            dotted = next((key for key in table if "." in str(key)), None)
            if dotted is not None:
                where = f" inside {owner!r}" if owner else ""
                raise ArchscopeError(
                    f"{name} has a {kind} named {dotted!r}{where}: PyTorch reads a '.' in a name as a path "
                    "(functional_call, get_submodule, state_dict), so it cannot be found again; rename it"
                )


def _ancestors(name: str) -> list[str]:
    """'a.b.c' -> ['a', 'a.b', 'a.b.c']."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))] if name else []


def _on_meta(*values: Any) -> bool:
    return any(t.is_meta for t in tensors_in(values))


def _stand_ins(model: nn.Module, device: str, copy_values: bool) -> dict[str, torch.Tensor]:
    """Stand-ins for every parameter and buffer, by every name it has.

    A tensor shared under several names (tied weights) gets one stand-in for all of them, as
    ``functional_call`` requires. On ``meta`` nothing is allocated; with ``copy_values`` the
    stand-ins are copies on ``device`` (the user's model is never moved).
    """
    tensors = dict(model.named_parameters(remove_duplicate=False))
    tensors.update(model.named_buffers(remove_duplicate=False))
    made: dict[int, torch.Tensor] = {}
    state = {}
    for name, t in tensors.items():
        if id(t) not in made:
            stand_in = t.detach().to(device, copy=True) if copy_values else empty_like(t, device)
            made[id(t)] = stand_in.requires_grad_(t.requires_grad) if stand_in.is_floating_point() else stand_in
        state[name] = made[id(t)]
    return state


def model_dtype(model: nn.Module) -> torch.dtype:
    param = next((p for p in model.parameters() if p.is_floating_point()), None)
    return param.dtype if param is not None else torch.get_default_dtype()


def _has_lazy(model: nn.Module) -> bool:
    return any(is_lazy(t) for t in [*model.parameters(), *model.buffers()])


def _materialised_on_meta(model: nn.Module, args: tuple, kwargs: dict) -> nn.Module:
    """A copy of a model with lazy modules, their shapes inferred from the input, on meta."""
    clone = copy.deepcopy(model)
    for module in clone.modules():
        for table, kind in ((module._parameters, UninitializedParameter), (module._buffers, UninitializedBuffer)):
            for name, t in list(table.items()):
                if t is not None and is_lazy(t):
                    table[name] = kind(requires_grad=t.requires_grad, device="meta", dtype=t.dtype)
    meta_args = tuple(_meta_like(a) for a in args)
    meta_kwargs = {k: _meta_like(v) for k, v in kwargs.items()}
    try:
        with torch.no_grad(), without_dynamo_import():
            clone(*meta_args, **meta_kwargs)  # lazy modules infer their shapes on the first call
    except Exception as error:  # noqa: BLE001 - the user's forward
        raise ArchscopeError(f"could not infer the lazy modules' shapes on the meta device: {_first_line(error)}") from error
    return clone


def _meta_like(value: Any) -> Any:
    return map_tensors(lambda t: empty_like(t, "meta"), value)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@dataclass(frozen=True)
class ExampleInputs:
    """What the forward is called with: positional and keyword arguments, tensors nested in
    dicts, lists and tuples at any depth, or anything else (passed as it is)."""

    args: tuple
    kwargs: dict

    @property
    def tensors(self) -> list[torch.Tensor]:
        """Every tensor, in the order the arguments hold them (nested ones included)."""
        return list(tensors_in((self.args, self.kwargs)))

    def shapes(self) -> list[list[int]]:
        return [list(t.shape) for t in self.tensors]

    def on(self, device: str, model: nn.Module) -> ExampleInputs:
        """The same inputs on ``device``: meta stand-ins, or random values in the right range."""

        def convert(value: torch.Tensor) -> torch.Tensor:
            if device == "meta":
                return empty_like(value, "meta")
            if not value.is_meta:
                return value.detach().to(device, copy=True)
            return random_tensor(value.shape, value.dtype, model)

        return ExampleInputs(map_tensors(convert, self.args), map_tensors(convert, self.kwargs))


def random_tensor(shape: Sequence[int], dtype: torch.dtype, model: nn.Module | None = None) -> torch.Tensor:
    """Random values of a dtype: normal floats, or integers valid as indices of every embedding in ``model``."""
    if dtype.is_floating_point or dtype.is_complex:
        return torch.randn(tuple(shape), dtype=dtype)
    if dtype == torch.bool:
        return torch.rand(tuple(shape)) < 0.5
    vocab = [m.num_embeddings for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))] if model else []
    return torch.randint(0, min(vocab) if vocab else 2, tuple(shape), dtype=dtype)


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
    if says_output_too_small(message):
        return f"input {describe_shapes(shapes)} is too small for {model_name}: {where} would produce an empty output ({message})"
    return f"{model_name} cannot take input {describe_shapes(shapes)}: {where} failed: {message}"


def _run(
    model: nn.Module,
    inputs: ExampleInputs,
    state: dict[str, torch.Tensor] | None,
    train: bool,
    stop_after: int | None,
    observers: Sequence[AnalysisObserver] = (),
) -> tuple[_Recorder, Any]:
    """One forward pass under the recorder; the model's hooks and train/eval modes are restored after.

    One pass at a time per model: its hooks and parameter stand-ins are shared by every thread.
    """
    with exclusive(model):
        return _run_alone(model, inputs, state, train, stop_after, observers)


def _run_alone(
    model: nn.Module,
    inputs: ExampleInputs,
    state: dict[str, torch.Tensor] | None,
    train: bool,
    stop_after: int | None,
    observers: Sequence[AnalysisObserver],
) -> tuple[_Recorder, Any]:
    names = {id(t): n for n, t in (state or {}).items()}
    if state is None:
        names = {id(p): n for n, p in model.named_parameters(remove_duplicate=False)}
    recorder = _Recorder(model, names, observers)
    for observer in observers:
        observer.start()
        observer.attach(model, recorder.fields)
    recorder.stop_after = stop_after
    modes = {m: m.training for m in model.modules()}
    output = None
    try:
        model.train(train)
        for x in inputs.tensors:
            recorder.fields.seed(x)
            recorder.depths.seed(x)
        for observer in observers:
            observer.inputs(inputs.tensors)
        grad = torch.enable_grad() if train else torch.no_grad()
        # A forward that caches on its module (torchvision's anchors) must not leave meta tensors there.
        with attributes_restored(model), grad, without_dynamo_import(), recorder:
            if state is None:
                output = model(*inputs.args, **inputs.kwargs)
            else:
                output = torch.func.functional_call(model, state, inputs.args, inputs.kwargs)
    except _StopAnalysis:
        pass
    except Exception as error:
        error._archscope_recorder = recorder  # type: ignore[attr-defined] - where it failed, for the message
        raise
    finally:
        recorder.remove_hooks()
        for module, was_training in modes.items():
            module.training = was_training
    for observer in observers:
        observer.finished(output)
    return recorder, output


def _failure(error: BaseException, recorder: _Recorder | None, name: str, shapes: Sequence[Sequence[int]]) -> InputSizeError:
    failed_at = recorder.stack[-1] if recorder is not None and recorder.stack else None
    module = recorder.modules.get(failed_at.name) if failed_at is not None and recorder is not None else None
    failure = InputSizeError(_describe_failure(error, failed_at, name, shapes, module))
    failure.failed_layer = failed_at.name if failed_at is not None else None  # type: ignore[attr-defined]
    return failure


def analyze(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    inputs: ExampleInputs | None = None,
    name: str | None = None,
    source: str | None = None,
    train: bool = False,
    stop_after: int | None = None,
    real_model: Callable[[], nn.Module] | None = None,
    observers: Sequence[AnalysisObserver] = (),
) -> Summary:
    """Summarise ``model`` on an input of ``input_shape`` (batch dimension included), or on ``inputs``.

    A list of shapes feeds a model with several inputs, in order. ``stop_after`` ends the
    forward pass once the layer call with that index (in ``Summary.layers``) has returned:
    the network's head need not accept the input.

    The pass runs on the meta device. Where an operator needs real values (``nonzero``,
    ``.item()``, non-maximum suppression) it runs again on the CPU with random inputs of the
    same shapes and dtypes, on copies of the model's weights (or on ``real_model()`` for a model
    built on meta), and ``Summary.data_dependent`` says which operator forced it.
    """
    name = name or type(model).__name__
    check_names(model, name)
    if inputs is None:
        if input_shape is None:
            raise InputSizeError("give an input shape or example inputs")
        several = bool(input_shape) and isinstance(input_shape[0], (list, tuple))
        shapes = [[int(d) for d in s] for s in input_shape] if several else [[int(d) for d in input_shape]]
        dtype = model_dtype(model)
        inputs = ExampleInputs(tuple(torch.empty(s, device="meta", dtype=dtype) for s in shapes), {})
    shapes = inputs.shapes()
    if _has_lazy(model):
        model = _materialised_on_meta(model, inputs.args, inputs.kwargs)
    meta_inputs = inputs.on("meta", model)
    on_meta = all(t.is_meta for t in [*model.parameters(), *model.buffers()])
    dependence: DataDependence | None = None
    recorder: _Recorder | None = None
    try:
        state = None if on_meta else _stand_ins(model, "meta", False)
        recorder, output = _run(model, meta_inputs, state, train, stop_after, observers)
    except ArchscopeError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure inside the user's forward is reported, not raised
        needs = error if isinstance(error, _NeedsRealData) else None
        if needs is None and not is_meta_limitation(error):
            raise _failure(error, _last_recorder(error), name, shapes) from error
        op = needs.op if needs is not None else _first_line(error)
        layer = needs.layer if needs is not None else None
        dependence = DataDependence(op=op, layer=layer)
        recorder, output = _run_on_real_data(
            model, inputs, name, shapes, train, stop_after, real_model, dependence, observers
        )

    params = {id(p): p for p in model.parameters()}.values()
    totals = Totals(
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        macs=recorder.macs,
        flops=recorder.flops,
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        activation_bytes=recorder.activation_bytes,
    )
    input_record = shapes[0] if len(shapes) == 1 else shapes
    own = own_record(model, recorder, input_record, shape_of(output))
    return Summary(
        model=name,
        source=source,
        input_shape=input_record,
        output_shape=shape_of(model_output(output)),
        totals=totals,
        uncounted=[UncountedOp(op, n) for op, n in sorted(recorder.uncounted.items())],
        layers=recorder.layers,
        unused_modules=recorder.unused_modules(),
        receptive_field=describe(recorder.fields.last_spatial),
        receptive_field_map=_field_map(recorder, output),
        weighted_depth=recorder.depths.of(model_output(output)),
        receptive_field_issues=list(recorder.fields.issues),
        input_dtypes=[str(t.dtype).removeprefix("torch.") for t in inputs.tensors],
        data_dependent=dependence,
        own=own,
    )


def _field_map(recorder: _Recorder, output: Any) -> FieldMap | None:
    """Which tensor the summary's receptive field belongs to: the layer that returns it
    (the outermost, as a reader names it), its place in the model's output, and what the
    outputs after it see."""
    fields = recorder.fields
    last = fields.last_spatial_tensor
    if last is None:
        return None
    layer, call, place = None, 0, 0
    returns = [r for r in recorder.map_returns.get(id(last), []) if r[2] is fields.last_spatial]
    if returns:
        index, place, _ = min(returns, key=lambda r: (recorder.layers[r[0]].depth, r[0]))
        layer = recorder.layers[index].name
        call = sum(1 for r in recorder.layers[:index] if r.name == layer)
    outputs = list(tensors_in(output))
    position = next((k for k, t in enumerate(outputs) if t is last), None)
    kinds = [describe(fields.get(t)).kind for t in outputs if fields.get(t) is not None]
    after = None
    if position is None and kinds:
        after = "whole_input" if all(k == "whole_input" for k in kinds) else next(k for k in kinds if k != "whole_input")
    return FieldMap(fields.last_spatial_op, list(last.shape), layer, call, place, position, after)


def own_params(model: nn.Module) -> int:
    """Parameters the model holds itself, not through a child (a transformer's positional embedding)."""
    in_children = {id(p) for child in model.children() for p in child.parameters()}
    own = {id(p): p for p in model._parameters.values() if p is not None and id(p) not in in_children}
    return sum(p.numel() for p in own.values())


def own_record(model: nn.Module, recorder: _Recorder, input_shape: Shape, output_shape: Shape) -> LayerRecord | None:
    """The model's own row: its own parameters and what its forward computes outside every child.

    None when it has neither (most networks: only children hold weights and compute), so a
    table's rows then add up to the totals as they are.
    """
    params = own_params(model)
    if not (params or recorder.own_macs or recorder.own_flops):
        return None
    return LayerRecord(
        name="", type=type(model).__name__, depth=0, leaf=False, input_shape=input_shape, output_shape=output_shape,
        params=params, macs=recorder.own_macs, flops=recorder.own_flops,
    )  # fmt: skip


def _last_recorder(error: BaseException) -> _Recorder | None:
    return getattr(error, "_archscope_recorder", None)


# The seed of the random input (and weights) a data-dependent model is analysed with.
REAL_DATA_SEED = 0


def _run_on_real_data(
    model: nn.Module,
    inputs: ExampleInputs,
    name: str,
    shapes: list[list[int]],
    train: bool,
    stop_after: int | None,
    real_model: Callable[[], nn.Module] | None,
    dependence: DataDependence,
    observers: Sequence[AnalysisObserver] = (),
) -> tuple[_Recorder, Any]:
    """The same analysis on the CPU with real values: the model's weights copied, or a fresh build.

    The random input (and a fresh build's random weights) come from a fixed seed, in a forked
    random state: the same command gives the same figures every time, and the caller's own
    random state is left as it was.
    """
    where = f" in {dependence.layer}" if dependence.layer else ""
    on_meta = any(t.is_meta for t in [*model.parameters(), *model.buffers()])
    if on_meta and real_model is None:
        raise InputSizeError(
            f"{name} runs {dependence.op}{where}, which needs real values, and the model was built on the "
            "meta device; build it on the CPU to analyse it"
        )
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(REAL_DATA_SEED)
            # The input first, then any fresh build from the seed again: a model rebuilt by name
            # and the same model built by the user after torch.manual_seed(REAL_DATA_SEED) see
            # the same input and the same weights (so the same boxes survive a detector's NMS).
            real_inputs = inputs.on("cpu", model)
            if on_meta:
                torch.manual_seed(REAL_DATA_SEED)
                model, state = real_model(), None
            else:
                state = _stand_ins(model, "cpu", True)
            return _run(model, real_inputs, state, train, stop_after, observers)
    except ArchscopeError:
        raise
    except Exception as error:  # noqa: BLE001 - the user's forward
        raise InputSizeError(
            f"{name} cannot be analysed: {dependence.op}{where} needs real values, and the forward on real "
            f"data failed too: {_first_line(error)}"
        ) from error
