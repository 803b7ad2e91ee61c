"""Profile reports made by hand, with chosen times: the logic that reads times is tested without timing anything."""

from __future__ import annotations

from archscope.bench.profile_records import ProfileDevice, ProfileLayer, ProfileReport
from archscope.bench.records import Machine


def machine(load: float | None = 0.1, cpus: int | None = 2) -> Machine:
    return Machine("2.14.1", "cpu", "a test CPU", 2, load, cpus)


def layer(
    name: str, ms: float, p10: float, p90: float, type: str = "Bottleneck", macs: int = 100, moved: int = 1000,
    kernel: list[int] | None = None,
) -> ProfileLayer:
    return ProfileLayer(
        kernel=kernel,
        name=name, type=type, depth=2, time_ms=ms, p10_ms=p10, p90_ms=p90, share=0.0, macs=macs, flops=2 * macs,
        bytes=moved, intensity=None, achieved_flops=None, achieved_bytes_per_s=None, roofline_flops=None,
        roofline_fraction=None, bound=None, leaf=False,
    )  # fmt: skip


def report(
    layers: list[ProfileLayer], total: tuple[float, float, float] = (10.0, 9.0, 11.0), where: Machine | None = None,
    model: str = "net",
) -> ProfileReport:
    whole = sum(x.time_ms for x in layers)
    for x in layers:
        x.share = x.time_ms / whole if whole else 0.0
    device = ProfileDevice("a test CPU", "cpu", "float32", 2, 1e10, "test", 1e9, "test")
    return ProfileReport(
        model=model, input_shape=[1, 3, 8, 8], batch_size=1, mode="eval", depth=2, channels_last=False,
        machine=where or machine(), warmup=1, min_time_s=0.1, device=device, total_ms=total[0], total_p10_ms=total[1],
        total_p90_ms=total[2], runs=5, instrumented_ms=total[0], layers_sum_ms=whole, layers=layers,
    )  # fmt: skip
