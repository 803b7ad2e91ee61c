"""The classic lessons, each recomputed by the engine and registered in teaching order.

Every figure here comes from ``summarize`` (or, for lesson 8, from a measurement on real
weights); nothing is typed in. Figures are exact integers; measured values are floats and
live apart, in ``measurements``.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from archscope.analysis.records import Summary
from archscope.analysis.summary import summarize
from archscope.lessons import register_lesson
from archscope.lessons.record import Worked
from archscope.lessons.speed import Speedup, Timing, closing_sentence, measure_until_decided, speed_sentence
from archscope.text.numbers import milliseconds
from archscope.text.prose import paragraph
from archscope.zoo import get_entry

def _weights(name: str) -> int:
    """Parameters of conv and linear weights alone (no biases, no batch norm)."""
    with torch.device("meta"):
        model = get_entry(name).build()
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def _nonlinearities(s: Summary) -> int:
    return sum(1 for layer in s.layers if layer.type in ("ReLU", "ScaledTanh"))


def _rf(s: Summary) -> int:
    return s.receptive_field.largest


def _totals(counts: tuple[str, ...], **summaries: Summary) -> dict[str, int]:
    """``{name}_{count}`` for each count (``params``, ``macs``, ``flops``) and then each summary,
    in that order: ``_totals(("macs",), naive=a, reduced=b)`` is ``{"naive_macs": .., "reduced_macs": ..}``."""
    return {f"{name}_{count}": getattr(s.totals, count) for count in counts for name, s in summaries.items()}


def _x(a: float, b: float) -> str:
    return f"{a / b:.1f}x"


@register_lesson(
    "1x1-reduction", "The 1x1 reduction in GoogLeNet's 5x5 branch",
    compares=[("inception-5x5-naive", "inception-5x5-reduced")],
    models=["inception-5x5-naive", "inception-5x5-reduced"],
    claim=(
        "A 5x5 convolution from 480 to 48 channels on a 14x14 map costs 112.9 million operations; a 1x1 "
        "reduction to 16 channels first brings it to 5.3 million (Szegedy et al. 2014, section 4)."
    ),
)
def one_by_one_reduction() -> Worked:
    naive, reduced = summarize("inception-5x5-naive"), summarize("inception-5x5-reduced")
    f = {
        **_totals(("macs", "params"), naive=naive, reduced=reduced),
        "naive_weights": _weights("inception-5x5-naive"),
        "reduced_weights": _weights("inception-5x5-reduced"),
    }
    return Worked(
        f,
        paragraph(
            """The reduction cuts the branch from {naive_macs:,} to {reduced_macs:,} multiply-accumulates
            ({mac_ratio} fewer). Popular write-ups call these two numbers 'parameters'; the parameters are
            {naive_params:,} and {reduced_params:,} ({naive_weights:,} and {reduced_weights:,} weights
            without biases), also {param_ratio} fewer, but 196 times smaller numbers: each weight is used
            at every one of the 14x14 positions.""",
            f, mac_ratio=_x(f["naive_macs"], f["reduced_macs"]), param_ratio=_x(f["naive_params"], f["reduced_params"]),
        ),
    )


@register_lesson(
    "naive-vs-reduced", "Naive vs reduced inception: one module and the whole network",
    compares=[("inception-naive", "inception-reduced")],
    models=["inception-naive", "inception-reduced", "googlenet-naive", "googlenet"],
    claim=(
        "Without 1x1 reductions the inception module is too expensive, and because its pooling branch "
        "passes every input channel through, the width grows from stage to stage (Szegedy et al. 2014, "
        "Fig. 2)."
    ),
)
def naive_vs_reduced() -> Worked:
    mn, mr = summarize("inception-naive"), summarize("inception-reduced")
    nn_, nr = summarize("googlenet-naive"), summarize("googlenet")
    f = {
        **_totals(("macs", "params"), module_naive=mn, module_reduced=mr),
        "module_naive_out_channels": mn.output_shape[1],
        "module_reduced_out_channels": mr.output_shape[1],
        **_totals(("macs", "params"), network_naive=nn_, network_reduced=nr),
        "network_naive_final_channels": next(x for x in nn_.layers if x.name == "fc").input_shape[1],
        "network_reduced_final_channels": next(x for x in nr.layers if x.name == "fc").input_shape[1],
    }
    return Worked(
        f,
        paragraph(
            """Module 3a: {module_naive_macs:,} vs {module_reduced_macs:,} MACs ({module_mac_ratio}),
            {module_naive_params:,} vs {module_reduced_params:,} parameters, {module_naive_out_channels} vs
            {module_reduced_out_channels} output channels. Over the whole network the naive form needs
            {network_mac_ratio} the MACs ({network_naive_macs:,} vs {network_reduced_macs:,}) and
            {network_param_ratio} the parameters, and reaches the classifier {network_naive_final_channels}
            channels wide instead of {network_reduced_final_channels}.""",
            f,
            module_mac_ratio=_x(f["module_naive_macs"], f["module_reduced_macs"]),
            network_mac_ratio=_x(f["network_naive_macs"], f["network_reduced_macs"]),
            network_param_ratio=_x(f["network_naive_params"], f["network_reduced_params"]),
        ),
    )


@register_lesson(
    "stacked-3x3", "Three stacked 3x3 convolutions vs one 7x7 (and two 3x3 vs one 5x5)",
    compares=[("conv3x3-x3", "conv7x7"), ("conv3x3-x2", "conv5x5")],
    models=["conv7x7", "conv3x3-x3", "conv5x5", "conv3x3-x2"],
    claim=(
        "A stack of three 3x3 layers has the receptive field of one 7x7 layer, with 27C^2 weights instead "
        "of 49C^2 and three non-linearities instead of one (Simonyan & Zisserman 2014, section 2.3)."
    ),
)
def stacked_3x3() -> Worked:
    s7, s33 = summarize("conv7x7"), summarize("conv3x3-x3")
    s5, s32 = summarize("conv5x5"), summarize("conv3x3-x2")
    c = s7.input_shape[1]
    f = {
        "channels": c,
        "conv7x7_weights": s7.totals.params,
        "conv3x3_x3_weights": s33.totals.params,
        "conv5x5_weights": s5.totals.params,
        "conv3x3_x2_weights": s32.totals.params,
        "conv7x7_macs": s7.totals.macs,
        "conv3x3_x3_macs": s33.totals.macs,
        "conv5x5_macs": s5.totals.macs,
        "conv3x3_x2_macs": s32.totals.macs,
        "conv7x7_receptive_field": _rf(s7),
        "conv3x3_x3_receptive_field": _rf(s33),
        "conv5x5_receptive_field": _rf(s5),
        "conv3x3_x2_receptive_field": _rf(s32),
        "conv7x7_nonlinearities": _nonlinearities(s7),
        "conv3x3_x3_nonlinearities": _nonlinearities(s33),
    }
    return Worked(
        f,
        paragraph(
            """At C = {channels}: receptive fields {conv3x3_x3_receptive_field} and {conv7x7_receptive_field},
            weights {conv3x3_x3_weights:,} (= 27C^2) vs {conv7x7_weights:,} (= 49C^2), {weight_ratio} fewer,
            and the MACs fall by the same factor; {conv3x3_x3_nonlinearities} ReLUs instead of
            {conv7x7_nonlinearities}. Two 3x3 vs one 5x5: fields {conv3x3_x2_receptive_field} and
            {conv5x5_receptive_field}, weights {conv3x3_x2_weights:,} (18C^2) vs {conv5x5_weights:,} (25C^2).""",
            f, weight_ratio=_x(f["conv7x7_weights"], f["conv3x3_x3_weights"]),
        ),
    )


@register_lesson(
    "fc-vs-gap", "A fully connected head vs global average pooling", compares=[("head-fc-1024", "head-gap-1024")],
    models=["head-fc-1024", "head-gap-1024", "head-fc", "head-gap", "vgg16"],
    claim=(
        "Replacing the FC head by global average pooling removes most of a network's weights; VGG-16's FC "
        "layers are often said to be 85% of its computation."
    ),
)
def fc_vs_gap() -> Worked:
    fc, gap = summarize("head-fc-1024"), summarize("head-gap-1024")
    vgg = summarize("vgg16")
    head = next(x for x in vgg.layers if x.name == "classifier")
    f = {
        "fc_weights": _weights("head-fc-1024"),
        "fc_params": fc.totals.params,
        "gap_weights": gap.totals.params,
        "vgg16_params": vgg.totals.params,
        "vgg16_fc_params": head.params,
        "vgg16_macs": vgg.totals.macs,
        "vgg16_fc_macs": head.macs,
        "vgg_head_fc_params": summarize("head-fc").totals.params,
        "vgg_head_gap_params": summarize("head-gap").totals.params,
    }
    param_share = f["vgg16_fc_params"] / f["vgg16_params"]
    mac_share = f["vgg16_fc_macs"] / f["vgg16_macs"]
    return Worked(
        f,
        paragraph(
            """From 7x7x1024 to 1024 features a fully connected layer needs {fc_weights:,} weights; global
            average pooling needs {gap_weights}. VGG-16's three FC layers hold {param_share:.1%} of its
            parameters ({vgg16_fc_params:,} of {vgg16_params:,}) but only {mac_share:.2%} of its
            multiply-accumulates ({vgg16_fc_macs:,} of {vgg16_macs:,}): the claim that they are 85% of the
            computation confuses parameters with computation. Swapping VGG's head for GAP + one linear layer
            takes it from {vgg_head_fc_params:,} to {vgg_head_gap_params:,} parameters.""",
            f, param_share=param_share, mac_share=mac_share,
        ),
    )


@register_lesson(
    "bottleneck", "The bottleneck: four times the channels for about the same cost",
    compares=[("basic-block", "bottleneck-block")],
    models=["basic-block", "bottleneck-block"],
    claim=(
        "He et al. (2015, Fig. 5) pair a basic block on a 64-d map (ResNet-34) with a bottleneck on a "
        "256-d map (ResNet-50/101/152) and say the two have similar time complexity."
    ),
)
def bottleneck() -> Worked:
    from archscope.zoo.resnet import BasicBlock

    basic, neck = summarize("basic-block"), summarize("bottleneck-block")
    # What the bottleneck saves: two 3x3 convolutions on the bottleneck's own 256-d map.
    wide = summarize(BasicBlock(256, 256), (256, 56, 56))
    f = {
        "basic_64d_params": basic.totals.params,
        "basic_64d_macs": basic.totals.macs,
        "bottleneck_256d_params": neck.totals.params,
        "bottleneck_256d_macs": neck.totals.macs,
        "basic_256d_params": wide.totals.params,
        "basic_256d_macs": wide.totals.macs,
        "basic_weighted_depth": basic.weighted_depth,
        "bottleneck_weighted_depth": neck.weighted_depth,
    }
    return Worked(
        f,
        paragraph(
            """At 56x56 the 64-d basic block (two 3x3 convolutions) costs {basic_64d_macs:,} MACs with
            {basic_64d_params:,} parameters; the 256-d bottleneck (1x1 down to 64, 3x3, 1x1 back up to 256)
            costs {bottleneck_256d_macs:,} MACs with {bottleneck_256d_params:,}: about the same, while its
            input and output carry four times the channels, with {bottleneck_weighted_depth} weighted layers
            instead of {basic_weighted_depth}. Two 3x3 convolutions on that 256-d map would cost
            {basic_256d_macs:,} MACs, {wide_ratio} the bottleneck: that is what makes 50 and more layers
            affordable.""",
            f, wide_ratio=_x(f["basic_256d_macs"], f["bottleneck_256d_macs"]),
        ),
    )


@register_lesson(
    "alexnet-split", "AlexNet's two-GPU split",
    compares=[("alexnet-1gpu", "alexnet")],
    models=["alexnet", "alexnet-1gpu"],
    claim=(
        "conv2, conv4 and conv5 see only the kernel maps on their own GPU (Krizhevsky et al. 2012, "
        "section 3.2)."
    ),
)
def alexnet_split() -> Worked:
    two, one = summarize("alexnet"), summarize("alexnet-1gpu")
    f = _totals(("params", "macs"), two_gpu=two, one_gpu=one)
    saved_params, saved_macs = f["one_gpu_params"] - f["two_gpu_params"], f["one_gpu_macs"] - f["two_gpu_macs"]
    return Worked(
        f,
        paragraph(
            """Splitting those three layers into two groups halves their weights and MACs: the paper network
            has {two_gpu_params:,} parameters and {two_gpu_macs:,} MACs, the merged one {one_gpu_params:,} and
            {one_gpu_macs:,}. The split saves only {saved_params:,} parameters ({saved_param_share:.1%}: the
            FC layers, which hold most of them, are not split) but {saved_macs:,} MACs, {saved_mac_share:.0%}
            of the computation.""",
            f, saved_params=saved_params, saved_param_share=saved_params / f["one_gpu_params"],
            saved_macs=saved_macs, saved_mac_share=saved_macs / f["one_gpu_macs"],
        ),
    )


@register_lesson(
    "factorized-7x7", "Inception-v4's factorised 7x7",
    compares=[("conv7x7", "conv7x7-factorized")],
    models=["conv7x7", "conv7x7-factorized"],
    claim=(
        "A 7x7 convolution can be replaced by a 1x7 followed by a 7x1 (Szegedy et al. 2016, Inception-B)."
    ),
)
def factorised_7x7() -> Worked:
    full, fact = summarize("conv7x7"), summarize("conv7x7-factorized")
    f = {
        "conv7x7_weights": full.totals.params,
        "factorized_weights": fact.totals.params,
        "conv7x7_macs": full.totals.macs,
        "factorized_macs": fact.totals.macs,
        "conv7x7_receptive_field": _rf(full),
        "factorized_receptive_field": _rf(fact),
    }
    return Worked(
        f,
        paragraph(
            """Same receptive field ({factorized_receptive_field} vs {conv7x7_receptive_field}),
            {factorized_weights:,} weights (14C^2) instead of {conv7x7_weights:,} (49C^2): {weight_ratio} fewer
            weights and MACs, and one more non-linearity.""",
            f, weight_ratio=_x(f["conv7x7_weights"], f["factorized_weights"]),
        ),
    )


def _first_and_last_gradients(name: str, seed: int, batch: int = 32) -> tuple[float, float]:
    """Gradient norms of the first and last weight layer, at initialisation, on one random batch."""
    torch.manual_seed(seed)
    model = get_entry(name).build().train()
    generator = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn(batch, *get_entry(name).input_size, generator=generator)
    labels = torch.randint(0, 10, (batch,), generator=generator)
    F.cross_entropy(model(x), labels).backward()
    return float(model.conv1.weight.grad.norm()), float(model.fc.weight.grad.norm())


@register_lesson(
    "plain-vs-residual", "Plain vs residual: the same parameters, and the gradient that reaches the first layer", measured=True,
    compares=[("cifar-plain56", "cifar-resnet56")], operators=True,
    models=["cifar-plain56", "cifar-resnet56"],
    claim=(
        "Shortcuts add no parameters; deep plain networks are hard to train, which is often explained by "
        "vanishing gradients (He et al. 2015, sections 3 and 4.2)."
    ),
)  # fmt: skip
def plain_vs_residual(seeds: tuple[int, ...] = (0, 1, 2)) -> Worked:
    plain, res = summarize("cifar-plain56"), summarize("cifar-resnet56")
    f = {
        **_totals(("params", "macs", "flops"), plain=plain, residual=res),
        "shortcut_flops": res.totals.flops - plain.totals.flops,
    }
    grads = {n: [_first_and_last_gradients(n, s) for s in seeds] for n in ("cifar-plain56", "cifar-resnet56")}
    m = {
        "plain_first_layer_gradient": statistics.median(g[0] for g in grads["cifar-plain56"]),
        "residual_first_layer_gradient": statistics.median(g[0] for g in grads["cifar-resnet56"]),
        "plain_first_to_last_ratio": statistics.median(g[0] / g[1] for g in grads["cifar-plain56"]),
        "residual_first_to_last_ratio": statistics.median(g[0] / g[1] for g in grads["cifar-resnet56"]),
    }
    verdict = (
        "does not vanish: it explodes"
        if m["plain_first_to_last_ratio"] > 10
        else "vanishes"
        if m["plain_first_to_last_ratio"] < 0.1
        else "neither vanishes nor explodes"
    )
    return Worked(
        f,
        paragraph(
            """Both have {plain_params:,} parameters and {plain_macs:,} MACs; the identity shortcuts
            (zero-padded where the width doubles) add only {shortcut_flops:,} FLOPs of additions. At
            initialisation, on random batches (median of {seeds} seeds, batch norm in training mode), the
            plain network's first-layer gradient {verdict} (its norm is {plain_first_to_last_ratio:,.0f}x the
            last layer's, against {residual_first_to_last_ratio:.2f}x in the residual network). As He et al.
            note (section 4.1), batch norm keeps plain networks' gradients from vanishing; what the shortcuts
            buy is gradients of a sane scale at every depth.""",
            {**f, **m}, seeds=len(seeds), verdict=verdict,
        ),
        measurements=m,
    )


def _timing(report: Any) -> Timing:
    """A profile's whole-model time: its median and spread over the uninstrumented runs."""
    return Timing(report.total_ms, report.total_p10_ms, report.total_p90_ms)


