"""``archscope explain`` as a person runs it: at 80 columns, in a pipe, as JSON, CSV and Markdown, and wrong."""

import csv
import io
import json
import re

from typer.testing import CliRunner

from archscope.cli import app


def run(*args, columns=80, terminal=False):
    env = {"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "xterm" if terminal else "dumb"}
    if terminal:
        env["TTY_COMPATIBLE"] = "1"
    result = CliRunner().invoke(app, list(args), env=env)
    return result, re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", result.output)


def test_alexnets_first_layer_at_80_columns():
    result, out = run("explain", "alexnet", "features.0", terminal=True)
    assert result.exit_code == 0, out
    assert "= 11·11·(3/1)·96 + 96 = 34,944" in out
    assert "= 1·55·55·96·11·11·(3/1) = 105,415,200" in out
    assert "= ⌊(227 + 2·0 − 1·(11 − 1) − 1)/4⌋ + 1 = 55" in out
    assert all(len(line) <= 80 for line in out.splitlines()), max(out.splitlines(), key=len)


def test_a_pipe_gets_every_formula_whole():
    result, out = run("explain", "vgg16", "features.0", "features.2")
    assert result.exit_code == 0, out
    assert "r_out = r_in + (k − 1)·d·j_in = 1 + (3 − 1)·1·1 = 3" in out
    assert "r_out = r_in + (k − 1)·d·j_in = 3 + (3 − 1)·1·1 = 5" in out
    assert "…" not in out


def test_a_block_is_the_table_of_its_parts():
    result, out = run("explain", "resnet50", "layer1.0", terminal=True)
    assert result.exit_code == 0, out
    rows = {line.split()[0]: re.findall(r"\b[\d,]+\b", line)[-3:] for line in out.splitlines()
            if re.match(r"^(conv\d|downsample|total)\s", line)}  # fmt: skip
    assert rows["total"] == ["75,008", "231,211,008", "468,443,136"]  # params, MACs, FLOPs
    macs = sum(int(rows[k][1].replace(",", "")) for k in ("conv1", "conv2", "conv3", "downsample"))
    assert macs == 231_211_008


def test_without_a_layer_each_child_then_the_whole_model():
    result, out = run("explain", "lenet5")
    assert result.exit_code == 0, out
    assert "lenet5: the whole model, the sum of its children" in out


def test_json_is_the_record():
    result, out = run("explain", "alexnet", "features.0", "-f", "json")
    assert result.exit_code == 0, out
    data = json.loads(out)
    assert data["schema"] == "archscope.explain/1"
    params = data["layers"][0]["quantities"]["params"]
    assert params["formula"] == "k_h·k_w·(C_in/g)·C_out + C_out"
    assert params["bindings"] == {"k_h": 11, "k_w": 11, "C_in": 3, "g": 1, "C_out": 96}
    assert params["value"] == 34_944


def test_csv_and_markdown_carry_the_formulas():
    result, out = run("explain", "alexnet", "features.0", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    params = next(r for r in rows if r["quantity"] == "params" and not r["part"])
    assert (params["formula"], params["numbers"], params["value"]) == ("k_h·k_w·(C_in/g)·C_out + C_out", "11·11·(3/1)·96 + 96", "34944")
    result, out = run("explain", "alexnet", "features.0", "-f", "markdown")
    assert result.exit_code == 0 and "= 11·11·(3/1)·96 + 96 = 34,944" in out


def test_training_says_what_autograd_saves():
    result, out = run("explain", "lenet5", "features.0", "--train")
    assert result.exit_code == 0, out
    assert "saved for backward" in out


def test_a_wrong_layer_or_depth_is_one_line_and_exit_2():
    for args in (["explain", "vgg16", "features.99"], ["explain", "vgg16", "--depth", "0"]):
        result, out = run(*args)
        assert result.exit_code == 2, out
        assert len(out.strip().splitlines()) == 1 and out.startswith("error:"), out
