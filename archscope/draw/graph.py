"""The dataflow of one forward pass, recorded during the summary's single pass, and the graph drawn from it.

``DataflowObserver`` rides on ``summarize(..., observers=[...])``. It follows tensors by
identity, as the receptive fields do: each tensor remembers the *atom* that produced it, where
an atom is the network's input, a leaf layer call, or an operator that merges two traced
tensors outside any leaf layer (``torch.cat`` in an inception module's forward, the residual
``+`` of a ResNet block, the ``*`` of a squeeze-excitation gate). Any other operator outside a
leaf (``torch.flatten``, ``x.mean(...)``, a functional ReLU) passes its input's producer on,
so an edge runs from the layer that made a tensor to the layer that uses it, whatever
functional code lies between.

``graph_at`` then draws the atoms at a chosen depth, like ``summary --depth``: every atom inside
a layer call of that depth becomes that call's node, and edges between nodes are the edges
between their atoms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import torch

from archscope.analysis.ops import per_axis
from archscope.analysis.records import LayerRecord, ReceptiveField, Shape, Summary
from archscope.analysis.forward_pass import AnalysisObserver

AtomKind = Literal["input", "layer", "op"]
NodeKind = Literal["input", "layer", "op", "chain", "repeat", "span"]
# What a box does to its input, for folding: "weighted" (conv, linear), "pointwise" (activation,
# norm, dropout: folded into the weighted layer before it), "merge" (cat, +), "other".
Role = Literal["weighted", "pointwise", "merge", "other"]


@dataclass(frozen=True)
class Call:
    """One layer call as the dataflow saw it (its figures are in ``Summary.layers[index]``)."""

    index: int
    parent: int | None  # the innermost layer call open when it started
    geometry: str | None = None  # "7x7/2", "3x3/1 g2", "9216->4096": its first conv, pool or matmul
    role: Role = "other"  # of a leaf: weighted, pointwise (every operator position by position) or other


@dataclass(frozen=True)
class Atom:
    """The smallest thing a graph can draw: the input, a leaf layer call, or a merging operator."""

    id: int
    kind: AtomKind
    layer: int | None  # the Summary.layers index, for a layer
    op: str | None  # the ATen operator's name, for an op ("cat", "add", "relu")
    enclosing: tuple[int, ...]  # the layer calls open around it, outermost first
    shape: Shape = None  # the output shape of an input or an op (a layer's is in its record)
    role: Role = "other"


@dataclass
class Dataflow:
    """Every atom of one pass and which atom's output feeds which."""

    atoms: list[Atom] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)  # (producer atom, consumer atom), in order
    calls: dict[int, Call] = field(default_factory=dict)

    def children(self) -> dict[int | None, list[int]]:
        """The layer calls started directly inside each call (None: the model's own forward), in order."""
        out: dict[int | None, list[int]] = {}
        for index in sorted(self.calls):
            out.setdefault(self.calls[index].parent, []).append(index)
        return out


@dataclass
class Node:
    """One box of the picture."""

    id: str  # "n0", "n1", ...: stable, XML-safe, the SVG's node:<id>
    kind: NodeKind
    name: str  # the module's qualified name, a range of them ("layer1.0-2"), or the operator's
    type: str  # "Conv2d", "Bottleneck", "cat"
    detail: str  # what it computes in a few words: "7x7/2", "conv 3x3 + ReLU", "1x1 · 3x3"
    shape: Shape  # its output, batch first
    params: int = 0
    macs: int = 0
    receptive_field: ReceptiveField | None = None
    layers: tuple[int, ...] = ()  # the Summary.layers indices it stands for
    enclosing: tuple[int, ...] = ()  # the expanded layer calls around it, outermost first
    role: Role = "other"
    count: int = 1  # a repeat of identical blocks: how many
    members: tuple[Node, ...] = ()  # what a chain, repeat or span folded together
    parts: tuple[tuple[str, str], ...] = ()  # a small container's leaf layers (type, geometry), in call order
    # In a repeat of this many blocks drawn once, only the first block runs it (ResNet's downsample): 0 otherwise.
    first_only_of: int = 0


@dataclass
class Frame:
    """A box drawn around the nodes of one expanded module, or of one repeated block drawn once."""

    id: str
    name: str  # "inception3a", "layer1"
    type: str  # "Inception", "Bottleneck"
    nodes: tuple[str, ...]
    count: int = 1  # a repeat: the drawn block stands for this many
    params: int = 0  # of all the blocks it stands for
    macs: int = 0
    note: str = ""  # "the first also runs downsample"
    inner: str = ""  # the innermost module framed ("layer1.0" in "layer1"): its boxes' names are relative to it


