"""The command line against a hostile but fair user: nothing they have is lost, no output can be
used against them, and every bad input is one line and exit code 2."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archscope.cli import app

OLD = "precious\n"
FAST = ["--min-time", "0.01", "--warmup", "0"]

NET = """
import torch.nn as nn

INPUT_SIZE = (3, 16, 16)


class Net(nn.Sequential):
    def __init__(self):
        super().__init__()
        self.add_module("<img src=x onerror=alert(1)>", nn.Conv2d(3, 4, 3))
        self.add_module("a\\nb|c", nn.ReLU())
        self.add_module("=cmd|' /C calc'!A0", nn.Conv2d(4, 4, 1))
        self.add_module("\\x1b]0;pwned\\x07x\\x1b[31mred", nn.ReLU())
"""

INTERRUPTED = """
import torch.nn as nn

INPUT_SIZE = (1, 8, 8)


class Net(nn.Module):
    \"\"\"Ctrl-C arrives while batch 2 runs.\"\"\"

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        if x.shape[0] == 2:
            raise KeyboardInterrupt
        return self.conv(x)
"""

TWO_INPUTS = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.side = nn.Linear(16, 8)

    def forward(self, image, extra):
        return self.conv(image).mean((2, 3)) + self.side(extra)
"""


def run(*args, columns=100):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})


