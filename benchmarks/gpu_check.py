"""archscope's CUDA figures against independent measurements, in one command and one table.

    python benchmarks/gpu_check.py                         # one GPU, within 8 minutes
    python benchmarks/gpu_check.py --device cpu --quick    # the same checks, reduced, on the CPU (CI)

Each row checks one figure archscope reports, through its Python API (``archscope.benchmark``,
``archscope.summarize``, ``archscope.profile``), against a measurement made here by other means:

* ``bench`` medians at each batch, in fp32, bf16 (autocast), channels-last and ``--compile``,
  against a plain timing loop written below (CUDA events around each step, the same warm-up and
  the same number of timed steps): within 5%;
* ``summary --train``'s training memory against ``torch.cuda.max_memory_allocated`` over one real
  SGD step (after a first step has made the momentum buffers): within 10%;
* ``summary --fit``: its batch runs within the budget, and 15% more does not (or the table says
  that it does);
* ``profile``'s rows, summed, against its own whole-model median: within 10%;
* the peak FLOP/s (fp32, bf16) and bandwidth the benchmark and the profile calibrate, against
  the device's published figures (``PUBLISHED``, from the vendor's data sheets): a measured
  ceiling above the published one, or under 30% of it, fails.

Every figure printed was measured in this run, except the published ones, which are named as
such. The exit status is 0 when every row passes, 1 when one fails, 2 when the check cannot run.
In ``--quick`` (a small model, small batches, short timings) the rows that compare two timings
are shown but do not decide the exit status: on a shared CPU two timings taken a second apart
differ by more than 5%, and the test suite never asserts a timing ratio. The CPU has no
``max_memory_allocated``: its real step is measured by following every storage from creation to
release (``archscope.bench.memory``), and the table says so.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

import archscope
from archscope.errors import ArchscopeError

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class Published:
    """A GPU's dense peaks and memory bandwidth as its data sheet gives them (no sparsity)."""

    name: str
    fp32_tflops: float  # FP32, not TF32 (torch's float32 matmul default)
    bf16_tflops: float  # BF16 tensor core, dense (the data sheets print twice this "with sparsity")
    bandwidth_tbs: float  # memory bandwidth, TB/s
    source: str


_A100 = "NVIDIA A100 Tensor Core GPU data sheet (2021)"
# Matched in order against torch.cuda.get_device_name (the first substring that appears wins).
PUBLISHED = [
    ("H200 NVL", Published("NVIDIA H200 NVL", 60.0, 835.5, 4.8, "NVIDIA H200 Tensor Core GPU data sheet (2024)")),
    ("H200", Published("NVIDIA H200 SXM", 67.0, 989.5, 4.8, "NVIDIA H200 Tensor Core GPU data sheet (2024)")),
    ("H100 NVL", Published("NVIDIA H100 NVL", 60.0, 835.5, 3.9, "NVIDIA H100 Tensor Core GPU data sheet (2023)")),
    ("H100 PCIe", Published("NVIDIA H100 PCIe", 51.0, 756.5, 2.0, "NVIDIA H100 Tensor Core GPU data sheet (2023)")),
    ("H100", Published("NVIDIA H100 SXM", 67.0, 989.5, 3.35, "NVIDIA H100 Tensor Core GPU data sheet (2023)")),
    ("A100-SXM4-80GB", Published("NVIDIA A100 80GB SXM", 19.5, 312.0, 2.039, _A100)),
    ("A100 80GB PCIe", Published("NVIDIA A100 80GB PCIe", 19.5, 312.0, 1.935, _A100)),
    ("A100", Published("NVIDIA A100 40GB", 19.5, 312.0, 1.555, _A100)),
    ("L4", Published("NVIDIA L4", 30.3, 121.0, 0.300, "NVIDIA L4 Tensor Core GPU data sheet (2023)")),
]


def published_for(device_name: str) -> Published | None:
    return next((figures for key, figures in PUBLISHED if key in device_name), None)


@dataclass(frozen=True)
class Variant:
    name: str
    dtype: str = "float32"
    channels_last: bool = False
    compile: bool = False


