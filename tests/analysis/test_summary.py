"""Per-layer records, totals and the JSON contract of archscope.summarize."""

import json

import pytest
import torch
import torch.nn as nn

import archscope
from archscope.errors import InputSizeError


class Twice(nn.Module):
    """One block applied twice: two records, parameters counted once."""

    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = self.block(self.block(x))
        return self.head(x.mean((2, 3)))


def test_a_module_called_twice_appears_twice_and_its_parameters_count_once():
    s = archscope.summarize(Twice(), (4, 8, 8))
    names = [layer.name for layer in s.layers]
    assert names == ["block", "block.0", "block.1", "block", "block.0", "block.1", "head"]
    conv_params = 4 * 4 * 9 + 4
    assert s.totals.params == conv_params + 4 * 2 + 2
    assert [layer.params for layer in s.layers if layer.name == "block"] == [conv_params, conv_params]


def test_a_container_holds_the_sum_of_what_runs_inside_it():
    s = archscope.summarize("resnet18")
    by_name = {layer.name: layer for layer in s.layers}
    layer1 = by_name["layer1"]
    children = [x for x in s.layers if x.name.startswith("layer1.") and x.depth == 2]
    assert layer1.macs == sum(c.macs for c in children)
    assert layer1.params == sum(c.params for c in children)
    # A block's FLOPs include its residual add and final ReLU, which are not modules' own rows.
    block = by_name["layer1.0"]
    leaves = [x for x in s.layers if x.name.startswith("layer1.0.")]
    assert block.flops > sum(x.flops for x in leaves)


def test_functional_calls_in_forward_are_counted_in_the_totals():
    s = archscope.summarize(Twice(), (4, 8, 8))
    mean_flops = 4 * 8 * 8
    assert s.totals.flops == sum(x.flops for x in s.layers if x.depth == 1) + mean_flops


def test_records_have_depth_leaf_and_both_shapes():
    s = archscope.summarize("vgg16")
    first = s.layers[0]
    assert (first.name, first.type, first.depth, first.leaf) == ("features", "Sequential", 1, False)
    conv = s.layers[1]
    assert (conv.name, conv.type, conv.depth, conv.leaf) == ("features.0", "Conv2d", 2, True)
    assert conv.input_shape == [1, 3, 224, 224] and conv.output_shape == [1, 64, 224, 224]


def test_json_contract():
    data = json.loads(json.dumps(archscope.summarize("vgg16").to_dict()))
    assert data["schema"] == "archscope.summary/1"
    assert data["model"] == "vgg16" and "Simonyan" in data["source"]
    assert data["input_shape"] == [1, 3, 224, 224] and data["output_shape"] == [1, 1000]
    assert set(data["totals"]) == {"params", "trainable_params", "macs", "flops", "param_bytes", "activation_bytes"}
    assert all(isinstance(v, int) for v in data["totals"].values())
    assert data["totals"]["param_bytes"] == 4 * data["totals"]["params"]
    assert data["uncounted"] == []
    assert set(data["layers"][0]) == {
        "name", "type", "depth", "leaf", "input_shape", "output_shape", "params", "macs", "flops", "receptive_field",
        "kernel", "stride",
    }
    assert (data["layers"][1]["kernel"], data["layers"][1]["stride"]) == ([3, 3], [1, 1])  # features.0
    assert data["receptive_field"] == {"size": [212, 212], "stride": [32, 32], "padding": [90, 90]}
    assert data["receptive_field_issues"] == [] and data["unused_modules"] == []


def test_activation_memory_counts_each_created_float_tensor_once():
    # conv output (8x6x6) + in-place ReLU (no new tensor) + linear output (2) + flatten (a view)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(288, 2))
    assert archscope.summarize(model, (1, 8, 8)).totals.activation_bytes == 4 * (8 * 6 * 6 + 2)


