"""The per-layer profile on the CPU: rows, their counts and traffic against hand arithmetic, and the timing's structure.

No test asserts on how long anything takes; where times meet, only what must hold whatever
the machine's load (a layer's time lies inside the step that contains it).
"""

import json
import math

import pytest
import torch
import torch.nn as nn

from archscope.analysis.summary import analyze
from archscope.analysis.traffic import TrafficObserver, operator_bytes, tensor_bytes
from archscope.bench.bandwidth import calibrate_bandwidth
from archscope.bench.profile import Timeline, _Instruments, _steps, layer_figures, profile, roofline, row_indices
from archscope.bench.profile_records import ProfileDevice, ProfileReport
from archscope.errors import ArchscopeError
from archscope.render.profile_text import profile_csv, profile_view
from archscope.render.writers import plain_text

FAST = dict(min_time=0.02, warmup=1, calibrate=False)
CPU = torch.device("cpu")


class ConvThenLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(8 * 6 * 6, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.relu(self.conv(x)), 1))


def test_bytes_and_intensity_of_a_conv_and_a_linear_layer_are_counted_by_hand():
    report = profile(ConvThenLinear(), (3, 8, 8), batch_size=2, **FAST)
    rows = {x.name: x for x in report.layers}
    conv, fc = rows["conv"], rows["fc"]
    # The convolution reads its input, weights and bias once and writes its output once (float32).
    conv_bytes = 4 * (2 * 3 * 8 * 8 + 8 * 3 * 3 * 3 + 8 + 2 * 8 * 6 * 6)
    conv_flops = 2 * (2 * 8 * 6 * 6 * 3 * 3 * 3) + 2 * 8 * 6 * 6
    assert (conv.bytes, conv.flops) == (conv_bytes, conv_flops)
    assert conv.intensity == pytest.approx(conv_flops / conv_bytes)
    # addmm(bias, x, weight.t()): the transpose is a view and moves nothing.
    fc_bytes = 4 * (5 + 2 * 288 + 288 * 5 + 2 * 5)
    fc_flops = 2 * (2 * 288 * 5) + 2 * 5
    assert (fc.bytes, fc.flops) == (fc_bytes, fc_flops)
    assert fc.intensity == pytest.approx(fc_flops / fc_bytes)
    # A ReLU reads and writes each element once: 1 FLOP per 8 bytes.
    assert rows["relu"].intensity == pytest.approx(1 / 8)


def test_traffic_counts_views_as_nothing_and_broadcasts_once():
    x = torch.randn(4, 6)
    assert operator_bytes(torch.ops.aten.t.default, (x,), {}, x.t()) == 0
    bias = torch.randn(6).expand(4, 6)
    assert tensor_bytes(bias) == 6 * 4
    # In place: x is read and written; copy_ writes its target without reading it.
    assert operator_bytes(torch.ops.aten.relu_.default, (x,), {}, x) == 2 * 4 * 24
    assert operator_bytes(torch.ops.aten.copy_.default, (x, x.clone()), {}, x) == 2 * 4 * 24
    assert tensor_bytes(x, float_bytes=2) == 2 * 24  # a float16 run under autocast


def test_a_containers_traffic_includes_what_its_children_hand_each_other():
    block = nn.Sequential(nn.Conv2d(4, 4, 1, bias=False), nn.ReLU())
    traffic = TrafficObserver()
    summary = analyze(nn.Sequential(block), [1, 4, 5, 5], observers=[traffic])
    assert [x.name for x in summary.layers] == ["0", "0.0", "0.1"]
    assert traffic.layer_bytes[0] == traffic.layer_bytes[1] + traffic.layer_bytes[2]
    assert traffic.layer_bytes[2] == 2 * 4 * 4 * 25  # the ReLU: its input read, its output written


def test_rows_are_the_layers_at_the_depth_and_shallower_leaves_without_nesting():
    summary = analyze(ConvThenLinear(), [1, 3, 8, 8])
    assert row_indices(summary.layers, 1) == [0, 1, 2]
    resnet = analyze(__import__("archscope").create_model("cifar-resnet20", device="meta"), [1, 3, 32, 32])
    rows = [resnet.layers[i] for i in row_indices(resnet.layers, 2)]
    names = [x.name for x in rows]
    assert names[:3] == ["conv1", "bn1", "relu"] and "layer1.0" in names and "layer1.0.conv1" not in names
    assert all(x.depth <= 2 for x in rows)
    # Rows never nest, so their times can be added.
    assert not any(b.name.startswith(a.name + ".") for a in rows for b in rows)


