"""Folding a graph until a person can read it, as the papers draw their networks.

* **Chains**: a convolution or linear layer (or a merge) and the activations, normalisations
  and dropouts right after it are one box: "conv 3x3 + BN + ReLU".
* **Repeats**: identical consecutive blocks are drawn once and marked "×N", as ResNet's
  Table 1 writes "[1x1, 64; 3x3, 64; 1x1, 256] ×3". Blocks are identical when they have the
  same type and output shape and their layers have the same names, types and output channels;
  the first of a run may hold more layers than the rest (a ResNet stage's first block also runs
  a projection shortcut), as the papers count it.
* **Depth**: a graph with more boxes than ``MAX_NODES`` is drawn at a shallower depth, and
  at depth 1, by folding runs of single boxes; the graph's notes say so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Iterable

from archscope.analysis.records import Summary
from archscope.draw.graph import Dataflow, Frame, Graph, Node, graph_at, max_depth
from archscope.draw.layout import sources_and_targets

MAX_NODES = 100  # beyond this a picture is a wall of boxes: fold further
# Containers that only hold their children in order: framed only at depth 1, where they are the network's parts.
_PLAIN_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def _rewire(edges: Iterable[tuple[str, str]], mapping: dict[str, str]) -> list[tuple[str, str]]:
    """Edges with endpoints renamed by ``mapping``, without loops or repeats."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for a, b in edges:
        a, b = mapping.get(a, a), mapping.get(b, b)
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        out.append((a, b))
    return out


def name_range(first: str, last: str) -> str:
    """'layer1.0', 'layer1.2' -> 'layer1.0-2'; names with nothing in common are joined whole."""
    if first == last:
        return first
    a, b = first.split("."), last.split(".")
    common = 0
    while common < min(len(a), len(b)) - 1 and a[common] == b[common]:
        common += 1
    return ".".join(a) + "-" + ".".join(b[common:]) if common else f"{first}-{last}"


# --------------------------------------------------------------------------- chains


def _container_name(graph_members: list[Node], summary: Summary, flow: Dataflow) -> tuple[str, str] | None:
    """The container's name and type when a chain is exactly its children (GoogLeNet's conv_relu)."""
    parents = {flow.calls[m.layers[0]].parent for m in graph_members if m.kind == "layer" and m.layers}
    if len(parents) != 1 or any(m.kind != "layer" for m in graph_members):
        return None
    parent = parents.pop()
    if parent is None or flow.children().get(parent) != [m.layers[0] for m in graph_members]:
        return None
    record = summary.layers[parent]
    return record.name, record.type


def fold_chains(graph: Graph, summary: Summary, flow: Dataflow) -> Graph:
    """Each weighted layer or merge with the pointwise layers right after it, as one box."""
    pred, succ = sources_and_targets(graph.edges)
    by_id = {n.id: n for n in graph.nodes}
    absorbed: dict[str, str] = {}
    chains: dict[str, Node] = {}
    for node in graph.nodes:
        if node.id in absorbed or node.role not in ("weighted", "merge"):
            continue
        members = [node]
        while len(succ[members[-1].id]) == 1:
            nxt = by_id[succ[members[-1].id][0]]
            if nxt.role != "pointwise" or len(pred[nxt.id]) != 1 or nxt.enclosing != node.enclosing:
                break
            members.append(nxt)
        if len(members) == 1:
            continue
        named = _container_name(members, summary, flow)
        chains[node.id] = replace(
            node,
            kind="chain",
            name=named[0] if named else node.name,
            type=named[1] if named else node.type,
            shape=members[-1].shape,
            params=sum(m.params for m in members),
            macs=sum(m.macs for m in members),
            receptive_field=members[-1].receptive_field,
            layers=tuple(i for m in members for i in m.layers),
            members=tuple(members),
        )
        absorbed.update({m.id: node.id for m in members[1:]})
    nodes = [chains.get(n.id, n) for n in graph.nodes if n.id not in absorbed]
    return replace(graph, nodes=nodes, edges=_rewire(graph.edges, absorbed))


