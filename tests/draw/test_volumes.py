"""The layered-volume picture of a chain: one volume per output, left to right, each with its shape."""

import re

import pytest

import archscope
from archscope.draw import picture
from archscope.errors import ArchscopeError
from tests.draw.svg import parse

SHAPE = re.compile(r"^(\d+(?:x\d+)*)(?: · |$)")


def shape_of(lines):
    return next(m.group(1) for m in map(SHAPE.match, lines) if m)


CHAINS = ["lenet5", "lenet5-1998", "alexnet", "vgg16", "vgg19-bn", "googlenet", "resnet50", "inception-v4", "cifar-resnet1202"]


@pytest.mark.parametrize("name", CHAINS)
def test_networks_draw_as_volumes_left_to_right(name, zoo_trace):
    summary, flow = zoo_trace(name)
    drawing = parse(picture(summary, flow, "svg", style="layers"))
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    assert drawing.edges == list(zip(order, order[1:]))  # one row, each volume feeding the next
    assert all(shape_of(drawing.labels[n]) for n in order)  # a shape on each
    assert len(order) <= 100


def test_lenet5_reads_as_figure_2(zoo_trace):
    summary, flow = zoo_trace("lenet5")
    drawing = parse(picture(summary, flow, "svg", style="layers"))
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    shapes = [shape_of(drawing.labels[n]) for n in order]
    assert shapes == ["1x32x32", "6x28x28", "6x14x14", "16x10x10", "16x5x5", "120", "84", "10"]
    heights = [drawing.boxes[n][3] - drawing.boxes[n][1] for n in order[:5]]
    assert heights == sorted(heights, reverse=True)  # the maps shrink, and the picture shows it


def test_a_network_that_branches_even_at_depth_1_is_refused_in_one_sentence(zoo_trace):
    summary, flow = zoo_trace("inception-reduced")
    with pytest.raises(ArchscopeError, match="draw it with --style graph"):
        picture(summary, flow, "svg", style="layers")


def test_every_zoo_network_that_is_a_chain_at_some_depth_draws_as_volumes(zoo_trace):
    refused = []
    for name in archscope.list_models():
        summary, flow = zoo_trace(name)
        try:
            picture(summary, flow, "svg", style="layers")
        except ArchscopeError:
            refused.append(name)
    # The single blocks of the lessons: their branches are the model itself.
    assert refused == ["inception-naive", "inception-reduced", "basic-block", "bottleneck-block"]
