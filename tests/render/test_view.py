"""Views' shared declarations: each command's CSV columns, once, and listed in docs/json.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import archscope.render
from archscope.render.view import CSV_COLUMNS, csv_columns

DOCS = Path(__file__).resolve().parents[2] / "docs" / "json.md"


def declared() -> dict[str, list[str]]:
    """Every declaration: each module of render imported, as the commands import them."""
    for module in pkgutil.walk_packages(archscope.render.__path__, "archscope.render."):
        importlib.import_module(module.name)
    return dict(CSV_COLUMNS)


def documented() -> dict[str, list[str]]:
    """docs/json.md's CSV table: command -> the backticked names of its last cell, in order."""
    text = DOCS.read_text()
    section = text[text.index("## CSV columns") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z_-]+`", cells[0]):
            rows[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[2])
    return rows


def test_docs_json_lists_exactly_the_declared_csv_columns_of_every_command():
    declared_columns, documented_columns = declared(), documented()
    assert set(declared_columns) == set(documented_columns), (
        "docs/json.md's CSV table and the csv_columns declarations name different commands"
    )
    for command, columns in declared_columns.items():
        assert documented_columns[command] == columns, f"{command}: docs/json.md lists {documented_columns[command]}"


def test_a_declaration_is_made_once():
    declared()
    csv_columns("summary", CSV_COLUMNS["summary"])  # the same again is harmless (a module imported twice)
    with pytest.raises(ValueError, match="declared twice"):
        csv_columns("summary", ["name"])
    with pytest.raises(ValueError, match="repeat"):
        csv_columns("new-command", ["name", "name"])