@dataclass
class Graph:
    """What ``archscope draw`` draws: nodes, edges (producer -> consumer) and frames, at one depth."""

    model: str
    depth: int
    nodes: list[Node]
    edges: list[tuple[str, str]]
    frames: list[Frame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was folded, and why

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _axes(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def _work_facts(func: Any, rule: Any, args: Sequence[Any], out: Any) -> tuple[str, list] | None:
    """What a leaf's first conv, pool or matmul shows beyond its module's own fields: the weight's shape of a
    conv or matmul (groups, a functional conv's kernel, a linear map's sizes), the output's of an adaptive pool,
    a functional pool's kernel and stride."""
    try:
        if rule.field == "conv":
            return "conv", list(args[1].shape)
        if rule.field == "window":  # read only where the module has no kernel_size (a pool in a custom module)
            axes = args[0].dim() - 2
            return "window", [per_axis(args[1], axes), per_axis(args[2] if len(args) > 2 else (), axes)]
        if rule.field in ("adaptive_pool", "reduction", "softmax", "cumsum"):  # adaptive pooling to 1x1 runs as a mean
            first = out[0] if isinstance(out, (tuple, list)) else out
            return "adaptive", list(first.shape)
        if rule.field in ("matmul", "biased_matmul") and func.overloadpacket.__name__ in ("addmm", "mm"):
            weight = args[2] if func.overloadpacket.__name__ == "addmm" else args[1]
            return "matmul", list(weight.shape)
    except (AttributeError, IndexError, TypeError):
        return None  # an unusual call form: the node is drawn without its geometry
    return None


def geometry(record: LayerRecord, facts: tuple[str, list] | None) -> str | None:
    """A leaf's work in a few characters: '7x7/2', '3x3/2', '1x1 g2', 'to 1x1', '9216->4096'.

    Kernel and stride are the module's own (``LayerRecord.kernel``, ``stride``); the operator's shapes
    only add what the module does not say.
    """
    if facts is None:
        return None
    kind, shape = facts
    out = record.output_shape if isinstance(record.output_shape, list) else None
    axes = len(out) - 2 if out and all(isinstance(d, int) for d in out) else 0
    if kind == "adaptive":  # to the module's output size (an AdaptiveAvgPool1d runs as a 2-D pool underneath)
        sizes = out[2:] if out and len(out) >= 3 else shape[2:]
        return "to " + "x".join(str(d) for d in sizes) if sizes else None
    if kind == "matmul":
        return f"{shape[0]}->{shape[1]}"
    if record.kernel:
        kernel, stride = per_axis(record.kernel, axes), per_axis(record.stride or [], axes)
    elif kind == "window":
        kernel, stride = shape[0], shape[1] or shape[0]  # a pool's stride is its kernel unless given
    else:
        kernel, stride = (shape[2:] if kind == "conv" else []), []
    if not kernel:
        return None
    text = "x".join(str(k) for k in kernel) + (f"/{_axes(stride)}" if any(s != 1 for s in stride) else "")
    if kind == "conv" and len(shape) > 1 and shape[1] and isinstance(record.input_shape, list) and out:
        # The weight holds in/groups input channels (out/groups for a transposed conv).
        channels = out[1] if record.type.startswith("ConvTranspose") else record.input_shape[1]
        groups = channels // shape[1] if isinstance(channels, int) else 1
        text += f" g{groups}" if groups > 1 else ""
    return text


# Single-input operators called functionally between layers that a reader would miss if they
# vanished (torch.relu in a forward, F.max_pool2d, x.mean over space, F.conv2d): drawn as boxes.
# Views, slices, padding and plain arithmetic are not: their edge runs straight through.
# (By the names of their receptive-field rules, analysis.rf.rules.)
_GEOMETRY_FIELDS = ("conv", "window", "adaptive_pool", "reduction", "softmax", "cumsum", "matmul",
                    "biased_matmul")  # operators that say a kernel  # fmt: skip
_SHOWN_FIELDS = ("window", "adaptive_pool", "reduction", "softmax", "cumsum", "upsample", "pixel_shuffle",
                 "pixel_unshuffle", "channel_shuffle", "unfold")  # fmt: skip
_ELEMENTWISE_FIELDS = ("pointwise", "copy", "glu")


def _functional_role(rule: Any) -> Role | None:
    if rule is None:
        return None
    if rule.weighted:
        return "weighted"
    if rule.field in _ELEMENTWISE_FIELDS and rule.linearise == "identity":
        return "pointwise"  # activations and normalisations
    return "other" if rule.field in _SHOWN_FIELDS else None


class DataflowObserver(AnalysisObserver):
    """Records which layer call's output feeds which, during the summary's one pass (``self.flow``)."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.flow = Dataflow()
        # id(tensor) -> (the tensor, the atom that produced it); the tensor is kept so its id
        # cannot be reused by another tensor while the pass runs.
        self._producer: dict[int, tuple[torch.Tensor, int]] = {}
        self._stack: list[int] = []
        self._leaf: dict[int, bool] = {}
        self._inputs_of: dict[int, list[int]] = {}  # a container call's input producers
        self._atoms_before: dict[int, int] = {}
        self._atom_of_leaf: dict[int, int] = {}
        self._work: dict[int, dict[str, Any]] = {}  # a leaf's first kernel-saying operator, whether it is pointwise

    def inputs(self, tensors: Sequence[torch.Tensor]) -> None:
        for t in tensors:
            atom = self._atom("input", None, None, (), list(t.shape))
            self._produce(t, atom)

    def _atom(
        self, kind: AtomKind, layer: int | None, op: str | None, enclosing: tuple[int, ...], shape: Shape = None,
        role: Role = "other",
    ) -> int:  # fmt: skip
        atom = Atom(len(self.flow.atoms), kind, layer, op, enclosing, shape, role)
        self.flow.atoms.append(atom)
        return atom.id

    def _produce(self, value: Any, atom: int) -> None:
        for t in _tensors(value):
            self._producer[id(t)] = (t, atom)

    def _sources(self, value: Any) -> list[int]:
        """The atoms that produced the traced tensors in ``value``, each once, in order."""
        seen: list[int] = []
        for t in _tensors(value):
            entry = self._producer.get(id(t))
            if entry is not None and entry[0] is t and entry[1] not in seen:
                seen.append(entry[1])
        return seen

    def layer_opened(self, index: int, record: LayerRecord, args: tuple) -> None:
        parent = self._stack[-1] if self._stack else None
        enclosing = tuple(self._stack)
        self._stack.append(index)
        self._leaf[index] = record.leaf
        sources = self._sources(args)
        if record.leaf:
            atom = self._atom("layer", index, None, enclosing)
            self._atom_of_leaf[index] = atom
            self.flow.edges.extend((s, atom) for s in sources)
            self._work[index] = {"facts": None, "pointwise": True, "weighted": False}
        else:
            self._inputs_of[index] = sources
            self._atoms_before[index] = len(self.flow.atoms)
        self.flow.calls[index] = Call(index, parent)

    def layer_closed(self, index: int, record: LayerRecord, output: Any) -> None:
        self._stack.pop()
        if record.leaf:
            work = self._work.pop(index)
            role: Role = "weighted" if work["weighted"] else "pointwise" if work["pointwise"] else "other"
            self.flow.calls[index] = Call(index, self.flow.calls[index].parent, geometry(record, work["facts"]), role)
            self._produce(output, self._atom_of_leaf.pop(index))
            return
        sources = self._inputs_of.pop(index)
        if len(self.flow.atoms) == self._atoms_before.pop(index):
            # A container whose forward ran no layer and merged nothing (its children unused,
            # its work functional): it is drawn as one box, like a leaf.
            atom = self._atom("layer", index, None, tuple(self._stack))
            self.flow.edges.extend((s, atom) for s in sources)
            self._produce(output, atom)

    def operator(
        self, func: Any, rule: Any, args: Sequence[Any], kwargs: dict, out: Any, open_layers: Sequence[int]
    ) -> None:
        if open_layers and self._leaf.get(open_layers[-1]):
            work = self._work.get(open_layers[-1])
            if work is not None and rule is not None:
                if work["facts"] is None and rule.field in _GEOMETRY_FIELDS:
                    work["facts"] = _work_facts(func, rule, args, out)
                work["weighted"] = work["weighted"] or rule.weighted
                # Allocations ("creation") happen inside any layer; they do not make it a reshaping one.
                if rule.weighted or rule.field not in (*_ELEMENTWISE_FIELDS, "creation"):
                    work["pointwise"] = False
            elif work is not None:
                work["pointwise"] = False
            return
        sources = self._sources((args, kwargs))
        if not sources:
            return
        role = _functional_role(rule) if len(sources) == 1 else "merge"
        if role is None:
            self._produce(out, sources[0])  # views, slices, arithmetic between layers pass their input on
            return
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        shape = list(first.shape) if isinstance(first, torch.Tensor) else None
        atom = self._atom("op", None, func.overloadpacket.__name__.rstrip("_"), tuple(self._stack), shape, role)
        self.flow.edges.extend((s, atom) for s in sources)
        self._produce(out, atom)


# ---------------------------------------------------------------------------------------
# The graph at one depth.


def content(flow: Dataflow, summary: Summary, index: int) -> str:
    """What a container computes, from its convolutions, pools and linear layers: '1x1 · 3x3', 'max 3x3 · 1x1'."""
    children = flow.children()
    found: list[str] = []
    stack = list(reversed(children.get(index, [])))
    while stack:
        call = stack.pop()
        record, geometry = summary.layers[call], flow.calls[call].geometry
        if record.leaf and geometry:
            if record.type.endswith("Linear"):
                found.append("fc")
            elif "Pool" in record.type:
                found.append(("max " if "Max" in record.type else "avg ") + geometry)
            elif flow.calls[call].role == "weighted":
                found.append(geometry)
        stack.extend(reversed(children.get(call, [])))
    if len(found) > 4:
        convs = sum(1 for f in found if f != "fc" and not f.startswith(("max", "avg")))
        return f"{convs} convs" if convs else f"{len(found)} layers"
    return " · ".join(found)


def _leaves(flow: Dataflow, summary: Summary, index: int, most: int) -> tuple[tuple[str, str], ...]:
    """(type, geometry) of the leaf layers inside a container, in call order; () when there are more than ``most``."""
    children = flow.children()
    found: list[tuple[str, str]] = []
    stack = list(reversed(children.get(index, [])))
    while stack:
        call = stack.pop()
        if summary.layers[call].leaf:
            found.append((summary.layers[call].type, flow.calls[call].geometry or ""))
            if len(found) > most:
                return ()
        stack.extend(reversed(children.get(call, [])))
    return tuple(found)


def _layer_node(node_id: str, summary: Summary, flow: Dataflow, index: int, enclosing: tuple[int, ...]) -> Node:
    record = summary.layers[index]
    detail = flow.calls[index].geometry or "" if record.leaf else content(flow, summary, index)
    parts = () if record.leaf else _leaves(flow, summary, index, 3)  # GoogLeNet's conv_relu: conv + ReLU
    return Node(
        id=node_id,
        kind="layer",
        role=flow.calls[index].role if record.leaf else "other",
        name=record.name,
        type=record.type,
        detail=detail or "",
        shape=record.output_shape,
        params=record.params,
        macs=record.macs,
        receptive_field=record.receptive_field,
        layers=(index,),
        enclosing=enclosing,
        parts=parts,
    )


def graph_at(summary: Summary, flow: Dataflow, depth: int) -> Graph:
    """Every atom drawn as the layer call of ``depth`` around it (or itself, when shallower)."""
    layers = summary.layers
    keys: dict[int, tuple[str, int]] = {}  # atom -> its node's key
    nodes: dict[tuple[str, int], Node] = {}
    for atom in flow.atoms:
        chain = atom.enclosing + ((atom.layer,) if atom.kind == "layer" and atom.layer is not None else ())
        at = next((i for i, call in enumerate(chain) if layers[call].depth >= depth), None)
        key = ("call", chain[at]) if at is not None else ("atom", atom.id)
        keys[atom.id] = key
        if key in nodes:
            continue
        node_id = f"n{len(nodes)}"
        if key[0] == "call":
            nodes[key] = _layer_node(node_id, summary, flow, key[1], chain[:at])
        elif atom.kind == "layer" and atom.layer is not None:
            nodes[key] = _layer_node(node_id, summary, flow, atom.layer, atom.enclosing)
        elif atom.kind == "input":
            nodes[key] = Node(node_id, "input", "input", "input", "", atom.shape)
        else:
            op = atom.op or "op"
            nodes[key] = Node(node_id, "op", op, op, "", atom.shape, enclosing=atom.enclosing, role=atom.role)
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for a, b in flow.edges:
        edge = (nodes[keys[a]].id, nodes[keys[b]].id)
        if edge[0] != edge[1] and edge not in seen:
            seen.add(edge)
            edges.append(edge)
    return Graph(summary.model, depth, list(nodes.values()), edges)


def max_depth(summary: Summary) -> int:
    """The deepest layer call's depth: the graph of every leaf."""
    return max((layer.depth for layer in summary.layers), default=1)
