"""What per-layer timing costs: the sum of `archscope profile`'s layer times against bench's whole-model median.

    python benchmarks/profile_overhead.py [--model resnet50] [--depth 2] [--repeats 3] [--min-time 2] [--threads 1]

In one run, on the CPU, for each repeat: `archscope.benchmark` times the whole model (no
instrumentation), then `profile` times it layer by layer (its own uninstrumented runs
alternate with the instrumented ones). Prints each sum of layer medians, each median, and
the ratios; the goal is a ratio within 10% of 1 for resnet50 (docs: README, "profile").
Times on a shared machine are noisy: read the spread across repeats, not one figure.
"""

from __future__ import annotations

import argparse
import statistics

import torch

import archscope
from archscope.bench.profile import profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    to_bench, to_own = [], []
    ceilings = None
    print(f"{args.model}, batch 1, CPU, {threads} thread(s), depth {args.depth}")
    print(f"{'repeat':>6}  {'layers sum':>10}  {'bench median':>12}  {'profile median':>14}  {'sum/bench':>9}  {'sum/profile':>11}")
    for i in range(args.repeats):
        bench = archscope.benchmark(args.model, min_time=args.min_time, calibrate=False, threads=threads)
        bench_ms = bench.results[0].latency_ms.median
        report = profile(args.model, depth=args.depth, min_time=args.min_time, threads=threads, ceilings=ceilings)
        ceilings = report.device  # measured once, then reused
        to_bench.append(report.layers_sum_ms / bench_ms)
        to_own.append(report.coverage)
        print(f"{i + 1:>6}  {report.layers_sum_ms:>8.1f}ms  {bench_ms:>10.1f}ms  {report.total_ms:>12.1f}ms  "
              f"{to_bench[-1]:>9.3f}  {to_own[-1]:>11.3f}")  # fmt: skip
    print(f"median ratio, sum of layer times / bench's whole-model median:    {statistics.median(to_bench):.3f}")
    print(f"median ratio, sum of layer times / profile's own uninstrumented:  {statistics.median(to_own):.3f}")


if __name__ == "__main__":
    main()
