"""`archscope lessons` as a person runs it: one lesson by number or id, JSON, Markdown, a wrong id."""

import json

from typer.testing import CliRunner

from archscope.cli import app


def run(*args, columns=120):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_lessons_one_by_number_or_id_and_json():
    out = run("lessons", "1").output
    assert "112,896,000" in out and "5,268,480" in out and "parameters" in out
    data = json.loads(run("lessons", "fc-vs-gap", "-f", "json").output)
    assert data["schema"] == "archscope.lessons/1"
    assert data["lessons"][0]["figures"]["fc_weights"] == 51_380_224


def test_lessons_markdown_has_every_figure(tmp_path):
    target = tmp_path / "lessons.md"
    assert run("lessons", "stacked-3x3", "-f", "markdown", "-o", str(target)).exit_code == 0
    text = target.read_text()
    assert "## 3. Three stacked 3x3" in text and "| one 7x7 conv: weights | 3,211,264 |" in text


def test_unknown_lesson_is_one_clear_error():
    result = run("lessons", "42")
    assert result.exit_code == 2 and "choose 1-9" in result.output