# --------------------------------------------------------------------------- repeats


@dataclass(frozen=True)
class _Repeat:
    """A run of identical blocks drawn once: what its frame says."""

    name: str
    type: str
    count: int
    params: int
    macs: int
    note: str


def _channels(shape: Any) -> Any:
    if isinstance(shape, list) and len(shape) >= 2 and all(isinstance(d, int) for d in shape):
        return shape[1]
    return repr(shape)


def _tail(shape: Any) -> str:
    """The shape without its batch dimension, as a comparable key."""
    if isinstance(shape, list) and shape and all(isinstance(d, int) for d in shape):
        return repr(shape[1:])
    return repr(shape)


class _Signatures:
    """What makes two blocks "the same block": computed once per layer call."""

    def __init__(self, summary: Summary, flow: Dataflow) -> None:
        self.summary = summary
        self.flow = flow
        self.children = flow.children()
        self._desc: dict[int, frozenset] = {}

    def layers_of(self, call: int) -> frozenset:
        """(relative name, type, output channels, kernel) of every layer call inside ``call``."""
        if call not in self._desc:
            prefix = self.summary.layers[call].name + "."
            found = set()
            stack = list(self.children.get(call, []))
            while stack:
                inner = stack.pop()
                record = self.summary.layers[inner]
                # The kernel, not the stride: a stage's first block may downsample (ResNet's 1x1/2).
                kernel = (self.flow.calls[inner].geometry or "").split("/")[0]
                found.add((record.name.removeprefix(prefix), record.type, _channels(record.output_shape), kernel))
                stack.extend(self.children.get(inner, []))
            self._desc[call] = frozenset(found)
        return self._desc[call]

    def of_call(self, call: int) -> tuple:
        record = self.summary.layers[call]
        return ("call", record.type, _tail(record.output_shape))

    def of_node(self, node: Node) -> tuple:
        if node.kind == "layer" and not self.summary.layers[node.layers[0]].leaf:
            return self.of_call(node.layers[0])
        members = node.members or (node,)
        return (node.kind, tuple((m.type, m.detail, m.role) for m in members), _tail(node.shape))

    def same(self, first: tuple, second: tuple, first_call: int | None, second_call: int | None) -> bool:
        """Equal signatures and layers, or (the first of a run) the second's layers and more."""
        if first != second:
            return False
        if first_call is None or second_call is None:
            return True
        return self.layers_of(first_call) >= self.layers_of(second_call)


def _units(graph: Graph, parent: int | None) -> list[tuple[str, Any]]:
    """The parts of an expanded call in order: ('call', child call) when expanded, else ('node', id)."""
    units: list[tuple[str, Any]] = []
    seen: set[tuple[str, Any]] = set()
    for node in graph.nodes:
        path = node.enclosing
        if parent is None:
            unit = ("call", path[0]) if path else ("node", node.id)
        elif parent in path:
            k = path.index(parent)
            unit = ("call", path[k + 1]) if k + 1 < len(path) else ("node", node.id)
        else:
            continue
        if node.kind == "input":
            continue
        if unit not in seen:
            seen.add(unit)
            units.append(unit)
    return units


def _follows(a: set[str], b: set[str], succ: dict[str, list[str]], pred: dict[str, list[str]]) -> bool:
    """Block b is fed only by block a, and a feeds nothing but b."""
    linked = False
    for x in a:
        for y in succ[x]:
            if y in b:
                linked = True
            elif y not in a:
                return False
    for y in b:
        for x in pred[y]:
            if x not in b and x not in a:
                return False
    return linked


