"""`archscope profile` and `report --profile` as a person runs them."""

import json

from typer.testing import CliRunner

from archscope.cli import app

FAST = ["--min-time", "0.05", "--warmup", "1"]


def run(*args, columns=80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_profile_table_with_both_pictures(tmp_path):
    roof, split = tmp_path / "roof.png", tmp_path / "split.png"
    result = run("profile", "lenet5", *FAST, "--roofline", str(roof), "--time-vs-macs", str(split))
    assert result.exit_code == 0, result.output
    for text in ("features.0", "FLOP/B", "Whole model", "Sum of rows", "Peak compute", "Bandwidth", "Ridge point"):
        assert text in result.output
    assert roof.read_bytes().startswith(b"\x89PNG") and split.read_bytes().startswith(b"\x89PNG")


def test_profile_json_carries_the_device_and_every_row(tmp_path):
    target = tmp_path / "profile.json"
    result = run("profile", "lenet5", *FAST, "--depth", "1", "--mode", "train", "-f", "json", "-o", str(target))
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text())
    assert data["schema"] == "archscope.profile/1" and data["mode"] == "train"
    assert [x["name"] for x in data["layers"]] == ["features", "classifier"]
    device = data["device"]
    assert device["peak_flops"] > 0 and device["bandwidth_bytes_per_s"] > 0
    assert "matrix multipl" in device["peak_source"] and "STREAM" in device["bandwidth_source"]
    assert data["total_ms"] > 0 and data["layers"][0]["backward_ms"] is not None


def test_profile_mistakes_are_one_line():
    for args, message in ((["--depth", "0"], "--depth"), (["--roofline", "x.txt"], ".png")):
        result = run("profile", "lenet5", *FAST, *args)
        assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_report_with_a_profile_has_its_section_and_pictures(tmp_path):
    page = tmp_path / "report.html"
    result = run("report", "lenet5", "--profile", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "Where the time goes" in html and "alt='the roofline, each layer a point'" in html and "where the MACs are" in html
