"""Writers: any ``View`` on a terminal (any width, or unlimited in a pipe), in Markdown, CSV or HTML.

The terminal writer fits a table to the width it is given: columns with a drop rank go first,
then text columns wrap onto more lines, and a name column is cut with an ellipsis only as a
last resort; a number is never cut and no column is narrower than its header. With no width
(stdout is a pipe or a file) nothing is dropped, wrapped or cut: ``| grep`` and ``> file``
keep every figure.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from typing import TYPE_CHECKING, Sequence

from archscope.render.markdown import markdown_table
from archscope.render.view import Column, Note, Pairs, Table, View
from archscope.text.safety import clean, csv_row, html_text, md_text, shorten

if TYPE_CHECKING:  # rich is imported by the terminal writer alone, when it runs
    from rich.text import Text

GAP = "  "
SHRUNK_MIN = 8  # a cut name keeps at least this many characters
COMFORTABLE = 28  # a wrapped text column narrower than this reads badly: drop other columns first


# --- fitting a table to a width --------------------------------------------------------


def _natural(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]


def _total(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1) if widths else 0


def _longest_word(texts: Sequence[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=1)


def _floor(column: Column, cells: Sequence[str]) -> int:
    """How narrow a column may get by wrapping: its header wraps between words; a number never."""
    header = _longest_word([column.header])
    if column.wrap:
        return max(header, _longest_word(cells), 4)
    return max([header, *(len(c) for c in cells)])


def natural_width(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """How wide a table is with nothing dropped, wrapped or cut."""
    return _total(_natural(columns, [[clean(cell) for cell in row] for row in rows]))


def fit(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None) -> tuple[list[int], list[int]]:
    """Which columns to show (indices) and how wide, for ``width`` characters (None: no limit)."""
    rows = [[clean(cell) for cell in row] for row in rows]
    shown = list(range(len(columns)))
    widths = _natural(columns, rows)
    if width is None:
        return shown, widths

    def total() -> int:
        return _total([widths[i] for i in shown])

    def narrow(candidates: list[int], floor: dict[int, int]) -> None:
        """Take width from the widest candidate first, down to its floor, until the table fits."""
        while total() > width:
            wide = [i for i in candidates if widths[i] > floor[i]]
            if not wide:
                return
            widest = max(wide, key=lambda i: widths[i])
            widths[widest] -= min(total() - width, widths[widest] - floor[widest])

    cells = {i: [r[i] for r in rows] for i in shown}
    # 1. Wrap headers between their words (a number column never narrower than its numbers).
    narrow(shown, {i: max(_longest_word([columns[i].header]), *(len(c) for c in cells[i]), 1) for i in shown})
    # 2. Drop the least important columns, highest rank first (the rightmost of a rank first),
    # until the rest fits with every text column still at a comfortable width.
    def total_if_wrapped() -> int:
        return _total([min(widths[i], max(_floor(columns[i], cells[i]), COMFORTABLE)) if columns[i].wrap else widths[i]
                       for i in shown])  # fmt: skip

    for i in sorted((i for i, c in enumerate(columns) if c.drop is not None), key=lambda i: (-columns[i].drop, -i)):
        if total_if_wrapped() <= width:
            break
        shown.remove(i)
    # 3. Wrap text columns (and numbers with a unit or a ratio between words), down to their longest word.
    narrow(shown, {i: _floor(columns[i], cells[i]) for i in shown})
    # 4. Cut names, as a last resort, never below SHRUNK_MIN.
    whole = list(widths)
    narrow([i for i in shown if columns[i].shrink and not columns[i].numeric], {i: SHRUNK_MIN for i in shown})
    if total() > width and len(shown) > 2:
        # Still too wide, so table_lines stacks pages of columns (each repeating the first): names
        # need not be cut to one line's width, only as far as a page of the first and one other
        # column needs ("resnet1…" would name no network).
        cut, (key, rest) = list(widths), (shown[0], shown[1:])
        widths[key] = max(cut[key], min(whole[key], width - len(GAP) - max(cut[i] for i in rest)))
        for i in rest:
            widths[i] = max(cut[i], min(whole[i], width - len(GAP) - widths[key]))
    return shown, widths


def left_out(table: Table, width: int | None) -> list[str]:
    """The headers of the columns a terminal ``width`` wide has no room for (none in a pipe)."""
    shown, _ = fit(table.columns, table.rows, width)
    return [c.header for i, c in enumerate(table.columns) if i not in shown]


def left_out_sentence(table: Table, width: int | None) -> str | None:
    """One line naming the columns left out and how to see them; None when every column is shown."""
    headers = left_out(table, width)
    if not headers:
        return None
    how = table.left_out_hint or "a wider terminal or -f csv shows them"
    return f"Left out to fit the terminal: {', '.join(headers)}; {how}."


def table_lines(table: Table, width: int | None, ascii: bool = False) -> list[str]:
    """The table as text lines: header, rule, rows (a wrapped row takes several lines).

    ``ascii``: for a destination that cannot carry box drawing, the rule is '-' and a cut name
    ends in '...' rather than '…'."""
    columns = table.columns
    rule, ellipsis = ("-", "...") if ascii else ("─", "…")
    rows = [[clean(cell) for cell in row] for row in table.rows]
    shown, widths = fit(columns, rows, width)

    def cell_lines(text: str, i: int, header: bool) -> list[str]:
        w = widths[i]
        if len(text) <= w:
            return [text]
        if columns[i].wrap or header or columns[i].numeric:
            return textwrap.wrap(text, w, break_long_words=not columns[i].numeric) or [""]
        return [text[: max(w - len(ellipsis), 0)] + ellipsis] if ascii else [shorten(text, w)]

    def render(cells: Sequence[str], header: bool = False) -> list[str]:
        split = {i: cell_lines(cells[i], i, header) for i in shown}
        height = max(len(v) for v in split.values()) if split else 1
        out = []
        for line in range(height):
            parts = []
            for i in shown:
                piece = split[i][line] if line < len(split[i]) else ""
                parts.append(piece.rjust(widths[i]) if columns[i].numeric else piece.ljust(widths[i]))
            out.append(GAP.join(parts).rstrip())
        return out

    pages = [shown]
    if width is not None and _total([widths[i] for i in shown]) > width and len(shown) > 2:
        # Still too wide (many models side by side): stack pages of columns, each repeating the first.
        key, rest = shown[0], shown[1:]
        pages = [[key]]
        for i in rest:
            if len(pages[-1]) > 1 and _total([widths[j] for j in [*pages[-1], i]]) > width:
                pages.append([key])
            pages[-1].append(i)
    lines: list[str] = []
    for page in pages:
        shown[:] = page
        if lines:
            lines.append("")
        lines += render([clean(c.header) for c in columns], header=True)
        lines.append(rule * _total([widths[i] for i in page]))
        lines += [line for row in rows for line in render(row)]
    return lines


# --- terminal ------------------------------------------------------------------------------


def _wrap(text: str, width: int | None, indent: int = 0) -> list[str]:
    text = clean(text)
    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, subsequent_indent=" " * indent) or [""]


def terminal(view: View, width: int | None, ascii: bool = False) -> Text:
    """A rich Text for a console ``width`` columns wide, or for a pipe (None: nothing cut);
    ``ascii`` for one whose encoding cannot carry box drawing (``table_lines``)."""
    from rich.text import Text

    out = Text(no_wrap=True, overflow="ignore")

    def line(text: str = "", style: str = "") -> None:
        out.append(text + "\n", style=style)

    for text in _wrap(view.title, width):
        line(text, "bold")
    for sub in view.subtitle:
        for text in _wrap(sub, width):
            line(text, "dim")
    for block in view.blocks:
        line()
        if isinstance(block, Table):
            if block.title:
                line(clean(block.title), "bold")
            in_header = True  # each page of a stacked table starts with its header
            for text in table_lines(block, width, ascii):
                if text and not text.strip("-" if ascii else "─"):  # the rule under a header
                    line(text, "dim")
                    in_header = False
                else:
                    line(text, "bold" if in_header else "")
                    in_header = in_header or not text
            sentence = left_out_sentence(block, width)
            if sentence:
                line()
                for text in _wrap(sentence, width):
                    line(text, "dim")
        elif isinstance(block, Pairs):
            label_width = max((len(label) for label, _, _ in block.items), default=0) + 2
            for label, value, style in block.items:
                wrapped = _wrap(value, None if width is None else max(width - label_width, 20), 0)
                out.append(clean(label).ljust(label_width), style="bold")
                out.append(wrapped[0] + "\n", style={"warn": "yellow"}.get(style, style))
                for more in wrapped[1:]:
                    out.append(" " * label_width + more + "\n", style={"warn": "yellow"}.get(style, style))
        elif isinstance(block, Note):
            for text in _wrap(block.text, width):
                line(text, {"warn": "yellow", "heading": "bold"}.get(block.style, block.style))
    out.rstrip()
    return out


def plain_text(view: View, width: int | None = None, ascii: bool = False) -> str:
    """The terminal rendering without styles: for ``print(summary)`` and files."""
    return terminal(view, width, ascii).plain + "\n"


# --- Markdown, CSV, HTML -----------------------------------------------------------------


def markdown(view: View, level: int = 1) -> str:
    """Markdown: the title as a heading of ``level`` (0: no title), tables as pipe tables."""
    lines = [f"{'#' * level} {md_text(view.title)}", ""] if level and view.title else []
    lines += [md_text(s) + "  " for s in view.subtitle]
    for block in view.blocks:
        lines.append("")
        if isinstance(block, Table):
            if block.title:
                lines += [f"{'#' * (max(level, 1) + 1)} {md_text(block.title)}", ""]
            right = [i for i, c in enumerate(block.columns) if c.numeric]
            lines += markdown_table([c.header for c in block.columns], block.rows, right=right)
        elif isinstance(block, Pairs):
            lines += markdown_table(["", ""], [(label, value) for label, value, _ in block.items])
        elif isinstance(block, Note):
            text = md_text(block.text)
            heading = "#" * (max(level, 1) + 1)
            lines.append(f"{heading} {text}" if block.style == "heading" else f"*{text}*" if block.style == "dim" else text)
    return "\n".join(lines).rstrip() + "\n"


def json_text(document: dict) -> str:
    """A record's ``to_dict()`` as the JSON every command writes: indented, exact, one final newline."""
    return json.dumps(document, indent=2) + "\n"


