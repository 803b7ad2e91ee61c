"""Every use of PyTorch internals, in one place, each checked before it is used.

The meta-device analysis takes three shortcuts that lean on PyTorch's private code:

* ``without_dynamo_import``: PyTorch's Python meta kernels import ``torch._dynamo`` (about a
  second, more than the analysis of ResNet-152) only to wrap them in ``disable``, which
  matters solely while torch.compile traces. A stand-in answers ``disable(fn)`` with ``fn``
  during one analysis, then is removed (torch/_compile.py's ``_disable_dynamo`` caches its
  wrapper on the function; the cache is cleared afterwards).
* ``skip_dynamo_guard``: recent PyTorch wraps a mode's ``__torch_dispatch__`` in a dynamo
  guard unless ``_should_skip_dynamo`` says not to; building the guard imports torch._dynamo.
* ``batch_norm_on_meta``: batch norm's meta kernel is a Python decomposition, about 2 ms a
  call; its outputs are simple to state directly.

Plus readings of PyTorch's own metadata: an operator's schema (``alias_kind`` and
``returns_new_memory``: whether its result aliases an input; ``new_results`` checks the storages
too; ``schema_arguments``: its arguments' names and defaults, for the receptive-field rules;
``overload_name``), ``is_operator_packet`` and ``qualified_name`` (what the operator registry
keys its rows by) and ``is_meta_limitation`` (the error texts PyTorch uses when an operator
needs real data). And ``TorchDispatchMode``, the base class of the dispatch modes the
analysis, training and bench's memory count run, from its private module.

Each feature is checked to exist and falls back to the plain path where it does not.
``ARCHSCOPE_NO_FAST_PATHS=1`` turns every shortcut off (a test runs the core checks so).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import types
from typing import Any, Callable, Iterator

import torch

# The base class of every dispatch mode (the summary's, training's, bench's memory count). It
# has been in the same private module since PyTorch 1.13 and nothing public names it.
from torch.utils._python_dispatch import TorchDispatchMode

from archscope.analysis.tensors import empty_like, tensors_in

FAST_PATHS_ENV = "ARCHSCOPE_NO_FAST_PATHS"


def fast_paths_enabled() -> bool:
    """False when the environment asks for PyTorch's plain paths only."""
    return os.environ.get(FAST_PATHS_ENV, "") in ("", "0")


# --- torch._dynamo stand-in -----------------------------------------------------------

_DYNAMO = "torch._dynamo"
_CACHE_ATTRIBUTE = "__dynamo_disable"  # set inside a function in torch/_compile.py, so not mangled


def _dynamo_stand_in_applies() -> bool:
    compile_module = sys.modules.get("torch._compile") or importlib.import_module("torch._compile")
    return fast_paths_enabled() and _DYNAMO not in sys.modules and hasattr(compile_module, "_disable_dynamo")


class _DynamoStandIn(types.ModuleType):
    def __init__(self) -> None:
        super().__init__(_DYNAMO)
        self.answered: list[Callable[..., Any]] = []

    def disable(self, fn: Callable[..., Any] | None = None, recursive: bool = True, **kwargs: Any) -> Any:
        if fn is None:  # used as a decorator factory: hand over to the real module
            return self.__getattr__("disable")(fn, recursive, **kwargs)
        self.answered.append(fn)
        return fn

    def __getattr__(self, name: str) -> Any:
        # Anything but disable(fn): import and use the real module.
        if sys.modules.get(_DYNAMO) is self:
            del sys.modules[_DYNAMO]
        return getattr(importlib.import_module(_DYNAMO), name)


@contextlib.contextmanager
def without_dynamo_import() -> Iterator[None]:
    """Run the body without importing torch._dynamo, then leave PyTorch exactly as it was."""
    if not _dynamo_stand_in_applies():
        yield
        return
    stand_in = _DynamoStandIn()
    sys.modules[_DYNAMO] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(_DYNAMO) is stand_in:
            del sys.modules[_DYNAMO]
        if torch.__dict__.get("_dynamo") is stand_in:
            del torch._dynamo
        for fn in stand_in.answered:
            getattr(fn, "__dict__", {}).pop(_CACHE_ATTRIBUTE, None)


def skip_dynamo_guard(mode_class: type) -> type:
    """Tell PyTorch not to build a dynamo guard around ``mode_class``'s dispatch (nothing compiles)."""
    if fast_paths_enabled() and hasattr(mode_class, "_should_skip_dynamo"):
        mode_class._should_skip_dynamo = classmethod(lambda cls: False)  # type: ignore[attr-defined]
    return mode_class


