"""The layered-volume picture of a chain: one volume per output, left to right, each with its shape."""

import math
import re

import pytest
import torch.nn as nn

import archscope
from archscope.draw import picture, trace
from archscope.errors import ArchscopeError
from tests.draw.svg import parse

SHAPE = re.compile(r"^(\d+(?:x\d+)*)(?: · |$)")


def shape_of(lines):
    return next(m.group(1) for m in map(SHAPE.match, lines) if m)


CHAINS = ["lenet5", "lenet5-1998", "alexnet", "vgg16", "vgg19-bn", "googlenet", "resnet50", "inception-v4", "cifar-resnet1202"]


@pytest.mark.parametrize("name", CHAINS)
def test_networks_draw_as_volumes_left_to_right(name):
    summary, flow = trace(name)
    drawing = parse(picture(summary, flow, "svg", style="layers"))
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    assert drawing.edges == list(zip(order, order[1:]))  # one row, each volume feeding the next
    assert all(shape_of(drawing.labels[n]) for n in order)  # a shape on each
    assert len(order) <= 100


def test_lenet5_reads_as_figure_2():
    summary, flow = trace("lenet5")
    drawing = parse(picture(summary, flow, "svg", style="layers"))
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    shapes = [shape_of(drawing.labels[n]) for n in order]
    assert shapes == ["1x32x32", "6x28x28", "6x14x14", "16x10x10", "16x5x5", "120", "84", "10"]
    heights = [drawing.boxes[n][3] - drawing.boxes[n][1] for n in order[:5]]
    assert heights == sorted(heights, reverse=True)  # the maps shrink, and the picture shows it


def test_a_network_that_branches_even_at_depth_1_is_refused_in_one_sentence():
    summary, flow = trace("inception-reduced")
    with pytest.raises(ArchscopeError, match="draw it with --style graph"):
        picture(summary, flow, "svg", style="layers")


def test_every_zoo_network_that_is_a_chain_at_some_depth_draws_as_volumes():
    refused = []
    for name in archscope.list_models():
        summary, flow = trace(name)
        try:
            picture(summary, flow, "svg", style="layers")
        except ArchscopeError:
            refused.append(name)
    # The single blocks of the lessons: their branches are the model itself.
    assert refused == ["inception-naive", "inception-reduced", "basic-block", "bottleneck-block"]


def sides(drawing, node):
    x0, y0, x1, y1 = drawing.boxes[node]
    return x1 - x0, y1 - y0


def recedes(drawing, node):
    """How far the side face (the channels) reaches right of the front face, in points."""
    return drawing.depths[node][2] - drawing.boxes[node][2]


def test_a_maps_face_is_height_by_width_and_it_recedes_by_its_channels():
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(16, 64, 3, padding=1))
    summary, flow = trace(net, (3, 64, 16))  # a tall, narrow map: 64 high, 16 wide
    drawing = parse(picture(summary, flow, "svg", style="layers"))
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    assert [shape_of(drawing.labels[n][1:]) for n in order] == ["3x64x16", "16x64x16", "16x32x8", "64x32x8"]
    for node, (height, width) in zip(order, [(64, 16), (64, 16), (32, 8), (32, 8)]):
        face_width, face_height = sides(drawing, node)
        assert face_height / face_width == pytest.approx(math.sqrt(height / width), rel=0.02)  # square-root scales
    channels = [recedes(drawing, n) for n in order]
    assert channels[0] < channels[1] < channels[3] and channels[1] == pytest.approx(channels[2])
    assert channels[3] / channels[1] == pytest.approx(math.sqrt(64 / 16), rel=0.02)
    assert "face: height x width; depth: channels" in " ".join(drawing.title)


def test_a_1d_network_draws_as_1d_volumes_scaled_to_fit():
    net = nn.Sequential(nn.Conv1d(1, 16, 9, padding=4), nn.ReLU(), nn.MaxPool1d(4), nn.Conv1d(16, 32, 9, padding=4),
                        nn.ReLU(), nn.MaxPool1d(4), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 10))
    summary, flow = trace(net, (1, 16000))  # a second of 16 kHz audio
    svg = picture(summary, flow, "svg", style="layers")
    drawing = parse(svg)
    order = sorted(drawing.boxes, key=lambda n: drawing.centre(n)[0])
    maps = [n for n in order if shape_of(drawing.labels[n][1:]).count("x") == 1]  # CxL
    lengths = [int(shape_of(drawing.labels[n][1:]).split("x")[1]) for n in maps]
    assert lengths == [16000, 16000, 4000, 4000, 1000, 1]
    assert len({round(sides(drawing, n)[0], 3) for n in maps}) == 1  # one thin face for every 1-D map
    heights = [sides(drawing, n)[1] for n in maps[:-1]]
    assert heights[0] / heights[2] == pytest.approx(math.sqrt(16000 / 4000), rel=0.02)
    assert max(heights) <= 72 * 3.4  # scaled as a whole: no taller than VGG's 224-pixel face
    size = re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    width, height = float(size.group(1)), float(size.group(2))
    assert height < 72 * 7 and width > height  # a row of volumes, not a tall empty page
    texts = " ".join(drawing.text(n) for n in order)
    assert texts.count("max pool 4/4") == 2 and "1x4" not in texts
    assert "face: length up (1-D maps)" in " ".join(drawing.title)
