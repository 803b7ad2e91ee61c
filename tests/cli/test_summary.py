"""`archscope summary --train` and `--fit` as a person runs them (the table, JSON, mistakes)."""

import json
import re

from typer.testing import CliRunner

from archscope.cli import app


def run(*args, columns=80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_summary_train_shows_the_backward_pass_and_training_memory():
    result = run("summary", "lenet5", "--train", "--optimizer", "adam", columns=120)
    assert result.exit_code == 0, result.output
    for text in ("Backward MACs", "Backward FLOPs", "Optimizer step", "(Adam)", "Training memory", "saved activations"):
        assert text in result.output


def test_summary_fit_finds_the_largest_batch_and_json_carries_it():
    result = run("summary", "lenet5", "--fit", "64MiB", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["fit"]["budget"] == 64 * 2**20 and data["fit"]["batch_size"] > 1
    assert data["fit"]["peak"] <= data["fit"]["budget"]
    assert data["totals"]["training_memory"]["optimizer_name"] == "sgd"
    assert "Fits in 64.0 MiB" in run("summary", "lenet5", "--fit", "64MiB").output


def test_summary_fit_and_optimizer_mistakes_are_one_line():
    for args, message in ((["--fit", "lots"], "memory size"), (["--train", "--optimizer", "lion"], "unknown optimizer")):
        result = run("summary", "lenet5", *args)
        assert result.exit_code == 2 and message in result.output, result.output


def test_the_fit_line_shows_the_measured_peaks_at_the_batch_and_one_more_and_they_add_up():
    from archscope.text.numbers import human_bytes

    data = json.loads(run("summary", "lenet5", "--fit", "64MiB", "-f", "json").output)["fit"]
    line = next(x for x in run("summary", "lenet5", "--fit", "64MiB", columns=200).output.splitlines() if x.startswith("Fits in"))
    batch = data["batch_size"]
    assert f"batch {batch:,} needs {human_bytes(data['peak'])}, {human_bytes(data['budget'] - data['peak'])} to spare" in line
    assert f"batch {batch + 1:,} would need {human_bytes(data['next_peak'])}, {human_bytes(data['next_peak'] - data['budget'])} too much" in line
    assert data["peak"] <= data["budget"] < data["next_peak"]
    # The line printed beside them is the one JSON holds, and it gives the peak it stands beside.
    assert f"({human_bytes(data['fixed'])} + {human_bytes(data['per_sample'])} per sample near here)" in line
    assert abs(data["fixed"] + data["per_sample"] * batch - data["peak"]) <= data["per_sample"]


def test_a_fit_of_thousands_of_digits_is_one_line():
    for size in ("9" * 3000 + "GiB", "0." + "0" * 3000 + "1GiB", "1" + "0" * 400):
        result = run("summary", "lenet5", "--fit", size)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_train_adds_backward_columns_whose_cells_are_each_layers_backward_pass():
    import archscope
    from archscope.text.numbers import human_count

    result = run("summary", "lenet5", "--train", "--depth", "1", columns=200)
    assert result.exit_code == 0, result.output
    header = next(x for x in result.output.splitlines() if x.startswith("Layer"))
    assert header.split()[-4:] == ["Bwd", "MACs", "Bwd", "FLOPs"]
    layers = {x.name: x for x in archscope.summarize("lenet5", train=True).layers if x.depth == 1}
    rows = [re.split(r"\s{2,}", x.strip()) for x in result.output.splitlines()]
    cells = {row[0]: row[-2:] for row in rows if row[0] in layers}
    assert set(cells) == set(layers)
    for name, layer in layers.items():
        assert cells[name] == [human_count(layer.backward_macs), human_count(layer.backward_flops)]


def test_backward_columns_are_chosen_with_columns_and_need_train():
    chosen = run("summary", "lenet5", "--train", "--columns", "layer,bwd-flops", columns=200)
    assert chosen.exit_code == 0 and "Bwd FLOPs" in chosen.output and "Bwd MACs" not in chosen.output
    plain = run("summary", "lenet5", columns=200)
    assert "Bwd" not in plain.output
    refused = run("summary", "lenet5", "--columns", "layer,bwd-macs")
    assert refused.exit_code == 2 and "--train" in refused.output and len(refused.output.strip().splitlines()) == 1


def terminal(*args, columns=80):
    """The command as a terminal ``columns`` wide shows it (no colour)."""
    env = {"COLUMNS": str(columns), "TTY_COMPATIBLE": "1", "NO_COLOR": "1", "TERM": "xterm"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)


def test_at_80_columns_the_columns_left_out_are_named_with_how_to_see_them():
    narrow = terminal("summary", "resnet18", "--depth", "1")
    header = next(x for x in narrow.splitlines() if x.startswith("Layer"))
    assert "% params" not in header
    sentence = " ".join(narrow.split("Left out to fit the terminal: ", 1)[1].split("\n\n", 1)[0].split())
    assert sentence.startswith("% params;") and "--columns" in sentence and "-f csv" in sentence
    wide = terminal("summary", "resnet18", "--depth", "1", columns=200)
    assert "% params" in wide and "Left out" not in wide
    assert "Left out" not in run("summary", "resnet18", "--depth", "1").stdout  # a pipe gets every column


def test_the_last_line_says_how_to_see_fewer_or_more_rows():
    last = terminal("summary", "resnet152", columns=200).strip().splitlines()[-1]
    assert last == "514 of 522 layer calls, to depth 3 of 4; --depth 1 shows the 10 top-level ones, --depth 4 every one."
    top = run("summary", "resnet152", "--depth", "1").stdout.strip().splitlines()[-1]
    assert top == "10 of 522 layer calls, to depth 1 of 4; --depth 4 every one."
