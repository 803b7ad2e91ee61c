"""``archscope explain``'s view: each layer's figures as formula, the formula with numbers, the value.

A leaf's quantities are label/value lines, two per formula (symbols, then ``= numbers =
value``), written in the notation of the papers (``·``, ``⌊⌋``); axes that work out the same
(a square kernel on a square map) are said once. A block's figures are a table of its parts
(its children's calls and its own operators, in call order) with the total beneath, so each
column adds up to the block. JSON is the record's own ``to_dict()`` (``archscope.explain/1``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from archscope.render.rf_text import field_sentence
from archscope.render.view import Column, Note, Pairs, Table, View, csv_columns
from archscope.text.numbers import human_bytes, shape_text

if TYPE_CHECKING:
    from archscope.analysis.explain_records import Explanation, LayerExplanation, Quantity, Term

UNITS = (
    "MACs count multiply-accumulates (a multiply and an add: the papers' 'operations').",
    "FLOPs = 2·MACs plus every other operator by its rule (docs/counting.md).",
    "|y| is the number of elements of a tensor y (its shape multiplied out); b the bytes per element.",
)
LABELS = {
    "output_shape": "output",
    "params": "parameters",
    "macs": "MACs",
    "flops": "FLOPs",
    "output_bytes": "output memory",
    "saved_bytes": "saved for backward",
    "receptive_field": "receptive field",
}
# One line holds "formula = numbers = value" when it is this short; else two lines.
ONE_LINE = 56


def _value_text(q: Quantity) -> str:
    if q.key in ("output_bytes", "saved_bytes"):
        return f"{q.value:,} bytes ({human_bytes(q.value)})" if q.value >= 1024 else f"{q.value:,} bytes"
    if isinstance(q.value, int):
        return f"{q.value:,}"
    return str(q.value)


def _worked(lhs: str, formula: str | None, numbers: str | None, value: str) -> list[str]:
    """'lhs = formula = numbers = value' on one line if short, else the formula and '= numbers = value'."""
    head = (f"{lhs} {formula}" if lhs.endswith(":") else f"{lhs} = {formula}") if lhs else (formula or "")
    if formula is None:
        return [f"{lhs} = {value}" if lhs else value]
    tail = f"= {numbers} = {value}" if numbers is not None and numbers != formula else f"= {value}"
    if len(head) + 1 + len(tail) <= ONE_LINE:
        return [f"{head} {tail}"]
    return [head, tail]


def _axis_groups(terms: Sequence[Term], suffix_of: Any) -> list[tuple[list[str], list[Term]]]:
    """Group per-axis terms (H: r_out, H: j_out, W: ...) by axis; axes whose numbers agree merge."""
    by_axis: dict[str, list[Term]] = {}
    for t in terms:
        axis, _ = suffix_of(t.label)
        by_axis.setdefault(axis, []).append(t)
    groups: list[tuple[list[str], list[Term]]] = []
    for axis, items in by_axis.items():
        for names, other in groups:
            if [(t.numbers, t.value) for t in other] == [(t.numbers, t.value) for t in items]:
                names.append(axis)
                break
        else:
            groups.append(([axis], items))
    return groups


def _shape_text(shape: Any) -> str:
    """[1, 96, 55, 55] -> '1×96×55×55' (several outputs joined by ', ')."""
    return shape_text(shape).replace("x", "×") if shape is not None else "-"


def _per_axis(groups: list[tuple[list[str], list[Term]]], lhs_of: Any) -> list[tuple[str, str, str]]:
    """Each group's worked lines; an 'H:' in front only where the axes work out differently."""
    items: list[tuple[str, str, str]] = []
    for names, terms in groups:
        prefix = f"{', '.join(names)}: " if len(groups) > 1 else ""
        for t in terms:
            for i, line in enumerate(_worked(lhs_of(names, t), t.formula, t.numbers, f"{t.value:,}")):
                items.append(("", (prefix if i == 0 else " " * len(prefix)) + line, ""))
            if t.note:
                items.append(("", t.note, "dim"))
    return items


def _shape_items(q: Quantity) -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = [("output", _shape_text(q.value), "")]
    groups = _axis_groups(q.axes, lambda label: (label.removesuffix("_out"), ""))
    items += _per_axis(groups, lambda names, t: " = ".join(f"{n}_out" for n in names))
    return items + [("", note, "dim") for note in q.notes]


