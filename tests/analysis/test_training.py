"""What a training step costs, counted on the meta device: the backward pass, the optimizer step, memory.

Held to hand arithmetic, to torch's own FlopCounterMode on a real backward pass, and (the
batch that fits a budget) to the live tensor bytes of a real training step on the CPU.
"""

import json

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

import archscope
from archscope.analysis.training import fit_batch, parse_bytes
from archscope.bench.memory import cpu_step_peak
from archscope.errors import ArchscopeError
from archscope.render.summary_text import summary_json


def conv_stack() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.ReLU(),
        nn.Conv2d(16, 4, 1, bias=False),
    )  # fmt: skip


def test_backward_macs_of_a_conv_stack_are_twice_the_forward_minus_the_first_input_gradient():
    s = archscope.summarize(conv_stack(), (3, 10, 10), batch_size=2, train=True)
    positions = 2 * 10 * 10
    forward = [positions * 8 * 3 * 9, positions * 16 * 8 * 9, positions * 4 * 16]
    assert s.totals.macs == sum(forward)
    # Each convolution's weight gradient and input gradient cost as many MACs as its forward;
    # the input needs no gradient, so the first layer computes its weight gradient only.
    assert s.totals.backward_macs == 2 * sum(forward) - forward[0]
    convs = [layer for layer in s.layers if layer.type == "Conv2d"]
    assert [c.backward_macs for c in convs] == [forward[0], 2 * forward[1], 2 * forward[2]]
    # A ReLU's gradient is a mask: one FLOP per element, no MACs.
    relus = [layer for layer in s.layers if layer.type == "ReLU"]
    assert [r.backward_flops for r in relus] == [positions * 8, positions * 16]
    assert s.totals.backward_flops == 2 * s.totals.backward_macs + positions * (8 + 16)