# --- batch norm on meta -----------------------------------------------------------------

NATIVE_BATCH_NORM = torch.ops.aten.native_batch_norm.default


def batch_norm_on_meta(
    x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, running_mean: torch.Tensor | None, *rest: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """native_batch_norm's outputs on the meta device, without PyTorch's Python decomposition.

    The output is laid out like the input, and the saved mean and inverse deviation have one
    value per channel in the input's compute dtype (a test holds them to PyTorch's own).
    """
    channels = x.shape[1] if x.dim() > 1 else 1
    for t in (weight, bias, running_mean):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"batch norm expected {t.numel()} channels, got input of shape {list(x.shape)}")
    stats_dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    stats = tuple(torch.empty((channels,), dtype=stats_dtype, device="meta") for _ in range(2))
    return (empty_like(x), *stats)


def run_operator(func: Any, args: tuple, kwargs: dict) -> Any:
    """Run one operator, through the batch-norm shortcut where it applies."""
    if func is NATIVE_BATCH_NORM and fast_paths_enabled() and args and getattr(args[0], "is_meta", False):
        return batch_norm_on_meta(*args)
    return func(*args, **kwargs)


# --- operator metadata --------------------------------------------------------------------

_ALIAS_KINDS: dict[Any, str] = {}


def alias_kind(func: Any) -> str:
    """'view', 'inplace' or 'new': what the operator's schema says of its results (``alias_info``).

    An operator without a readable schema is taken to allocate. The schema is not the whole
    truth: ``aten::_unsafe_view`` (the reshape after the matrix product of ``nn.Linear`` on a
    3-D input; since torch 2.15 with a bias too) is declared as returning a new tensor but
    shares its input's storage. ``new_results`` asks the storages themselves.
    """
    if func not in _ALIAS_KINDS:
        returns = getattr(getattr(func, "_schema", None), "returns", None) or []
        aliases = [getattr(r, "alias_info", None) for r in returns]
        if any(a is not None and not getattr(a, "is_write", False) for a in aliases):
            _ALIAS_KINDS[func] = "view"
        elif any(a is not None for a in aliases):
            _ALIAS_KINDS[func] = "inplace"
        else:
            _ALIAS_KINDS[func] = "new"
    return _ALIAS_KINDS[func]


def returns_new_memory(func: Any) -> bool:
    """False when the operator's schema says a result aliases an input (a view, an in-place op)."""
    return alias_kind(func) == "new"


# Batch norm without training saves no statistics: the CPU kernels return empty tensors for
# the saved mean and inverse deviation, but PyTorch's meta kernels give them one value per
# channel. The analysis counts what a real forward allocates.
_EVAL_BATCH_NORMS = {
    getattr(torch.ops.aten, name).default
    for name in ("_native_batch_norm_legit_no_training", "_batch_norm_no_update")
    if hasattr(torch.ops.aten, name)
}


def _keeps_no_statistics(func: Any, args: Any) -> bool:
    if func in _EVAL_BATCH_NORMS:
        return True
    return func is NATIVE_BATCH_NORM and len(args) > 5 and args[5] is False


def new_results(func: Any, args: Any, kwargs: Any, out: Any) -> list[torch.Tensor]:
    """The tensors among one operator call's results that live in memory no argument had.

    A result whose schema declares it an alias is never new; any other counts unless its
    storage is an argument's (compared by ``storage_key`` while the arguments are alive, so
    an address cannot have been reused). Results sharing one new storage count once; an
    eval-mode batch norm's statistics, empty on the CPU, do not count.
    """
    if not returns_new_memory(func):
        return []
    results = list(tensors_in(out))
    if _keeps_no_statistics(func, args):
        results = results[:1]
    if not results:
        return []
    taken = {storage_key(t) for t in tensors_in((args, kwargs))}
    fresh: list[torch.Tensor] = []
    for t in results:
        key = storage_key(t)
        if key not in taken:
            taken.add(key)
            fresh.append(t)
    return fresh


_ARGUMENTS: dict[Any, tuple[tuple[str, bool, Any], ...]] = {}


def schema_arguments(func: Any) -> tuple[tuple[str, bool, Any], ...]:
    """An operator overload's arguments in schema order: (name, has a default, the default).

    Read once per overload from its schema; an operator without a readable schema has none
    (its arguments can then be read by position only).
    """
    if func not in _ARGUMENTS:
        arguments = getattr(getattr(func, "_schema", None), "arguments", None) or []
        _ARGUMENTS[func] = tuple(
            (a.name, a.has_default_value(), a.default_value if a.has_default_value() else None) for a in arguments
        )
    return _ARGUMENTS[func]