def one_error_line(result, code=2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture
def net(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(NET)
    return tmp_path / "net.py"


# ---------------------------------------------------------------- nothing the user has is lost


def test_a_device_node_stays_a_device_node(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("this user may not create device nodes")
    result = run("summary", "lenet5", "-o", device)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(device.stat().st_mode)


def test_a_fifo_reader_gets_the_report(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    thread = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    thread.start()
    for _ in range(500):  # until the reader has the FIFO open: before that, archscope refuses
        result = run("summary", "lenet5", "-f", "json", "-o", fifo)
        if result.exit_code == 0:
            break
        assert "nothing is reading it" in result.output
    thread.join(10)
    assert json.loads(received[0])["model"] == "lenet5" and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "real.json").write_text(OLD)
    (tmp_path / "link.json").symlink_to("real.json")
    assert run("summary", "lenet5", "-f", "json", "-o", tmp_path / "link.json").exit_code == 0
    assert (tmp_path / "link.json").is_symlink() and json.loads((tmp_path / "real.json").read_text())["model"] == "lenet5"


def test_a_read_only_file_is_refused(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text(OLD)
    target.chmod(0o444)
    assert "read-only" in one_error_line(run("summary", "lenet5", "-o", target))
    assert target.read_text() == OLD


def test_the_models_own_file_is_never_written(net):
    for args in (["summary", "net.py:Net", "-o", "net.py"], ["rf", "net.py:Net", "--plot", "net.py"],
                 ["summary", "net.py:Net", "--plot", "./net.py"], ["report", "net.py:Net", "-o", "net.py"],
                 ["compare", "lenet5", "net.py:Net", "-o", str(net)], ["bench", "net.py:Net", "-o", "net.py", *FAST]):  # fmt: skip
        line = one_error_line(run(*args))
        assert "the file the model was loaded from" in line or "report.html or report.md" in line, args
    assert net.read_text() == NET


def test_a_picture_needs_a_png_name(net):
    assert "must be named *.png" in one_error_line(run("summary", "lenet5", "--plot", "chart.jpg"))
    assert not Path("chart.jpg").exists()


def test_dash_is_standard_output_not_a_file_named_dash(net):
    result = run("summary", "lenet5", "-f", "json", "-o", "-")
    assert result.exit_code == 0 and json.loads(result.stdout)["model"] == "lenet5"
    assert not Path("-").exists()


def test_a_trailing_slash_or_a_directory_is_refused(tmp_path):
    assert "ends in '/'" in one_error_line(run("summary", "lenet5", "-o", f"{tmp_path}/newdir/"))
    (tmp_path / "newdir").mkdir()
    assert "is a directory" in one_error_line(run("summary", "lenet5", "-o", tmp_path / "newdir"))
    assert list(tmp_path.iterdir()) == [tmp_path / "newdir"]


def test_a_254_character_name_is_written(tmp_path):
    target = tmp_path / ("r" * 250 + ".txt")
    assert run("summary", "lenet5", "-o", target).exit_code == 0
    assert "features" in target.read_text()


def test_two_options_naming_one_file_are_refused(tmp_path):
    line = one_error_line(run("rf", "lenet5", "-o", tmp_path / "x.png", "--plot", tmp_path / "x.png"))
    assert "--output and --plot both name" in line


def test_an_interrupted_bench_keeps_the_complete_earlier_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("intr.py").write_text(INTERRUPTED)
    Path("full.json").write_text('{"results": ["complete"]}\n')
    Path("full.png").write_bytes(b"old picture")
    result = run("bench", "intr.py:Net", "-b", "1,2", *FAST, "-f", "json", "-o", "full.json", "--plot", "full.png")
    assert result.exit_code == 130
    assert Path("full.json").read_text() == '{"results": ["complete"]}\n'
    assert Path("full.png").read_bytes() == b"old picture"
    partial = json.loads(Path("full.partial.json").read_text())
    assert partial["interrupted"] is True and [r["batch_size"] for r in partial["results"]] == [1]
    assert Path("full.partial.png").read_bytes().startswith(b"\x89PNG")
    assert "full.json left as it was; the 1 finished row is in full.partial.json" in result.output


def test_an_interrupted_bench_before_any_row_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("intr.py").write_text(INTERRUPTED)
    result = run("bench", "intr.py:Net", "-b", "2", *FAST, "-f", "json", "-o", "full.json")
    assert result.exit_code == 130 and "full.json not written: no row finished" in result.output
    assert sorted(os.listdir()) == ["intr.py"]


def test_a_bench_whose_every_row_failed_exits_2_and_writes_nothing(tmp_path):
    target = tmp_path / "bench.json"
    target.write_text(OLD)
    line = one_error_line(run("bench", "lenet5", "-i", "3x32x32", *FAST, "-f", "json", "-o", target))
    assert "every benchmark row failed: lenet5 batch 1:" in line
    assert target.read_text() == OLD


@pytest.mark.slow  # a fresh Python per case, stdout closed for real
@pytest.mark.parametrize("when", ["before start (>&-)", "after start"])
def test_a_closed_standard_output_is_one_line(when):
    code = "import os, sys; from archscope.cli import run; sys.argv[1:] = ['list']; run()"
    if when == "after start":
        code = "import os; os.close(1); " + code
    result = subprocess.run(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        preexec_fn=(lambda: os.close(1)) if when.startswith("before") else None,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "error: cannot write to standard output: it is closed; give a file with -o"


# ---------------------------------------------------------------- outputs safe to open


def test_markdown_and_csv_and_the_terminal_get_safe_names(net):
    markdown = run("summary", "net.py:Net", "-f", "markdown").stdout
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "| a b\\|c | ReLU |" in markdown
    names = [r["name"] for r in csv.DictReader(io.StringIO(run("summary", "net.py:Net", "-f", "csv").stdout))]
    assert names[2] == "'=cmd|' /C calc'!A0" and names[1] == "a b|c"
    for text in (markdown, run("summary", "net.py:Net").stdout, run("rf", "net.py:Net").stdout):
        assert "\x1b" not in text and "\x07" not in text


def test_an_error_message_carries_no_escape_sequence(tmp_path):
    result = run("summary", f"{tmp_path}/\x1b[2Jx.py:Net")
    assert "\x1b" not in result.output and result.exit_code == 2


# ---------------------------------------------------------------- every bad input: one line, exit 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "lenet5", "-i", "99999999999999999999"], "elements"),
        (["summary", "lenet5", "-b", str(2**63)], "larger than any analysis can hold"),
        (["compare", "lenet5", "vgg-cifar", "-b", str(2**63)], "larger than any analysis can hold"),
        (["bench", "lenet5", "-b", str(2**63)], "larger than any analysis can hold"),
        (["bench", "lenet5", "--threads", "50000"], "--threads must be from 1 to"),
        (["bench", "lenet5", "--min-time", "inf"], "--min-time must be"),
        (["bench", "lenet5", "--min-time", "nan"], "--min-time must be"),
        (["bench", "lenet5", "--warmup", str(10**12)], "--warmup must be from 0"),
        (["summary", ":"], "malformed model ':'"),
        (["summary", ":Net"], "name a file or module before the colon"),
        (["summary", "a" * 300 + "/x.py:Net"], "File name too long"),
        (["summary", ".relative:Net"], "malformed model"),
        (["summary", "lenet5", "--arg", "x=" + "-" * 100_000 + "1"], "nested too deeply"),
        (["report", "lenet5", "-o", "r.html", "--depth", "0"], "--depth must be at least 1"),
    ],
)
def test_bad_numbers_and_specs_are_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert message in one_error_line(run(*args))


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "lenet5", "--counter", "bad"], "Invalid value for '--counter': 'bad' is not one of 'archscope', 'fvcore'"),
        (["compare", "lenet5", "alexnet", "--layout", "x"], "'x' is not one of 'auto', 'columns', 'rows'"),
        (["bench", "lenet5", "--dtype", "int8"], "'int8' is not one of 'float32', 'float16', 'bfloat16'"),
        (["sweep", "lenet*", "-f", "xml"], "'xml' is not one of 'table', 'csv', 'jsonl', 'markdown', 'parquet'"),
    ],
)
def test_a_value_outside_an_options_choices_names_the_choices_in_one_line(args, message):
    line = one_error_line(run(*args))
    assert message in line and "Value error" not in line


