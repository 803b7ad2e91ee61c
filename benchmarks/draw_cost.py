"""What `archscope draw` costs compared with `archscope summary`, measured in one run.

    python benchmarks/draw_cost.py [--repeats 5] [--model inception-v4]

Times `archscope summary MODEL` and `archscope draw MODEL -o MODEL.svg` (and `.png`) as whole
commands, alternately, and prints each median and its ratio to the summary's. The drawing
comes from the summary's own pass, so the aim is at most about 2x. The machines are shared and
noisy, so this prints ratios and never fails.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(command: list[str]) -> float:
    """Wall seconds of one run of ``command``."""
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="inception-v4")
    args = parser.parse_args()

    archscope = [sys.executable, "-m", "archscope"]
    with tempfile.TemporaryDirectory() as folder:
        commands = {
            f"summary {args.model}": [*archscope, "summary", args.model],
            f"draw {args.model} -o net.svg": [*archscope, "draw", args.model, "-o", str(Path(folder) / "net.svg")],
            f"draw {args.model} -o net.png": [*archscope, "draw", args.model, "-o", str(Path(folder) / "net.png")],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        measure(commands[f"summary {args.model}"])  # warm the file cache before anything counts
        for _ in range(args.repeats):
            for name, command in commands.items():  # interleaved, so drift hits all alike
                times[name].append(measure(command))

    base = statistics.median(times[f"summary {args.model}"])
    print(f"{'command':<36} {'median s':>9} {'x summary':>10}")
    for name, values in times.items():
        print(f"{name:<36} {statistics.median(values):9.2f} {statistics.median(values) / base:10.2f}")
    ratio = statistics.median(times[f"draw {args.model} -o net.svg"]) / base
    print(f"\ntime ratio (draw {args.model} -o net.svg / summary {args.model}): {ratio:.2f} (aim: at most about 2)")


if __name__ == "__main__":
    main()
