"""Model specs with wildcards, expanded to the models they name.

    vgg*                    the zoo (names and aliases, as ``archscope list 'vgg*'``)
    torchvision:*           every torchvision model (``torchvision.models.list_models``)
    torchvision:resnet*     likewise, filtered
    timm:convnext_*         timm's own ``list_models`` pattern
    nets/*.py:build         every file the glob finds, each with that factory
    net.py:Net, pkg.mod:f   a file or a module, taken as it is

A spec without a wildcard is checked as far as can be without running the user's code (a zoo
name exists, a torchvision or timm model exists, a file is there); a pattern that matches
nothing is an error. The result keeps the order given, each model once.
"""

from __future__ import annotations

import fnmatch
import glob
import importlib
import os
from typing import Sequence

from archscope.errors import ArchscopeError

WILDCARDS = "*?["


def is_pattern(text: str) -> bool:
    """Whether ``text`` holds a shell wildcard (``*``, ``?`` or ``[``)."""
    return any(c in text for c in WILDCARDS)


def _library(name: str):  # noqa: ANN202 - a module
    try:
        return importlib.import_module(name)
    except Exception as error:  # noqa: BLE001 - not installed, or installed but broken
        raise ArchscopeError(f"{name} is not available ({type(error).__name__}: {error}); install it with: pip install 'archscope[zoo]'") from None


def _no_match(spec: str, where: str) -> ArchscopeError:
    return ArchscopeError(f"no model matches {spec!r} ({where})")


def _zoo(text: str) -> list[str]:
    from archscope.zoo import get_entry, list_entries

    if not is_pattern(text):
        return [get_entry(text).name]  # an unknown name says so, with the nearest names
    names = [e.name for e in list_entries(text)]
    if not names:
        raise _no_match(text, "the zoo; see 'archscope list'")
    return names


def _torchvision(pattern: str) -> list[str]:
    names = _library("torchvision").models.list_models()
    if not is_pattern(pattern):
        if pattern not in names:
            raise ArchscopeError(f"torchvision has no model {pattern!r}")
        return [f"torchvision:{pattern}"]
    found = [n for n in names if fnmatch.fnmatchcase(n, pattern.lower())]
    if not found:
        raise _no_match(f"torchvision:{pattern}", "torchvision.models.list_models()")
    return [f"torchvision:{n}" for n in found]


def _timm(pattern: str) -> list[str]:
    timm = _library("timm")
    if not is_pattern(pattern):
        if not timm.is_model(pattern):
            raise ArchscopeError(f"timm has no model {pattern!r}")
        return [f"timm:{pattern}"]
    found = timm.list_models(pattern)
    if not found:
        raise _no_match(f"timm:{pattern}", "timm.list_models()")
    return [f"timm:{n}" for n in found]


def _is_file(head: str) -> bool:
    return head.endswith(".py") or "/" in head or "\\" in head


def _files(head: str, attribute: str, text: str) -> list[str]:
    if is_pattern(head):
        found = sorted(p for p in glob.glob(os.path.expanduser(head)) if os.path.isfile(p))
        if not found:
            raise _no_match(text, "no file matches")
        return [f"{path}:{attribute}" for path in found]
    path = os.path.expanduser(head)
    if not os.path.isfile(path):
        raise ArchscopeError(f"{'not a regular file' if os.path.exists(path) else 'no such file'}: {head}")
    return [text]


def expand_one(spec: str) -> list[str]:
    """The models one spec names (see the module docstring)."""
    text = spec.strip()
    if not text:
        raise ArchscopeError("an empty model spec; give a zoo name, torchvision:NAME, timm:NAME or file.py:Factory")
    head, sep, attribute = text.rpartition(":")
    if not sep:
        return _zoo(text)
    if not head.strip() or not attribute.strip():
        # Caught here, before any worker starts: otherwise it would become a failed row (exit 1).
        raise ArchscopeError(
            f"{text!r}: a spec needs a name on both sides of the colon (torchvision:NAME, timm:NAME, file.py:Factory)"
        )
    if head == "torchvision":
        return _torchvision(attribute)
    if head == "timm":
        return _timm(attribute)
    if _is_file(head):
        if is_pattern(attribute):
            raise ArchscopeError(f"{text!r}: a wildcard goes in the file name (nets/*.py:build), not after the colon")
        return _files(head, attribute, text)
    if is_pattern(text):
        raise ArchscopeError(
            f"{text!r}: wildcards work over the zoo ('vgg*'), torchvision:, timm: and file names (nets/*.py:build)"
        )
    return [text]  # a module (package.nets:build) or another library's spec: resolved where it runs


def _names(spec: str) -> tuple[str, ...]:
    """What --exclude matches: the whole spec and the name after its last colon, in lower case."""
    whole = spec.lower()
    return (whole, whole.rpartition(":")[2])


def expand(specs: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """Every model ``specs`` name, in order, each once, less those an ``exclude`` pattern matches."""
    if not specs:
        raise ArchscopeError("name at least one model or pattern, e.g. 'vgg*' or 'torchvision:resnet*'")
    seen: dict[str, None] = {}
    for spec in specs:
        for name in expand_one(spec):
            seen.setdefault(name, None)
    patterns = [p.strip().lower() for p in exclude if p.strip()]
    variants = [(p, p.replace("_", "-")) for p in patterns]  # zoo names are spelt with hyphens
    kept = [
        name
        for name in seen
        if not any(fnmatch.fnmatchcase(n, p) or fnmatch.fnmatchcase(n, q) for n in _names(name) for p, q in variants)
    ]
    if not kept:
        raise ArchscopeError(f"--exclude removed every one of the {len(seen)} models the specs name")
    return kept
