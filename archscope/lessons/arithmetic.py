"""The arithmetic of a lesson's two sides, as the course notes do it, from ``explain``'s formulas.

Each weighted layer of a network (a convolution, a linear layer) is read from its explained
MACs formula: its bindings give k_h·k_w·(C_in/g)·C_out weights met at N·H_out·W_out positions.
A side is the sum of its layers' weights and where they are met; two sides are set side by
side with the ratio and the factor that differs. Where every layer of both sides maps C
channels to C (the stacked 3x3s), the weights are said in C: ``3·(3·3·C·C) = 27C²`` against
``7·7·C·C = 49C²``. Nothing is typed in: every number comes from the engine's formulas, and
a test holds them to the summary's figures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

from archscope.analysis.formula import EXPLAIN, Expr, Group, Num, Sym

WEIGHTED = ("aten::convolution", "aten::_convolution", "aten::addmm", "aten::mm")


@dataclass(frozen=True)
class WeightedLayer:
    """One convolution or linear layer: its weights and the positions it meets them at."""

    name: str
    kernel: tuple[int, ...]  # () for a linear layer
    c_in: int
    c_out: int
    groups: int
    positions: tuple[tuple[str, int], ...]  # (symbol, value): N (when not 1), H_out, W_out

    def weight_factors(self, in_c: bool = False) -> list[Expr]:
        """k_h, k_w, C_in (or C_in/g), C_out as factors that print as their numbers (or as C)."""
        kernel = [Sym(str(k), k) for k in self.kernel]
        if in_c:
            return [*kernel, Sym("C", self.c_in), Sym("C", self.c_out)]
        c_in: Expr = Sym(f"{self.c_in}", self.c_in)
        if self.groups != 1:
            c_in = EXPLAIN.exact(c_in, Sym(str(self.groups), self.groups))
        return [*kernel, c_in, Sym(f"{self.c_out}", self.c_out)]

    def weights(self) -> int:
        return EXPLAIN.product(self.weight_factors()).value

    def position_count(self) -> int:
        count = 1
        for _, n in self.positions:
            count *= n
        return count

    @property
    def macs(self) -> int:
        return self.weights() * self.position_count()

    def shape_key(self) -> tuple:
        return (self.kernel, self.c_in, self.c_out, self.groups, self.positions)

    def describe(self) -> str:
        if not self.kernel:
            return "linear layer"
        return "×".join(str(k) for k in self.kernel) + " conv"


@functools.lru_cache(maxsize=16)
def explained(model: str) -> Any:
    """Every layer of a zoo network explained, once per process (a lesson reads it twice)."""
    from archscope.analysis.explain import explain

    return explain(model, depth=99)


def weighted_layers(model: str) -> list[WeightedLayer]:
    """The convolutions and linear layers of ``model``, in call order, from their explained MACs."""
    layers = []
    for x in explained(model).layers:
        q = x.quantity("macs")
        if not x.leaf or q is None or q.operator not in WEIGHTED or not q.value:
            continue
        b = q.bindings
        n = (("N", b["N"]),) if b.get("N", 1) != 1 else ()
        if q.operator in ("aten::convolution", "aten::_convolution"):
            kernel = tuple(v for k, v in b.items() if k.startswith("k_"))
            spatial = tuple((k, v) for k, v in b.items() if k.endswith("_out") and k != "C_out")
            layer = WeightedLayer(x.name, kernel, b["C_in"], b["C_out"], b["g"], (*n, *spatial))
        elif q.operator == "aten::addmm":
            layer = WeightedLayer(x.name, (), b["C_in"], b["C_out"], 1, (("N", b["N"]),) if b["N"] != 1 else ())
        else:
            layer = WeightedLayer(x.name, (), b["K"], b["N"], 1, (("M", b["M"]),) if b["M"] != 1 else ())
        if layer.macs == q.value:  # the formula read back must be the count: anything else is not this shape
            layers.append(layer)
    return layers


def _grouped(terms: Sequence[tuple[tuple, Expr]]) -> Expr:
    """Consecutive equal layers as one term: three 3·3·C·C are 3·(3·3·C·C)."""
    runs: list[list[Any]] = []
    for key, expr in terms:
        if runs and runs[-1][0] == key:
            runs[-1][2] += 1
        else:
            runs.append([key, expr, 1])
    parts = [expr if count == 1 else Num(count) * Group(expr) for _, expr, count in runs]
    return EXPLAIN.total(parts)


@dataclass
class Side:
    """One network's weights and MACs, worked."""

    model: str
    layers: list[WeightedLayer]
    weights: int
    macs: int
    line: str  # "5·5·480·48 = 576,000 weights, × 14·14 positions = 112,896,000 MACs"
    in_c: str = ""  # "3·(3·3·C·C) = 27C²" where every layer maps C channels to C
    coefficient: int = 0  # the 27 of 27C²

    def to_dict(self) -> dict[str, Any]:
        data = {"model": self.model, "weights": self.weights, "macs": self.macs, "text": self.line}
        if self.in_c:
            data["in_c"] = self.in_c
        return data


