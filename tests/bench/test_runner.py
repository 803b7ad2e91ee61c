"""The benchmark sweep on the CPU: every option's logic, out-of-memory rows, Ctrl-C, and the records."""

import json

import pytest
import torch
import torch.nn as nn

import archscope
from archscope.bench import benchmark
from archscope.bench.device import resolve_device
from archscope.analysis.compat import is_out_of_memory
from archscope.bench.runner import TRAIN_FLOPS_FACTOR
from archscope.errors import ArchscopeError
from archscope.render.views import bench_view
from archscope.render.writers import plain_text

FAST = dict(min_time=0.05, warmup=1, calibrate=False)


class OutOfMemoryAbove(nn.Module):
    """A model that raises torch's CUDA out-of-memory error on purpose for batches above a limit."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x):
        if x.shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.conv(x)


class InterruptOnSecondBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x):
        if x.shape[0] == 2:
            raise KeyboardInterrupt
        return self.conv(x)


def test_a_row_per_model_and_batch_with_every_figure(zoo_summary):
    report = benchmark(["lenet5", "vgg-cifar"], batch_sizes=[1, 4], **FAST)
    assert [(r.model, r.batch_size) for r in report.results] == [("lenet5", 1), ("lenet5", 4), ("vgg-cifar", 1), ("vgg-cifar", 4)]
    r = report.results[1]
    assert r.input_shape == [4, 1, 32, 32] and r.error is None
    assert r.latency_ms.p10 <= r.latency_ms.median <= r.latency_ms.p90 and r.latency_ms.runs >= 5
    assert r.throughput == pytest.approx(4 / (r.latency_ms.median / 1e3))
    assert r.flops == archscope.summarize("lenet5", batch_size=4).totals.flops
    assert r.achieved_flops == pytest.approx(r.flops / (r.latency_ms.median / 1e3))
    assert r.peak_memory_bytes >= zoo_summary("lenet5").totals.param_bytes
    assert "live tensors" in r.memory_source
    assert r.peak_fraction is None  # not calibrated in this test


def test_peak_fraction_uses_the_calibrated_matmul_peak():
    report = benchmark("lenet5", min_time=0.05, warmup=1)
    env, r = report.environment, report.results[0]
    assert env.peak_flops > 1e8 and "matrix multipl" in env.peak_source
    assert r.peak_fraction == pytest.approx(r.achieved_flops / env.peak_flops)


def test_training_counts_three_times_the_forward_flops_and_memory_for_gradients(zoo_summary):
    inference = benchmark("lenet5", **FAST).results[0]
    train = benchmark("lenet5", mode="train", **FAST).results[0]
    assert train.mode == "train" and train.flops == TRAIN_FLOPS_FACTOR * archscope.summarize("lenet5", train=True).totals.flops
    params = zoo_summary("lenet5").totals.param_bytes
    assert train.analytic_memory_bytes - inference.analytic_memory_bytes >= 2 * params


def test_out_of_memory_is_reported_in_its_row_and_the_sweep_goes_on():
    report = benchmark([OutOfMemoryAbove(2), "lenet5"], batch_sizes=[1, 4, 2], input_size="1x32x32", **FAST)
    rows = {(r.model, r.batch_size): r for r in report.results}
    # How much was asked (from the allocator's message), what there is, and a smaller batch.
    error = rows[("OutOfMemoryAbove", 4)].error
    assert error.startswith("out of memory at batch 4 on cpu: an allocation of 2.0 GiB failed") and error.endswith("try batch 2")
    assert rows[("OutOfMemoryAbove", 1)].error is None and rows[("OutOfMemoryAbove", 2)].error is None
    assert all(rows[("lenet5", b)].error is None for b in (1, 4, 2))
    failed = rows[("OutOfMemoryAbove", 4)].to_dict()
    assert "error" in failed and "latency_ms" not in failed and "throughput" not in failed


def test_auto_batch_halves_until_it_fits():
    r = benchmark(OutOfMemoryAbove(3), batch_sizes=[16], input_size=(1, 16, 16), auto_batch=True, **FAST).results[0]
    assert r.error is None and r.batch_size == 2 and r.input_shape[0] == 2
    assert r.note == "batch halved from 16 to 2 by --auto-batch to fit in memory"


def test_ctrl_c_stops_and_keeps_what_finished():
    report = benchmark([InterruptOnSecondBatch(), "lenet5"], batch_sizes=[1, 2, 4], input_size="1x32x32", **FAST)
    assert report.interrupted
    assert [(r.model, r.batch_size) for r in report.results] == [("InterruptOnSecondBatch", 1)]


def test_options_run_dtype_channels_last_threads():
    before = torch.get_num_threads()
    report = benchmark("vgg-cifar", dtype="bfloat16", channels_last=True, threads=1, **FAST)
    assert report.results[0].error is None and report.results[0].dtype == "bfloat16"
    assert report.environment.cpu_threads == 1 and report.environment.channels_last
    assert torch.get_num_threads() == before


def test_the_users_model_is_not_moved_or_changed():
    model = nn.Sequential(nn.Conv2d(3, 4, 3)).eval()
    before = model[0].weight.clone()
    benchmark(model, input_size=(3, 16, 16), mode="train", **FAST)
    assert torch.equal(model[0].weight, before) and not model.training


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(device="cuda"), "CUDA is not available"),
        (dict(device="cuda:3"), "CUDA is not available"),
        (dict(device="tpu"), "unknown device 'tpu'"),
        (dict(device="mps"), "not supported"),
        (dict(dtype="float64"), "unknown dtype"),
        (dict(mode="eval"), "unknown mode"),
        (dict(batch_sizes=[0]), "at least 1"),
        (dict(threads=0), "--threads must be from 1 to"),
        (dict(threads=50_000), "--threads must be from 1 to"),
        (dict(min_time=float("inf")), "--min-time must be"),
        (dict(min_time=float("nan")), "--min-time must be"),
        (dict(min_time=0), "--min-time must be"),
        (dict(min_time=1e9), "--min-time must be"),
        (dict(warmup=-1), "--warmup must be from 0"),
        (dict(warmup=10**12), "--warmup must be from 0"),
        (dict(models=[]), "no model to benchmark"),
    ],
)
def test_bad_options_are_clear_errors(kwargs, message):
    arguments = {"models": "lenet5", **FAST, **kwargs}
    with pytest.raises(ArchscopeError, match=message):
        benchmark(**arguments)


@pytest.mark.parametrize(
    "kwargs",
    [dict(batch_sizes=[2.5]), dict(batch_sizes=[True]), dict(batch_sizes="8"), dict(threads=1.5), dict(warmup=0.5),
     dict(min_time="1"), dict(models=[42])],
)  # fmt: skip
def test_wrong_types_are_type_errors_never_silently_converted(kwargs):
    arguments = {"models": "lenet5", **FAST, **kwargs}
    with pytest.raises(TypeError, match="must be"):
        benchmark(**arguments)


def test_a_single_batch_size_may_be_given_as_an_int():
    assert [r.batch_size for r in benchmark("lenet5", batch_sizes=2, **FAST).results] == [2]


def test_calibration_grows_the_matrix_only_until_one_multiply_takes_long_enough():
    from archscope.bench.peak import choose_size

    # A device on which a multiply of side n takes n^3 / 1e6 ms: 256 -> 17 ms, 512 -> 134 ms.
    slow = lambda n: n**3 / 1e6  # noqa: E731
    assert choose_size(slow, max_size=8192, target_ms=100.0) == 512
    fast = lambda n: n**3 / 1e12  # noqa: E731
    assert choose_size(fast, max_size=2048, target_ms=100.0) == 2048
    assert choose_size(slow, max_size=128) == 128


def test_half_precision_on_the_cpu_calibrates_on_a_matrix_it_can_multiply_quickly(monkeypatch):
    import archscope.bench.peak as peak

    sizes = []
    real = peak.choose_size

    def spy(time_ms_at, max_size, **kwargs):
        # Half precision without native kernels: a 256 multiply takes 60 ms, a 512 one 480 ms.
        sizes.append(real(lambda n: (n / 256) ** 3 * 60.0, max_size, **kwargs))
        return sizes[-1]

    monkeypatch.setattr(peak, "choose_size", spy)
    flops, n = peak.calibrate_peak(torch.device("cpu"), torch.float16)
    assert n == sizes[0] == 512 and flops > 0


def test_the_measured_peak_says_the_dtype_and_matrix_size_it_was_measured_with(monkeypatch):
    import archscope.bench.peak as peak

    monkeypatch.setattr(peak, "calibrate_peak", lambda device, dtype: (2 * 512**3 / 0.01, 512))
    flops, source = peak.measured_peak(torch.device("cpu"), torch.bfloat16)
    assert flops == 2 * 512**3 * 100  # 2 n^3 FLOPs in 10 ms
    assert source == "best of 3 dense bfloat16 512x512 matrix multiplies on cpu"


def test_the_measured_bandwidth_says_the_faster_kernel_and_its_array_size(monkeypatch):
    import archscope.bench.bandwidth as bandwidth

    monkeypatch.setattr(bandwidth, "calibrate_bandwidth", lambda device: (1e10, 256 * 2**20, "add"))
    rate, source = bandwidth.measured_bandwidth(torch.device("cpu"))
    assert rate == 1e10
    assert source.startswith("STREAM's add (c = a + b, 3 arrays moved) on 256 MiB float32 arrays on cpu")


def test_torch_threads_sets_the_count_inside_the_block_and_restores_it_after_an_error():
    from archscope.bench.device import torch_threads

    before = torch.get_num_threads()
    wanted = 1 if before > 1 else 2
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(wanted):
            assert torch.get_num_threads() == wanted
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_auto_picks_cuda_only_when_there_is_one():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_out_of_memory_errors_are_recognised():
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 GB"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_json_contract():
    data = json.loads(json.dumps(benchmark("lenet5", **FAST).to_dict()))
    assert data["schema"] == "archscope.bench/1"
    assert {"torch_version", "device", "device_name", "cpu_threads", "dtype", "compile"} <= set(data["environment"])
    row = data["results"][0]
    assert set(row["latency_ms"]) == {"median", "p10", "p90", "mean", "runs"}
    for key in ("model", "batch_size", "input_shape", "dtype", "mode", "throughput", "peak_memory_bytes",
                "memory_source", "analytic_memory_bytes", "flops", "achieved_flops", "peak_fraction"):  # fmt: skip
        assert key in row


def test_a_busy_machine_is_recorded_and_the_table_says_its_times_may_be_slow(monkeypatch):
    monkeypatch.setattr("os.getloadavg", lambda: (5.0, 4.0, 3.0))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    report = benchmark("lenet5", **FAST)
    assert (report.environment.load_average, report.environment.cpu_count) == (5.0, 2)
    assert report.environment.busy and report.to_dict()["environment"]["load_average"] == 5.0
    text = plain_text(bench_view(report), None)
    assert "load average 5 on 2 CPUs" in text and "--threads 1" in text


def test_a_quiet_machine_gets_no_warning(monkeypatch):
    monkeypatch.setattr("os.getloadavg", lambda: (0.3, 0.2, 0.1))
    report = benchmark("lenet5", **FAST)
    assert not report.environment.busy
    assert "load average" not in plain_text(bench_view(report), None)
