"""Keeping a user's model as it was while archscope runs its forward.

A forward may write to its own module: torchvision's ``AnchorGenerator`` caches its cell
anchors with ``self.cell_anchors = [a.to(dtype, device) ...]`` on every call. Run with meta
stand-ins, such a forward leaves meta tensors in the user's model, and the next pass (the
real-data fallback, or the user's own call) fails on them with "Cannot copy out of meta
tensor". ``attributes_restored`` puts back every attribute a pass rebinds, adds or deletes,
and the contents of plain lists and dicts held as attributes, so the model leaves the
analysis exactly as it came in.

An analysis pass also registers hooks on the model and swaps its parameters for stand-ins,
both shared by every thread: ``exclusive`` lets one pass at a time run on a given module, so
``summarize`` on one model from several threads waits its turn instead of mixing their hooks.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any, Iterator

import torch.nn as nn

# A missing attribute, told apart from one whose value is None.
_ABSENT = object()


def _snapshot(module: nn.Module) -> tuple[dict[str, Any], dict[str, Any]]:
    """The module's attributes, and shallow copies of the plain lists and dicts among them."""
    attributes = dict(module.__dict__)
    contents: dict[str, Any] = {}
    for key, value in attributes.items():
        if type(value) is list:
            contents[key] = list(value)
        elif type(value) is dict:
            contents[key] = dict(value)
    return attributes, contents


def _restore(module: nn.Module, attributes: dict[str, Any], contents: dict[str, Any]) -> None:
    now = module.__dict__
    for key in [k for k in now if k not in attributes]:
        del now[key]
    for key, value in attributes.items():
        if now.get(key, _ABSENT) is not value:
            now[key] = value
    for key, saved in contents.items():
        value = attributes[key]
        if type(value) is list and (len(value) != len(saved) or any(a is not b for a, b in zip(value, saved))):
            value[:] = saved
        elif type(value) is dict and (value.keys() != saved.keys() or any(value[k] is not saved[k] for k in saved)):
            value.clear()
            value.update(saved)


@contextlib.contextmanager
def attributes_restored(model: nn.Module) -> Iterator[None]:
    """Run the body, then put every module's attributes back as they were.

    Parameters, buffers and submodules live in dicts that are attributes too, so a forward
    that registers a buffer or replaces a child is undone as well. The list and dict check
    compares by identity, never by tensor value (a tensor's ``==`` is elementwise).
    """
    saved = [(m, *_snapshot(m)) for m in model.modules()]
    try:
        yield
    finally:
        for module, attributes, contents in saved:
            _restore(module, attributes, contents)


_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def exclusive(model: nn.Module) -> Iterator[None]:
    """Hold ``model``'s own lock for the body (re-entrant, so a pass inside a pass still runs)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
    with lock:
        yield
