"""A view: what a person reads of one record, independent of the format it is written in.

Each command turns its record into one ``View`` (``render.views``): a title, then blocks of
tables, label/value pairs and notes. Writers (``render.writers``) put any view on a terminal
of any width, in Markdown, CSV or HTML; JSON is the record's own ``to_dict()``. So the rows a
command shows are defined once, and a new format is one writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

Style = Literal["", "dim", "warn", "bold", "heading"]


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``numeric`` cells are right-aligned and never cut. When a terminal is too narrow, columns
    with a ``drop`` rank go first (highest rank first); then ``wrap`` columns wrap their text
    onto more lines; a ``shrink`` column (a layer name) is cut with an ellipsis as a last resort.
    """

    header: str
    numeric: bool = False
    drop: int | None = None
    wrap: bool = False
    shrink: bool = False


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[str]]
    # Exact values for CSV (integers rather than "3.86 G"); None: the cells. Usually row for row;
    # compare's are one row per model whichever way its table is laid out.
    data: list[list[Any]] | None = None
    data_headers: list[str] | None = None
    title: str | None = None
    # How to see the columns a narrow terminal leaves out (its writer names them), e.g.
    # "--columns picks them"; None: "a wider terminal or -f csv shows them".
    left_out_hint: str | None = None
    # Per row, text a reader may open under it (HTML: a collapsed "how this is computed" row); None: none.
    details: list[str | None] | None = None


@dataclass
class Pairs:
    """Label: value lines (the totals under a summary)."""

    items: list[tuple[str, str, Style]]


@dataclass
class Note:
    text: str
    style: Style = ""


Block = Union[Table, Pairs, Note]

# Each command's CSV header (``-f csv``, ``-f tsv``), declared once beside its view with
# ``csv_columns`` and listed in docs/json.md (a test holds the two together).
CSV_COLUMNS: dict[str, list[str]] = {}


def csv_columns(command: str, columns: list[str]) -> list[str]:
    """Declare ``command``'s CSV columns, in order; returns them for the view's ``Table.data_headers``."""
    if command in CSV_COLUMNS and CSV_COLUMNS[command] != columns:
        raise ValueError(f"{command}'s CSV columns are declared twice, differently")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{command}'s CSV columns repeat a name: {columns}")
    CSV_COLUMNS[command] = list(columns)
    return CSV_COLUMNS[command]


@dataclass
class View:
    title: str
    subtitle: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]