def test_the_users_model_is_left_exactly_as_it_was():
    model = Twice().train()
    model.block.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = {n: m.training for n, m in model.named_modules()}
    archscope.summarize(model, (4, 8, 8))
    assert all(not p.is_meta for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert {n: m.training for n, m in model.named_modules()} == modes
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks


def test_a_real_model_is_analysed_without_running_its_weights(monkeypatch):
    """The user's CPU weights are swapped for meta stand-ins: no convolution really runs."""
    calls = []
    real_conv = torch.nn.functional.conv2d

    def spy(x, *args, **kwargs):
        calls.append(x.device.type)
        return real_conv(x, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", spy)
    archscope.summarize(Twice(), (4, 8, 8))
    assert calls and set(calls) == {"meta"}


def test_an_input_too_small_names_the_layer_whose_output_would_be_empty():
    with pytest.raises(InputSizeError, match=r"input 1x3x16x16 is too small for vgg16: features.30 \(MaxPool2d\)"):
        archscope.summarize("vgg16", "16")


def test_a_wrong_channel_count_names_the_first_layer():
    with pytest.raises(InputSizeError, match=r"lenet5 cannot take input 1x3x32x32: features.0 \(Conv2d\)"):
        archscope.summarize("lenet5", "3x32x32")


def test_a_user_model_needs_an_input_size():
    with pytest.raises(InputSizeError, match="no default input size"):
        archscope.summarize(Twice())


def test_other_input_sizes_change_the_count_as_the_geometry_says():
    small = archscope.summarize("vgg16", "112").layers[1]
    assert small.output_shape == [1, 64, 112, 112]
    assert small.macs == 112 * 112 * 64 * 27


class TinyViT(nn.Module):
    """Patches, a positional embedding held by the model itself (added in its own forward), a block, a head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 64, 8, stride=8)
        self.pos = nn.Parameter(torch.zeros(1, 16, 64))
        self.block = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        return self.head(self.block(x).mean(1))


def test_parameters_and_work_of_the_model_itself_are_its_own_row():
    s = archscope.summarize(TinyViT(), (3, 32, 32))
    own = s.own
    assert (own.name, own.type, own.depth) == ("", "TinyViT", 0)
    # By hand: the positional embedding, 16 x 64; the positional add (one per element) and
    # the token mean (one per input element), 16 x 64 each.
    assert (own.params, own.macs, own.flops) == (16 * 64, 0, 16 * 64 + 16 * 64)
    children = [x for x in s.layers if x.depth == 1]
    assert own.params + sum(x.params for x in children) == s.totals.params
    assert own.flops + sum(x.flops for x in children) == s.totals.flops
    assert s.to_dict()["own"]["params"] == 16 * 64


def test_the_model_s_own_backward_is_its_row_s_too():
    s = archscope.summarize(TinyViT(), (3, 32, 32), train=True)
    children = [x for x in s.layers if x.depth == 1]
    assert s.own.backward_flops + sum(x.backward_flops for x in children) == s.totals.backward_flops
    assert s.own.backward_flops == 16 * 64  # the mean's gradient, one per element; the add's passes through


def test_a_model_whose_children_hold_everything_has_no_own_row():
    s = archscope.summarize("resnet18")
    assert s.own is None and s.to_dict()["own"] is None


def test_the_table_shows_the_own_row_first_and_its_percentages_add_up():
    from archscope.render.views import summary_view

    view = summary_view(archscope.summarize(TinyViT(), (3, 32, 32)), depth=1, columns=["layer", "type", "params%"])
    rows = view.tables()[0].rows
    assert rows[0][:2] == ["(model)", "TinyViT"]
    assert sum(float(r[2].rstrip("%")) for r in rows) == pytest.approx(100, abs=0.2)


def test_one_module_summarised_from_four_threads_at_once_gives_four_equal_summaries():
    import threading

    from archscope.analysis.summary import summarize

    class Keeps(nn.Module):  # data-dependent: every thread also takes the real-data path
        def __init__(self):
            super().__init__()
            self.convs = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(6)])

        def forward(self, x):
            y = self.convs(x)
            return y.flatten()[torch.nonzero(y.flatten() > -1e9).flatten()]

    model = Keeps()
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(summarize(model, (8, 16, 16)).totals)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 12
    assert all(r == results[0] for r in results)
    assert results[0].macs == 6 * 8 * 16 * 16 * 8 * 9
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
