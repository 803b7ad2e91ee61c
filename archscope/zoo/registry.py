"""The zoo's registry: every network by name, with its default input, source and reference figures.

Names are compared case-insensitively with underscores read as hyphens, so ``vgg16_bn``,
``VGG16-BN`` and ``vgg16-bn`` are the same entry.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import torch.nn as nn

from archscope.errors import UnknownModelError


@dataclass(frozen=True)
class Reference:
    """The published figures a zoo network is held to.

    Each figure is good to its tolerance: 0 where the source gives an exact count, else half
    a unit of the last digit the source prints (unless the source says otherwise). ``macs``
    is the multiply-accumulate count at the default input. Where no source publishes a
    figure, ``source`` says it was counted by hand, and a test counts it again.
    """

    params: int
    macs: float
    macs_tolerance: float
    source: str
    params_tolerance: float = 0

    def params_match(self, params: int) -> bool:
        return abs(params - self.params) <= self.params_tolerance

    def macs_match(self, macs: int) -> bool:
        return abs(macs - self.macs) <= self.macs_tolerance


@dataclass(frozen=True)
class ModelEntry:
    name: str
    family: str
    builder: Callable[..., nn.Module]
    input_size: tuple[int, ...]  # C x H x W, without the batch dimension
    source: str  # one line: the paper and the table or figure the network follows
    reference: Reference
    aliases: tuple[str, ...] = field(default=())

    def build(self, **kwargs) -> nn.Module:
        return self.builder(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        r = self.reference
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "family": self.family,
            "input_size": list(self.input_size),
            "source": self.source,
            "reference": {"params": r.params, "macs": r.macs, "macs_tolerance": r.macs_tolerance, "source": r.source},
        }


@dataclass
class ZooListing:
    """The networks ``archscope list`` shows, in the order they were published."""

    SCHEMA: ClassVar[str] = "archscope.list/1"

    entries: list[ModelEntry]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.SCHEMA, "models": [e.to_dict() for e in self.entries]}


_REGISTRY: dict[str, ModelEntry] = {}
_ALIASES: dict[str, str] = {}


def normalize_name(name: str) -> str:
    """The registry's spelling of a name: lower case, hyphens for underscores."""
    return name.strip().lower().replace("_", "-")


def register(
    name: str,
    *,
    family: str,
    input_size: tuple[int, ...],
    source: str,
    reference: Reference,
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that puts a builder in the zoo under ``name`` (and its aliases)."""

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        key = normalize_name(name)
        keys = [key, *(normalize_name(a) for a in aliases)]
        for k in keys:
            if k in _REGISTRY or k in _ALIASES:
                raise ValueError(f"zoo name {k!r} is registered twice")
        _REGISTRY[key] = ModelEntry(key, family, builder, tuple(input_size), source, reference, tuple(keys[1:]))
        for alias in keys[1:]:
            _ALIASES[alias] = key
        return builder

    return add


def described(
    family: str,
    source: str,
    *,
    params: int,
    macs: float,
    macs_tolerance: float,
    figures: str,
    input_size: tuple[int, ...] = (3, 224, 224),
    params_tolerance: float = 0,
) -> dict[str, Any]:
    """``register``'s keyword arguments for a network of ``family``: the paper and table it
    follows (``source``) and the figures it is held to, with where they come from (``figures``)."""
    reference = Reference(params, macs, macs_tolerance, figures, params_tolerance)
    return dict(family=family, input_size=input_size, source=source, reference=reference)


def get_entry(name: str) -> ModelEntry:
    """The zoo entry for ``name`` or one of its aliases; an unknown name suggests the nearest."""
    key = normalize_name(name)
    key = _ALIASES.get(key, key)
    if key in _REGISTRY:
        return _REGISTRY[key]
    known = [*_REGISTRY, *_ALIASES]
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run 'archscope list' to see the zoo"
    raise UnknownModelError(f"unknown model {name!r}{hint}")


def list_entries(pattern: str | None = None) -> list[ModelEntry]:
    """Entries in registration order, filtered by a shell-style pattern on names and aliases."""
    entries = list(_REGISTRY.values())
    if pattern is None:
        return entries
    pat = normalize_name(pattern)
    return [e for e in entries if any(fnmatch.fnmatchcase(n, pat) for n in (e.name, *e.aliases))]