@dataclass(frozen=True)
class Plan:
    """What one run checks: the full plan on a GPU, a reduced one with --quick."""

    model: str
    input_size: str | None  # None: the network's own (224x224 for ResNet-50)
    batches: tuple[int, ...]
    variants: tuple[Variant, ...]
    warmup: int
    min_time: float  # seconds of timed steps per bench row (and per half of the profile)
    train_batches: tuple[int, ...]
    fit_budget: int  # bytes
    profile_batch: int
    threads: int | None = None  # CPU threads for every timing (None: torch's default)
    skipped: tuple[str, ...] = ()  # checks this plan leaves out, and why


FULL = Plan(
    model="resnet50", input_size=None, batches=(1, 32, 256),
    variants=(Variant("fp32"), Variant("bf16", dtype="bfloat16"), Variant("channels-last", channels_last=True),
              Variant("compile", compile=True)),
    warmup=10, min_time=1.0, train_batches=(32, 128), fit_budget=16 * GiB, profile_batch=32,
)  # fmt: skip
QUICK = Plan(
    model="cifar-resnet20", input_size=None, batches=(1, 4),
    variants=(Variant("fp32"), Variant("bf16", dtype="bfloat16"), Variant("channels-last", channels_last=True)),
    warmup=1, min_time=0.05, train_batches=(2, 8), fit_budget=24 * MiB, profile_batch=2,
    threads=1,  # a small model gains nothing from more, and a shared machine's other work slows threads that wait
    skipped=("bench --compile: torch.compile needs a C++ toolchain and minutes of compiling; the full plan runs it",),
)  # fmt: skip


@dataclass
class Row:
    check: str
    archscope: str  # archscope's figure
    reference: str  # the independent figure, and what it is
    ratio: float | None
    limit: str
    result: str  # pass, fail, note (reported, not judged) or "-" (nothing to compare with)
    timing: bool = False  # compares two timings: not counted by --quick