@pytest.mark.parametrize(
    "source, message",
    [
        ("import sys\nsys.exit(3)\n", "bad.py called sys.exit(3) on import"),
        ("class Stop(BaseException):\n    pass\nraise Stop('no')\n", "bad.py raised on import: Stop: no (bad.py, line 3)"),
        ("import torch.nn as nn\nclass Stop(BaseException):\n    pass\ndef Net():\n    raise Stop('late')\n", "Stop: late"),
        ("import sys\ndef Net():\n    sys.exit(5)\n", "5"),
    ],
)
def test_a_users_system_exit_or_base_exception_is_one_line(tmp_path, source, message):
    (tmp_path / "bad.py").write_text(source)
    line = one_error_line(run("summary", f"{tmp_path}/bad.py:Net", "-i", "3x8x8"))
    assert message in line


def test_multi_input_report_and_rf_plot(tmp_path):
    (tmp_path / "two.py").write_text(TWO_INPUTS)
    spec = f"{tmp_path}/two.py:Net"
    report = tmp_path / "two.html"
    assert run("report", spec, "-i", "3x32x32+16", "-o", report).exit_code == 0
    assert "<h1>" in report.read_text()
    picture = tmp_path / "growth.png"
    assert run("rf", spec, "-i", "3x32x32+16", "--plot", picture).exit_code == 0
    assert picture.read_bytes().startswith(b"\x89PNG")


COUNTED = """
import pathlib
import torch.nn as nn

LOG = pathlib.Path(__file__).with_name("log.txt")
LOG.open("a").write("imported\\n")
INPUT_SIZE = (3, 16, 16)


def Net():
    LOG.open("a").write("built\\n")
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "SPEC", "--counter", "fvcore"],
        ["rf", "SPEC", "--verify", "--effective", "erf.png", "--plot", "growth.png"],
        ["report", "SPEC", "-o", "r.html", "--bench"],
        ["bench", "SPEC", "-b", "1,2", *FAST],
    ],
)
def test_the_users_file_runs_once_per_command(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    Path("counted.py").write_text(COUNTED)
    result = run(*[a.replace("SPEC", "counted.py:Net") for a in args])
    assert result.exit_code == 0, result.output
    assert Path("log.txt").read_text().split() == ["imported", "built"]


# ---------------------------------------------------------------- every writer, random paths

SMALL_NET = """
import torch.nn as nn

