"""Text from the user's model (layer names, class names, error messages) made safe to show or open.

Layer names are whatever ``add_module`` was given: HTML, newlines, terminal escape sequences,
spreadsheet formulas. Every writer passes such text through one of these helpers:

- ``clean``: no control characters at all (a terminal would obey ESC and OSC sequences, a
  newline would break a table row); line breaks and tabs become spaces.
- ``shorten``: ``clean``, then cut to a length with an ellipsis, as the terminal's table cuts a
  name it cannot fit; pictures show every name so (a million-character name would make an
  image no library can allocate).
- ``md_text``: ``clean``, then HTML and Markdown table syntax escaped, for Markdown.
- ``html_text``: ``clean``, then HTML-escaped.
- ``csv_row``: ``clean`` on every text cell, and cells a spreadsheet would run as a formula
  neutralised with a leading apostrophe (OWASP, "CSV Injection").

JSON needs none of this: ``json.dumps`` escapes control characters itself, and keeps the exact
names, which is the contract.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

# Line and paragraph breaks, and tabs, keep the words apart: they become a space.
_SPACES = dict.fromkeys([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029], " ")
# C0, DEL and C1 controls (ESC, BEL, CSI, OSC ...) and the bidirectional overrides that make
# text display in another order than it reads ("Trojan Source", CVE-2021-42574) go.
_REMOVED = dict.fromkeys(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_TABLE = str.maketrans({**_REMOVED, **_SPACES})


def clean(text: Any) -> str:
    """``text`` as a string without control characters; line breaks and tabs become spaces."""
    return str(text).translate(_TABLE)


LABEL_MOST = 48  # characters of a name a picture shows: "features.denseblock4.denselayer16.conv2" is 40


def shorten(text: Any, most: int = LABEL_MOST) -> str:
    """``clean(text)``, cut to ``most`` characters (at least one) with an ellipsis when longer."""
    cleaned = clean(text)
    most = max(most, 1)
    return cleaned if len(cleaned) <= most else cleaned[: most - 1] + "…"


# Backslash first, so the escapes added after it are not themselves escaped.
_MD_ESCAPES = (("\\", "\\\\"), ("`", "\\`"), ("[", "\\["), ("]", "\\]"), ("*", "\\*"), ("|", "\\|"))


def md_text(text: Any) -> str:
    """For Markdown, in a table cell or a line: no raw HTML, no cell break, no link or code span."""
    out = html.escape(clean(text), quote=False)
    for raw, escaped in _MD_ESCAPES:
        out = out.replace(raw, escaped)
    return out


def html_text(text: Any) -> str:
    """For HTML element content and quoted attributes."""
    return html.escape(clean(text), quote=True)


# A spreadsheet runs a cell starting with one of these as a formula (OWASP lists them all).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """One CSV cell: numbers as they are; text cleaned, and quoted with ' if a spreadsheet would run it."""
    if not isinstance(value, str):
        return value
    text = clean(value)
    if _NUMBER.fullmatch(text):
        return text  # "-1" is a number, not a formula
    if value.startswith(_FORMULA_START) or text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]
