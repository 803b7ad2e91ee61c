"""Layer names are user text: every writer makes them safe to show and to open."""

from __future__ import annotations

import csv
import io
import json
import re

import torch.nn as nn

import archscope
from archscope.render.plots import layers_png
from archscope.render.report import report_html, report_markdown
from archscope.render.summary_text import summary_csv, summary_json
from archscope.render.view import Column
from archscope.render.views import summary_view
from archscope.render.writers import markdown, natural_width, plain_text, terminal
from archscope.report import Report
from archscope.text.safety import clean, csv_cell, html_text, md_text


def summary_markdown(summary):
    return markdown(summary_view(summary, None))

HTML = "<img src=x onerror=alert(1)>"
NEWLINE = "a\nb|c"
FORMULA = "=cmd|' /C calc'!A0"
ESCAPES = "\x1b]0;pwned\x07x\x1b[31mred\x9b2J"
MATH = "$\\frac$"


def hostile_model() -> nn.Sequential:
    model = nn.Sequential()
    model.add_module(HTML, nn.Conv2d(3, 4, 3))
    model.add_module(NEWLINE, nn.ReLU())
    model.add_module(FORMULA, nn.Conv2d(4, 4, 1))
    model.add_module(ESCAPES, nn.ReLU())
    model.add_module(MATH, nn.Conv2d(4, 2, 1))
    return model


def hostile_summary():
    return archscope.summarize(hostile_model(), (3, 16, 16))


def test_clean_removes_control_characters_and_turns_breaks_into_spaces():
    assert clean("a\nb\tc\r\nd") == "a b c  d"
    assert clean(ESCAPES) == "]0;pwnedx[31mred2J"
    assert clean("abc\u202edcba") == "abcdcba", "no bidirectional override (Trojan Source)"
    assert clean("Ünïcode ✓ 层") == "Ünïcode ✓ 层"


def test_markdown_escapes_html_and_table_syntax():
    assert md_text(HTML) == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_text(NEWLINE) == "a b\\|c"
    assert md_text("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert md_text("`code` \\| *bold*") == "\\`code\\` \\\\\\| \\*bold\\*"


def test_csv_neutralises_every_formula_start_but_keeps_numbers():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "SUM(A1)").startswith("'"), repr(start)
    assert csv_cell(" =1+1") == "' =1+1", "a leading space does not hide a formula"
    assert csv_cell("-1") == "-1" and csv_cell("+2.5e3") == "+2.5e3" and csv_cell(-1) == -1
    assert csv_cell("conv1") == "conv1"


def test_html_escapes_quotes_too():
    assert html_text("\"'<>&") == "&quot;&#x27;&lt;&gt;&amp;"


def test_summary_markdown_has_no_raw_html_and_one_line_per_row():
    text = summary_markdown(hostile_summary())
    assert "<img" not in text and "&lt;img" in text
    rows = [line for line in text.splitlines() if "| Conv2d |" in line or "| ReLU |" in line]
    # Nine cells in each: a '|' inside a name is escaped, so it does not start another.
    assert [len(re.split(r"(?<!\\)\|", line)) - 2 for line in rows] == [9] * 5
    assert "\x1b" not in text and "\x07" not in text


def test_summary_csv_neutralises_formulas_and_control_characters():
    rows = list(csv.DictReader(io.StringIO(summary_csv(hostile_summary()))))
    names = [r["name"] for r in rows]
    assert names == [HTML, "a b|c", "'" + FORMULA, "]0;pwnedx[31mred2J", MATH]
    assert all("\n" not in line for line in summary_csv(hostile_summary()).splitlines())


def test_json_keeps_the_exact_names_with_control_characters_escaped():
    text = summary_json(hostile_summary())
    assert "\x1b" not in text and "\\u001b" in text
    assert [x["name"] for x in json.loads(text)["layers"]] == [HTML, NEWLINE, FORMULA, ESCAPES, MATH]


def test_the_terminal_table_gets_no_escape_sequence_or_broken_row():
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(terminal(summary_view(hostile_summary(), None), 120))
    text = buffer.getvalue()
    assert text == plain_text(summary_view(hostile_summary(), None), 120)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert any(line.startswith("a b|c ") for line in text.splitlines()), "the newline became a space"


def test_width_is_measured_on_the_cleaned_text():
    assert natural_width([Column("h")], [[ESCAPES]]) == len(clean(ESCAPES))


def test_html_and_markdown_reports_escape_names():
    report = Report(hostile_summary(), flow=None, depth=3)
    page = report_html(report, pictures={})
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page and "\x1b" not in page
    text, files = report_markdown(report, "report.md", pictures={})
    assert "<img src=x" not in text and files == {}


def test_pictures_show_dollar_signs_literally_instead_of_failing_as_tex():
    assert layers_png(hostile_summary()).startswith(b"\x89PNG")
