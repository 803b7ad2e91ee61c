"""Choosing among candidates: budgets, sorting, the top N, and the Pareto frontier.

Works on any record that ``figure(item, key)`` can read a number from: a ``SweepRow`` or a
``Summary`` (for ``compare``). Budgets keep what is within every limit; the frontier is the
set no other candidate beats on both axes at once (lower is better on both).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from archscope.errors import ArchscopeError

T = TypeVar("T")

# What --sort and the budgets read, by name; each is lower-is-better.
SORT_KEYS = ("name", "params", "macs", "flops", "memory", "param_bytes", "activation_bytes", "depth", "rf", "latency")

_COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_count(text: str, option: str = "a count") -> int:
    """'30M' -> 30,000,000, '5G', '1.5g', '250k', '1000' (decimal units, as the papers' MACs)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]?)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _COUNT_UNITS:
        shown = text if len(str(text)) <= 40 else str(text)[:37] + "..."
        raise ArchscopeError(f"cannot read {shown!r} as {option}: give e.g. 30M, 5G or 250k")
    value = int(round(float(match.group(1)) * _COUNT_UNITS[unit]))
    if value <= 0:
        raise ArchscopeError(f"{option} must be positive, not {text!r}")
    return value


def figure(item: Any, key: str) -> Any:
    """``key``'s value for a ``SweepRow`` or a ``Summary`` (None where it has none)."""
    totals = getattr(item, "totals", None)
    if key == "name":
        return item.model
    if key == "depth":
        return item.weighted_depth
    if key == "rf":
        rf = item.receptive_field
        if totals is not None:  # a Summary: the field as a record
            return rf.largest if rf is not None and rf.is_window else None
        return rf if isinstance(rf, int) else None
    if key == "latency":
        latency = getattr(item, "latency", None)
        return latency() if callable(latency) else None
    if totals is not None:
        if key == "memory":
            return totals.param_bytes + totals.activation_bytes
        return getattr(totals, key)
    return getattr(item, key)


@dataclass(frozen=True)
class Budget:
    """Upper limits; None means no limit. Memory is parameters plus activations, bytes."""

    max_params: int | None = None
    max_macs: int | None = None
    max_memory: int | None = None

    def limits(self) -> dict[str, int]:
        pairs = {"params": self.max_params, "macs": self.max_macs, "memory": self.max_memory}
        return {k: v for k, v in pairs.items() if v is not None}

    def over(self, item: Any, value_of: Callable[[Any, str], Any] | None = None) -> list[str]:
        """The limits ``item`` is over (a figure it does not have counts as over)."""
        out = []
        for key, limit in self.limits().items():
            value = (value_of or figure)(item, key)
            if value is None or value > limit:
                out.append(key)
        return out


@dataclass
class Selection(Generic[T]):
    """What a budget, a sort and a top N made of the candidates."""

    kept: list[T]
    dropped: list[tuple[T, list[str]]] = field(default_factory=list)  # each with the limits it is over
    cut: int = 0  # within the budget, but past --top

    def dropped_by(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, over in self.dropped:
            for key in over:
                counts[key] = counts.get(key, 0) + 1
        return counts


def check_sort(key: str) -> str:
    if key not in SORT_KEYS:
        raise ArchscopeError(f"cannot sort by {key!r}; choose one of: {', '.join(SORT_KEYS)}")
    return key


def sort_key(key: str, value_of: Callable[[Any, str], Any] | None = None) -> Callable[[Any], tuple]:
    """Ascending by ``key``; a candidate without the figure goes last."""
    check_sort(key)

    def value(item: Any) -> tuple:
        v = (value_of or figure)(item, key)
        return (v is None, v if v is not None else 0)

    return value


def select(
    items: Sequence[T],
    budget: Budget | None = None,
    sort: str | None = None,
    top: int | None = None,
    value_of: Callable[[Any, str], Any] | None = None,
) -> Selection[T]:
    """Keep what ``budget`` allows, sorted by ``sort`` (ascending; else in the order given), the first ``top``.

    ``value_of(item, key)`` reads a figure (default: ``figure``)."""
    if top is not None and top < 1:
        raise ArchscopeError(f"--top must be at least 1, not {top}")
    kept: list[T] = []
    dropped: list[tuple[T, list[str]]] = []
    for item in items:
        over = budget.over(item, value_of) if budget is not None else []
        (dropped.append((item, over)) if over else kept.append(item))
    if sort is not None:
        kept.sort(key=sort_key(sort, value_of))  # stable: ties keep the order given
    cut = 0
    if top is not None and len(kept) > top:
        cut, kept = len(kept) - top, kept[:top]
    return Selection(kept, dropped, cut)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates (lower or equal on both axes, lower on one),
    in order of the first axis. Equal points are all on the frontier; points with a NaN are not."""
    order = sorted((i for i, (x, y) in enumerate(points) if not (math.isnan(x) or math.isnan(y))),
                   key=lambda i: (points[i][0], points[i][1]))  # fmt: skip
    front: list[int] = []
    best_y = math.inf
    for i in order:
        x, y = points[i]
        if y < best_y:
            front.append(i)
            best_y = y
        elif front and (x, y) == points[front[-1]]:
            front.append(i)  # the same point twice: neither dominates the other
    return front
