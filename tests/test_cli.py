"""The command line as a person runs it: what it prints, what it writes, how it fails."""

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from archscope.cli import app
from tests import cli_commands

ANSI = re.compile(r"\x1b\[")


def run(*args, columns=100):
    runner = CliRunner()
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": None, "TERM": "dumb"})


def run_in_terminal(*args, columns=100):
    """As in a terminal of that width (rich is told stdout is one); colour codes stripped."""
    env = {"COLUMNS": str(columns), "TTY_COMPATIBLE": "1", "NO_COLOR": "1", "TERM": "xterm"}
    result = CliRunner().invoke(app, list(args), env=env)
    return result, re.sub(r"\x1b\[[0-9;]*m", "", result.output)


def test_summary_table_shows_layers_and_totals():
    result = run("summary", "vgg16", columns=160)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "vgg16" in out and "1x3x224x224" in out and "1x1000" in out
    assert re.search(r"features\.0\s+Conv2d\s+1x64x224x224\s+3\s+1\.79 K\s+<0\.1%\s+86\.7 M\s+0\.6%", out)
    assert re.search(r"features\.30\s+MaxPool2d\s+1x512x7x7\s+212\s", out)
    assert "138 M (138,357,544" in out
    assert "15.5 G (15,470,264,320)" in out
    assert "Uncounted operators  none" in out


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_the_table_fits_the_terminal(columns):
    result, out = run_in_terminal("summary", "googlenet", columns=columns)
    assert result.exit_code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    # Narrow terminals show a tree of short names, wide ones the qualified names.
    assert any(re.match(r"\s+branch1\s+Sequential", line) for line in lines) == (columns < 120)
    assert any(re.match(r"\s+inception3a\.branch1\s+Sequential", line) for line in lines) == (columns >= 120)


def test_a_pipe_gets_every_column_and_full_names_and_no_colour():
    result = run("summary", "googlenet", columns=80)
    lines = result.output.splitlines()
    assert not any(ANSI.search(line) for line in lines), "no colour codes when not writing to a terminal"
    assert "…" not in result.output
    header = next(line for line in lines if line.startswith("Layer"))
    assert header.split() == ["Layer", "Type", "Output", "shape", "RF", "Params", "%", "params", "MACs", "%", "MACs", "FLOPs"]
    assert any(re.match(r"\s+inception3a\.branch1\s+Sequential", line) for line in lines)


def test_columns_are_chosen_with_columns():
    out = run("summary", "alexnet", "--columns", "layer,kernel,input,macs").output
    header = next(line for line in out.splitlines() if line.startswith("Layer"))
    assert header.split() == ["Layer", "Kernel", "Input", "shape", "MACs"]
    assert re.search(r"features\.0\s+11/4\s+1x3x227x227\s+105 M", out)
    bad = run("summary", "alexnet", "--columns", "layer,colour")
    assert bad.exit_code == 2 and "unknown column 'colour'" in bad.output


