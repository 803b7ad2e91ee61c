"""Keep a meta-device analysis from importing torch._dynamo, which it never uses.

PyTorch computes many operators' output shapes on the meta device with Python reference
implementations, and wraps those in ``torch._disable_dynamo`` (torch/_compile.py). The
wrapper imports torch._dynamo on its first call (about a second: more than the analysis of
ResNet-152) only to call ``torch._dynamo.disable(fn)``, which matters solely while
torch.compile is tracing, and nothing compiles during an analysis.

So, while an analysis runs and only if torch._dynamo is not imported yet, a stand-in module
answers ``disable(fn)`` with ``fn`` itself. Afterwards the stand-in is removed and every
function it answered for forgets the answer, so the next call anywhere wraps it with the real
torch._dynamo as PyTorch intends. Any other use of the stand-in imports the real module.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from typing import Any, Callable, Iterator

import torch

_MODULE = "torch._dynamo"
# The attribute torch._compile._disable_dynamo caches its wrapper under (set inside a
# function, so its name is not mangled).
_CACHE_ATTRIBUTE = "__dynamo_disable"


class _DynamoStandIn(types.ModuleType):
    def __init__(self) -> None:
        super().__init__(_MODULE)
        self.answered: list[Callable[..., Any]] = []

    def disable(self, fn: Callable[..., Any], recursive: bool = True, wrapping: bool = True) -> Callable[..., Any]:
        self.answered.append(fn)
        return fn

    def __getattr__(self, name: str) -> Any:
        # Anything but disable(): hand over to the real module.
        if sys.modules.get(_MODULE) is self:
            del sys.modules[_MODULE]
        return getattr(importlib.import_module(_MODULE), name)


@contextlib.contextmanager
def without_dynamo_import() -> Iterator[None]:
    if _MODULE in sys.modules:
        yield
        return
    stand_in = _DynamoStandIn()
    sys.modules[_MODULE] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(_MODULE) is stand_in:
            del sys.modules[_MODULE]
        if torch.__dict__.get("_dynamo") is stand_in:
            del torch._dynamo
        for fn in stand_in.answered:
            fn.__dict__.pop(_CACHE_ATTRIBUTE, None)
