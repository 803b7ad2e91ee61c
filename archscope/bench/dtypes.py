"""The element types bench and profile run a model in: float32, or float16 and bfloat16 under autocast.

One list, read by the core and by the command line's ``--dtype`` choices; torch is imported
only when a name is turned into a torch dtype, so the command line's help stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archscope.errors import ArchscopeError

if TYPE_CHECKING:
    import torch

RUN_DTYPES = ("float32", "float16", "bfloat16")


def run_dtype(name: str) -> torch.dtype:
    """'bfloat16' -> torch.bfloat16; any other name is one clear error."""
    if name not in RUN_DTYPES:
        raise ArchscopeError(f"unknown dtype {name!r}; choose one of {', '.join(RUN_DTYPES)}")
    import torch

    return getattr(torch, name)
