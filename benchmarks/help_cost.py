"""What `archscope --help` costs, as a ratio to starting Python and to importing torch.

Runs each command as a whole process several times in one run and prints the medians and
the ratios. The goal: `--help` well under half a second, nowhere near `import torch`.

    python benchmarks/help_cost.py --repeats 7
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    archscope = shutil.which("archscope") or sys.exit("archscope is not on PATH: pip install -e . first")
    python = median_seconds([sys.executable, "-c", "pass"], args.repeats)
    torch = median_seconds([sys.executable, "-c", "import torch"], args.repeats)
    help_ = median_seconds([archscope, "--help"], args.repeats)
    version = median_seconds([archscope, "--version"], args.repeats)
    print(f"python -c pass        {python:6.3f} s")
    print(f"python -c import torch {torch:6.3f} s")
    print(f"archscope --help      {help_:6.3f} s   {help_ / python:5.1f}x python, {help_ / torch:5.2f}x import torch")
    print(f"archscope --version   {version:6.3f} s   {version / python:5.1f}x python, {version / torch:5.2f}x import torch")


if __name__ == "__main__":
    main()