def _positions_text(layers: Sequence[WeightedLayer]) -> str | None:
    shared = {layer.positions for layer in layers}
    if len(shared) != 1 or not next(iter(shared)):
        return None
    return "·".join(f"{n:,}" if n >= 10_000 else str(n) for _, n in next(iter(shared)))


def work_side(model: str, layers: Sequence[WeightedLayer], channels: int | None = None) -> Side:
    """The sum of ``layers``' weights and MACs; said in C too when ``channels`` is that C."""
    layers = list(layers)
    if not layers:
        return Side(model, [], 0, 0, "no weights and no multiply-accumulates: 0")
    weights = _grouped([(layer.shape_key(), EXPLAIN.product(layer.weight_factors())) for layer in layers])
    macs = sum(layer.macs for layer in layers)
    positions = _positions_text(layers)
    line = f"{weights.numbers()} = {weights.value:,} weights"
    line += f", × {positions} positions = {macs:,} MACs" if positions else f" → {macs:,} MACs"
    side = Side(model, layers, weights.value, macs, line)
    if channels:
        in_c = _grouped([(layer.shape_key(), EXPLAIN.product(layer.weight_factors(in_c=True))) for layer in layers])
        side.coefficient = in_c.value // (channels * channels)
        side.in_c = f"{in_c.text()} = {side.coefficient}C²"
    return side


def _common_channels(*sides: Sequence[WeightedLayer]) -> int | None:
    """The C of layers that all map C channels to C (None where any does not)."""
    channels = {(layer.c_in, layer.c_out) for layers in sides for layer in layers}
    if len(channels) == 1:
        c_in, c_out = next(iter(channels))
        if c_in == c_out and all(layer.groups == 1 for layers in sides for layer in layers):
            return c_in
    return None


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.1f}×" if b else "-"


def _differing_factor(a: Side, b: Side) -> str:
    """What differs between the two sides' largest layers (by MACs), symbol by symbol."""
    if not a.layers or not b.layers:
        return ""
    big_a, big_b = max(a.layers, key=lambda x: x.macs), max(b.layers, key=lambda x: x.macs)
    facts = []
    names = {"kernel": "k_h×k_w", "c_in": "C_in", "c_out": "C_out", "groups": "g"}
    for key, symbol in names.items():
        va, vb = getattr(big_a, key), getattr(big_b, key)
        if va != vb:
            shown = ("×".join(map(str, va)) or "-", "×".join(map(str, vb)) or "-") if key == "kernel" else (f"{va:,}", f"{vb:,}")
            facts.append(f"{symbol} {shown[0]} against {shown[1]}")
    if big_a.positions != big_b.positions:
        facts.append(f"positions {big_a.position_count():,} against {big_b.position_count():,}")
    if not facts:
        return f"their largest layers ({big_a.describe()}) are the same; the difference is in the others"
    return f"the largest layer ({big_a.describe()} against {big_b.describe()}): " + ", ".join(facts)


