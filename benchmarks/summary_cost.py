"""What a summary costs compared with importing torch, measured in one run.

    python benchmarks/summary_cost.py [--repeats 5]

Times `archscope summary resnet152` and measures the peak RSS of `archscope summary vgg19
-i 3x512x512` (143.7 M parameters: 575 MB if the weights were real), each as a ratio to
`python -c "import torch"` run alternately in the same process tree. Aims: at most 1.25x the
time and 1.5x the memory. Medians over the repeats; the machines are shared and noisy, so
this prints ratios and never fails.

It also times the floor of any meta-device analysis: importing torch and running one
convolution on the meta device. PyTorch's meta kernels are Python (torch._meta_registrations,
torch._refs), and the first one imports sympy (torch._check imports the symbolic-shapes
module; elementwise type promotion imports sympy itself), so no summary costs less than that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

FLOOR = "import torch; torch.conv2d(torch.empty(1, 3, 8, 8, device='meta'), torch.empty(4, 3, 3, 3, device='meta'))"
COMMANDS = {
    "import torch": [sys.executable, "-c", "import torch"],
    "import torch + 1 meta conv": [sys.executable, "-c", FLOOR],
    "summary resnet152": [sys.executable, "-m", "archscope", "summary", "resnet152"],
    "summary vgg19 -i 3x512x512": [sys.executable, "-m", "archscope", "summary", "vgg19", "-i", "3x512x512"],
}


def measure(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident set size (bytes) of one run of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    peaks: dict[str, list[int]] = {name: [] for name in COMMANDS}
    measure(COMMANDS["import torch"])  # warm the file cache before anything counts
    for _ in range(args.repeats):
        for name, command in COMMANDS.items():  # interleaved, so drift hits all alike
            seconds, peak = measure(command)
            times[name].append(seconds)
            peaks[name].append(peak)

    base_time = statistics.median(times["import torch"])
    base_peak = statistics.median(peaks["import torch"])
    print(f"{'command':<30} {'median s':>9} {'x torch':>8} {'peak MiB':>9} {'x torch':>8}")
    for name in COMMANDS:
        t, p = statistics.median(times[name]), statistics.median(peaks[name])
        print(f"{name:<30} {t:9.2f} {t / base_time:8.2f} {p / 2**20:9.0f} {p / base_peak:8.2f}")
    print(
        f"\ntime ratio (summary resnet152 / import torch): {statistics.median(times['summary resnet152']) / base_time:.2f}"
        " (aim: at most 1.25)"
    )
    print(
        "floor (import torch + 1 meta conv / import torch): "
        f"{statistics.median(times['import torch + 1 meta conv']) / base_time:.2f}"
    )
    print(
        "memory ratio (summary vgg19 -i 3x512x512 / import torch): "
        f"{statistics.median(peaks['summary vgg19 -i 3x512x512']) / base_peak:.2f} (aim: at most 1.5)"
    )


if __name__ == "__main__":
    main()