def test_the_roofline_is_the_lower_of_the_two_ceilings():
    assert roofline(2.0, peak_flops=100.0, bandwidth=10.0) == 20.0  # memory-bound: 2 FLOP/B x 10 B/s
    assert roofline(50.0, peak_flops=100.0, bandwidth=10.0) == 100.0  # compute-bound: the peak
    assert roofline(None, 100.0, 10.0) is None
    device = ProfileDevice("cpu", "cpu", "float32", 1, 100.0, "test", 10.0, "test")
    assert device.ridge_intensity == 10.0
    figures = layer_figures(time_ms=1000.0, macs=10, flops=20, moved=10, device=device)
    assert figures["bound"] == "memory" and figures["roofline_flops"] == 20.0
    assert figures["achieved_flops"] == 20.0 and figures["roofline_fraction"] == 1.0
    copy_only = layer_figures(time_ms=1000.0, macs=0, flops=0, moved=5, device=device)
    assert copy_only["bound"] == "memory" and copy_only["roofline_fraction"] == 0.5  # 5 B/s of 10


def test_each_layer_lies_inside_the_step_that_contains_it():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 3))
    xs = [torch.randn(2, 3, 8, 8)]
    for train in (False, True):
        model.train(train)
        plain, marked = _steps(model, xs, train, torch.float32, CPU)
        instruments = _Instruments(list(model), [str(i) for i in range(5)], train)
        run = instruments.run(marked, CPU)
        assert len(run.forward) == len(run.backward) == 5
        assert all(t >= 0 for t in run.forward + run.backward)
        inside = sum(run.forward) + sum(run.backward) + (run.optimizer or 0.0)
        assert inside <= run.total
        assert (run.optimizer is not None) == train
        if train:
            assert run.backward[0] > 0 and run.backward[-1] > 0  # the backward is cut at every row
        else:
            assert run.backward == [0.0] * 5
        # The hooks are gone after the run: the plain step runs the model untouched.
        assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model)


def test_the_cpu_timeline_reads_marks_in_milliseconds():
    timeline = Timeline(CPU)
    a = timeline.mark()
    b = timeline.mark()
    assert timeline.ms(a, b) >= 0 and not timeline.cuda


def test_a_report_has_one_row_per_layer_and_shares_that_add_up():
    report = profile("lenet5", depth=2, **FAST)
    assert len(report.layers) == 11 and report.layers[0].name == "features.0"
    assert math.isclose(sum(x.share for x in report.layers), 1.0)
    assert math.isclose(sum(x.mac_share for x in report.layers), 1.0)
    assert report.layers_sum_ms == pytest.approx(sum(x.time_ms for x in report.layers))
    assert report.coverage == pytest.approx(report.layers_sum_ms / report.total_ms)
    assert report.runs >= 5 and report.total_p10_ms <= report.total_ms <= report.total_p90_ms
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema"] == ProfileReport.SCHEMA == "archscope.profile/1" and data["device"]["peak_flops"] is None
    assert {"name", "type", "time_ms", "share", "macs", "flops", "bytes", "intensity", "achieved_flops", "bound"} <= set(data["layers"][0])
    assert profile_csv(report).splitlines()[1].startswith("features.0,Conv2d,2,")


def test_training_profiles_forward_and_backward_with_the_backward_counted_per_layer():
    report = profile("lenet5", depth=2, mode="train", **FAST)
    first = report.layers[0]
    assert report.mode == "train" and report.optimizer_ms is not None
    assert first.forward_ms is not None and first.backward_ms is not None
    # The first convolution's backward: its weight gradient only (its input needs none) and the bias gradient.
    conv = 28 * 28 * 6 * 25
    assert first.macs == conv + conv
    assert "fwd+bwd ms" in plain_text(profile_view(report))


def test_the_view_fits_80_columns_and_a_pipe_gets_every_column():
    report = profile("lenet5", **FAST)
    narrow = plain_text(profile_view(report), 80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert "roof" in narrow and "Bound" in narrow  # where a layer sits under the roof stays
    wide = plain_text(profile_view(report), None)
    assert "Bytes/s" in wide and "FLOPs" in wide


def test_options_are_checked_before_anything_runs():
    with pytest.raises(ArchscopeError, match="mode"):
        profile("lenet5", mode="backward", **FAST)
    with pytest.raises(ArchscopeError, match="depth"):
        profile("lenet5", depth=0, **FAST)
    if not torch.cuda.is_available():
        with pytest.raises(ArchscopeError, match="CUDA is not available"):
            profile("lenet5", device="cuda", **FAST)


def test_bandwidth_is_the_faster_of_streams_copy_and_add():
    rate, size, kernel = calibrate_bandwidth(CPU, size_bytes=8 * 2**20, repeats=2)
    assert size == 8 * 2**20 and rate > 0 and kernel in ("copy", "add")
