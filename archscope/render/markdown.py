"""Markdown table pieces shared by every renderer that writes Markdown."""

from __future__ import annotations

from typing import Sequence


def md_cell(text: str) -> str:
    """A table cell: a '|' inside it would end the cell."""
    return text.replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Header, separator and one line per row, every cell escaped."""
    return [
        "| " + " | ".join(md_cell(h) for h in headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
        *("| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows),
    ]
