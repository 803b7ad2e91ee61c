"""What a sweep saves: 20 serial `archscope summary` processes against one `archscope sweep --jobs 2`.

    python benchmarks/sweep_cost.py [--models 20] [--jobs 2] [--repeats 1]

The models are the zoo's smallest entries by their reference MACs, where a summary's cost is
nearly all ``import torch``: each `summary` process pays it, the sweep pays it once per worker
(and once in its own process, overlapped with the workers'). Both runs are timed end to end,
alternately when repeated; the ratio of the medians is printed (aim: at least 3x on a 2-core
machine). It also checks that the sweep's params and MACs equal the summaries' JSON. The
machine is shared and noisy, so this prints what it measured and never fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARCHSCOPE = [sys.executable, "-m", "archscope"]


def smallest(count: int) -> list[str]:
    from archscope.zoo import list_entries

    entries = sorted(list_entries(), key=lambda e: (e.reference.macs, e.name))
    return [e.name for e in entries[:count]]


def serial(names: list[str]) -> tuple[float, dict[str, dict]]:
    start = time.perf_counter()
    totals = {}
    for name in names:
        done = subprocess.run([*ARCHSCOPE, "summary", name, "-f", "json"], capture_output=True, text=True, check=True)
        totals[name] = json.loads(done.stdout)["totals"]
    return time.perf_counter() - start, totals


def swept(names: list[str], jobs: int) -> tuple[float, dict[str, dict]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.csv"
        start = time.perf_counter()
        subprocess.run([*ARCHSCOPE, "sweep", *names, "--jobs", str(jobs), "-o", str(out), "-q"], check=True)
        elapsed = time.perf_counter() - start
        rows = {r["model"]: r for r in csv.DictReader(out.open())}
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    names = smallest(args.models)
    subprocess.run([*ARCHSCOPE, "summary", names[0]], capture_output=True, check=True)  # warm the file cache
    serial_times, sweep_times = [], []
    for _ in range(args.repeats):
        seconds, totals = serial(names)
        serial_times.append(seconds)
        seconds, rows = swept(names, args.jobs)
        sweep_times.append(seconds)
    same = all(int(rows[n]["params"]) == totals[n]["params"] and int(rows[n]["macs"]) == totals[n]["macs"] for n in names)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    a, b = statistics.median(serial_times), statistics.median(sweep_times)
    print(f"models: {', '.join(names)}")
    print(f"{args.models} serial 'archscope summary' processes: {a:7.2f} s")
    print(f"'archscope sweep' of the same, --jobs {args.jobs}:   {b:7.2f} s")
    print(f"params and MACs equal summary's: {'yes' if same else 'NO'}")
    print(f"ratio (serial / sweep): {a / b:.2f} (aim: at least 3); 1-minute load average at the end: {load:.2f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip


if __name__ == "__main__":
    main()
