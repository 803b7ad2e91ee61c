"""Plain records of a per-layer profile; ``ProfileReport.to_dict()`` is the ``archscope.profile/1`` JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from archscope.bench.records import Machine



@dataclass
class ProfileDevice:
    """The device's two ceilings of the roofline model, each measured in this run."""

    name: str  # e.g. "Intel(R) Xeon(R) Processor", "NVIDIA H100 80GB HBM3"
    device: str  # "cpu", "cuda:0"
    dtype: str
    threads: int  # CPU threads torch used
    peak_flops: float | None  # calibrated dense-matmul FLOP/s at this dtype
    peak_source: str | None
    bandwidth_bytes_per_s: float | None  # calibrated copy bandwidth
    bandwidth_source: str | None

    @property
    def ridge_intensity(self) -> float | None:
        """FLOPs per byte where the memory roof meets the compute roof (Williams et al. 2009)."""
        if not self.peak_flops or not self.bandwidth_bytes_per_s:
            return None
        return self.peak_flops / self.bandwidth_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ridge_intensity": self.ridge_intensity}


@dataclass
class ProfileLayer:
    """One layer call at the profile's depth: measured time beside its counts and the roofline."""

    name: str
    type: str
    depth: int
    time_ms: float  # median over the instrumented runs (forward + backward in training)
    p10_ms: float
    p90_ms: float
    share: float  # of the sum of the layers' times
    macs: int  # from the summary (plus the backward pass's in training)
    flops: int
    bytes: int  # least memory traffic: each operator's inputs read and outputs written once
    intensity: float | None  # FLOPs per byte; None when nothing is moved
    achieved_flops: float | None  # FLOP/s at the median time
    achieved_bytes_per_s: float | None
    roofline_flops: float | None  # min(peak, intensity x bandwidth): what the device allows at this intensity
    roofline_fraction: float | None  # achieved / roofline (bytes/s / bandwidth for a layer with no FLOPs)
    bound: str | None  # "compute" or "memory": which roof is lower at this intensity
    forward_ms: float | None = None  # training: the two passes apart
    backward_ms: float | None = None
    mac_share: float = 0.0  # of the layers' MACs
    kernel: list[int] | None = None  # a convolution's or pooling's window, per axis
    leaf: bool = True  # a single layer, not a block of them


# How much longer the slower of two identical layers must take, beyond their spread, before
# the profile says the machine was unsteady (small differences come from caches and placement).
TWIN_RATIO = 1.5


@dataclass
class ProfileReport:
    SCHEMA: ClassVar[str] = "archscope.profile/1"

    model: str
    input_shape: Any  # [N, C, H, W], or a list of shapes for several inputs
    batch_size: int
    mode: str  # "eval" or "train" (forward, backward and an SGD step)
    depth: int
    channels_last: bool
    machine: Machine  # torch, the device, its threads, and how busy the machine was as the run began
    warmup: int
    min_time_s: float
    device: ProfileDevice
    total_ms: float  # median of whole-model steps without instrumentation, timed as bench times them
    total_p10_ms: float
    total_p90_ms: float
    runs: int
    instrumented_ms: float  # median of the instrumented steps, start to end
    layers_sum_ms: float  # the sum of the layers' median times
    optimizer_ms: float | None = None  # training: the SGD step's median
    layers: list[ProfileLayer] = field(default_factory=list)
    timing_source: str = ""  # how the layer boundaries were timed

    def disagreeing_twins(self) -> list[tuple[ProfileLayer, ProfileLayer]]:
        """Layers that do the same work but whose times disagree beyond their spread, fastest and slowest of each kind.

        Two calls of the same type with the same window, MACs, FLOPs and bytes (ResNet's
        identical blocks in a stage) should take the same time; when the slower one's p10 is
        above the faster one's p90 and its median is at least ``TWIN_RATIO`` times as long,
        something other than the model changed between them: other processes took the CPU, or
        its clock speed changed. The profile's table then says so, as bench does for a busy machine.
        """
        kinds: dict[tuple, list[ProfileLayer]] = {}
        for layer in self.layers:
            if layer.macs or layer.bytes:
                key = (layer.type, tuple(layer.kernel or ()), layer.macs, layer.flops, layer.bytes, layer.leaf)
                kinds.setdefault(key, []).append(layer)
        pairs = []
        for twins in kinds.values():
            fast, slow = min(twins, key=lambda x: x.time_ms), max(twins, key=lambda x: x.time_ms)
            if slow.p10_ms > fast.p90_ms and slow.time_ms >= TWIN_RATIO * fast.time_ms:
                pairs.append((fast, slow))
        return pairs

    @property
    def torch_version(self) -> str:
        return self.machine.torch_version

    @property
    def timed_ms(self) -> float:
        """What the rows account for: the layers' times, and the optimizer step in training."""
        return self.layers_sum_ms + (self.optimizer_ms or 0.0)

    @property
    def coverage(self) -> float:
        """The timed parts against the uninstrumented whole: 1 when instrumentation costs nothing and nothing is missed."""
        return self.timed_ms / self.total_ms if self.total_ms else float("nan")

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("device", "layers", "machine")}
        return {
            "schema": self.SCHEMA,
            **data,
            "torch_version": self.torch_version,
            "load_average": self.machine.load_average,
            "cpu_count": self.machine.cpu_count,
            "coverage": self.coverage,
            "device": self.device.to_dict(),
            "layers": [asdict(layer) for layer in self.layers],
        }
