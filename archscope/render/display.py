"""How a summary shows itself: ``print(summary)`` is the table ``archscope summary`` prints
(depth 3, no colour), and a notebook shows the same table as HTML.

Importing this module registers both on the records (``records.DISPLAYS``); ``archscope``'s
API imports it with the first name it hands out, so the records never import render.
"""

from __future__ import annotations

from archscope.analysis import records
from archscope.analysis.records import Summary
from archscope.render.views import summary_view
from archscope.render.writers import html, plain_text


def summary_text(summary: Summary) -> str:
    return plain_text(summary_view(summary), None)


def summary_html(summary: Summary) -> str:
    return html(summary_view(summary))


records.DISPLAYS.update(text=summary_text, html=summary_html)
