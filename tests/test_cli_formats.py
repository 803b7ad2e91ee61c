"""Files that are what their names say: every command, every format, chosen by -f or by -o's extension."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from archscope.cli import app
from archscope.render.formats import FORMATS
from tests import cli_commands


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "NO_COLOR": None, "TERM": "dumb"})


def _html_parses(text: str) -> bool:
    parser = HTMLParser()
    parser.feed(text)
    parser.close()
    return text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")


# What a file of each format must be, read back by the tool a person would open it with.
READ_BACK = {
    "table": lambda text: "─" in text and not text.lstrip().startswith(("{", "<", "#")),
    "json": lambda text: "schema" in json.loads(text),
    "csv": lambda text: len(next(csv.reader(io.StringIO(text)))) >= 2 and "\t" not in text.splitlines()[0],
    "tsv": lambda text: len(next(csv.reader(io.StringIO(text), delimiter="\t"))) >= 2,
    "markdown": lambda text: text.startswith("# ") and ("| ---" in text or "|---" in text or "| :" in text or "---:" in text),
    "html": _html_parses,
}


def test_every_registered_format_has_a_read_back_check():
    assert set(READ_BACK) == set(FORMATS), "a new format needs a line in READ_BACK saying what its file must be"


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize("command", cli_commands.with_format())
def test_the_extension_chooses_the_format(command, name, tmp_path):
    path = tmp_path / f"out{FORMATS[name].extensions[0]}"
    with cli_commands.replaying([command], key=[command]):  # bench and profile measure once for every format
        result = run(*cli_commands.example(command, str(path)))
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert READ_BACK[name](text), f"{command} -o {path.name} wrote:\n{text[:500]}"


@pytest.mark.parametrize("command", cli_commands.with_format())
def test_a_format_that_contradicts_the_extension_is_refused_before_any_work(command, tmp_path):
    path = tmp_path / "out.json"
    result = run(*cli_commands.example(command, str(path)), "-f", "csv")
    assert result.exit_code == 2
    assert result.output.startswith("error: -f csv contradicts") and "out.csv" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not path.exists()


def test_an_extension_no_format_has_and_standard_output_keep_the_table(tmp_path):
    result = run("summary", "lenet5", "-o", str(tmp_path / "summary.out"))
    assert result.exit_code == 0 and "─" in (tmp_path / "summary.out").read_text()
    assert "─" in run("summary", "lenet5", "-o", "-").stdout
    # An agreeing -f, and any case of extension.
    assert json.loads(run("summary", "lenet5", "-f", "json", "-o", "-").stdout)["schema"] == "archscope.summary/1"
    assert run("summary", "lenet5", "-o", str(tmp_path / "S.JSON")).exit_code == 0
    assert json.loads((tmp_path / "S.JSON").read_text())["model"] == "lenet5"


def test_data_formats_show_every_layer_and_reading_formats_three_levels(tmp_path):
    deep = json.loads(run("summary", "googlenet", "-f", "json").stdout)["layers"]
    assert max(layer["depth"] for layer in deep) > 3
    for name, fmt in FORMATS.items():
        path = tmp_path / f"g{fmt.extensions[0]}"
        assert run("summary", "googlenet", "-o", str(path)).exit_code == 0
        text = path.read_text()
        deepest = max(deep, key=lambda layer: layer["depth"])["name"]
        assert (deepest in text) == fmt.every_layer, name


def test_tsv_is_csv_with_tabs(tmp_path):
    as_csv = list(csv.reader(io.StringIO(run("summary", "lenet5", "-f", "csv").stdout)))
    as_tsv = list(csv.reader(io.StringIO(run("summary", "lenet5", "-f", "tsv").stdout), delimiter="\t"))
    assert as_csv == as_tsv and len(as_csv) > 5


def test_a_new_format_is_one_registered_entry():
    """Register a format before the command line is imported: -f offers it, --help lists it,
    its extension chooses it, and every command writes it."""
    script = """
import json, sys
from archscope.render.formats import FORMATS, OutputFormat, register_format
register_format(OutputFormat("jsonl", (".jsonl",), lambda c: json.dumps(c.document()) + "\\n", every_layer=True))
from typer.testing import CliRunner
from archscope.cli import app
help = CliRunner().invoke(app, ["summary", "--help"], env={"COLUMNS": "200"}).output
assert "jsonl" in help, help
out = CliRunner().invoke(app, ["summary", "lenet5", "-f", "jsonl"]).stdout
assert len(out.splitlines()) == 1 and json.loads(out)["model"] == "lenet5", out
listed = CliRunner().invoke(app, ["list", "vgg16", "-o", sys.argv[1]])
assert listed.exit_code == 0, listed.output
assert json.loads(open(sys.argv[1]).read())["schema"] == "archscope.list/1"
print("ok")
"""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([sys.executable, "-c", script, f"{folder}/zoo.jsonl"], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_registering_a_name_or_an_extension_twice_is_refused():
    from archscope.render.formats import OutputFormat, register_format

    with pytest.raises(ValueError, match="registered already"):
        register_format(OutputFormat("json", (".j",), lambda c: "", every_layer=True))
    with pytest.raises(ValueError, match="already mean 'csv'"):
        register_format(OutputFormat("spreadsheet", (".csv",), lambda c: "", every_layer=True))


@pytest.mark.parametrize("command", cli_commands.with_format())
def test_every_commands_csv_header_is_its_declared_columns(command):
    from tests.render.test_view import declared

    columns = declared()
    assert command in columns, f"declare {command}'s CSV columns with render.view.csv_columns and list them in docs/json.md"
    with cli_commands.replaying([command], key=[command]):
        result = run(*cli_commands.example(command), "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == columns[command]
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)


@pytest.mark.parametrize("name", [n for n, f in FORMATS.items() if not f.every_layer])
def test_the_lesson_list_is_written_in_every_reading_format(name, tmp_path):
    path = tmp_path / f"lessons{FORMATS[name].extensions[0]}"
    result = run("lessons", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert READ_BACK[name](path.read_text()) and "stacked-3x3" in path.read_text()
