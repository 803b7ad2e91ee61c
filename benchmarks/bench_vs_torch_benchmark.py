"""archscope's median latency against torch.utils.benchmark's, for the same model in one run.

    python benchmarks/bench_vs_torch_benchmark.py [--model resnet18] [--repeats 3]

Times resnet18 at batch 1 on the CPU with archscope.benchmark and with
torch.utils.benchmark.Timer(...).blocked_autorange(), alternately, with the same thread
count, and prints each median and their ratio. They should agree within a few percent.
This is the real comparison; tests/bench/test_timing.py holds the timing logic (warm-up, the
loop, the statistics) with a fake clock and never times anything.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch.utils import benchmark as torch_benchmark

import archscope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=2.0)
    args = parser.parse_args()

    threads = torch.get_num_threads()
    model = archscope.create_model(args.model).eval()
    x = torch.randn(1, *archscope.zoo.get_entry(args.model).input_size)

    def step() -> None:
        with torch.inference_mode():
            model(x)

    ours, theirs = [], []
    for _ in range(args.repeats):
        report = archscope.benchmark(model, input_size=tuple(x.shape[1:]), min_time=args.min_time, threads=threads, calibrate=False)
        ours.append(report.results[0].latency_ms.median)
        timer = torch_benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads)
        theirs.append(timer.blocked_autorange(min_run_time=args.min_time).median * 1e3)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{args.model}, batch 1, CPU, {threads} threads")
    print(f"archscope.benchmark median:                 {a:8.2f} ms  (runs: {', '.join(f'{t:.2f}' for t in ours)})")
    print(f"torch.utils.benchmark blocked_autorange:    {b:8.2f} ms  (runs: {', '.join(f'{t:.2f}' for t in theirs)})")
    print(f"ratio archscope / torch.utils.benchmark:    {a / b:8.3f}")


if __name__ == "__main__":
    main()
