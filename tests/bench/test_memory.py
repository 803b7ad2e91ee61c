"""The CPU's peak memory is measured, tensor by tensor, and equals hand arithmetic."""

import torch
import torch.nn as nn

import archscope
from archscope.bench.memory import cpu_step_peak


def inference(model, x):
    def step():
        with torch.inference_mode():
            model(x)

    return step


def test_a_linear_layer_peaks_at_its_weights_input_and_output():
    model, x = nn.Linear(256, 512, bias=False), torch.randn(4, 256)
    resident = 256 * 512 * 4 + 4 * 256 * 4
    assert cpu_step_peak(inference(model, x), [*model.parameters(), x]) == resident + 4 * 512 * 4


def test_two_activations_alive_at_once_are_both_counted_and_a_freed_one_is_not():
    model = nn.Sequential(nn.Linear(256, 512, bias=False), nn.ReLU(), nn.Linear(512, 10, bias=False))
    x = torch.randn(4, 256)
    resident = (256 * 512 + 512 * 10) * 4 + 4 * 256 * 4
    # The first output and the ReLU's live together; the first is freed before the last layer's.
    peak = resident + 2 * (4 * 512 * 4)
    assert cpu_step_peak(inference(model, x), [*model.parameters(), x]) == peak


def test_bench_memory_grows_with_the_batch_and_with_training_never_the_parameter_bytes_alone(zoo_summary):
    def peak(batch, mode):
        return archscope.benchmark("lenet5", batch_sizes=[batch], mode=mode, min_time=0.05, warmup=1, calibrate=False).results[0]

    params = zoo_summary("lenet5").totals.param_bytes
    one, eight, train = peak(1, "inference"), peak(8, "inference"), peak(1, "train")
    assert params < one.peak_memory_bytes < eight.peak_memory_bytes
    # Training holds gradients and SGD's momentum besides the weights.
    assert train.peak_memory_bytes > one.peak_memory_bytes + 2 * params


def test_a_training_step_is_measured_without_counting_in_place_updates_or_last_steps_gradients():
    """SGD's update writes into the weights and momentum (no new memory); zero_grad frees the old gradients."""
    # Two independent methods: the step measured tensor by tensor, and the meta-device estimate.
    r = archscope.benchmark("lenet5", batch_sizes=[8], mode="train", min_time=0.05, warmup=2, calibrate=False).results[0]
    estimate = r.analytic_memory_bytes
    assert abs(r.peak_memory_bytes - estimate) <= 0.05 * estimate
