"""`archscope bench` as a person runs it."""

import json

from typer.testing import CliRunner

from archscope.cli import app

FAST = ["--min-time", "0.05", "--warmup", "1"]


def run(*args, columns=160):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_bench_table_and_picture(tmp_path):
    picture = tmp_path / "bench.png"
    result = run("bench", "lenet5", "-b", "1,2", *FAST, "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert "Median ms" in result.output and "Samples/s" in result.output
    assert result.output.count("lenet5") >= 2 and "float32" in result.output and "torch 2." in result.output
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_bench_json_to_a_file(tmp_path):
    target = tmp_path / "bench.json"
    assert run("bench", "vgg-cifar", *FAST, "-f", "json", "-o", str(target)).exit_code == 0
    data = json.loads(target.read_text())
    assert data["schema"] == "archscope.bench/1" and data["results"][0]["model"] == "vgg-cifar"


def test_bench_without_cuda_says_so_in_one_line():
    result = run("bench", "lenet5", "--device", "cuda")
    if "CUDA is not available" in result.output:
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
        assert "available: cpu" in result.output


def test_bench_bad_batch_sizes():
    for value, message in (("x", "malformed --batch-size"), ("0", "at least 1"), (",", "needs at least one")):
        result = run("bench", "lenet5", "-b", value)
        assert result.exit_code == 2 and message in result.output


def test_bench_unknown_model_fails_before_any_run():
    result = run("bench", "lenet5", "resnet05", *FAST)
    assert result.exit_code == 2 and "unknown model 'resnet05'" in result.output
