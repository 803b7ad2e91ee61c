"""What a training step costs, counted on the meta device: the backward pass, the optimizer step, memory.

The backward pass. The forward runs in training mode under the summary's recorder with
autograd on, and an observer notes which layer calls made each autograd node: when a layer
call returns, the nodes behind its output that no one has claimed are its own (inner layers
return first, so they claim first), and when a call starts, the unclaimed nodes behind its
input belong to the calls still open around it. Autograd's backward then runs, still on the
meta device, under a dispatch mode that prices every operator with the same registry as the
forward (``analysis.ops``) and charges it to the layer calls that made the node running it
(``compat.current_autograd_node``). The model's input needs no gradient, so autograd never
asks for the first layer's input gradient (``convolution_backward``'s ``output_mask``) and
it is not counted.

Memory, without allocating (docs/counting.md, "Training"): the parameters, one gradient per
trainable parameter, the optimizer's state, and the tensors autograd saves for backward, seen
by ``torch.autograd.graph.saved_tensors_hooks`` as the forward saves them, each storage counted
once (a ReLU's output saved by it and by the next convolution is one tensor), parameters and
buffers excluded. Their sum is the memory held when backward starts; everything in it but the
saved activations is fixed, and those grow with the batch, so ``fit_batch`` solves for the
largest batch that fits a budget.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from archscope.analysis.compat import (
    current_autograd_node,
    returns_new_memory,
    skip_dynamo_guard,
    storage_key,
    without_dynamo_import,
)
from archscope.analysis.ops import rule_for
from archscope.analysis.records import BatchFit, LayerRecord, Summary, TrainingMemory, UncountedOp
from archscope.analysis.summary import AnalysisObserver, analyze
from archscope.analysis.traffic import operator_bytes
from archscope.errors import ArchscopeError
from archscope.analysis.tensors import tensors_in

# Per optimizer: copies of the trainable parameters it keeps, and FLOPs per parameter element
# for one step, read from torch.optim's single-tensor updates (weight decay off):
# SGD with momentum: buf = momentum * buf + grad (2), param -= lr * buf (2).
# Adam: m.lerp_(grad, 1 - beta1) (3); v = beta2 * v + (1 - beta2) * grad^2 (4);
# denom = sqrt(v) / sqrt(bias correction) + eps (3); param -= step * m / denom (3).
OPTIMIZERS: dict[str, tuple[int, int]] = {"sgd": (1, 4), "adam": (2, 13)}




def check_optimizer(name: str) -> str:
    key = str(name).strip().lower()
    if key not in OPTIMIZERS:
        raise ArchscopeError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    return key


@dataclass
class BackwardCount:
    """The backward pass of one analysis; the per-layer lists line up with ``Summary.layers``."""

    macs: int = 0
    flops: int = 0
    bytes: int = 0  # least memory traffic (analysis.traffic)
    layer_macs: list[int] = field(default_factory=list)
    layer_flops: list[int] = field(default_factory=list)
    layer_bytes: list[int] = field(default_factory=list)
    own_macs: int = 0  # the nodes the model's own forward made, outside every child (Summary.own)
    own_flops: int = 0
    uncounted: Counter = field(default_factory=Counter)
    peak_start: int = 0  # saved activations when the backward starts
    saved_live: int = 0  # saved activations not yet released, as the backward goes
    peak_live: int = 0  # the most bytes of saved activations and backward tensors alive at once


class GraphOwners(AnalysisObserver):
    """Rides on a training-mode summary pass: who made each autograd node, and what autograd saved."""

    def __init__(self, float_bytes: int | None = None) -> None:
        self.float_bytes = float_bytes
        self.start()

    def start(self) -> None:
        self.owner: dict[Any, tuple[int, ...]] = {}
        self.leaves: dict[int, torch.Tensor] = {}
        self._open: list[int] = []
        self.layers = 0
        self.created: set[int] = set()  # storages the forward pass allocated
        self.input_storages: set[int] = set()
        self.saved: dict[int, int] = {}  # storage -> bytes, for every tensor autograd saved
        self.output: Any = None

    # -- the saved-tensor hooks (active around the whole analysis) --
    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        self.saved.setdefault(storage_key(tensor), tensor.untyped_storage().nbytes())
        return tensor

    @staticmethod
    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    # -- the observer --
    def inputs(self, tensors: Sequence[torch.Tensor]) -> None:
        self.input_storages = {storage_key(t) for t in tensors}

    def layer_opened(self, index: int, record: LayerRecord, args: tuple) -> None:
        self._claim(args, tuple(self._open))  # made before this call, by the calls around it
        self._open.append(index)
        self.layers = max(self.layers, index + 1)

    def layer_closed(self, index: int, record: LayerRecord, output: Any) -> None:
        self._claim(output, tuple(self._open))
        self._open.pop()

    def operator(self, func: Any, rule: Any, args: Sequence[Any], kwargs: dict, out: Any, open_layers: Sequence[int]) -> None:
        if returns_new_memory(func):
            self.created.update(storage_key(t) for t in tensors_in(out))

    def finished(self, output: Any) -> None:
        self._claim(output, ())
        self.output = output

    def _claim(self, value: Any, owners: tuple[int, ...]) -> None:
        """Give every node behind ``value`` that no call has claimed to ``owners``."""
        todo = [t.grad_fn for t in tensors_in(value) if t.grad_fn is not None]
        while todo:
            node = todo.pop()
            if node in self.owner:
                continue
            self.owner[node] = owners
            variable = getattr(node, "variable", None)  # AccumulateGrad: a parameter (a leaf)
            if isinstance(variable, torch.Tensor):
                self.leaves.setdefault(id(variable), variable)
            todo.extend(n for n, _ in node.next_functions if n is not None)

    def _activation_storages(self) -> dict[int, int]:
        """Saved storages the forward made, or the input: parameters and buffers are not activations."""
        keep = self.created | self.input_storages
        return {key: nbytes for key, nbytes in self.saved.items() if key in keep}

    def saved_activation_bytes(self) -> int:
        return sum(self._activation_storages().values())

    def backward(self) -> BackwardCount:
        """Run autograd's backward on the meta device from the output, counting every operator.

        It also follows the memory as a real backward would hold it: each node's saved
        activations are released once the node has run (a storage saved by several nodes once
        the last of them has), and every tensor the backward makes is followed to its release.
        """
        count = BackwardCount(layer_macs=[0] * self.layers, layer_flops=[0] * self.layers, layer_bytes=[0] * self.layers)
        activations = self._activation_storages()
        count.peak_start = count.saved_live = count.peak_live = sum(activations.values())
        outputs = [t for t in tensors_in(self.output) if t.requires_grad and t.is_floating_point()]
        leaves = list(self.leaves.values())
        if not outputs or not leaves:
            return count
        held = {node: keys for node in self.owner if (keys := _saved_storages(node) & activations.keys())}
        holders = Counter(key for keys in held.values() for key in keys)
        # Seed each output with a gradient of ones: the backward of the model, not of a loss.
        seeds = [torch.ones_like(t) for t in outputs]
        recorder = _BackwardRecorder(self.owner, count, self.float_bytes, held, holders, activations)
        recorder.made = sum(t.numel() * t.element_size() for t in seeds)
        with without_dynamo_import(), recorder:
            torch.autograd.grad(outputs, leaves, seeds, allow_unused=True)
        recorder._next_node(None)  # the last node has run too
        return count


def _saved_storages(node: Any) -> set[int]:
    """The storages behind the tensors an autograd node saved (its ``_saved_*`` attributes)."""
    keys: set[int] = set()
    for name in dir(node):
        if not name.startswith("_saved_"):
            continue
        try:
            value = getattr(node, name)
        except Exception:  # noqa: BLE001 - a saved value that cannot be read is no tensor of ours
            continue
        keys.update(storage_key(t) for t in tensors_in(value))
    return keys


@skip_dynamo_guard
class _BackwardRecorder(TorchDispatchMode):
    """Prices each operator of the backward pass and charges it to the layer calls that made its node."""

    def __init__(
        self,
        owner: dict[Any, tuple[int, ...]],
        count: BackwardCount,
        float_bytes: int | None,
        held: dict[Any, set[int]] | None = None,
        holders: Counter | None = None,
        activations: dict[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.owner = owner
        self.count = count
        self.float_bytes = float_bytes
        self.held = held or {}
        self.holders = holders if holders is not None else Counter()
        self.activations = activations or {}
        self.made = 0  # bytes of the backward's own tensors alive now
        self._followed: set[int] = set()
        self._node: Any = None

    def _next_node(self, node: Any) -> None:
        """The engine has moved on: the node that ran last releases what it saved."""
        for key in self.held.pop(self._node, ()):
            self.holders[key] -= 1
            if self.holders[key] == 0:
                self.count.saved_live -= self.activations[key]
        self._node = node

    def _released(self, key: int, nbytes: int) -> None:
        self._followed.discard(key)
        self.made -= nbytes

    def _follow(self, func: Any, out: Any) -> None:
        if not returns_new_memory(func):
            return
        for t in tensors_in(out):
            storage = t.untyped_storage()
            key = storage_key(t)
            if key in self._followed:
                continue
            self._followed.add(key)
            self.made += storage.nbytes()
            weakref.finalize(storage, self._released, key, storage.nbytes())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        node = current_autograd_node()
        if node is not self._node:
            self._next_node(node)
        out = func(*args, **kwargs)
        self._follow(func, out)
        self.count.peak_live = max(self.count.peak_live, self.count.saved_live + self.made)
        owners = self.owner.get(node, ()) if node is not None else ()
        count = self.count
        rule = rule_for(func)
        if rule is None or rule.cost is None:
            count.uncounted[f"{func.namespace}::{func.overloadpacket.__name__}"] += 1
        else:
            cost = rule.cost(args, kwargs, out)
            count.macs += cost.macs
            count.flops += cost.flops
            for index in owners:
                count.layer_macs[index] += cost.macs
                count.layer_flops[index] += cost.flops
            if node is not None and not owners:
                count.own_macs += cost.macs
                count.own_flops += cost.flops
        moved = operator_bytes(func, args, kwargs, out, self.float_bytes)
        count.bytes += moved
        for index in owners:
            count.layer_bytes[index] += moved
        return out


def _trainable_bytes(model: nn.Module) -> tuple[int, int]:
    """(bytes of every parameter, bytes of the trainable ones), tied weights once."""
    params = {id(p): p for p in model.parameters()}.values()
    everything = sum(p.numel() * p.element_size() for p in params)
    return everything, sum(p.numel() * p.element_size() for p in params if p.requires_grad)


def training_memory(model: nn.Module, count: BackwardCount, optimizer: str = "sgd") -> TrainingMemory:
    """The memory of a training step: what it holds, and its peak (docs/counting.md, "Training").

    Backward starts holding the parameters, the optimizer's state and the saved activations
    (gradients set to None by ``zero_grad``). During backward the saved activations are
    released node by node while the gradients (of the parameters, and of the activations in
    flight) appear: ``count.peak_live`` is the most of both alive at once. The optimizer step
    then holds every gradient, and Adam's update one temporary per parameter (``foreach``'s
    square root of the second moment).
    """
    optimizer = check_optimizer(optimizer)
    params, trainable = _trainable_bytes(model)
    copies = OPTIMIZERS[optimizer][0]
    state = copies * trainable
    temporary = trainable if optimizer == "adam" else 0
    backward_peak = params + state + max(count.peak_live, count.saved_live)
    step_peak = params + trainable + state + temporary
    return TrainingMemory(
        optimizer_name=optimizer,
        params=params,
        grads=trainable,
        optimizer=state,
        saved_activations=count.peak_start,
        backward_start=params + state + count.peak_start,
        peak=max(backward_peak, step_peak),
        peak_phase="backward" if backward_peak >= step_peak else "optimizer step",
    )


def optimizer_flops(model: nn.Module, optimizer: str = "sgd") -> int:
    """FLOPs of one optimizer step over the trainable parameters (OPTIMIZERS)."""
    per_element = OPTIMIZERS[check_optimizer(optimizer)][1]
    return per_element * sum(p.numel() for p in {id(p): p for p in model.parameters()}.values() if p.requires_grad)


def analyze_training(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    optimizer: str = "sgd",
    observers: Sequence[AnalysisObserver] = (),
    owners: GraphOwners | None = None,
    **options: Any,
) -> Summary:
    """``analyze`` in training mode, plus the backward pass, the optimizer step and training memory.

    ``options`` are ``analyze``'s (``inputs``, ``name``, ``source``, ``real_model``). Each
    layer's ``backward_macs``/``backward_flops`` is the backward work of the nodes it made, its
    children's included; ``totals`` gains the backward, the optimizer step and the memory.
    ``owners`` (a ``GraphOwners``, or one given among ``observers``) is filled for callers that
    want more of the backward pass (its traffic per layer, who saved which tensor).
    """
    optimizer = check_optimizer(optimizer)
    # An observer that is itself a GraphOwners (explain's, which notes who saved what) is the graph.
    graph = owners or next((o for o in observers if isinstance(o, GraphOwners)), None) or GraphOwners()
    others = [o for o in observers if o is not graph]
    with torch.autograd.graph.saved_tensors_hooks(graph.pack, graph.unpack):
        summary = analyze(model, input_shape, train=True, observers=[graph, *others], **options)
    try:
        count = graph.backward()
    except ArchscopeError:
        raise
    except Exception as error:  # noqa: BLE001 - an operator with no meta backward, say
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArchscopeError(f"the backward pass of {summary.model} could not be analysed: {first}") from error
    graph.count = count  # type: ignore[attr-defined] - for callers that passed ``owners``
    for layer, macs, flops in zip(summary.layers, count.layer_macs, count.layer_flops):
        layer.backward_macs, layer.backward_flops = macs, flops
    for layer in summary.layers[len(count.layer_macs):]:
        layer.backward_macs, layer.backward_flops = 0, 0
    if summary.own is not None:
        summary.own.backward_macs, summary.own.backward_flops = count.own_macs, count.own_flops
    summary.totals.backward_macs = count.macs
    summary.totals.backward_flops = count.flops
    summary.totals.optimizer_flops = optimizer_flops(model, optimizer)
    summary.totals.training_memory = training_memory(model, count, optimizer)
    if count.uncounted:
        merged = Counter({u.op: u.count for u in summary.uncounted}) + count.uncounted
        summary.uncounted = [UncountedOp(op, n) for op, n in sorted(merged.items())]
    return summary


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
    from archscope.analysis.summary import summarize

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


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}  # fmt: skip

# The largest budget archscope reads: 1 EiB, far beyond any machine's memory.
MAX_BUDGET = 2**60


def parse_bytes(text: str) -> int:
    """'24GiB' -> 25769803776, '512MB' -> 512000000, '1.5 GiB', '1000'. GiB is 2^30, GB is 10^9."""
    import re
    from fractions import Fraction

    text = str(text)
    shown = text if len(text) <= 40 else text[:37] + "..."
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ArchscopeError(f"cannot read {shown!r} as a memory size: give e.g. 24GiB, 512MB or 1.5GiB")
    number = match.group(1).lstrip("0") or "0"
    if len(number.partition(".")[0]) > 24:  # a digit string of any length, read without float's overflow
        raise ArchscopeError(f"a memory size of {shown!r} is more than archscope reads (at most 1 EiB)")
    value = int(Fraction(number) * _UNITS[unit])
    if value <= 0:
        raise ArchscopeError(f"a memory size must be positive, not {shown!r}")
    if value > MAX_BUDGET:
        raise ArchscopeError(f"a memory size of {shown!r} is more than archscope reads (at most 1 EiB)")
    return value