def _field_items(q: Quantity, name: str = "") -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = [("receptive field", _field_text(q.value), "")]
    steps = [t for t in q.axes if ": " in t.label]
    groups = _axis_groups(steps, lambda label: tuple(label.split(": ", 1)))

    def lhs(names: list[str], t: Term) -> str:
        what = t.label.split(": ", 1)[1]
        return "r_out" if what == "union" else what

    items += _per_axis(groups, lhs)
    for part in q.parts:
        text = _field_text(part.value) if isinstance(part.value, dict) else str(part.value)
        items.append(("", f"{part.label.replace(name + '.', '') if name else part.label}: {text}", ""))
    return items + [("", note, "dim") for note in q.notes]


def _field_text(value: Any) -> str:
    from archscope.analysis.records import ReceptiveField

    if value is None:
        return "-"
    if "size" in value:
        rf = ReceptiveField("window", tuple(value["size"]), tuple(value["stride"]), tuple(value["padding"]))
    elif "unknown" in value:
        rf = ReceptiveField("unknown", reason=value["unknown"])
    else:
        rf = ReceptiveField(next(iter(value)))  # whole_input, no_signal
    return field_sentence(rf)


def _quantity_items(q: Quantity) -> list[tuple[str, str, str]]:
    """A leaf's quantity: the formula and its numbers, or its operators one by one."""
    if q.key == "output_shape":
        return _shape_items(q)
    if q.key == "receptive_field":
        return _field_items(q)
    label = LABELS.get(q.key, q.key)
    value = _value_text(q)
    items: list[tuple[str, str, str]] = []
    notes = list(q.notes)
    if q.parts:
        items.append((label, f"{value}, the sum of its operators':", ""))
        for part in q.parts:
            shown = f"{part.value:,}" if isinstance(part.value, int) else str(part.value)
            if part.formula is None:
                items.append(("", f"{part.label}: {shown}" + (f" ({part.note})" if part.note else ""), ""))
                continue
            lines = _worked(f"{part.label}:", part.formula, part.numbers, shown)
            items += [("", line if i == 0 else "  " + line, "") for i, line in enumerate(lines)]
        notes = [n for n in notes if not any(n == p.note for p in q.parts)]
    else:
        lines = _worked("", q.formula, q.numbers, value)
        items.append((label, lines[0], ""))
        items += [("", line, "") for line in lines[1:]]
        if q.operator and q.formula:
            # The rule's own words, once per layer (under FLOPs, which every operator has).
            about = notes.pop(0) if notes else ""
            if q.key == "flops":
                items.append(("", f"{q.operator}: {about}" if about else q.operator, "dim"))
    return items + [("", note, "dim") for note in notes]


def _layer_title(x: LayerExplanation, model: str) -> str:
    name = x.name or model
    call = f" (call {x.call})" if x.call > 1 else ""
    return f"{name}{call}  {x.type}  {_shape_text(x.input_shape)} → {_shape_text(x.output_shape)}"


def _parts_table(x: LayerExplanation) -> Table:
    """A block's parts: one row per child call or own operator, the block's total beneath."""
    keys = [k for k in ("params", "macs", "flops", "saved_bytes") if x.quantity(k) is not None]
    rows: dict[str, dict[str, Any]] = {}
    kinds: dict[str, str] = {}
    order: list[str] = []
    for key in ("macs", "flops", "saved_bytes", "params"):
        q = x.quantity(key)
        if q is None:
            continue
        for part in q.parts:
            if part.label not in rows:
                rows[part.label] = {}
                order.append(part.label)
            rows[part.label][key] = part.value
            kinds.setdefault(part.label, part.kind)
    headers = {"params": "Params", "macs": "MACs", "flops": "FLOPs", "saved_bytes": "Saved bytes"}
    columns = [Column("Part", shrink=True), Column("Type", drop=1, shrink=True), *(Column(headers[k], numeric=True) for k in keys)]
    ran = {p.label for q in (x.quantity("macs"), x.quantity("flops")) if q is not None for p in q.parts}

    def cell(label: str, key: str) -> str:
        value = rows[label].get(key)
        if value is None:
            if key == "params":
                return "" if kinds.get(label) == "operator" or " (call " in label else "0"
            return "not run" if label not in ran else ""
        return f"{value:,}"

    def shown(label: str) -> str:  # the child's own name: the block's is the heading
        bare = label[1:-1] if label.startswith("[") and label.endswith("]") else label
        return bare[len(x.name) + 1:] if x.name and bare.startswith(x.name + ".") else bare

    body = [[shown(label), kinds.get(label, ""), *(cell(label, k) for k in keys)] for label in order]
    body.append(["total", "", *(f"{x.quantity(k).value:,}" for k in keys)])
    data = [[label, kinds.get(label, ""), *(rows[label].get(k) for k in keys)] for label in order]
    data.append(["total", "", *(x.quantity(k).value for k in keys)])
    return Table(columns, body, data, ["part", "type", *keys])