@dataclass
class Working:
    """Two networks' arithmetic set side by side: (label, text) steps, as the lesson prints them."""

    first: Side
    second: Side
    steps: list[tuple[str, str]]
    same: list[WeightedLayer]  # layers both have, left out of the sides

    def to_dict(self) -> dict[str, Any]:
        return {
            "sides": [self.first.to_dict(), self.second.to_dict()],
            "same_layers": [x.name for x in self.same],
            "steps": [{"label": label, "text": text} for label, text in self.steps],
        }


def work_through_pair(first: str, second: str) -> Working:
    """``first`` against ``second``: each side's weights and MACs, the factor that differs, the ratio.

    Where both have the same number of weighted layers, the layers that are the same on both
    sides are said once and left out of the sums (AlexNet's split changes three layers of eight).
    """
    a_layers, b_layers = weighted_layers(first), weighted_layers(second)
    same: list[WeightedLayer] = []
    if len(a_layers) == len(b_layers) and a_layers:
        pairs = list(zip(a_layers, b_layers))
        differ = [(x, y) for x, y in pairs if x.shape_key() != y.shape_key()]
        if differ and len(differ) < len(pairs):
            same = [x for x, y in pairs if x.shape_key() == y.shape_key()]
            a_layers, b_layers = [x for x, _ in differ], [y for _, y in differ]
        elif not differ:
            same = list(a_layers)
    if same and len(same) == len(a_layers):  # nothing differs in the weighted layers
        side = work_side(first, a_layers)
        steps = [("both", f"the same {len(same)} weighted layers: {side.weights:,} weights, {side.macs:,} MACs")]
        return Working(side, work_side(second, b_layers), steps, same)
    channels = _common_channels(a_layers, b_layers)
    a, b = work_side(first, a_layers, channels), work_side(second, b_layers, channels)
    steps: list[tuple[str, str]] = []
    if same:
        steps.append(("layers that differ", ", ".join(x.name for x in a_layers)))
    steps += [(first, a.line), (second, b.line)]
    if channels:
        steps += [(f"in C (C = {channels})", f"{a.in_c} against {b.in_c}")]
        steps.append(("what differs", f"{a.coefficient}C² against {b.coefficient}C²: the kernel positions summed over the layers"))
    else:
        factor = _differing_factor(a, b)
        if factor:
            steps.append(("what differs", factor))
    big, small = (a, b) if a.macs >= b.macs else (b, a)
    if not small.weights:
        steps.append(("ratio", f"{small.model} has no weights: all {big.weights:,} of {big.model}'s and its {big.macs:,} MACs are saved"))
    else:
        steps.append(("ratio", f"{big.model} needs {_ratio(big.weights, small.weights)} the weights and "
                               f"{_ratio(big.macs, small.macs)} the MACs of {small.model}"))  # fmt: skip
    if same:
        rest = work_side(first, same)
        steps.append(("the rest", f"the other {len(same)} weighted layers are the same on both sides: {rest.weights:,} weights, {rest.macs:,} MACs"))
    return Working(a, b, steps, same)


def extra_operators(first: str, second: str) -> list[tuple[str, str]]:
    """Operators whose FLOPs differ between two networks, with their rule: the residual additions of lesson 8."""

    def totals(model: str) -> dict[str, tuple[int, int, str]]:
        found: dict[str, list[Any]] = {}
        for x in explained(model).layers:
            q = x.quantity("flops")
            terms = [(q.operator, q.value, q.notes[0] if q.notes else "")] if q.operator else [
                (p.label.split(" (call")[0], p.value, p.note) for p in q.parts if p.label.startswith(("aten::", "prims::"))
            ]  # fmt: skip
            for op, value, about in terms:
                entry = found.setdefault(op, [0, 0, about])
                entry[0] += 1
                entry[1] += value
        return {op: (n, v, about) for op, (n, v, about) in found.items()}

    a, b = totals(first), totals(second)
    lines = []
    for op in sorted(set(a) | set(b)):
        (na, va, about_a), (nb, vb, about_b) = a.get(op, (0, 0, "")), b.get(op, (0, 0, ""))
        about = about_a or about_b
        if va != vb:
            rule = f" ({about.rstrip('.').lower()})" if about else ""
            lines.append((op, f"{na} calls, {va:,} FLOPs in {first}; {nb} calls, {vb:,} FLOPs in {second}{rule}"))
    return lines
