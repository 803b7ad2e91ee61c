"""benchmarks/gpu_check.py runs on the CPU in its reduced form (--quick), so the script that checks
the CUDA figures cannot rot while no GPU is at hand. Timing rows are shown, never asserted on."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = {"pass", "fail", "-", "note: it fits"}


def test_the_gpu_check_runs_on_the_cpu_and_prints_its_table():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--quick"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("check "))
    columns = lines[header].split()
    assert columns == ["check", "archscope", "independent", "ratio", "limit", "result"]
    start = lines[header].index("result")
    kinds = ("bench", "summary", "profile", "calibrated")
    end = next(i for i, line in enumerate(lines) if i > header + 1 and not line.startswith(kinds))
    rows = lines[header + 2 : end]
    results = [row[start:].strip() for row in rows]
    assert results and set(results) <= RESULTS
    checks = " ".join(rows)
    for part in ("bench cifar-resnet20 b1 fp32", "b4 bf16", "channels-last", "--train b2: training memory",
                 "--fit 24 MiB: batch", "(15% more)", "profile cifar-resnet20",
                 "calibrated bandwidth peak"):  # fmt: skip
        assert part in checks, part
    # Memory and fit rows compare sizes, not timings: they decide the exit status and pass here.
    assert all(r.endswith("pass") for r in rows if "training memory" in r or "--fit" in r)
    assert re.search(r"^\d+ checks, \d+ failed, in \d+ s$", lines[-1])
    assert "not run here: bench --compile" in done.stdout