INPUT_SIZE = (3, 12, 12)


def Net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
"""
WRITERS = [
    ["summary", "NET", "-o", "PATH"],
    ["summary", "NET", "-f", "json", "-o", "PATH"],
    ["summary", "NET", "--plot", "PATH"],
    ["rf", "NET", "-f", "csv", "-o", "PATH"],
    ["rf", "NET", "--plot", "PATH"],
    ["rf", "NET", "--effective", "PATH"],
    ["report", "NET", "-o", "PATH"],
    ["compare", "NET", "NET", "-f", "markdown", "-o", "PATH"],
    ["list", "vgg1?", "-o", "PATH"],
    ["bench", "NET", *FAST, "-f", "csv", "-o", "PATH"],
    ["bench", "NET", *FAST, "--plot", "PATH"],
]


@pytest.mark.slow  # a property sweep over every writer
def test_every_writer_with_random_paths_never_loses_a_file_or_leaves_a_temporary(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_output import KINDS, check_nothing_was_lost, sandbox, snapshot

    @settings(max_examples=int(os.environ.get("ARCHSCOPE_MAX_EXAMPLES", "30")), deadline=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(writer=st.sampled_from(WRITERS), kind=st.sampled_from(KINDS))
    def check(writer, kind):
        root = tmp_path_factory.mktemp("writers")
        paths = sandbox(root)
        (root / "net.py").write_text(SMALL_NET)
        before = snapshot(root)
        argv = [paths[kind] if a == "PATH" else f"{root}/net.py:Net" if a == "NET" else a for a in writer]
        result = run(*argv)
        assert result.exit_code in (0, 2), (argv, result.output)
        assert "Traceback" not in result.output
        target = paths[kind]
        written = None
        if result.exit_code == 0 and target != "-" and not (root / kind).is_fifo() and kind != "device":
            written = os.path.realpath(target)
        after_kinds = {name: entry[0] for name, entry in snapshot(root).items()}
        assert all(after_kinds.get(name) == entry[0] for name, entry in before.items())
        loads_the_model = "NET" in writer  # `list` loads none: net.py is just a file to it
        kept = ("read-only", "net.py") if loads_the_model else ("read-only",)
        check_nothing_was_lost(root, before, written, Path(written).read_bytes() if written else b"", kept)

    check()


# ---------------------------------------------------------------- issue 18: bench never loses its results


def test_an_interrupted_bench_without_f_writes_its_partial_file_in_the_format_the_name_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("intr.py").write_text(INTERRUPTED)
    Path("bench.json").write_text(OLD)
    result = run("bench", "intr.py:Net", "-b", "1,2", *FAST, "-o", "bench.json")
    assert result.exit_code == 130
    partial = json.loads(Path("bench.partial.json").read_text())  # the README's promise: the finished rows
    assert partial["interrupted"] is True and [r["batch_size"] for r in partial["results"]] == [1]
    assert Path("bench.json").read_text() == OLD


def test_a_bench_into_a_read_only_folder_is_refused_before_it_measures(tmp_path, monkeypatch):
    from tests.filesystems import read_only_bind

    import archscope.bench

    monkeypatch.setattr(archscope.bench, "benchmark", lambda *a, **k: pytest.fail("measured before the output was checked"))
    with read_only_bind(tmp_path):
        line = one_error_line(run("bench", "lenet5", *FAST, "-o", tmp_path / "bench.json"))
    assert "read-only file system, so no file can be made there" in line


def test_a_finished_bench_whose_file_cannot_be_written_prints_its_results(tmp_path, monkeypatch):
    """The folder becomes immutable while the benchmark runs: the figures go to stdout, not away."""
    from tests.filesystems import immutable

    import archscope.bench

    real = archscope.bench.benchmark
    folder = tmp_path / "out"
    folder.mkdir()
    with contextlib.ExitStack() as stack:

        def measure_then_lock(*a, **k):
            report = real(*a, **k)
            stack.enter_context(immutable(folder))
            return report

        monkeypatch.setattr(archscope.bench, "benchmark", measure_then_lock)
        result = run("bench", "lenet5", *FAST, "-o", folder / "bench.json")
    assert result.exit_code == 2
    assert "the results are on standard output instead" in result.stderr
    assert json.loads(result.stdout)["results"][0]["model"] == "lenet5"
    assert not (folder / "bench.json").exists()


def test_a_batch_list_of_thousands_is_refused_in_one_line():
    line = one_error_line(run("bench", "lenet5", "-b", ",".join(["1"] * 3000)))
    assert "--batch-size lists 3,000 sizes; a sweep takes at most 32" in line
    assert "twice" in one_error_line(run("bench", "lenet5", "-b", "1,2,1"))
    assert "5,001 digits" in one_error_line(run("bench", "lenet5", "-b", "9" * 5001))


@pytest.mark.parametrize("output", ["helper_mod.py", "pkg/__init__.py", "pkg/layers.py"])
def test_no_source_file_the_models_import_loaded_is_ever_an_output(tmp_path, monkeypatch, output):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    Path("helper_mod.py").write_text("import torch.nn as nn\n\nclass Block(nn.Conv2d):\n    pass\n")
    Path("pkg").mkdir()
    Path("pkg/__init__.py").write_text("from pkg.layers import Head\n")
    Path("pkg/layers.py").write_text("import torch.nn as nn\n\nclass Head(nn.ReLU):\n    pass\n")
    Path("net.py").write_text(
        "import torch.nn as nn\nfrom helper_mod import Block\nfrom pkg import Head\nINPUT_SIZE = (3, 8, 8)\n"
        "def build():\n    return nn.Sequential(Block(3, 4, 3), Head())\n"
    )
    before = {p: p.read_bytes() for p in Path().rglob("*.py")}
    try:
        for fmt in ("json", "table"):
            line = one_error_line(run("summary", "net.py:build", "-f", fmt, "-o", output))
            # Refused before the import as Python source, or after it as the module it is.
            assert "it is Python source" in line or "source of the Python module" in line, line
    finally:
        for name in ("helper_mod", "pkg", "pkg.layers"):
            sys.modules.pop(name, None)
    assert {p: p.read_bytes() for p in Path().rglob("*.py")} == before


def test_a_python_file_the_run_never_imported_is_not_overwritten_either(net):
    """`-o train.py` (a slip for -o train.txt, or tab completion): the user's code stays."""
    Path("train.py").write_text(OLD)
    for args in (["summary", "lenet5", "-o", "train.py"], ["list", "-o", "train.py"], ["bench", "lenet5", "-o", "train.py", *FAST]):
        line = one_error_line(run(*args))
        assert "train.py" in line and "Python source" in line, args
    assert Path("train.py").read_text() == OLD