def _layer_blocks(x: LayerExplanation, model: str) -> list[Any]:
    blocks: list[Any] = [Note(_layer_title(x, model), "heading")]
    items: list[tuple[str, str, str]] = []
    if x.leaf:
        for q in x.quantities:
            items += _quantity_items(q)
        blocks.append(Pairs(items))
        return blocks
    for q in x.quantities:
        if q.key == "output_shape":
            items.append(("output", _shape_text(q.value), ""))
        elif q.key == "output_bytes":
            items += _quantity_items(q)
        elif q.key == "receptive_field":
            items += _field_items(q, x.name)
    kinds = ", ".join(LABELS[k] for k in ("params", "macs", "flops", "saved_bytes") if x.quantity(k) is not None)
    items.append(("sum of parts", f"each column ({kinds}) adds up to the total; a module run twice holds its parameters once", "dim"))
    blocks.append(Pairs(items))
    blocks.append(_parts_table(x))
    notes = [n for k in ("params", "macs", "flops", "saved_bytes") if (q := x.quantity(k)) is not None for n in q.notes]
    notes += [f"{p.label}: {p.note}" for k in ("params", "macs", "flops") if (q := x.quantity(k)) is not None
              for p in q.parts if p.note and not p.formula]  # fmt: skip
    blocks += [Note(n, "dim") for n in dict.fromkeys(notes)]
    return blocks


def layer_text(x: LayerExplanation, model: str) -> str:
    """One layer's explanation as plain text without its heading (the report's collapsed row)."""
    from archscope.render.writers import plain_text

    return plain_text(View("", [], _layer_blocks(x, model)[1:]), None).strip("\n")


def explain_view(explanation: Explanation) -> View:
    """Every layer asked for, then (when none was named) the model as the sum of its children."""
    subtitle = [explanation.source] if explanation.source else []
    saved = ("Saved for backward: what autograd keeps for the backward pass, each tensor counted once, by "
             "the first layer that saves it; parameters are not activations.") if explanation.train else ""  # fmt: skip
    blocks: list[Any] = [Note(" ".join([*UNITS, saved]).strip(), "dim")]
    for x in explanation.layers:
        blocks += _layer_blocks(x, explanation.model)
    if explanation.whole is not None:
        whole = explanation.whole
        whole_blocks = _layer_blocks(whole, explanation.model)
        whole_blocks[0] = Note(f"{explanation.model}: the whole model, the sum of its children", "heading")
        blocks += whole_blocks
    mode = ", training step" if explanation.train else ""
    title = f"{explanation.model}  how each figure is computed, input {_shape_text(explanation.input_shape)}{mode}"
    return View(title, subtitle, blocks)


# CSV: one row per quantity, part and axis of every layer, exact values.
CSV_HEADERS = csv_columns("explain", ["layer", "call", "quantity", "part", "formula", "numbers", "value"])


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _field_text(value)
    if isinstance(value, list):
        return _shape_text(value)
    return value


def explain_table(explanation: Explanation) -> Table:
    """Every formula of the explanation as rows (the CSV of ``archscope explain``)."""
    rows: list[list[Any]] = []
    layers = [*explanation.layers, *([explanation.whole] if explanation.whole is not None else [])]
    for x in layers:
        name = x.name or explanation.model
        for q in x.quantities:
            rows.append([name, x.call, q.key, "", q.formula or "", q.numbers or "", _csv_value(q.value)])
            for t in [*q.axes, *q.parts]:
                rows.append([name, x.call, q.key, t.label, t.formula or "", t.numbers or "", _csv_value(t.value)])
    text = [[str(c) for c in row] for row in rows]
    return Table([Column(h) for h in CSV_HEADERS], text, rows, CSV_HEADERS)


def explain_data_view(explanation: Explanation) -> View:
    """What a data format (csv, tsv) writes of ``archscope explain``: the one table of every formula."""
    return View(f"{explanation.model}: every figure as its formula", [], [explain_table(explanation)])
