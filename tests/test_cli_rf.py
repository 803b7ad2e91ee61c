"""`archscope rf` as a person runs it."""

import json

from typer.testing import CliRunner

from archscope.cli import app

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args, columns=120):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_rf_table_has_one_row_per_stride_stage_and_the_final_field():
    result = run("rf", "vgg16")
    assert result.exit_code == 0, result.output
    assert "Last spatial feature map  212 (stride 32, padding 90)" in result.output
    assert "features.28" in result.output and "196" in result.output


def test_rf_shows_the_concatenated_parts_of_googlenet():
    out = run("rf", "googlenet").output
    assert "587 (channels 0-383), 651 (channels 384-767), 715 (channels 768-895), 651 (channels 896-1023)" in " ".join(
        out.split()
    )


def test_rf_verify_prints_both_and_they_agree():
    result = run("rf", "alexnet", "--verify")
    assert result.exit_code == 0, result.output
    assert "Measured by gradients" in result.output
    assert result.output.count("195") >= 3 and "yes" in result.output


def test_rf_json_contract(tmp_path):
    target = tmp_path / "rf.json"
    assert run("rf", "resnet18", "-f", "json", "-o", str(target), "--verify").exit_code == 0
    data = json.loads(target.read_text())
    assert data["schema"] == "archscope.rf/1"
    assert data["receptive_field"]["size"] == [435, 435]
    assert [s["stride"][0] for s in data["stages"]] == [2, 4, 8, 16, 32]
    assert data["verify"]["agree"] is True and data["verify"]["measured"]["size"] == [435, 435]


def test_rf_pictures_are_written(tmp_path):
    growth, erf = tmp_path / "growth.png", tmp_path / "erf.png"
    result = run("rf", "lenet5", "--plot", str(growth), "--effective", str(erf))
    assert result.exit_code == 0, result.output
    assert growth.read_bytes().startswith(PNG) and erf.read_bytes().startswith(PNG)


def test_rf_of_a_network_without_spatial_layers_is_one_clear_error():
    result = run("rf", "head-fc")
    assert result.exit_code == 2
    assert "no layer with a spatial output" in result.output


def test_rf_csv_has_a_row_per_stage():
    lines = run("rf", "resnet50", "-f", "csv").output.strip().splitlines()
    assert lines[0].startswith("stage,stride")
    assert len(lines) == 1 + 5
