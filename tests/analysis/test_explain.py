"""``archscope explain``: every printed formula, evaluated as printed, equals the summary's figure.

The evaluator (``formula_text``) reads the text a student reads, apart from the code that wrote
it; the figures it is held to are a separate ``summarize`` call's, layer by layer.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn as nn

import archscope
from archscope.analysis.explain import NO_FORMULA, NO_RULE, explain
from archscope.analysis.explain_records import LayerExplanation, Quantity
from archscope.analysis.records import LayerRecord
from archscope.errors import ArchscopeError
from archscope.zoo import list_entries
from tests.analysis.formula_text import evaluate

ZOO = [e.name for e in list_entries()]
# A torchvision network with depthwise and grouped convolutions, a timm one with attention, layer
# norm, a class token and linear layers over tokens.
LIBRARY = ["torchvision:mobilenet_v2", "timm:vit_tiny_patch16_224"]
BAD_NOTES = ("could not be stated", "add up to", "the formula gives")


def check_term(term) -> None:
    if term.formula is None:
        return
    assert evaluate(term.formula, term.bindings) == term.value, (term.label if hasattr(term, "label") else term.key, term.formula)
    if term.numbers is not None:
        assert evaluate(term.numbers) == term.value, term.numbers


def check_quantity(q: Quantity) -> None:
    for term in (q, *q.parts, *q.axes):
        check_term(term)
    if q.parts and q.key != "receptive_field":
        assert sum(p.value for p in q.parts) == q.value, q.key
    assert not any(bad in note for note in q.notes for bad in BAD_NOTES), q.notes
    assert not any(bad in p.note for p in (*q.parts, *q.axes) for bad in BAD_NOTES)


def check_layer(x: LayerExplanation, record: LayerRecord) -> None:
    assert (x.name, x.type) == (record.name, record.type)
    for q in x.quantities:
        check_quantity(q)
    assert x.quantity("params").value == record.params
    assert x.quantity("macs").value == record.macs
    assert x.quantity("flops").value == record.flops
    shape = x.quantity("output_shape")
    assert shape.value == record.output_shape
    if shape.axes:
        assert [a.value for a in shape.axes] == record.output_shape[-len(shape.axes):]
    rf = x.quantity("receptive_field")
    if rf is not None and rf.axes:
        sizes = [a.value for a in rf.axes if a.label.endswith("r_out")]
        strides = [a.value for a in rf.axes if a.label.endswith("j_out")]
        if sizes:
            assert tuple(sizes) == record.receptive_field.size
        if strides:
            assert tuple(strides) == record.receptive_field.stride
        unions = [a.value for a in rf.axes if a.label.endswith("union")]
        if unions:
            assert tuple(unions) == record.receptive_field.size


def check_network(name: str) -> None:
    summary = archscope.summarize(name)
    explained = explain(name, depth=99)
    assert len(explained.layers) == len(summary.layers)
    for x, record in zip(explained.layers, summary.layers):
        check_layer(x, record)
    whole = explained.whole
    for q in whole.quantities:
        check_quantity(q)
    assert [whole.quantity(k).value for k in ("params", "macs", "flops")] == [
        summary.totals.params, summary.totals.macs, summary.totals.flops,
    ]  # fmt: skip


@pytest.mark.slow  # every zoo network
@pytest.mark.parametrize("name", ZOO)
def test_every_formula_of_every_zoo_layer_equals_the_summary(name):
    check_network(name)


@pytest.mark.parametrize("name", LIBRARY)
def test_every_formula_of_a_library_model_equals_the_summary(name):
    pytest.importorskip(name.split(":")[0])
    check_network(name)


# --- the acceptance cases ---------------------------------------------------------------


def test_alexnets_first_layer_reads_as_the_paper_computes_it():
    x = explain("alexnet", ["features.0"]).layer("features.0")
    params = x.quantity("params")
    assert f"{params.formula} = {params.numbers} = {params.value:,}" == (
        "k_h·k_w·(C_in/g)·C_out + C_out = 11·11·(3/1)·96 + 96 = 34,944"
    )
    macs = x.quantity("macs")
    assert macs.numbers == "1·55·55·96·11·11·(3/1)"
    record = next(r for r in archscope.summarize("alexnet").layers if r.name == "features.0")
    assert macs.value == record.macs == 105_415_200  # the summary's 105 M
    assert [a.numbers for a in x.quantity("output_shape").axes] == ["⌊(227 + 2·0 − 1·(11 − 1) − 1)/4⌋ + 1"] * 2


def test_alexnets_first_layer_equals_the_arithmetic_done_by_hand():
    """Krizhevsky et al. 2012, Fig. 2 (single tower): 96 kernels of 11x11x3, stride 4, on 227x227."""
    x = explain("alexnet", ["features.0"]).layer("features.0")
    side = (227 + 2 * 0 - 1 * (11 - 1) - 1) // 4 + 1  # 55
    weights = 11 * 11 * 3 * 96
    by_hand = {
        "output_shape": [1, 96, side, side],
        "params": weights + 96,  # and one bias per kernel
        "macs": side * side * weights,  # every weight at every output position
        "flops": 2 * side * side * weights + side * side * 96,  # a MAC is two FLOPs; the bias one add
        "output_bytes": 96 * side * side * 4,  # float32
    }
    assert {key: x.quantity(key).value for key in by_hand} == by_hand
    field = x.quantity("receptive_field")
    assert [(a.label, a.value) for a in field.axes] == [
        ("H: r_out", 1 + (11 - 1) * 1 * 1), ("H: j_out", 1 * 4), ("W: r_out", 11), ("W: j_out", 4),
    ]  # fmt: skip


def test_a_depthwise_convolution_by_hand():
    """MobileNetV2's first depthwise 3x3 (g = C_in = 32, no bias)."""
    pytest.importorskip("torchvision")  # the floor stage of CI installs torch alone
    depthwise = explain("torchvision:mobilenet_v2", ["features.1.conv.0.0"]).layer("features.1.conv.0.0")
    assert depthwise.quantity("params").numbers == "3·3·(32/32)·32"
    assert depthwise.quantity("params").value == 3 * 3 * 1 * 32
    assert depthwise.quantity("macs").value == 112 * 112 * 32 * (3 * 3 * 1)
    assert depthwise.quantity("flops").value == 2 * 112 * 112 * 32 * 9  # no bias: nothing beyond the MACs