def fold_repeats(graph: Graph, summary: Summary, flow: Dataflow) -> tuple[Graph, dict[int, _Repeat]]:
    """Identical consecutive blocks drawn once; returns the graph and, per block drawn for a run, its run."""
    sig = _Signatures(summary, flow)
    repeats: dict[int, _Repeat] = {}
    parents: list[int | None] = [None] + sorted(flow.calls)
    for parent in parents:
        if parent is not None and not any(parent in n.enclosing for n in graph.nodes):
            continue  # not expanded, or folded away with its block
        units = _units(graph, parent)
        if len(units) < 2:
            continue
        members: dict[tuple[str, Any], set[str]] = defaultdict(set)
        for node in graph.nodes:
            for unit in units:
                if (unit[0] == "node" and node.id == unit[1]) or (unit[0] == "call" and unit[1] in node.enclosing):
                    members[unit].add(node.id)
        by_id = {n.id: n for n in graph.nodes}

        def signature(unit: tuple[str, Any]) -> tuple:
            return sig.of_call(unit[1]) if unit[0] == "call" else sig.of_node(by_id[unit[1]])

        def call_of(unit: tuple[str, Any]) -> int | None:
            if unit[0] == "call":
                return unit[1]
            node = by_id[unit[1]]
            return node.layers[0] if node.kind == "layer" and not summary.layers[node.layers[0]].leaf else None

        def fits(first: int, k: int) -> bool:
            """Unit k continues the run that starts at unit ``first``."""
            if k == first + 1:
                a, b = units[first], units[k]
                return sig.same(signature(a), signature(b), call_of(a), call_of(b))
            second, unit = units[first + 1], units[k]
            if signature(unit) != signature(second):
                return False
            return call_of(second) is None or sig.layers_of(call_of(unit)) == sig.layers_of(call_of(second))

        pred, succ = sources_and_targets(graph.edges)
        runs: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j = i
            while j + 1 < len(units) and fits(i, j + 1) and _follows(members[units[j]], members[units[j + 1]], succ, pred):
                j += 1  # fmt: skip
            if j > i:
                runs.append((i, j))
            i = j + 1
        for i, j in reversed(runs):
            run = units[i : j + 1]
            if run[0][0] == "node":
                graph = _fold_node_run(graph, [by_id[u[1]] for u in run])
            else:
                graph = _fold_call_run(graph, [members[u] for u in run], succ)
                calls = [u[1] for u in run]
                first, last = summary.layers[calls[0]], summary.layers[calls[-1]]
                extra = sorted({name.split(".")[0] for name, *_ in sig.layers_of(calls[0]) - sig.layers_of(calls[1])})
                repeat = _Repeat(
                    name=name_range(first.name, last.name),
                    type=first.type,
                    count=len(calls),
                    params=sum(summary.layers[c].params for c in calls),
                    macs=sum(summary.layers[c].macs for c in calls),
                    note=f"the first also runs {', '.join(extra)}" if extra else "",
                )
                if len(members[run[0]]) == 1:  # the block is one box: mark the box, frame nothing
                    graph = _mark_repeated(graph, next(iter(members[run[0]])), repeat, calls)
                else:
                    repeats[calls[0]] = repeat
                    graph = _mark_first_only(graph, members[run[0]], [f"{first.name}.{e}" for e in extra], len(calls))
    return graph, repeats


def _fold_node_run(graph: Graph, run: list[Node]) -> Graph:
    first, last = run[0], run[-1]
    # A chain named after its first layer ends at its last one: features.0-3, not features.0-2.
    end = last.members[-1] if last.kind == "chain" and last.name == last.members[0].name else last
    folded = replace(
        first,
        kind="repeat",
        name=name_range(first.name, end.name),
        shape=last.shape,
        params=sum(n.params for n in run),
        macs=sum(n.macs for n in run),
        receptive_field=last.receptive_field,
        layers=tuple(i for n in run for i in n.layers),
        count=len(run),
        members=tuple(run),
    )
    mapping = {n.id: first.id for n in run}
    nodes = [folded if n.id == first.id else n for n in graph.nodes if n.id not in mapping or n.id == first.id]
    return replace(graph, nodes=nodes, edges=_rewire(graph.edges, mapping))


