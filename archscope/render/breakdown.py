"""Where a network's parameters and MACs are, grouped at one depth, summing to the model's totals.

Every layer call at the chosen depth (or a leaf above it) is one group holding everything
its module and its children hold or compute; a module called twice is one group with both
calls' MACs and its parameters once. What no group holds is one more bar, so the bars always
add up to the totals: MACs of functional calls in a parent's own forward, and parameters of
modules the forward never ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from archscope.analysis.records import Summary

# More bars than this cannot be read in one picture; a deeper --depth is then shown shallower.
MAX_GROUPS = 60
# With no depth asked for, the deepest level with at most this many bars.
DEFAULT_GROUPS = 32
REST = "(rest)"


@dataclass(frozen=True)
class Group:
    name: str
    type: str
    params: int
    macs: int


@dataclass(frozen=True)
class Breakdown:
    depth: int
    groups: list[Group]  # in call order, the rest last when it holds anything

    @property
    def params(self) -> int:
        return sum(g.params for g in self.groups)

    @property
    def macs(self) -> int:
        return sum(g.macs for g in self.groups)


def _at_depth(summary: Summary, depth: int) -> list[Group]:
    groups: dict[str, Group] = {}
    for layer in summary.layers:
        shown = layer.depth == depth or (layer.leaf and layer.depth < depth)
        inside_shown = any(layer.name.startswith(f"{name}.") for name in groups)
        if not shown or inside_shown:
            continue
        if layer.name in groups:  # called again: its MACs again, its parameters once
            g = groups[layer.name]
            groups[layer.name] = Group(g.name, g.type, g.params, g.macs + layer.macs)
        else:
            groups[layer.name] = Group(layer.name, layer.type, layer.params, layer.macs)
    # A group that holds nothing (a ReLU, a pooling) adds nothing to either bar.
    return [g for g in groups.values() if g.params or g.macs]


def breakdown(summary: Summary, depth: int | None = None) -> Breakdown:
    """The groups at ``depth`` (1 = the model's children); None picks the deepest readable one."""
    deepest = max((layer.depth for layer in summary.layers), default=1)
    if depth is None:
        depth = max((d for d in range(1, deepest + 1) if len(_at_depth(summary, d)) <= DEFAULT_GROUPS), default=1)
    while depth > 1 and len(_at_depth(summary, depth)) > MAX_GROUPS:
        depth -= 1
    groups = _at_depth(summary, depth)
    rest_params = summary.totals.params - sum(g.params for g in groups)
    rest_macs = summary.totals.macs - sum(g.macs for g in groups)
    if rest_params or rest_macs:
        groups.append(Group(REST, "not in a layer at this depth", rest_params, rest_macs))
    return Breakdown(depth, groups)
