"""``archscope list`` as JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json

from archscope.render.markdown import markdown_table
from archscope.render.numbers import human_count, shape_text
from archscope.render.safe import csv_row
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
        writer.writerow(
            csv_row([e.name, e.family, shape_text(list(e.input_size)), e.reference.params, int(e.reference.macs), e.source])
        )
    return buffer.getvalue()


def zoo_markdown(entries: list[ModelEntry]) -> str:
    rows = [
        [e.name, e.family, shape_text(list(e.input_size)), human_count(e.reference.params), human_count(e.reference.macs), e.source]
        for e in entries
    ]
    return "\n".join(markdown_table(["Name", "Family", "Input", "Ref. params", "Ref. MACs", "Source"], rows, right=(3, 4))) + "\n"