class SmallNet(nn.Module):
    """Every backward rule a small CNN meets: conv with bias, batch norm, ReLU, both poolings, a residual add, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.avg = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        x = x + torch.relu(self.conv2(x))
        return self.fc(torch.flatten(self.avg(x), 1))


def real_backward_flops(model: nn.Module, x: torch.Tensor) -> int:
    """torch.utils.flop_counter on a real backward pass, seeded as archscope seeds it (a gradient of ones)."""
    out = model.train()(x)
    outputs = out if isinstance(out, tuple) else (out,)
    params = [p for p in model.parameters() if p.requires_grad]
    with FlopCounterMode(display=False) as counter:
        torch.autograd.grad(outputs, params, [torch.ones_like(o) for o in outputs], allow_unused=True)
    return counter.get_total_flops()


@pytest.mark.parametrize("name", ["SmallNet", "cifar-resnet20", "lenet5"])
def test_backward_matrix_work_equals_torch_flop_counter_on_a_real_backward(name):
    # FlopCounterMode counts only convolutions and matrix products, 2 FLOPs per MAC.
    torch.manual_seed(0)
    model = SmallNet() if name == "SmallNet" else archscope.create_model(name)
    size = (3, 16, 16) if name == "SmallNet" else archscope.zoo.get_entry(name).input_size
    summary = archscope.summarize(model, size, batch_size=2, train=True)
    assert 2 * summary.totals.backward_macs == real_backward_flops(model, torch.randn(2, *size))
    assert summary.uncounted == []


def test_a_grouped_convolution_gradient_costs_its_groups_share():
    # torch's FlopCounterMode counts a grouped convolution's weight gradient `groups` times over
    # (fixed upstream by pytorch/pytorch#183405), so this one is held to hand arithmetic.
    s = archscope.summarize(nn.Sequential(nn.Conv2d(4, 8, 3), nn.Conv2d(8, 8, 3, groups=2)), (4, 10, 10), train=True)
    grouped = 6 * 6 * 8 * (8 // 2) * 9
    assert s.layers[1].backward_macs == 2 * grouped


def test_per_layer_backward_adds_up_to_the_total_and_nests():
    s = archscope.summarize("cifar-resnet20", train=True)
    top = [layer for layer in s.layers if layer.depth == 1]
    assert sum(layer.backward_macs for layer in top) == s.totals.backward_macs
    assert sum(layer.backward_flops for layer in top) == s.totals.backward_flops
    block = next(layer for layer in s.layers if layer.name == "layer1.0")
    children = [layer for layer in s.layers if layer.name.startswith("layer1.0.") and layer.depth == 3]
    assert block.backward_macs == sum(c.backward_macs for c in children)
    # The residual addition's gradient is the block's own work, not a child's.
    assert block.backward_flops >= sum(c.backward_flops for c in children)


def test_saved_activations_of_a_small_mlp_are_counted_by_hand():
    batch = 4
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    memory = archscope.summarize(mlp, (784,), batch_size=batch, train=True).totals.training_memory
    # The first linear layer saves its input (for its weight gradient); ReLU saves its output,
    # which is also what the second linear layer saves: one storage, counted once. The
    # weights they save are parameters, not activations.
    assert memory.saved_activations == 4 * batch * (784 + 256)
    params = 4 * (784 * 256 + 256 + 256 * 10 + 10)
    assert (memory.params, memory.grads, memory.optimizer) == (params, params, params)  # SGD's momentum: one copy
    assert memory.backward_start == 2 * params + memory.saved_activations  # gradients set to None until backward
    # At the peak, some of the gradients exist and some activations are still saved.
    assert memory.peak >= max(memory.backward_start, 3 * params)
    assert memory.peak <= memory.backward_start + params + 4 * batch * (784 + 256 + 10)


def test_adam_keeps_two_moments_and_costs_more_per_step():
    sgd = archscope.summarize("lenet5", train=True).totals
    adam = archscope.summarize("lenet5", train=True, optimizer="adam").totals
    assert adam.training_memory.optimizer == 2 * sgd.training_memory.optimizer == 2 * sgd.param_bytes
    assert sgd.optimizer_flops == 4 * sgd.trainable_params
    assert adam.optimizer_flops == 13 * sgd.trainable_params
    with pytest.raises(ArchscopeError, match="unknown optimizer"):
        archscope.summarize("lenet5", train=True, optimizer="lion")


def test_frozen_parameters_need_no_gradient_and_no_optimizer_state():
    net = conv_stack()
    net[0].weight.requires_grad_(False)
    memory = archscope.summarize(net, (3, 8, 8), train=True).totals.training_memory
    trainable = 4 * (16 * 8 * 9 + 4 * 16)
    assert memory.params == trainable + 4 * 8 * 3 * 9
    assert memory.grads == memory.optimizer == trainable


def test_json_gains_training_fields_only_with_train():
    plain = json.loads(summary_json(archscope.summarize("lenet5")))
    assert "backward_macs" not in plain["totals"] and "backward_macs" not in plain["layers"][0]
    trained = json.loads(summary_json(archscope.summarize("lenet5", train=True)))
    totals = trained["totals"]
    assert totals["backward_macs"] > 0 and totals["backward_flops"] > totals["backward_macs"]
    assert set(totals["training_memory"]) == {
        "optimizer_name", "params", "grads", "optimizer", "saved_activations", "backward_start", "peak", "peak_phase"
    }  # fmt: skip
    assert "backward_flops" in trained["layers"][0]


@pytest.mark.parametrize("name", ["resnet18", "googlenet-aux", "alexnet", "vgg11-bn", "inception-v4"])
def test_every_backward_operator_of_the_zoo_has_a_rule(name):
    s = archscope.summarize(name, train=True)
    assert s.uncounted == []
    assert s.totals.backward_macs > s.totals.macs  # both gradients of all but the first layer


def test_the_batch_that_fits_a_budget_fits_when_a_real_training_step_is_measured_on_the_cpu():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    )  # fmt: skip
    budget = 24 * 2**20
    fit = fit_batch(net, budget, (3, 32, 32))
    assert fit.batch_size > 1 and fit.peak <= budget < fit.peak + fit.per_sample

    model = net.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(fit.batch_size, 3, 32, 32)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        model(x).mean().backward()
        optimizer.step()

    step()  # the momentum buffers now exist
    optimizer.zero_grad(set_to_none=True)
    resident = [*model.parameters(), *model.buffers(), x, *(v for s in optimizer.state.values() for v in s.values())]
    measured = cpu_step_peak(step, resident)
    assert measured <= budget
    # The estimate is an upper bound that is not loose: the real peak is most of it.
    assert measured > 0.8 * fit.peak


class _FakePeaks:
    """Stands in for summarize in fit_batch: a training peak that is a known function of the batch."""

    def __init__(self, curve):
        self.curve, self.batches = curve, []

    def __call__(self, model, input_size, batch, **options):
        self.batches.append(batch)
        memory = type("Memory", (), {"peak": self.curve(batch)})
        return type("Summary", (), {"totals": type("Totals", (), {"training_memory": memory})})


@pytest.mark.parametrize(
    "curve",
    [
        lambda b: 300 + 64 * b,  # a line: the first guess is the answer
        lambda b: 300 + 64 * b + 2 * min(b, 20) * b // 3,  # ResNet-50's shape: faster at first, then a line
        lambda b: 1000 + 50 * b + b * b,  # convex everywhere
        lambda b: 5000 + 80 * b - 9000 // (b + 1),  # concave: the line through 1 and 2 overshoots
        lambda b: 300 + 64 * b + (4000 if b > 90 else 0),  # a step the lines cannot see: bisection
    ],
    ids=["line", "resnet-like", "convex", "concave", "step"],
)
def test_the_batch_found_is_the_largest_that_fits_and_the_figures_add_up(monkeypatch, curve):
    fake = _FakePeaks(curve)
    monkeypatch.setattr("archscope.analysis.summary.summarize", fake)
    budget = 10_000
    expected = max(b for b in range(1, 1000) if curve(b) <= budget)
    fit = fit_batch("any", budget)
    assert fit.batch_size == expected
    assert (fit.peak, fit.next_peak) == (curve(expected), curve(expected + 1))
    assert fit.peak <= budget < fit.next_peak
    # fixed and per_sample are the line the search solved on: through two batches it analysed.
    # It meets one exactly, and another to within the integer division of the slope.
    def off(b):
        return abs(fit.fixed + fit.per_sample * b - curve(b))

    analysed = set(fake.batches)
    exact = [b for b in analysed if off(b) == 0]
    assert exact and any(off(b) < abs(b - exact[0]) for b in analysed - {exact[0]})
    assert len(fake.batches) <= 30, "a handful of analyses, not a scan"


def test_the_peak_at_the_batch_found_and_at_one_more_are_the_summaries_at_those_batches():
    # Independently of the solver: summarize at the two batches gives the two peaks reported,
    # and the line reported passes within a per-sample step of both (it is solved near them).
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
    budget = 8 * 2**20
    fit = fit_batch(net, budget, (3, 16, 16))
    at = [archscope.summarize(net, (3, 16, 16), b, train=True).totals.training_memory.peak for b in (fit.batch_size, fit.batch_size + 1)]
    assert [fit.peak, fit.next_peak] == at and at[0] <= budget < at[1]
    for b, peak in zip((fit.batch_size, fit.batch_size + 1), at):
        assert abs(fit.fixed + fit.per_sample * b - peak) <= fit.per_sample


def test_a_budget_too_small_for_one_sample_fits_no_batch():
    fit = fit_batch("lenet5", 1000)
    assert fit.batch_size == 0 and fit.peak > 1000


@pytest.mark.parametrize(
    "text, value",
    [("24GiB", 24 * 2**30), ("512MB", 512 * 10**6), ("1.5 GiB", int(1.5 * 2**30)), ("1000", 1000), ("64mib", 64 * 2**20)],
)
def test_memory_sizes_are_read_with_binary_and_decimal_units(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "GiB", "12 parsecs", "-3GB", "0", "9" * 3000 + "GiB", "2EiB", "1200000TiB", "0." + "0" * 3000 + "1"])
def test_a_memory_size_that_cannot_be_read_is_one_clear_error(text):
    with pytest.raises(ArchscopeError, match="memory size"):
        parse_bytes(text)
