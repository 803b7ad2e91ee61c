"""``archscope list`` as JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json

from archscope.render.markdown import md_cell
from archscope.render.numbers import human_count, shape_text
from archscope.zoo import ModelEntry

LIST_SCHEMA = "archscope.list/1"


def entry_dict(e: ModelEntry) -> dict:
    r = e.reference
    return {
        "name": e.name,
        "aliases": list(e.aliases),
        "family": e.family,
        "input_size": list(e.input_size),
        "source": e.source,
        "reference": {"params": r.params, "macs": r.macs, "macs_tolerance": r.macs_tolerance, "source": r.source},
    }


def zoo_json(entries: list[ModelEntry]) -> str:
    return json.dumps({"schema": LIST_SCHEMA, "models": [entry_dict(e) for e in entries]}, indent=2) + "\n"


def zoo_csv(entries: list[ModelEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "family", "input_size", "reference_params", "reference_macs", "source"])
    for e in entries:
        writer.writerow([e.name, e.family, shape_text(list(e.input_size)), e.reference.params, int(e.reference.macs), e.source])
    return buffer.getvalue()


def zoo_markdown(entries: list[ModelEntry]) -> str:
    lines = ["| Name | Family | Input | Ref. params | Ref. MACs | Source |", "| --- | --- | --- | ---: | ---: | --- |"]
    for e in entries:
        source = md_cell(e.source)
        lines.append(
            f"| {e.name} | {e.family} | {shape_text(list(e.input_size))} | {human_count(e.reference.params)} "
            f"| {human_count(e.reference.macs)} | {source} |"
        )
    return "\n".join(lines) + "\n"