def _mark_repeated(graph: Graph, node_id: str, repeat: _Repeat, calls: list[int]) -> Graph:
    """The one box a repeated block is drawn as, standing for all of them."""
    node = graph.node(node_id)
    marked = replace(
        node, kind="repeat", name=repeat.name, params=repeat.params, macs=repeat.macs, count=repeat.count,
        members=(node,), layers=tuple(calls),
    )  # fmt: skip
    return replace(graph, nodes=[marked if n.id == node_id else n for n in graph.nodes])


def _mark_first_only(graph: Graph, block: set[str], prefixes: list[str], count: int) -> Graph:
    """The boxes of a run's first block that the other blocks lack (a projection shortcut): drawn "×1 of N"."""

    def extra(node: Node) -> bool:
        return any(node.name == p or node.name.startswith(p + ".") for p in prefixes)

    return replace(graph, nodes=[
        replace(n, first_only_of=count) if n.id in block and extra(n) else n for n in graph.nodes
    ])  # fmt: skip


def _fold_call_run(graph: Graph, blocks: list[set[str]], succ: dict[str, list[str]]) -> Graph:
    """Keep the first block's boxes; what the last block fed, the first block's exit now feeds."""
    first, last = blocks[0], blocks[-1]
    exits = [x for x in (n.id for n in graph.nodes) if x in first and any(y in blocks[1] for y in succ[x])]
    dropped = set().union(*blocks[1:])
    outgoing = [(a, b) for a, b in graph.edges if a in last and b not in dropped and b not in first]
    edges = [e for e in graph.edges if e[0] not in dropped and e[1] not in dropped]
    edges += [(exits[-1], b) for _, b in outgoing]
    nodes = [n for n in graph.nodes if n.id not in dropped]
    return replace(graph, nodes=nodes, edges=_rewire(edges, {}))


# --------------------------------------------------------------------------- frames


def frames(graph: Graph, summary: Summary, repeats: dict[int, _Repeat]) -> list[Frame]:
    """A frame per expanded module worth naming, one per set of boxes (the outermost names it)."""
    inside: dict[int, list[str]] = defaultdict(list)
    for node in graph.nodes:
        for call in node.enclosing:
            inside[call].append(node.id)
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    most = 0.85 * len(graph.nodes)  # a frame around nearly everything (a network's whole 'features' Sequential) says nothing
    for call in sorted(inside):
        record = summary.layers[call]
        named = record.type not in _PLAIN_CONTAINERS or record.depth == 1
        worth = call in repeats or (2 <= len(inside[call]) <= most and named)
        if worth:
            groups[tuple(inside[call])].append(call)
    out: list[Frame] = []
    for nodes, calls in groups.items():
        outer = summary.layers[calls[0]]
        repeat = next((repeats[c] for c in calls if c in repeats), None)
        inner = summary.layers[calls[-1]].name
        if repeat is None:
            out.append(Frame(f"f{len(out)}", outer.name, outer.type, nodes, 1, outer.params, outer.macs, inner=inner))
        else:
            # A stage that is nothing but its repeated block is named as the stage ("layer1").
            name = outer.name if calls[0] not in repeats else repeat.name
            figures = (repeat.count, repeat.params, repeat.macs, repeat.note)
            out.append(Frame(f"f{len(out)}", name, repeat.type, nodes, *figures, inner=inner))
    return out


# --------------------------------------------------------------------------- spans