def test_summary_json_is_the_documented_contract_with_exact_integers():
    result = run("summary", "resnet50", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["schema"] == "archscope.summary/1"
    assert data["totals"]["macs"] == 3_857_973_248
    assert data["totals"]["params"] == 25_557_032
    assert {layer["name"] for layer in data["layers"]} >= {"layer4.2.conv3", "fc"}, "json has every depth"


def test_depth_limits_the_rows():
    data = json.loads(run("summary", "resnet50", "-f", "json", "--depth", "1").output)
    assert {layer["depth"] for layer in data["layers"]} == {1}
    assert [layer["name"] for layer in data["layers"]][:4] == ["conv1", "bn1", "relu", "maxpool"]


def test_summary_csv_has_one_row_per_layer_call():
    out = run("summary", "lenet5", "-f", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0] == {
        "name": "features", "type": "Sequential", "depth": "1", "leaf": "false", "input_shape": "1x1x32x32",
        "output_shape": "1x16x5x5", "params": "2572", "macs": "357600", "flops": rows[0]["flops"],
        "receptive_field": "16",
    }
    assert sum(int(r["macs"]) for r in rows if r["leaf"] == "true") == 416_520


def test_summary_markdown_is_a_table_with_totals():
    out = run("summary", "alexnet", "-f", "markdown").output
    assert out.startswith("# alexnet  input 1x3x227x227 -&gt; output 1x1000\n")
    assert "| Layer | Type | Output shape | RF | Params | % params | MACs | % MACs | FLOPs |" in out
    assert "| MACs | 724 M (724,406,816) |" in out


def test_input_and_batch_size_options():
    data = json.loads(run("summary", "vgg11", "-i", "3x32x32", "-b", "4", "-f", "json").output)
    assert data["input_shape"] == [4, 3, 32, 32]
    assert data["output_shape"] == [4, 1000]


def test_output_is_written_to_a_file(tmp_path):
    target = tmp_path / "vgg16.json"
    result = run("summary", "vgg16", "-f", "json", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text())["model"] == "vgg16"
    table = tmp_path / "vgg16.txt"
    run("summary", "vgg16", "-o", str(table))
    assert "features.30" in table.read_text() and not ANSI.search(table.read_text())


def test_a_failed_run_leaves_the_existing_output_file_alone(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("precious")
    result = run("summary", "vgg16", "-i", "8", "-f", "json", "-o", str(target))
    assert result.exit_code == 2
    assert target.read_text() == "precious"
    assert os.listdir(tmp_path) == ["report.json"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "vgg61"], "unknown model 'vgg61'; did you mean vgg19, vgg16, vgg13?"),
        (["summary", "vgg16", "-i", "3x"], "malformed input size '3x'"),
        (["summary", "vgg16", "-i", "16"], "is too small for vgg16: features.30 (MaxPool2d)"),
        (["summary", "lenet5", "-i", "3x32x32"], "lenet5 cannot take input 1x3x32x32: features.0 (Conv2d) expects 1 input channel, got 3"),
        (["summary", "vgg16", "-b", "0"], "batch size must be at least 1"),
        (["summary", "vgg16", "--depth", "0"], "--depth must be at least 1"),
        (["summary", "vgg16", "-o", "/nonexistent/dir/out.txt"], "cannot write /nonexistent/dir/out.txt"),
        (["list", "nothing*"], "no zoo network matches 'nothing*'"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_code_2(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_format_is_refused_with_exit_code_2():
    result = run("summary", "vgg16", "--format", "yaml")
    assert result.exit_code == 2
    assert "yaml" in result.output


def test_list_shows_the_zoo_with_reference_figures():
    out = run("list", columns=160).output
    for name in ["lenet5", "alexnet", "vgg16-bn", "googlenet-naive", "resnet152"]:
        assert name in out
    vgg = run("list", "vgg1?", "-f", "json").output
    data = json.loads(vgg)
    assert data["schema"] == "archscope.list/1"
    assert [m["name"] for m in data["models"]] == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert data["models"][2]["reference"]["params"] == 138_357_544


def test_help_explains_every_command():
    top = run("--help").output
    assert "summary" in top and "list" in top and "multiply-accumulates" in top
    help_text = run("summary", "--help", columns=120).output
    for option in ["--input-size", "--batch-size", "--depth", "--format", "--output", "--counter"]:
        assert option in help_text


def test_fvcore_counter_adds_its_per_operator_view():
    data = json.loads(run("summary", "lenet5", "--counter", "fvcore", "-f", "json").output)
    assert data["fvcore"]["by_operator"] == {"conv": 357_600, "linear": 58_920}
    assert data["fvcore"]["macs"] == data["totals"]["macs"]
    table = run("summary", "lenet5", "--counter", "fvcore").output
    assert "fvcore's count" in table and "equal to archscope's MACs" in table


def test_python_dash_m_and_the_console_script_run():
    result = subprocess.run(
        [sys.executable, "-m", "archscope", "summary", "lenet5", "-f", "json"], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout)["totals"]["params"] == 61_706
    piped = subprocess.run([sys.executable, "-m", "archscope", "summary", "vgg61"], capture_output=True, text=True)
    assert piped.returncode == 2 and piped.stderr.startswith("error: unknown model") and not ANSI.search(piped.stderr)


@pytest.mark.parametrize("command", ["", *cli_commands.names()])
def test_help_teaches_without_type_placeholders(command):
    out = run(*([command] if command else []), "--help", columns=80).output
    assert not re.search(r"<(bool|str|int|float|list\[str\])>", out), out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("command, usage", [
    ("summary", "Usage: archscope summary [OPTIONS] MODEL"),
    ("compare", "Usage: archscope compare [OPTIONS] [MODEL]..."),  # none with --from
    ("sweep", "Usage: archscope sweep [OPTIONS] SPEC..."),
    ("list", "Usage: archscope list [OPTIONS] [PATTERN]"),
    ("lessons", "Usage: archscope lessons [OPTIONS] [ID]"),
])  # fmt: skip
def test_usage_lines_name_arguments_as_click_does(command, usage):
    assert run(command, "--help").output.splitlines()[0] == usage
