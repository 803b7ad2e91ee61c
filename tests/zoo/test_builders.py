"""The zoo reads like its papers: one public, named builder per variant, no private options, the paper's block names."""

import inspect
import sys

import pytest

import archscope
from archscope.errors import ArchscopeError
from archscope.zoo import list_entries


def test_no_registered_builder_takes_a_private_parameter():
    """A lambda's private default (``_bn=False``) would be an option of ``--arg`` that changes the network."""
    private = {
        entry.name: names
        for entry in list_entries()
        if (names := [p for p in inspect.signature(entry.builder).parameters if p.startswith("_")])
    }
    assert private == {}


def test_every_variant_has_its_own_public_builder_named_after_it():
    entries = list_entries()
    misnamed = [
        (entry.name, entry.builder.__name__)
        for entry in entries
        if entry.builder.__name__.replace("_", "-") != entry.name.replace(".", "-")
    ]
    assert misnamed == []
    for entry in entries:
        module = sys.modules[entry.builder.__module__]
        assert getattr(module, entry.builder.__name__) is entry.builder, f"{entry.name}: not importable by its name"
    assert len({id(entry.builder) for entry in entries}) == len(entries)


def test_a_private_argument_is_refused_in_one_line_that_names_it():
    # vgg16 with _bn=True used to build VGG-16 with batch norm and report it as "vgg16".
    with pytest.raises(ArchscopeError) as caught:
        archscope.summarize("vgg16", model_kwargs={"_bn": True})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("vgg16 ")
    assert "unexpected keyword argument '_bn'" in message


def test_inception_v4_blocks_carry_the_papers_names(zoo_summary):
    """Figure 9's blocks, in order, as the model's own children: '--depth 1' reads like the figure."""
    summary = zoo_summary("inception-v4")
    top = [(layer.name, layer.type) for layer in summary.layers if layer.depth == 1]
    figure_9 = ["Stem", *["InceptionA"] * 4, "ReductionA", *["InceptionB"] * 7, "ReductionB", *["InceptionC"] * 3]
    assert [t for _, t in top] == [*figure_9, "AdaptiveAvgPool2d", "Flatten", "Dropout", "Linear"]
    assert [n for n, _ in top][:7] == ["stem", "inception_a1", "inception_a2", "inception_a3", "inception_a4",
                                       "reduction_a", "inception_b1"]  # fmt: skip
    assert (summary.totals.params, summary.totals.macs) == (42_679_816, 12_253_974_624)
