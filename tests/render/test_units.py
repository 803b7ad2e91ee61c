"""The units sentence is written in one place and printed once wherever counts are shown."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import archscope
from archscope.cli import app
from archscope.render import writers
from archscope.render.report import report_html, report_markdown
from archscope.render.units import UNITS
from archscope.render.views import compare_view, summary_view
from archscope.report import build_report

PACKAGE = Path(archscope.__file__).parent


def test_the_sentence_is_in_one_module():
    holders = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if "FLOPs = 2 x MACs" in p.read_text()]
    assert holders == ["render/units.py"]


def test_the_markdown_and_html_report_say_it_once():
    report = build_report("lenet5")
    page, _ = report_markdown(report, "r.md")
    assert page.count(UNITS) == 1
    assert report_html(report).count(writers.html_text(UNITS)) == 1


def test_summary_compare_and_the_help_say_it():
    summary = archscope.summarize("lenet5")
    assert writers.plain_text(summary_view(summary), None).count(UNITS) == 1
    comparison = archscope.compare(["lenet5", "alexnet"])
    assert writers.markdown(compare_view(comparison)).count(writers.md_text(UNITS)) == 1
    help_text = " ".join(CliRunner().invoke(app, ["--help"], env={"COLUMNS": "1000"}).output.split())
    assert UNITS in help_text