@dataclass
class Check:
    """One run of the checks on one device."""

    plan: Plan
    device: torch.device
    quick: bool
    rows: list[Row] = field(default_factory=list)
    peaks: dict[str, float | None] = field(default_factory=dict)  # what the bench and the profile calibrated
    baseline: int = 0  # bytes allocated on the GPU before a real step's model was built
    sample: tuple[int, ...] = ()  # the network's own input, once looked up

    # ------------------------------------------------------------------ helpers shared by CPU and CUDA

    @property
    def threads(self) -> int | None:
        return self.plan.threads if self.device.type == "cpu" else None

    def shape(self) -> tuple[int, ...]:
        """One sample's input: the plan's, or the network's own (from its summary, on the meta device)."""
        if self.plan.input_size:
            return tuple(int(d) for d in self.plan.input_size.split("x"))
        if not self.sample:
            self.sample = tuple(archscope.summarize(self.plan.model).input_shape[1:])
        return self.sample

    def fresh(self, train: bool = False) -> torch.nn.Module:
        """The model built anew with random weights on the device, as a user would build it."""
        return archscope.create_model(self.plan.model).to(self.device).train(train)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def free(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def step_ms(self, step: Callable[[], object]) -> float:
        """One step's milliseconds: CUDA events around it on a GPU, the wall clock on the CPU."""
        if self.device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        begin = time.perf_counter()
        step()
        return (time.perf_counter() - begin) * 1e3

    def peak_bytes(self, step: Callable[[], object], resident: list[torch.Tensor]) -> tuple[int, str]:
        """Bytes at the peak of one run of ``step`` beyond what was allocated before the model was built."""
        if self.device.type == "cuda":
            self.synchronize()
            torch.cuda.reset_peak_memory_stats(self.device)
            step()
            self.synchronize()
            return torch.cuda.max_memory_allocated(self.device) - self.baseline, "torch.cuda.max_memory_allocated"
        from archscope.bench.memory import cpu_step_peak

        return cpu_step_peak(step, resident), "live tensors of the real step"

    # ------------------------------------------------------------------ the checks

    def bench(self) -> None:
        """bench's median beside a plain loop: the same warm-up, the same number of timed steps."""
        plan = self.plan
        for variant in plan.variants:
            report = archscope.benchmark(
                plan.model, list(plan.batches), plan.input_size, device=str(self.device), dtype=variant.dtype,
                channels_last=variant.channels_last, compile=variant.compile, warmup=plan.warmup,
                min_time=plan.min_time, threads=self.threads,
            )  # fmt: skip
            self.peaks.setdefault(f"{variant.dtype} matmul", report.environment.peak_flops)
            for result in report.results:
                check = f"bench {plan.model} b{result.batch_size} {variant.name}: median ms"
                if result.error or result.latency_ms is None:
                    self.rows.append(Row(check, f"error: {result.error}", "-", None, "runs", "fail", timing=True))
                    continue
                plain = self.plain_median(variant, result.batch_size, result.latency_ms.runs)
                ratio = result.latency_ms.median / plain
                self.rows.append(Row(check, f"{result.latency_ms.median:.3f}", f"{plain:.3f} (plain loop, "
                                     f"{result.latency_ms.runs} steps)", ratio, "within 5%",
                                     verdict(abs(ratio - 1) <= 0.05), timing=True))  # fmt: skip
            self.free()

    def plain_median(self, variant: Variant, batch: int, runs: int) -> float:
        model = self.fresh()
        x = torch.randn(batch, *self.shape(), device=self.device)
        if variant.channels_last:
            model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
        if variant.compile:
            model = torch.compile(model)
        dtype = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}[variant.dtype]
        cast = torch.autocast(self.device.type, dtype=dtype) if dtype else contextlib.nullcontext()

        def step() -> None:
            with torch.inference_mode(), cast:
                model(x)

        for _ in range(self.plan.warmup):
            step()
        self.synchronize()
        times = sorted(self.step_ms(step) for _ in range(runs))
        del model, x
        self.free()
        return times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2

    def real_train_peak(self, batch: int) -> tuple[int, str]:
        """One SGD step with momentum (forward, backward, update) on the device, after a first one made the momentum."""
        self.free()
        self.baseline = torch.cuda.memory_allocated(self.device) if self.device.type == "cuda" else 0
        model = self.fresh(train=True)
        x = torch.randn(batch, *self.shape(), device=self.device)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            model(x).float().mean().backward()
            optimizer.step()

        step()
        optimizer.zero_grad(set_to_none=True)
        resident = [*model.parameters(), *model.buffers(), x]
        resident += [v for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
        peak, source = self.peak_bytes(step, resident)
        del model, x, optimizer, resident
        self.free()
        return peak, source

    def training_memory(self) -> None:
        plan = self.plan
        for batch in plan.train_batches:
            summary = archscope.summarize(plan.model, plan.input_size, batch, train=True)
            estimate = summary.totals.training_memory.peak
            measured, source = self.real_train_peak(batch)
            ratio = estimate / measured
            self.rows.append(Row(f"summary {plan.model} --train b{batch}: training memory", mib(estimate),
                                 f"{mib(measured)} ({source})", ratio, "within 10%",
                                 verdict(abs(ratio - 1) <= 0.10)))  # fmt: skip

    def fit(self) -> None:
        from archscope.analysis.training import fit_batch

        plan = self.plan
        fit = fit_batch(plan.model, plan.fit_budget, plan.input_size)
        budget = f"{plan.fit_budget / GiB:g} GiB" if plan.fit_budget >= GiB else f"{plan.fit_budget / MiB:g} MiB"
        if fit.batch_size < 1:
            self.rows.append(Row(f"summary {plan.model} --fit {budget}", "batch 0", "-", None, "a batch fits", "fail"))
            return
        measured, source = self.real_train_peak(fit.batch_size)
        self.rows.append(Row(f"summary --fit {budget}: batch {fit.batch_size} runs", f"{mib(fit.peak)} estimated",
                             f"{mib(measured)} ({source})", measured / plan.fit_budget, "within the budget",
                             verdict(measured <= plan.fit_budget)))  # fmt: skip
        more = math.ceil(fit.batch_size * 1.15)
        measured, source = self.real_train_peak(more)
        fits = measured <= plan.fit_budget
        self.rows.append(Row(f"summary --fit {budget}: batch {more} (15% more)", "does not fit",
                             f"{mib(measured)} ({source})", measured / plan.fit_budget, "over the budget",
                             "note: it fits" if fits else "pass"))  # fmt: skip

    def profile(self) -> None:
        plan = self.plan
        report = archscope.profile(plan.model, plan.input_size, batch_size=plan.profile_batch, device=str(self.device),
                                   warmup=plan.warmup, min_time=plan.min_time, threads=self.threads)  # fmt: skip
        rows = sum(layer.time_ms for layer in report.layers)
        ratio = rows / report.total_ms
        self.rows.append(Row(f"profile {plan.model} b{plan.profile_batch}: sum of {len(report.layers)} rows, ms",
                             f"{rows:.3f}", f"{report.total_ms:.3f} (its whole-model median)", ratio, "within 10%",
                             verdict(abs(ratio - 1) <= 0.10), timing=True))  # fmt: skip
        self.peaks["bandwidth"] = report.device.bandwidth_bytes_per_s

    def ceilings(self) -> None:
        """The calibrated peaks beside the data sheet's (none for a CPU, or a GPU not in PUBLISHED)."""
        from archscope.bench.device import device_name

        name = device_name(self.device)
        sheet = published_for(name) if self.device.type == "cuda" else None
        figures = [("float32 matmul", "FLOP/s", sheet and sheet.fp32_tflops * 1e12),
                   ("bfloat16 matmul", "FLOP/s", sheet and sheet.bf16_tflops * 1e12),
                   ("bandwidth", "B/s", sheet and sheet.bandwidth_tbs * 1e12)]  # fmt: skip
        for key, unit, reference in figures:
            measured = self.peaks.get(key)
            if measured is None:
                continue
            check = f"calibrated {key} peak, {unit}"
            if reference is None:
                why = "no published figures for a CPU" if self.device.type == "cpu" else f"{name}: not in PUBLISHED"
                self.rows.append(Row(check, f"{measured:.4g}", why, None, "-", "-"))
                continue
            ratio = measured / reference
            self.rows.append(Row(check, f"{measured:.4g}", f"{reference:.4g} (published: {sheet.source})", ratio,
                                 "30% to 105%", verdict(0.30 <= ratio <= 1.05)))  # fmt: skip


def verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def mib(n: float) -> str:
    return f"{n / MiB:,.1f} MiB"


def table(rows: list[Row]) -> str:
    header = ("check", "archscope", "independent", "ratio", "limit", "result")
    cells = [header] + [(r.check, r.archscope, r.reference, "-" if r.ratio is None else f"{r.ratio:.3f}", r.limit,
                         r.result) for r in rows]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default: cuda)")
    parser.add_argument("--quick", action="store_true", help="a small model, small batches and short timings")
    args = parser.parse_args(argv)
    from archscope.bench.device import device_name, resolve_device

    try:
        device = resolve_device(args.device)
    except ArchscopeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    check = Check(plan, device, args.quick)
    if check.threads:
        torch.set_num_threads(check.threads)  # the plain loops and the real steps run as bench does
    print(f"archscope {archscope.__version__}, torch {torch.__version__}, {device} ({device_name(device)})"
          f"{', --quick' if args.quick else ''}", flush=True)  # fmt: skip
    steps = (("bench", check.bench), ("summary --train", check.training_memory), ("summary --fit", check.fit),
             ("profile", check.profile), ("ceilings", check.ceilings))  # fmt: skip
    for label, run in steps:
        print(f"  {label}... ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        try:
            run()
        except Exception as error:  # noqa: BLE001 - one check failing must not hide the others
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            check.rows.append(Row(label, f"error: {type(error).__name__}: {first}", "-", None, "runs", "fail"))
    print(table(check.rows))
    for skipped in plan.skipped:
        print(f"not run here: {skipped}")
    counted = [r for r in check.rows if not (args.quick and r.timing)]
    failed = [r for r in counted if r.result == "fail"]
    if args.quick:
        print("--quick: the rows comparing two timings are shown but do not decide the exit status")
    print(f"{len(check.rows)} checks, {sum(r.result == 'fail' for r in check.rows)} failed, "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