def _rows_total(rows: list[Any], key: str) -> int:
    return sum(getattr(x, key) for x in rows)


@register_lesson(
    "macs-are-not-time", "MACs are not time: the reduced inception module against the naive one, measured", measured=True,
    compares=[("inception-naive", "inception-reduced")],
    models=["inception-naive", "inception-reduced"],
    claim=(
        "Counting says where the multiply-accumulates are, not where the time goes: a layer that does few "
        "operations per byte it moves waits for memory (the roofline model, Williams et al. 2009). "
        "GoogLeNet's 1x1 reductions cut the MACs (lesson 2); how much of that does the clock see?"
    ),
)  # fmt: skip
def macs_are_not_time(min_time: float = 1.0, device: str = "cpu") -> Worked:
    # Lesson 9, measured on the device at hand: GoogLeNet's module 3a, naive and reduced, timed layer
    # by layer. Shares are of the time of the module's layers (depth 3: each convolution, ReLU and
    # pool), so they add up to 1; the concatenation, outside every layer, is left out.
    from archscope.bench.profile import profile, roofline

    ceilings_seen: list[Any] = []

    def measure(seconds: float) -> tuple[tuple[Any, Any], Speedup]:
        # The ceilings are measured once; each longer round times the two modules again.
        naive = profile("inception-naive", depth=3, min_time=seconds, device=device, ceilings=next(iter(ceilings_seen), None))
        ceilings_seen[:] = [naive.device]
        reduced = profile("inception-reduced", depth=3, min_time=seconds, device=device, ceilings=naive.device)
        mac_ratio = _rows_total(naive.layers, "macs") / _rows_total(reduced.layers, "macs")
        busy = naive.machine.busy or reduced.machine.busy
        return (naive, reduced), Speedup.of(_timing(naive), _timing(reduced), mac_ratio, busy)

    (naive, reduced), speedup, rounds = measure_until_decided(measure, min_time)
    ceilings = naive.device

    def groups(report: Any) -> dict[str, list[Any]]:
        convs = [x for x in report.layers if x.macs]
        pointwise = [x for x in convs if x.kernel and all(k == 1 for k in x.kernel)]
        return {"1x1": pointwise, "larger": [x for x in convs if x not in pointwise],
                "no_macs": [x for x in report.layers if not x.macs]}  # fmt: skip

    def share(rows: list[Any]) -> float:
        return sum(x.share for x in rows)  # of the rows' time, so the groups add up to 1

    def intensity(rows: list[Any]) -> float:
        moved = _rows_total(rows, "bytes")
        return _rows_total(rows, "flops") / moved if moved else 0.0

    def roof_fraction(rows: list[Any]) -> float:
        seconds = sum(x.time_ms for x in rows) / 1e3
        roof = roofline(intensity(rows), ceilings.peak_flops, ceilings.bandwidth_bytes_per_s)
        return _rows_total(rows, "flops") / seconds / roof if roof and seconds else 0.0

    g_naive, g = groups(naive), groups(reduced)
    slowest = max(g["no_macs"], key=lambda x: x.time_ms)
    f = {
        "naive_macs": _rows_total(naive.layers, "macs"),
        "reduced_macs": _rows_total(reduced.layers, "macs"),
        "naive_bytes": _rows_total(naive.layers, "bytes"),
        "reduced_bytes": _rows_total(reduced.layers, "bytes"),
        "reduced_1x1_macs": _rows_total(g["1x1"], "macs"),
        "reduced_3x3_5x5_macs": _rows_total(g["larger"], "macs"),
        "reduced_no_mac_bytes": _rows_total(g["no_macs"], "bytes"),
    }
    m = {
        "naive_ms": naive.total_ms,
        "reduced_ms": reduced.total_ms,
        "mac_ratio": f["naive_macs"] / f["reduced_macs"],
        "byte_ratio": f["naive_bytes"] / f["reduced_bytes"],
        "time_ratio": speedup.ratio,
        "time_ratio_low": speedup.low,
        "time_ratio_high": speedup.high,
        "rounds": float(rounds),
        "naive_no_mac_time_share": share(g_naive["no_macs"]),
        "reduced_no_mac_time_share": share(g["no_macs"]),
        "reduced_no_mac_intensity": intensity(g["no_macs"]),
        "reduced_slowest_no_mac_time_share": slowest.share,
        "reduced_slowest_no_mac_intensity": slowest.intensity or 0.0,
        "reduced_slowest_no_mac_roof_fraction": slowest.roofline_fraction or 0.0,
        "reduced_1x1_mac_share": f["reduced_1x1_macs"] / f["reduced_macs"],
        "reduced_1x1_time_share": share(g["1x1"]),
        "reduced_1x1_intensity": intensity(g["1x1"]),
        "reduced_3x3_5x5_intensity": intensity(g["larger"]),
        "reduced_1x1_roof_fraction": roof_fraction(g["1x1"]),
        "reduced_3x3_5x5_roof_fraction": roof_fraction(g["larger"]),
        "ridge_intensity": ceilings.ridge_intensity or 0.0,
        "peak_flops": ceilings.peak_flops or 0.0,
        "bandwidth_bytes_per_s": ceilings.bandwidth_bytes_per_s or 0.0,
    }
    ridge = m["ridge_intensity"]
    traffic = (
        f"The reductions cut the MACs but not the traffic: the reduced module moves more bytes, {f['reduced_bytes']:,} "
        f"against {f['naive_bytes']:,}, because every reduction writes its output and the next layer reads it again."
        if f["reduced_bytes"] > f["naive_bytes"]
        else f"The reduced module also moves fewer bytes, {f['reduced_bytes']:,} against {f['naive_bytes']:,}."
    )
    side = "below" if m["reduced_1x1_intensity"] < ridge else "above"
    roof = (
        f"below this device's ridge point ({ridge:.3g} FLOP/B, from a measured {m['peak_flops'] / 1e9:.3g} GFLOP/s "
        f"and {m['bandwidth_bytes_per_s'] / 1e9:.3g} GB/s), its roof is the memory's"
        if m["reduced_slowest_no_mac_intensity"] < ridge
        else f"above this device's ridge point ({ridge:.3g} FLOP/B), its roof is the compute's"
    )
    again = "" if rounds == 1 else f" (in {rounds} rounds of timing, each twice as long as the last)"
    busy = (
        f" The machine was busy as the run began (1-minute load average {naive.machine.load_average:g} on "
        f"{naive.machine.cpu_count} CPUs), so these times may be slower than the modules run."
        if naive.machine.busy
        else ""
    )
    # Far under its own roof, a layer is held back by its kernel, not by the memory.
    kernel_note = ": the kernel, not the memory, is what is slow here" if m["reduced_slowest_no_mac_roof_fraction"] < 0.25 else ""
    return Worked(
        f,
        paragraph(
            """Module 3a needs {naive_macs:,} MACs naive and {reduced_macs:,} reduced, {mac_ratio:.1f}x fewer.
            On {device} ({device_name}, {threads}, batch 1) they take {naive_time} and {reduced_time} ms{again}:
            {speed}.{busy} {traffic} Its ReLUs and max pool do no MACs and take {reduced_no_mac_time_share:.0%}
            of its time ({naive_no_mac_time_share:.0%} of the naive module's); the slowest of them,
            {slowest_name} ({slowest_type}), alone takes {reduced_slowest_no_mac_time_share:.0%}. At
            {reduced_slowest_no_mac_intensity:.2g} FLOPs per byte, {roof}, and it reaches
            {reduced_slowest_no_mac_roof_fraction:.0%} of it{kernel_note}. The 1x1 convolutions
            ({reduced_1x1_intensity:.3g} FLOP/B, {side} the ridge) do {reduced_1x1_mac_share:.0%} of the MACs
            in {reduced_1x1_time_share:.0%} of the time; the 3x3 and 5x5 ({reduced_3x3_5x5_intensity:.3g}
            FLOP/B) reach {reduced_3x3_5x5_roof_fraction:.0%} of the roof at theirs. {closing} Times are
            measured and vary from run to run (above 100% of a roof, a cache held the data); the MACs and
            bytes do not.""",
            {**f, **m},
            device=ceilings.device, device_name=ceilings.name,
            threads=f"{ceilings.threads} thread{'s' if ceilings.threads != 1 else ''}",
            naive_time=milliseconds(m["naive_ms"]), reduced_time=milliseconds(m["reduced_ms"]), again=again,
            speed=speed_sentence(speedup, "the reduced module", "MACs"), busy=busy, traffic=traffic,
            slowest_name=slowest.name, slowest_type=slowest.type, roof=roof, kernel_note=kernel_note, side=side,
            closing=closing_sentence(speedup),
        ),
        measurements=m,
    )