def test_a_linear_layer_by_hand():
    """AlexNet's last linear layer, from the zoo (no torchvision needed)."""
    linear = explain("alexnet", ["classifier.6"]).layer("classifier.6")
    assert (linear.quantity("params").formula, linear.quantity("params").value) == ("C_in·C_out + C_out", 4096 * 1000 + 1000)
    assert (linear.quantity("macs").formula, linear.quantity("macs").value) == ("N·C_in·C_out", 4096 * 1000)
    assert linear.quantity("flops").value == 2 * 4096 * 1000 + 1000
    assert linear.quantity("receptive_field").notes == ["unchanged: its input already sees the whole input"]


def test_alexnets_second_convolution_is_the_two_tower_form():
    x = explain("alexnet", ["features.4"]).layer("features.4")
    assert x.quantity("params").numbers == "5·5·(96/2)·256 + 256"
    assert x.quantity("params").value == 5 * 5 * 48 * 256 + 256


def test_vgg16s_field_grows_from_3_to_5():
    e = explain("vgg16", ["features.0", "features.2"])
    first, second = (x.quantity("receptive_field") for x in e.layers)
    assert [a.numbers for a in first.axes[:2]] == ["1 + (3 − 1)·1·1", "1·1"]
    assert [a.numbers for a in second.axes[:2]] == ["3 + (3 − 1)·1·1", "1·1"]
    assert (first.axes[0].value, second.axes[0].value) == (3, 5)


def test_googlenets_inception_3a_is_its_four_branches():
    x = explain("googlenet", ["inception3a"]).layer("inception3a")
    branches = [f"inception3a.branch{i}" for i in range(1, 5)]
    for key in ("params", "macs", "flops"):
        q = x.quantity(key)
        assert [p.label for p in q.parts] == branches
        assert sum(p.value for p in q.parts) == q.value
    field = x.quantity("receptive_field")
    assert [p.label for p in field.parts] == branches
    assert [p.value["size"] for p in field.parts] == [[27, 27], [43, 43], [59, 59], [43, 43]]


def test_resnet50s_bottleneck_adds_its_three_convolutions_and_the_downsample():
    x = explain("resnet50", ["layer1.0"]).layer("layer1.0")
    macs = x.quantity("macs")
    nonzero = [p.label for p in macs.parts if p.value]
    assert nonzero == ["layer1.0.downsample", "layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3"]
    assert sum(p.value for p in macs.parts) == macs.value
    flops = x.quantity("flops")
    assert flops.parts[-2].label == "aten::add"  # the residual addition, the block's own operator
    assert flops.parts[-2].formula == "|y|" and flops.parts[-2].value == 256 * 56 * 56
    field = x.quantity("receptive_field")  # the union of the main path's and the shortcut's windows
    assert [p.value["size"] for p in field.parts] == [[19, 19], [11, 11]]
    assert field.axes[0].formula == "max(r_1 − P_1, r_2 − P_2) + max(P_1, P_2)"


# --- what a user brings ------------------------------------------------------------------


def test_summarize_then_explain_gives_the_same_record():
    assert archscope.summarize("alexnet").explain("features.0").to_dict() == explain("alexnet", ["features.0"]).to_dict()