def csv_text(view: View, delimiter: str = ",") -> str:
    """The view's first table, one row per line, exact values where the view has them; the rows
    of every later table with the same CSV columns follow (one table per lesson, one CSV).
    ``delimiter="\\t"`` writes TSV (``csv_row`` has turned every tab in a cell into a space)."""
    tables = view.tables() or [Table([], [])]

    def headers(table: Table) -> list[str]:
        return table.data_headers or [c.header for c in table.columns]

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", delimiter=delimiter)
    writer.writerow(csv_row(headers(tables[0])))
    for table in tables:
        if headers(table) == headers(tables[0]):
            writer.writerows(csv_row(row) for row in (table.data if table.data is not None else table.rows))
    return buffer.getvalue()


def _html_lines(text: str) -> str:
    """Text for a <pre>: each line escaped, the line breaks kept."""
    return "\n".join(html_text(line) for line in text.splitlines())


def html(view: View, level: int = 2) -> str:
    """An HTML fragment (no page around it): headings, tables, paragraphs, every text escaped."""
    parts = [f"<h{level}>{html_text(view.title)}</h{level}>"] if level and view.title else []
    parts += [f'<p class="sub">{html_text(s)}</p>' for s in view.subtitle]
    for block in view.blocks:
        if isinstance(block, Table):
            if block.title:
                parts.append(f"<h{min(max(level, 2) + 1, 6)}>{html_text(block.title)}</h{min(max(level, 2) + 1, 6)}>")
            # Inline alignment, so a notebook (which has no stylesheet of ours) shows numbers right-aligned.
            align = ['style="text-align:right"' if c.numeric else 'style="text-align:left"' for c in block.columns]
            head = "".join(f"<th {a}>{html_text(c.header)}</th>" for a, c in zip(align, block.columns))
            details = block.details or [None] * len(block.rows)
            body = "".join(
                "<tr>" + "".join(f"<td {a}>{html_text(cell)}</td>" for a, cell in zip(align, row)) + "</tr>"
                + (f'<tr class="how"><td colspan="{len(block.columns)}"><details><summary>how this is computed'
                   f"</summary><pre>{_html_lines(detail)}</pre></details></td></tr>" if detail else "")
                for row, detail in zip(block.rows, details)
            )  # fmt: skip
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Pairs):
            rows = "".join(
                f'<tr class="{style}"><th>{html_text(label)}</th><td>{html_text(value)}</td></tr>' for label, value, style in block.items
            )
            parts.append(f'<table class="pairs">{rows}</table>')
        elif isinstance(block, Note):
            if block.style == "heading":
                parts.append(f"<h{min(max(level, 2) + 1, 6)}>{html_text(block.text)}</h{min(max(level, 2) + 1, 6)}>")
            else:
                parts.append(f'<p class="{block.style}">{html_text(block.text)}</p>')
    return "\n".join(parts) + "\n"


# How a page of archscope's (``-f html``, ``archscope report``) looks: numbers in columns, quiet notes.
PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
svg { max-width: 100%; height: auto; }
.sub, .dim { color: #666; }
.warn { color: #a60; }
tr.how td { border-bottom: none; padding-top: 0; }
tr.how summary { color: #666; cursor: pointer; font-size: 0.9em; }
tr.how pre { font-size: 0.85em; margin: 0.3em 0 0.8em; }
"""


def html_page(view: View) -> str:
    """A whole HTML document of the view (``-f html``, ``-o x.html``): one file, nothing linked."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html_text(view.title)}</title>"
        f"<style>{PAGE_STYLE}</style></head><body>\n{html(view, level=1)}</body></html>\n"
    )
