"""The summary (receptive fields included) of a 1202-layer network against a 20-layer one,
and what `rf cifar-resnet1202 --verify` (the gradient measurement) costs in time and memory.

    python benchmarks/rf_cost.py [--repeats 3] [--no-verify]

CIFAR ResNet-1202 has 600 residual blocks, so 2^600 paths from input to output; fields are
propagated once per operator, never per path. Prints, from one run, the wall time of
`archscope summary cifar-resnet1202` and of `cifar-resnet20` (whole processes: what a user
waits for), and the analysis alone in this process, as ratios. The aim is "a few times":
the deep network has 60 times the layers, and its cost should grow with them, not with paths.

Then it runs `archscope rf cifar-resnet1202 --verify -f json` once as its own process and
prints its wall time and peak resident memory (the kernel's maxrss of that process, from
wait4), with the verified field. Aim (issue 20): at most 1.5 GB and 60 s on a quiet machine.
Run it under `flock /tmp/archscope-heavy.lock` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def command_seconds(name: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archscope", "summary", name, "-f", "json"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def verify_cost(name: str) -> tuple[float, int, dict]:
    """Wall seconds and peak resident bytes of `archscope rf NAME --verify -f json`, and its `verify` object."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "archscope", "rf", name, "--verify", "-f", "json"],
                             stdout=subprocess.PIPE)  # fmt: skip
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"archscope rf {name} --verify exited {child.returncode}")
    return seconds, usage.ru_maxrss * 1024, json.loads(out)["verify"]  # Linux: ru_maxrss in KiB


def analysis_seconds(name: str) -> float:
    import archscope

    start = time.perf_counter()
    summary = archscope.summarize(name)
    assert summary.receptive_field is not None
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-verify", action="store_true", help="skip the rf --verify run")
    args = parser.parse_args()
    names = ("cifar-resnet20", "cifar-resnet1202")
    analysis_seconds(names[0])  # warm: the first meta-device analysis imports parts of torch
    process = {n: statistics.median(command_seconds(n) for _ in range(args.repeats)) for n in names}
    alone = {n: statistics.median(analysis_seconds(n) for _ in range(args.repeats)) for n in names}
    import archscope

    layers = {n: len(archscope.summarize(n).layers) for n in names}
    print(f"{'network':<18} {'layer calls':>11} {'command s':>10} {'analysis s':>11}")
    for n in names:
        print(f"{n:<18} {layers[n]:>11} {process[n]:>10.2f} {alone[n]:>11.3f}")
    print(f"\ncommand ratio (1202 / 20): {process[names[1]] / process[names[0]]:.2f}  (aim: a few times)")
    print(
        f"analysis ratio (1202 / 20): {alone[names[1]] / alone[names[0]]:.1f} "
        f"for {layers[names[1]] / layers[names[0]]:.0f}x the layer calls (linear, not exponential)"
    )
    if not args.no_verify:
        seconds, peak, verify = verify_cost(names[1])
        print(f"\nrf {names[1]} --verify: {seconds:.1f} s, peak memory {peak / 1e9:.2f} GB  (aim: at most 60 s, 1.5 GB)")
        print(f"verified {verify['layer']}: measured {verify['measured']}, agree {verify['agree']}")


if __name__ == "__main__":
    main()
