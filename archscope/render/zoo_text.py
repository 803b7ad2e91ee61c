"""``archscope list`` as JSON (its table, CSV and Markdown come from render.views)."""

from __future__ import annotations

import json

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
