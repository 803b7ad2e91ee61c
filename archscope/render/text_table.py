"""A plain fixed-width table for long listings (hundreds of layer rows).

rich's Table measures and wraps every cell, which costs about 0.4 s for ResNet-152's 522 rows:
more than the analysis itself. Layer rows are short, single-line cells, so they are laid out
here once and handed to rich as one Text, which prints them in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.text import Text

from archscope.render.safe import clean

GAP = "  "
MIN_WIDTH = 6


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers are right-aligned
    shrinks: bool = False  # may be cut (with an ellipsis) when the terminal is too narrow


def _fit(cell: str, width: int, right: bool) -> str:
    if len(cell) > width:
        cell = cell[: max(width - 1, 0)] + "…"
    return cell.rjust(width) if right else cell.ljust(width)


def _cleaned(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    # Cells hold layer names: an escape sequence or a newline must not reach the terminal.
    return [[clean(cell) for cell in row] for row in rows]


def natural_width(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """How wide the table is with no cell cut."""
    rows = _cleaned(rows)
    widths = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    return sum(widths) + len(GAP) * (len(columns) - 1)


def column_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Each column as wide as its widest cell; shrinkable ones give way, widest first, to fit ``width``."""
    rows = _cleaned(rows)
    widths = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    excess = natural_width(columns, rows) - width
    while excess > 0:
        candidates = [i for i, c in enumerate(columns) if c.shrinks and widths[i] > MIN_WIDTH]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        cut = min(excess, widths[widest] - MIN_WIDTH)
        widths[widest] -= cut
        excess -= cut
    return widths


def fixed_width_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> Text:
    rows = _cleaned(rows)
    widths = column_widths(columns, rows, width)

    def line(cells: Sequence[str]) -> str:
        return GAP.join(_fit(cell, w, c.right) for cell, w, c in zip(cells, widths, columns)).rstrip()

    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(line([clean(c.header) for c in columns]) + "\n", style="bold")
    text.append("─" * (sum(widths) + len(GAP) * (len(columns) - 1)) + "\n", style="dim")
    text.append("\n".join(line(row) for row in rows))
    return text
