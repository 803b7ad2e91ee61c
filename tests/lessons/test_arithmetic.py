"""Each lesson's arithmetic, generated from explain's formulas, held to the engine's own counts."""

import pytest
import torch
import torch.nn as nn

import archscope
from archscope.lessons import LESSONS, lesson
from archscope.lessons.arithmetic import extra_operators, work_through_pair
from archscope.zoo import get_entry


def steps(working: dict) -> dict[str, str]:
    return {step["label"]: step["text"] for step in working["steps"]}


def weights_of(name: str) -> int:
    with torch.device("meta"):
        model = get_entry(name).build()
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_the_1x1_reduction_is_worked_as_the_course_notes_work_it():
    working = lesson("1x1-reduction").arithmetic[0]
    said = steps(working)
    assert said["inception-5x5-naive"] == "5·5·480·48 = 576,000 weights, × 14·14 positions = 112,896,000 MACs"
    assert said["inception-5x5-reduced"] == "1·1·480·16 + 5·5·16·48 = 26,880 weights, × 14·14 positions = 5,268,480 MACs"
    assert said["what differs"] == "the largest layer (5×5 conv against 5×5 conv): C_in 480 against 16"
    assert said["ratio"].startswith("inception-5x5-naive needs 21.4× the weights and 21.4× the MACs")


def test_the_stacked_3x3s_are_said_in_c():
    first, second = lesson("stacked-3x3").arithmetic
    assert steps(first)["in C (C = 256)"] == "3·(3·3·C·C) = 27C² against 7·7·C·C = 49C²"
    assert steps(second)["in C (C = 256)"] == "2·(3·3·C·C) = 18C² against 5·5·C·C = 25C²"
    three, seven = first["sides"]
    assert (three["weights"], seven["weights"]) == (27 * 256 * 256, 49 * 256 * 256)


def test_alexnets_split_names_the_groups_and_the_layers_it_changes():
    said = steps(lesson("alexnet-split").arithmetic[0])
    assert said["layers that differ"] == "features.4, features.10, features.12"
    assert said["alexnet"].startswith("5·5·(96/2)·256 + 3·3·(384/2)·384 + 3·3·(384/2)·256 = 1,413,120 weights")
    assert said["what differs"].endswith("g 1 against 2")


@pytest.mark.parametrize("entry", [e for e in LESSONS if not e.measured], ids=lambda e: e.id)
def test_every_sides_weights_and_macs_are_the_engines(entry):
    for working in lesson(entry.id).arithmetic:
        left_out = working["same_layers"]
        for side in working["sides"]:
            summary = archscope.summarize(side["model"])
            if not left_out:  # the side is the whole network
                assert side["weights"] == weights_of(side["model"])
                assert side["macs"] == summary.totals.macs
            else:  # the layers that differ, plus the ones both share, are the whole network
                shared = sum(x.macs for x in summary.layers if x.name in left_out)
                assert side["macs"] + shared == summary.totals.macs


def test_plain_and_residual_differ_only_by_the_shortcuts_additions():
    working = work_through_pair("cifar-plain56", "cifar-resnet56")
    assert [label for label, _ in working.steps] == ["both"]
    (op, text), = extra_operators("cifar-plain56", "cifar-resnet56")
    shortcuts = archscope.summarize("cifar-resnet56").totals.flops - archscope.summarize("cifar-plain56").totals.flops
    assert op == "aten::add" and f"27 calls, {shortcuts:,} FLOPs in cifar-resnet56" in text
    assert "1 flop per output element" in text