def overload_name(func: Any) -> str:
    """The overload of an operator ('default', 'Tensor', 'other', ...), '' where PyTorch does not say."""
    return str(getattr(func, "_overloadname", ""))


def is_operator_packet(value: Any) -> bool:
    """Whether ``value`` is an operator packet such as ``torch.ops.aten.mm`` (not one overload of it).

    ``torch._ops.OpOverloadPacket`` is the class; where it is missing, a packet is what has
    ``overloads()`` and no ``overloadpacket`` of its own.
    """
    ops_module = getattr(torch, "_ops", None)
    packet_class = getattr(ops_module, "OpOverloadPacket", None)
    if packet_class is not None:
        return isinstance(value, packet_class)
    return callable(getattr(value, "overloads", None)) and not hasattr(value, "overloadpacket")


def qualified_name(packet: Any) -> str:
    """'torchvision::nms' for ``torch.ops.torchvision.nms``; '' when the packet does not say.

    Read from the packet's ``_qualified_op_name``, else built from its schema's name.
    """
    name = getattr(packet, "_qualified_op_name", None)
    if name is not None:
        return str(name)
    overloads = getattr(packet, "overloads", None)
    if callable(overloads):
        for overload in overloads():
            schema = getattr(getattr(packet, overload, None), "_schema", None)
            if schema is not None:
                return str(schema.name)
    return ""


# Phrases PyTorch uses when an operator cannot run without real data (its output shape or
# value depends on the values): nonzero, masked_select, .item(), .tolist(), .numpy().
_META_LIMITATIONS = (
    "meta tensor",
    "meta tensors",
    "on meta",
    "meta device",
    "device type meta",
    "data-dependent",
    "data dependent",
    "cannot be called on meta",
    "tensor.item() cannot",
    "numpy",
)


def is_meta_limitation(error: BaseException) -> bool:
    """Whether ``error`` says an operator needed real values the meta device does not have."""
    if isinstance(error, NotImplementedError):
        return True
    text = str(error).lower()
    return "meta" in text and any(phrase in text for phrase in _META_LIMITATIONS) or "data-dependent" in text


def is_out_of_memory(error: BaseException | None) -> bool:
    """torch's out-of-memory error (or the CPU allocator's), here or anywhere in its cause chain."""
    while error is not None:
        if isinstance(error, torch.OutOfMemoryError):  # also torch.cuda.OutOfMemoryError
            return True
        text = str(error).lower()
        # PyTorch's CPU allocator says "not enough memory" (older releases: "can't allocate memory").
        if isinstance(error, RuntimeError) and any(p in text for p in ("out of memory", "can't allocate memory", "not enough memory")):
            return True
        error = error.__cause__
    return False


# Phrases of PyTorch's shape checks when a window or a pooling would leave nothing.
_TOO_SMALL = ("too small", "can't be greater than actual input size", "non-positive", "output size")


def says_output_too_small(message: str) -> bool:
    """Whether a PyTorch error message says a layer's output would be empty (the input is too small)."""
    text = message.lower()
    return any(phrase in text for phrase in _TOO_SMALL)


# --- autograd and storages, for the training analysis -----------------------------------


def current_autograd_node() -> Any:
    """The autograd node whose backward is running on this thread, or None (outside backward, or unknown).

    ``torch._C._current_autograd_node`` is what the profiler uses to name backward work; without
    it a training analysis still counts the backward pass, but cannot say which layer ran it.
    """
    reader = getattr(torch._C, "_current_autograd_node", None)
    return reader() if reader is not None else None


def storage_key(tensor: torch.Tensor) -> int:
    """An identity for the storage behind ``tensor``, valid while the storage lives.

    Views share it. Meta storages have no data pointer, so the StorageImpl's own address
    (``_cdata``) is used; where that is missing, the data pointer, else the tensor itself
    (each tensor then counts as its own storage: views are counted twice). A tensor with no
    storage at all (sparse, nested) is its own.
    """
    try:
        storage = tensor.untyped_storage()
    except (RuntimeError, NotImplementedError):
        return id(tensor)
    key = getattr(storage, "_cdata", None)
    if isinstance(key, int) and key:
        return key
    return storage.data_ptr() or id(tensor)


def view_base(tensor: torch.Tensor) -> torch.Tensor | None:
    """The tensor ``tensor`` is a view of (``Tensor._base``), or None when it owns its memory.

    The receptive-field tracker follows a write into a view (``batch[i, :, :h, :w].copy_(image)``,
    as torchvision's detection transforms batch their images) back to the tensor read next.
    """
    return getattr(tensor, "_base", None)
