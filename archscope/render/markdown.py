"""Markdown table pieces shared by every renderer that writes Markdown."""

from __future__ import annotations

from typing import Any, Sequence

from archscope.text.safety import md_text


class Raw(str):
    """Markdown written by archscope itself (e.g. ``&nbsp;`` indentation): put in a cell as is."""


def md_cell(text: Any) -> str:
    """A table cell: control characters gone, HTML and table syntax ('|', code spans, links) escaped."""
    return text if isinstance(text, Raw) else md_text(text)


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()
) -> list[str]:
    """Header, separator and one line per row, every cell escaped; columns in ``right`` right-aligned."""
    return [
        "| " + " | ".join(md_cell(h) for h in headers) + " |",
        "| " + " | ".join("---:" if i in right else "---" for i in range(len(headers))) + " |",
        *("| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows),
    ]