@pytest.mark.slow  # a fresh Python into a real pipe
def test_dev_stdout_into_a_pipe_is_standard_output():
    """A real pipe (its other names, /dev/fd/1 and /proc/self/fd/1, are tested in tests/test_output.py)."""
    done = subprocess.run([sys.executable, "-m", "archscope", "summary", "lenet5", "-f", "json", "-o", "/dev/stdout"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "lenet5" and "wrote" not in done.stderr


@pytest.mark.slow  # a fresh Python per case into a real pipe
@pytest.mark.parametrize("output", [[], ["-o", "-"], ["-o", "/dev/stdout"]], ids=["plain", "dash", "dev-stdout"])
def test_a_reader_that_has_gone_ends_the_command_quietly_whatever_stdout_is_called(output):
    """`archscope ... | head` where head has exited: no error line, whichever name stdout goes by."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run([sys.executable, "-m", "archscope", "summary", "lenet5", "-f", "csv", *output],
                              stdout=write_end, stderr=subprocess.PIPE, text=True)  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == "", done.stderr
    assert done.returncode in (0, 1)  # click ends a broken pipe with 1


def test_a_fifo_whose_reader_never_reads_times_out_in_one_line(tmp_path, monkeypatch):
    import archscope.output

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader that never reads
    monkeypatch.setattr(archscope.output, "STREAM_TIMEOUT_S", 0.3)
    try:
        line = one_error_line(run("summary", "resnet152", "-f", "json", "-o", fifo))
    finally:
        os.close(reader)
    assert "its reader has taken nothing for 0.3 s" in line and "stopped waiting" in line


# ---------------------------------------------------------------- output that never vanishes

UNICODE_NET = """
import torch.nn as nn

INPUT_SIZE = (3, 8, 8)


class Net(nn.Sequential):
    def __init__(self):
        super().__init__()
        self.add_module("卷积×2", nn.Conv2d(3, 4, 3))
        self.add_module("relu", nn.ReLU())
"""

HOSTILE_FORWARDS = """
import torch.nn as nn

INPUT_SIZE = (3, 8, 8)


class Escapes(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom \\x1b]52;c;aGVsbG8=\\x07 \\x1b[31mred")


class Closes(nn.Module):
    def forward(self, x):
        raise GeneratorExit("closed")


def deep():
    m = nn.Conv2d(3, 3, 1)
    for _ in range(3000):
        m = nn.Sequential(m)
    return m
"""


def archscope_process(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "archscope", *map(str, args)], capture_output=True,
                          env={**os.environ, **(env or {})}, cwd=cwd)  # fmt: skip


@pytest.mark.slow  # a fresh Python per case
@pytest.mark.parametrize("columns", ["0", "99999999999999999999"])
def test_a_nonsensical_columns_loses_neither_the_output_nor_the_errors(columns):
    done = archscope_process("summary", "lenet5", env={"COLUMNS": columns})
    assert done.returncode == 0 and b"features.0" in done.stdout and b"Params" in done.stdout
    failed = archscope_process("summary", "vgg61", env={"COLUMNS": columns})
    assert failed.returncode == 2 and failed.stderr.startswith(b"error: unknown model 'vgg61'")


@pytest.mark.slow  # a fresh Python per case
@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_an_ascii_standard_output_gets_what_it_can_carry(tmp_path, fmt):
    (tmp_path / "net.py").write_text(UNICODE_NET, encoding="utf-8")
    done = archscope_process("summary", "net.py:Net", "-f", fmt, env={"PYTHONIOENCODING": "ascii"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("ascii")  # nothing but ASCII
    assert "\\u5377\\u79ef\\xd72" in text  # the layer's name, escaped rather than lost
    if fmt == "table":
        assert "\n-----" in text and "relu" in text


@pytest.mark.slow  # a fresh Python
def test_debug_shows_the_traceback_without_the_models_escape_sequences(tmp_path):
    (tmp_path / "net.py").write_text(HOSTILE_FORWARDS)
    done = archscope_process("--debug", "summary", "net.py:Escapes", cwd=tmp_path)
    assert done.returncode == 1 and b"Traceback (most recent call last)" in done.stderr
    assert b"boom ]52;c;aGVsbG8= [31mred" in done.stderr and b"\x1b" not in done.stderr and b"\x07" not in done.stderr


def test_a_forward_that_raises_generator_exit_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("net.py").write_text(HOSTILE_FORWARDS)
    assert one_error_line(run("summary", "net.py:Closes")) == "error: the model's code raised GeneratorExit: closed"


def test_a_model_thousands_of_modules_deep_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("net.py").write_text(HOSTILE_FORWARDS)
    result = run("summary", "net.py:deep")
    if result.exit_code == 0:
        pytest.skip("the analysis now handles 3,000 nested modules itself")
    assert "too deeply" in one_error_line(result)
