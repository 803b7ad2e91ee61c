"""A package's public names imported on first use (PEP 562), so importing the package is cheap."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` for ``package``: each name in ``exports`` (the module that
    defines them -> names) is imported when first read and then kept in the package's namespace,
    so later reads skip this function."""
    namespace = sys.modules[package].__dict__
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name]), name)
        namespace[name] = value
        return value

    return __getattr__
