"""`archscope sweep` as a person runs it: results files in every format, resumed after Ctrl-C and
after a kill, exit codes, and the errors that are one line."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archscope.cli import app

MODELS = Path(__file__).parent / "sweep" / "models.py"
ROOT = Path(__file__).resolve().parents[1]


def run(*args, columns=100, env=None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": None, "TERM": "dumb", **(env or {})})


def summary_json(spec):
    result = run("summary", spec, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def csv_rows(path):
    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


def test_every_row_has_the_figures_summary_gives_and_a_second_run_skips_them_all(tmp_path):
    out = tmp_path / "r.csv"
    specs = ["lenet5", "conv3x3-x2", f"{MODELS}:tiny"]
    result = run("sweep", *specs, "-o", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert "3 models, none failed; rows in" in result.stderr
    rows = {r["model"]: r for r in csv_rows(out)}
    assert sorted(rows) == sorted(specs)
    for spec in specs:
        totals = summary_json(spec)["totals"]
        for key in ("params", "macs", "flops", "param_bytes", "activation_bytes"):
            assert int(rows[spec][key]) == totals[key], (spec, key)
    assert rows["lenet5"]["receptive_field"] == "16" and rows["lenet5"]["input_shape"] == "1x1x32x32"
    assert rows["lenet5"]["error"] == "" and rows["lenet5"]["options"] == "batch=1"
    before = out.read_bytes()
    again = run("sweep", *specs, "-o", str(out))
    assert again.exit_code == 0 and "skipped 3 of 3 models already in" in again.stderr
    assert out.read_bytes() == before  # nothing rewritten, nothing lost
    other = run("sweep", "lenet5", "-b", "2", "-o", str(out), "-q")  # other options: another row, beside the first
    assert other.exit_code == 0 and [r["options"] for r in csv_rows(out) if r["model"] == "lenet5"] == ["batch=1", "batch=2"]


@pytest.mark.slow  # a sweep through worker processes per format
@pytest.mark.parametrize("suffix", [".jsonl", ".md", ".parquet"])
def test_each_format_holds_the_same_rows_and_a_second_run_adds_to_them(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="the 'parquet' extra (pyarrow) is not installed")
    out = tmp_path / f"r{suffix}"
    assert run("sweep", "lenet5", "basic-block", "-o", str(out), "-q", "--jobs", "1").exit_code == 0
    before = out.read_bytes()
    grown = run("sweep", "lenet5", "basic-block", "head-gap", "-o", str(out), "-q")
    assert grown.exit_code == 0 and "skipped 2 of 3" in grown.stderr
    if suffix != ".parquet":  # appended to; Parquet is written whole again, atomically
        assert out.read_bytes().startswith(before)
    back = run("compare", "--from", str(out), "-f", "json")
    assert back.exit_code == 0, back.output
    macs = {m["model"]: m["totals"]["macs"] for m in json.loads(back.stdout)["models"]}
    assert macs == {name: summary_json(name)["totals"]["macs"] for name in ("lenet5", "basic-block", "head-gap")}
    if suffix == ".jsonl":
        assert all(json.loads(line)["schema"] == "archscope.sweep/1" for line in out.read_text().splitlines())


def test_standard_output_gets_rows_a_line_at_a_time():
    lines = run("sweep", "lenet5", "-o", "-", "-f", "jsonl", "-q").stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["macs"] == 416_520


def test_failed_models_are_rows_the_exit_code_and_stderr_count_and_fresh_starts_over(tmp_path):
    out = tmp_path / "r.csv"
    result = run("sweep", "lenet5", f"{MODELS}:raises", f"{MODELS}:crash", "-o", str(out), "--jobs", "1")
    assert result.exit_code == 1
    assert "2 of 3 models failed" in result.stderr
    rows = {r["model"]: r for r in csv_rows(out)}
    assert "ValueError: bad width" in rows[f"{MODELS}:raises"]["error"]
    assert "SIGABRT" in rows[f"{MODELS}:crash"]["error"] and rows["lenet5"]["error"] == ""
    again = run("sweep", "lenet5", f"{MODELS}:raises", f"{MODELS}:crash", "-o", str(out))
    assert again.exit_code == 1 and "(2 failed; --retry-failed runs them again)" in again.stderr
    assert run("sweep", "lenet5", "-o", str(out), "--fresh", "-q").exit_code == 0
    assert [r["model"] for r in csv_rows(out)] == ["lenet5"]


def test_train_and_fit_add_their_columns_with_summarys_figures(tmp_path):
    out = tmp_path / "train.jsonl"
    assert run("sweep", "lenet5", "--fit", "1GiB", "-o", str(out), "-q").exit_code == 0
    row = json.loads(out.read_text())
    expected = json.loads(run("summary", "lenet5", "--fit", "1GiB", "-f", "json").stdout)
    assert row["backward_macs"] == expected["totals"]["backward_macs"]
    assert row["training_memory"] == expected["totals"]["training_memory"]["peak"]
    assert row["fit_batch"] == expected["fit"]["batch_size"]
    # A CSV has one header: a file with other columns is refused rather than mixed.
    from archscope.render.sweep_rows import FORMATS
    from archscope.sweep.records import columns_for

    csv_out = tmp_path / "r.csv"
    csv_out.write_text(FORMATS["csv"].header(columns_for(False, False, [])))
    mixed = run("sweep", "lenet5", "--train", "-o", str(csv_out))
    assert mixed.exit_code == 2 and "holds another sweep's columns (it has no backward_macs, training_memory)" in mixed.stderr


def test_bench_adds_latency_columns(tmp_path):
    out = tmp_path / "b.csv"
    result = run("sweep", "lenet5", "--bench", "-b", "1,2", "--min-time", "0.05", "--warmup", "1", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    (row,) = csv_rows(out)
    for batch in (1, 2):
        p10, median, p90 = (float(row[f"bench_latency_ms_{k}_b{batch}_float32"]) for k in ("p10", "median", "p90"))
        assert 0 < p10 <= median <= p90
        assert float(row[f"bench_throughput_b{batch}_float32"]) == pytest.approx(batch / (median / 1e3), rel=1e-3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["sweep", "vgg9*"], "no model matches 'vgg9*'"),
        (["sweep", "torchvision:nosuch*"], "no model matches 'torchvision:nosuch*'"),
        (["sweep", "vgg61"], "unknown model 'vgg61'"),
        (["sweep", "lenet5", "-o", "r.txt"], "cannot tell the format of r.txt"),
        (["sweep", "lenet5", "-o", "r.csv", "-f", "jsonl"], "--format jsonl contradicts the name r.csv"),
        (["sweep", "lenet5", "--bench", "--jobs", "2"], "--bench times one model per device at a time"),
        (["sweep", "lenet5", "--timeout", "0"], "--timeout must be a number of seconds above 0"),
        (["sweep", "lenet5", "--memory-limit", "lots"], "cannot read 'lots' as a memory size"),
        (["sweep", "lenet5", "--dtype", "float8"], "--dtype takes float32, float16, bfloat16"),
        (["sweep", "lenet5", "--exclude", "*"], "--exclude removed every one"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_ray_the_ray_option_says_what_to_install():
    code = "import sys; sys.modules['ray'] = None; sys.argv = ['archscope', 'sweep', 'lenet5', '--ray', 'local']; " \
           "from archscope.cli import run; run()"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --ray needs Ray: pip install 'archscope[cluster]'"


# --- interrupted and killed sweeps ---------------------------------------------------------


def _default_sigint() -> None:
    # A shell starts a background job (pytest ... &, nohup) with SIGINT ignored, the child inherits
    # that, and Python then installs no KeyboardInterrupt handler: Ctrl-C must reach the sweep as
    # it does in a terminal, wherever the suite runs.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out, env_extra):
    specs = ["lenet5", "basic-block", f"{MODELS}:sleepy", "conv3x3-x2", "head-gap"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    command = [sys.executable, "-m", "archscope", "sweep", *specs, "-o", str(out), "--jobs", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=_default_sigint)  # fmt: skip
    return process, command, env


def _wait_for_rows(path, n, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n + 1:  # the header, then n rows
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError(f"{path} did not reach {n} rows")


def _workers_of(parent):
    from tests.sweep.test_pool import _workers_of as find

    return find(parent)


@pytest.mark.slow  # a sweep in a fresh Python, stopped by a signal and run again
@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_an_interrupted_sweep_keeps_every_finished_row_and_resumes_to_the_same_file(tmp_path, how):
    out = tmp_path / "r.csv"
    process, command, env = _start(out, {"ARCHSCOPE_TEST_SLEEP": "60"})
    _wait_for_rows(out, 2, process)  # lenet5 and basic-block are in; sleepy is running
    if how == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group, workers too
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130 and "the finished rows are in" in err, err
    else:
        process.kill()
        process.communicate(timeout=60)
        deadline = time.monotonic() + 10
        while _workers_of(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers_of(process.pid) == []  # the workers died with the sweep
    text = out.read_text()
    assert text.endswith("\n")  # no half-written line
    rows = csv_rows(out)
    assert [r["model"] for r in rows] == ["lenet5", "basic-block"]
    assert all(len(r) == len(rows[0]) and None not in r.values() for r in rows)

    resumed = subprocess.run(command, capture_output=True, text=True, env={**env, "ARCHSCOPE_TEST_SLEEP": "0"}, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped 2 of 5 models already in" in resumed.stderr
    assert out.read_text().startswith(text)  # the first run's rows stay, byte for byte
    assert [r["model"] for r in csv_rows(out)] == ["lenet5", "basic-block", f"{MODELS}:sleepy", "conv3x3-x2", "head-gap"]
