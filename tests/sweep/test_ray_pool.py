"""The sweep on a real Ray cluster on the loopback address: the same rows as the local pool, a
worker killed mid-sweep retried, a crash an error row, and the cluster shut down after."""

import csv
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray (the 'cluster' extra) is not installed")

from archscope.sweep.pool import LocalPool  # noqa: E402
from archscope.sweep.ray_pool import RayPool  # noqa: E402
from archscope.sweep.task import SweepOptions, Task  # noqa: E402

pytestmark = pytest.mark.slow  # a real local Ray cluster per test: seconds to start, seconds to stop

MODELS = Path(__file__).with_name("models.py")
ROOT = Path(__file__).resolve().parents[2]
SPECS = ["lenet5", f"{MODELS}:slow_once", "basic-block", "conv3x3-x2", f"{MODELS}:tiny"]


def tasks():
    return [Task(i, spec, SweepOptions()) for i, spec in enumerate(SPECS)]


def without_timing(row):
    return dataclasses.replace(row, seconds=None)


@pytest.fixture(scope="module")
def marker():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pid")
        os.environ["ARCHSCOPE_TEST_PID_FILE"] = path  # Ray's workers inherit it from ray.init
        yield path
        del os.environ["ARCHSCOPE_TEST_PID_FILE"]


def test_ray_rows_equal_the_local_pools_and_a_killed_worker_is_retried(marker):
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    killed = []

    def kill_the_first_worker_that_runs_slow_once():
        deadline = time.monotonic() + 120
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int(Path(marker).read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_the_first_worker_that_runs_slow_once, daemon=True)
    killer.start()
    with RayPool("local", timeout=120, local_cpus=2) as pool:
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}  # loopback only
        on_ray = {r.row.model: r for r in pool.run(tasks())}
    assert not ray.is_initialized()  # the local cluster is shut down with the pool
    killer.join(timeout=5)
    assert len(killed) == 1
    slow = on_ray[f"{MODELS}:slow_once"]
    assert slow.row.error is None and slow.row.params == 3 * 3 * 3 * 6 + 6  # retried once, on another worker
    assert slow.worker != killed[0]

    with LocalPool(2, timeout=120) as pool:  # the marker exists now: slow_once does not sleep here
        local = {r.row.model: r.row for r in pool.run(tasks())}
    assert sorted(on_ray) == sorted(local) == sorted(SPECS)
    for spec in SPECS:
        assert without_timing(on_ray[spec].row) == without_timing(local[spec]), spec


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_cli_joins_a_head_at_host_port_and_a_crash_is_an_error_row(tmp_path):
    """`ray start --head` bound to 127.0.0.1, as a cluster's head is started, then `sweep --ray HOST:PORT`."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": uuid.uuid4().hex * 2}  # fmt: skip
    ray_bin = Path(sys.executable).with_name("ray")
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp") as temp:  # short: Ray's socket paths must fit 107 bytes
        head = subprocess.Popen(
            [str(ray_bin), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}", "--block"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            out = tmp_path / "r.csv"
            command = [sys.executable, "-m", "archscope", "sweep", "lenet5", f"{MODELS}:crash", "basic-block",
                       "--ray", f"127.0.0.1:{port}", "-o", str(out), "--timeout", "120"]  # fmt: skip
            deadline = time.monotonic() + 90
            while True:  # the head takes a few seconds to listen
                result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
                if "cannot reach a Ray cluster" not in result.stderr or time.monotonic() > deadline:
                    break
                time.sleep(2)
            assert result.returncode == 1, result.stderr
            assert "1 of 3 models failed" in result.stderr
            rows = {r["model"]: r for r in csv.DictReader(out.open())}
            assert sorted(rows) == sorted(["lenet5", f"{MODELS}:crash", "basic-block"])
            assert rows[f"{MODELS}:crash"]["error"] == "the Ray worker running this model died (the task was retried once)"
            assert rows["lenet5"]["macs"] == "416520" and rows["basic-block"]["error"] == ""
        finally:
            head.send_signal(signal.SIGTERM)  # --block: the head stops every process it started
            head.wait(timeout=90)
        left = subprocess.run(["pgrep", "-f", temp], capture_output=True, text=True).stdout.split()
        assert left == [], left