def fold_spans(graph: Graph, limit: int) -> Graph:
    """At depth 1 and still too many boxes: runs of single-input, single-output boxes become one box each."""
    pred, succ = sources_and_targets(graph.edges)
    runs: list[list[Node]] = []
    for node in graph.nodes:
        if node.kind == "input":
            continue
        previous = pred[node.id]
        if runs and len(previous) == 1 and previous[0] == runs[-1][-1].id and len(succ[previous[0]]) == 1:
            runs[-1].append(node)
        else:
            runs.append([node])
    # Cut long runs into pieces so the boxes left are about ``limit``.
    pieces: list[list[Node]] = []
    total = len(graph.nodes)
    size = max(2, -(-total // max(limit - 2, 1)) + 1)
    for run in runs:
        pieces.extend(run[k : k + size] for k in range(0, len(run), size))
    mapping: dict[str, str] = {}
    spans: dict[str, Node] = {}
    for piece in pieces:
        if len(piece) < 2:
            continue
        first, last = piece[0], piece[-1]
        spans[first.id] = Node(
            id=first.id, kind="span", name=name_range(first.name, last.name), type="layers",
            detail=f"{len(piece)} boxes", shape=last.shape, params=sum(n.params for n in piece),
            macs=sum(n.macs for n in piece), receptive_field=last.receptive_field,
            layers=tuple(i for n in piece for i in n.layers), enclosing=(), members=tuple(piece),
        )  # fmt: skip
        mapping.update({n.id: first.id for n in piece})
    nodes = [spans.get(n.id, n) for n in graph.nodes if n.id not in mapping or n.id in spans]
    return replace(graph, nodes=nodes, edges=_rewire(graph.edges, mapping), frames=[])


# --------------------------------------------------------------------------- all together


def folded_graph(summary: Summary, flow: Dataflow, depth: int, unfold: bool = False) -> Graph:
    """The graph at ``depth`` with chains and repeats folded (neither with ``unfold``) and its frames."""
    graph = graph_at(summary, flow, depth)
    repeats: dict[int, _Repeat] = {}
    if not unfold:
        graph = fold_chains(graph, summary, flow)
        graph, repeats = fold_repeats(graph, summary, flow)
    return replace(graph, frames=frames(graph, summary, repeats))


def is_chain(graph: Graph) -> bool:
    """Every box has at most one edge in and one out: a row of volumes can show it."""
    pred, succ = sources_and_targets(graph.edges)
    return all(len(succ[n.id]) <= 1 and len(pred[n.id]) <= 1 for n in graph.nodes)


def chain_graph(summary: Summary, flow: Dataflow, depth: int | None = None, limit: int = MAX_NODES) -> Graph | None:
    """The graph at ``depth`` (default: every layer), or shallower, where it is a chain of at most ``limit``
    boxes; None if even depth 1 branches.

    Chains of conv-BN-ReLU are one volume; repeats are not folded: the papers draw every layer.
    """
    deepest = max_depth(summary)
    asked = min(depth, deepest) if depth is not None else deepest
    why = ""
    for at in range(asked, 0, -1):
        graph = fold_chains(graph_at(summary, flow, at), summary, flow)
        if not is_chain(graph):
            why = why or "the network branches"
        elif len(graph.nodes) > limit and at > 1:
            why = why or f"{len(graph.nodes)} volumes (more than {limit})"
        else:
            notes = [f"drawn at depth {at}: at depth {asked}, {why}"] if at < asked else []
            return replace(graph, notes=notes)
    return None


def readable_graph(
    summary: Summary, flow: Dataflow, depth: int | None = None, unfold: bool = False, limit: int = MAX_NODES
) -> Graph:
    """The graph at ``depth`` (default: every layer), folded further while it has more than ``limit`` boxes."""
    deepest = max_depth(summary)
    asked = min(depth, deepest) if depth is not None else deepest
    graph = folded_graph(summary, flow, asked, unfold)
    first_count = len(graph.nodes)
    at = asked
    while len(graph.nodes) > limit and at > 1:
        at -= 1
        graph = folded_graph(summary, flow, at, unfold)
    notes: list[str] = []
    if at < asked:
        notes.append(f"drawn at depth {at}: depth {asked} would need {first_count} boxes (more than {limit})")
    if len(graph.nodes) > limit:
        count = len(graph.nodes)
        graph = fold_spans(graph, limit)
        notes.append(f"runs of layers folded into single boxes: {count} boxes at depth 1 (more than {limit})")
    if not unfold:
        notes.append("conv-BN-ReLU chains and identical blocks folded (--unfold draws every layer)")
    return replace(graph, notes=notes)