def test_a_summary_not_made_by_summarize_cannot_explain():
    summary = archscope.summarize("lenet5")
    copy = dataclasses.replace(summary)  # a plain copy of the record: no analysis behind it
    with pytest.raises(ArchscopeError, match="summarize"):
        copy.explain("conv1")


def test_an_unknown_layer_name_is_refused_with_the_nearest_names():
    with pytest.raises(ArchscopeError, match="no layer named 'features.99'.*features.9"):
        explain("vgg16", ["features.99"])


def test_batch_norm_counts_its_affine_parameters_and_says_its_statistics_are_buffers():
    x = explain("resnet18", ["bn1"]).layer("bn1")
    params = x.quantity("params")
    assert (params.formula, params.numbers, params.value) == ("2·C", "2·64", 128)
    assert any("running_mean and running_var (128 values) are buffers" in n for n in params.notes)
    assert x.quantity("flops").formula == "2·|x|"  # eval: one scale and one shift per element


def test_tied_weights_are_counted_once_and_said_so():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 8)
            self.out = nn.Linear(8, 50, bias=False)
            self.out.weight = self.embed.weight

        def forward(self, tokens):
            return self.out(self.embed(tokens))

    e = explain(Tied(), input_size="5:int64")
    params = e.whole.quantity("params")
    assert params.value == 50 * 8
    assert [(p.label, p.value) for p in params.parts] == [("embed", 400), ("out", 0)]
    assert params.parts[1].note == "400 tied to embed, counted there once"
    assert e.layer("embed").quantity("params").formula == "V·d"


def test_an_operator_without_a_formula_or_a_rule_is_said_so_never_made_up():
    @torch.library.custom_op("archscope_explain_test::triple", mutates_args=())
    def triple(x: torch.Tensor) -> torch.Tensor:
        return x * 3

    @triple.register_fake
    def _(x):
        return torch.empty_like(x)

    @torch.library.custom_op("archscope_explain_test::unknown", mutates_args=())
    def unknown(x: torch.Tensor) -> torch.Tensor:
        return x + 1

    @unknown.register_fake
    def _(x):
        return torch.empty_like(x)

    archscope.register_op(torch.ops.archscope_explain_test.triple, lambda args, kwargs, out: archscope.OpCost(0, out.numel()))

    class Uses(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Identity()

        def forward(self, x):
            return unknown(triple(self.inner(x)))

    e = explain(Uses(), input_size=[4, 5])
    flops = e.whole.quantity("flops")
    notes = {p.label: p.note for p in flops.parts}
    assert notes["archscope_explain_test::triple"] == f"archscope_explain_test::triple: {NO_FORMULA}"
    assert notes["archscope_explain_test::unknown"] == f"archscope_explain_test::unknown: {NO_RULE}"
    assert flops.value == 20 and sum(p.value for p in flops.parts) == 20


def test_attention_says_its_two_matrix_products():
    block = nn.MultiheadAttention(16, 2, batch_first=True)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = block

        def forward(self, x):
            return self.attention(x, x, x, need_weights=False)[0]

    x = explain(SelfAttention(), input_size=[10, 16]).layer("attention")
    own = x.quantity("params").parts[-1]
    assert (own.label, own.formula, own.numbers) == ("own", "3·d·d + 3·d", "3·16·16 + 3·16")
    fused = [p for p in x.quantity("macs").parts if "attention" in p.label and p.label.startswith("aten::")]
    if fused:  # the fused kernel: Q·Kᵀ and P·V, L·S·E and L·S·E_v per batch and head
        assert fused[0].formula == "N·h·(L·S·E + L·S·E_v)" and fused[0].numbers == "1·2·(10·10·8 + 10·10·8)"
    check_quantity(x.quantity("macs"))


def test_training_says_what_autograd_saves_and_the_layers_add_up_to_the_total():
    summary = archscope.summarize("cifar-resnet20", train=True)
    e = explain("cifar-resnet20", train=True)
    saved = e.whole.quantity("saved_bytes")
    assert saved.value == summary.totals.training_memory.saved_activations
    assert sum(p.value for p in saved.parts) == saved.value
    conv = explain("cifar-resnet20", ["conv1"], train=True).layer("conv1").quantity("saved_bytes")
    check_quantity(conv)
    assert conv.value > 0


def test_an_adaptive_pool_to_one_says_its_size_is_the_one_asked_for():
    # PyTorch runs AdaptiveAvgPool2d(1) as aten::mean: no pooling operator made the output
    x = explain("resnet50", ["avgpool"]).layer("avgpool")
    shape = x.quantity("output_shape")
    assert shape.value == [1, 2048, 1, 1]
    assert shape.notes == ["adaptive pooling: the output size is the one asked for"]
    flops = x.quantity("flops")
    assert (flops.formula, flops.value) == ("|x|", 2048 * 7 * 7)  # one addition per input element
