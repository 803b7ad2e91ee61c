"""Edges as a reader follows them, read back from the SVG: none runs through a frame's label or a box
it does not join, and a U-Net's skips nest as arcs that never cross."""

from itertools import combinations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from archscope.draw import picture, trace
from archscope.draw.geometry import LANE_GAP
from tests.draw.svg import crossings, enters, parse

FRAMED = ["googlenet", "resnet18", "resnet50", "inception-v4"]


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Ronneberger et al. (2015), three levels deep: each encoder map joins the decoder of its size."""

    def __init__(self):
        super().__init__()
        self.e1, self.e2, self.e3, self.e4 = block(3, 8), block(8, 16), block(16, 32), block(32, 64)
        self.d3, self.d2, self.d1 = block(64 + 32, 32), block(32 + 16, 16), block(16 + 8, 8)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        s1 = self.e1(x)
        s2 = self.e2(F.max_pool2d(s1, 2))
        s3 = self.e3(F.max_pool2d(s2, 2))
        x = self.e4(F.max_pool2d(s3, 2))
        x = self.d3(torch.cat([F.interpolate(x, scale_factor=2.0, mode="bilinear"), s3], 1))
        x = self.d2(torch.cat([F.interpolate(x, scale_factor=2.0, mode="bilinear"), s2], 1))
        x = self.d1(torch.cat([F.interpolate(x, scale_factor=2.0, mode="bilinear"), s1], 1))
        return self.out(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.pool, self.conv = nn.MaxPool2d(2), block(cin, cout)

    def forward(self, x):
        return self.conv(self.pool(x))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up, self.conv = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2), block(cin, cout)

    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], 1))


class FramedUNet(nn.Module):
    """The same U-Net written as modules (Down, Up), so each is drawn as a frame the skips must pass."""

    def __init__(self):
        super().__init__()
        self.inc = block(3, 8)
        self.down1, self.down2, self.down3 = Down(8, 16), Down(16, 32), Down(32, 64)
        self.up1, self.up2, self.up3 = Up(64, 32), Up(32, 16), Up(16, 8)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.down3(x3)
        return self.out(self.up3(self.up2(self.up1(x, x3), x2), x1))


def drawn(model, **options):
    summary, flow = trace(model, (3, 32, 32)) if isinstance(model, nn.Module) else trace(model)
    return parse(picture(summary, flow, "svg", **options))


@pytest.mark.parametrize("model", [*FRAMED, FramedUNet()], ids=[*FRAMED, "framed-unet"])
def test_no_edge_runs_through_a_frames_label(model):
    drawing = drawn(model)
    assert drawing.frames
    for frame in drawing.frames:
        label = drawing.frame_label_box(frame)
        x0, y0, x1, y1 = drawing.frames[frame]
        assert x0 < label[0] and label[2] < x1  # the label is inside its frame
        through = [edge for edge, path in drawing.paths.items() if enters(path, label, margin=1.0)]
        assert through == [], drawing.frame_labels[frame][0]


@pytest.mark.parametrize("model", [*FRAMED, UNet(), FramedUNet()], ids=[*FRAMED, "unet", "framed-unet"])
def test_an_edge_passes_no_box_but_its_own_two(model):
    drawing = drawn(model)
    for edge, path in drawing.paths.items():
        for node, (x0, y0, x1, y1) in drawing.boxes.items():
            if node not in edge:
                assert not enters(path, (x0 + 1, y0 + 1, x1 - 1, y1 - 1)), (edge, drawing.labels[node][0])


def skips(drawing):
    """The edges from an encoder's map to the concatenation that takes it, longest first."""
    concats = {n for n, lines in drawing.labels.items() if lines[0] == "concat"}
    pairs = [(a, b) for a, b in drawing.edges if b in concats and len(drawing.paths[(a, b)]) > 30]
    return sorted(pairs, key=lambda e: drawing.centre(e[0])[1] - drawing.centre(e[1])[1])


@pytest.mark.parametrize("model", [UNet(), FramedUNet()], ids=["unet", "framed-unet"])
def test_a_unets_three_skips_nest_as_arcs_without_crossing(model):
    drawing = drawn(model)
    wires = skips(drawing)
    assert len(wires) == 3
    for a, b in combinations(wires, 2):
        assert crossings(drawing.paths[a], drawing.paths[b]) == []
    columns = []
    for wire in wires:
        top, bottom = drawing.boxes[wire[0]][3], drawing.boxes[wire[1]][1]
        # Down the side of the boxes it passes: one straight run at one x for most of its length.
        run = [(x, y) for x, y in drawing.paths[wire] if top + 25 < y < bottom - 25]
        assert run and max(x for x, _ in run) - min(x for x, _ in run) < 0.5, wire
        columns.append(run[0][0])
    # The longest skip outermost, each a lane's width beside the next.
    assert all(outer - inner >= LANE_GAP * 72 * 0.9 for outer, inner in zip(columns, columns[1:]))
