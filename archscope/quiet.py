"""Warnings other libraries print on success that say nothing about the user's model, silenced where they are called.

On a run that works, stderr carries archscope's own lines only. These are the libraries' own
housekeeping: fvcore traces with ``torch.jit``, which recent PyTorch marks as deprecated, and
the tracer warns about Python values it records as constants; matplotlib's default font has no
glyph for a CJK or emoji layer name (the box shows a placeholder); timm maps a deprecated model
name to its current one. Each is matched by its category and message, so any other warning
still reaches the user, and the filters end with the call (``warnings.catch_warnings``).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Iterator

# (category name, message pattern): what each library says on success.
LIBRARY_NOISE: tuple[tuple[str, str], ...] = (
    ("FutureWarning", r"`torch\.jit\.script(_method)?` is deprecated"),
    ("DeprecationWarning", r"`torch\.jit\.script(_method)?` is deprecated"),
    ("TracerWarning", r""),
    ("UserWarning", r"Glyph \d+ .*missing from (current )?font"),
    ("UserWarning", r"Mapping deprecated model name "),
)


def _category(name: str) -> type[Warning] | None:
    if name == "TracerWarning":
        # Only a loaded torch can trace; the filter is not worth importing it for.
        torch = sys.modules.get("torch")
        return getattr(getattr(torch, "jit", None), "TracerWarning", None)
    return {"FutureWarning": FutureWarning, "DeprecationWarning": DeprecationWarning, "UserWarning": UserWarning}[name]


@contextlib.contextmanager
def library_noise_silenced() -> Iterator[None]:
    """Run the body with LIBRARY_NOISE ignored; every other warning is shown as before."""
    with warnings.catch_warnings():
        for name, message in LIBRARY_NOISE:
            category = _category(name)
            if category is not None:
                warnings.filterwarnings("ignore", message=message, category=category)
        yield
