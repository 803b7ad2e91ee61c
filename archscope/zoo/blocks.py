"""Building blocks as zoo entries (family ``block``), in pairs that the design lessons compare.

Each block gets the input it has in the network it comes from, so its figures are the ones
that network pays. Its reference figures are counted by hand from the layer sizes; a test
counts them again.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.googlenet import TABLE_1, Inception, NaiveInception, conv_relu
from archscope.zoo.registry import Reference, register
from archscope.zoo.resnet import BasicBlock, Bottleneck

C = 256  # channels of the stacked-convolution blocks: VGG's third stage (56x56x256)
_STACK_INPUT = (C, 56, 56)


def conv_stack(kernels: list[tuple[int, int]], channels: int = C) -> nn.Sequential:
    """Convolutions of the given (height, width) kernels, each with a ReLU, keeping the map size.

    No biases, so the weights are exactly k_h x k_w x C^2 per layer.
    """
    layers: list[nn.Module] = []
    for kh, kw in kernels:
        layers += [nn.Conv2d(channels, channels, (kh, kw), padding=(kh // 2, kw // 2), bias=False), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def _hand(params: int, macs: int, how: str) -> Reference:
    return Reference(params=params, macs=macs, macs_tolerance=0, source=f"counted by hand: {how}")


_POSITIONS = 56 * 56
_BLOCK_SOURCE = "Simonyan & Zisserman 2014, section 2.3"


def _stack(units: int, source: str) -> dict:
    """register()'s metadata for a stack at VGG's third stage with ``units`` x C^2 weights."""
    return dict(
        family="block",
        input_size=_STACK_INPUT,
        source=source,
        reference=_hand(units * C * C, units * C * C * _POSITIONS, f"{units} x C^2 weights, at 56x56 positions"),
    )


@register("conv7x7", **_stack(49, f"{_BLOCK_SOURCE}: one 7x7 conv at 256 channels"))
def conv7x7() -> nn.Sequential:
    return conv_stack([(7, 7)])


@register("conv3x3-x3", **_stack(27, f"{_BLOCK_SOURCE}: three stacked 3x3 convs, the same 7x7 receptive field"))
def conv3x3_x3() -> nn.Sequential:
    return conv_stack([(3, 3)] * 3)


@register("conv5x5", **_stack(25, f"{_BLOCK_SOURCE}: one 5x5 conv at 256 channels"))
def conv5x5() -> nn.Sequential:
    return conv_stack([(5, 5)])


@register("conv3x3-x2", **_stack(18, f"{_BLOCK_SOURCE}: two stacked 3x3 convs, the same 5x5 receptive field"))
def conv3x3_x2() -> nn.Sequential:
    return conv_stack([(3, 3)] * 2)


_FACTORISED = "Szegedy et al. 2016 (Inception-v4), Fig. 5: a 7x7 conv factorised into 1x7 then 7x1, at 256 channels"


@register("conv7x7-factorized", **_stack(14, _FACTORISED))
def conv7x7_factorized() -> nn.Sequential:
    return conv_stack([(1, 7), (7, 1)])


@register(
    "inception-naive",
    family="block",
    input_size=(192, 28, 28),
    source="Szegedy et al. 2014, Fig. 2(a) with module 3a's widths (Table 1) on 28x28x192",
    reference=_hand(
        192 * 64 + 64 + 9 * 192 * 128 + 128 + 25 * 192 * 32 + 32,
        28 * 28 * (192 * 64 + 9 * 192 * 128 + 25 * 192 * 32),
        "1x1, 3x3 and 5x5 convs straight on 192 channels",
    ),
)
def inception_naive() -> NaiveInception:
    return NaiveInception(192, TABLE_1["3a"])


@register(
    "inception-reduced",
    family="block",
    input_size=(192, 28, 28),
    source="Szegedy et al. 2014, Fig. 2(b): GoogLeNet's module 3a (Table 1) on 28x28x192",
    reference=_hand(163_328 + 64 + 96 + 128 + 16 + 32 + 32, 28 * 28 * 163_328, "Table 1's 3a widths, biases included"),
)
def inception_reduced() -> Inception:
    return Inception(192, TABLE_1["3a"])


class FiveByFiveBranch(nn.Module):
    """The 5x5 branch alone: 480 channels at 14x14 to 48, with or without a 16-channel 1x1 reduction."""

    def __init__(self, reduce_to: int | None) -> None:
        super().__init__()
        layers = [conv_relu(480, reduce_to, 1)] if reduce_to else []
        layers.append(conv_relu(reduce_to or 480, 48, 5))
        self.branch = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.branch(x)


_FIVE = "Szegedy et al. 2014, section 4: the 5x5 branch on 14x14x480 to 48 channels"


@register(
    "inception-5x5-naive",
    family="block",
    input_size=(480, 14, 14),
    source=f"{_FIVE}, straight on the input",
    reference=_hand(25 * 480 * 48 + 48, 14 * 14 * 48 * 25 * 480, "14x14x48 outputs x 5x5x480"),
)
def inception_5x5_naive() -> FiveByFiveBranch:
    return FiveByFiveBranch(None)


@register(
    "inception-5x5-reduced",
    family="block",
    input_size=(480, 14, 14),
    source=f"{_FIVE}, after a 1x1 reduction to 16",
    reference=_hand(
        480 * 16 + 16 + 25 * 16 * 48 + 48, 14 * 14 * 16 * 480 + 14 * 14 * 48 * 25 * 16, "1x1 to 16, then 5x5 to 48"
    ),
)
def inception_5x5_reduced() -> FiveByFiveBranch:
    return FiveByFiveBranch(16)


class FullyConnectedHead(nn.Module):
    """Flatten the feature map and classify with a stack of linear layers (ReLU between)."""

    def __init__(self, in_features: int, widths: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, width in enumerate(widths):
            layers.append(nn.Linear(in_features, width))
            if i < len(widths) - 1:
                layers += [nn.ReLU(inplace=True), nn.Dropout(0.5)]
            in_features = width
        self.fc = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(x, 1))


class GlobalAveragePoolHead(nn.Module):
    """Average each channel over the map; optionally one linear layer after it (Lin et al. 2013)."""

    def __init__(self, in_channels: int, num_classes: int | None) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes) if num_classes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.pool(x), 1)
        return x if self.fc is None else self.fc(x)


@register(
    "head-fc",
    family="block",
    input_size=(512, 7, 7),
    source="Simonyan & Zisserman 2014, Table 1: VGG's classifier, FC-4096, FC-4096, FC-1000 on 7x7x512",
    reference=_hand(
        25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000,
        25088 * 4096 + 4096 * 4096 + 4096 * 1000,
        "three linear layers",
    ),
)
def head_fc() -> FullyConnectedHead:
    return FullyConnectedHead(512 * 7 * 7, [4096, 4096, 1000])


@register(
    "head-gap",
    family="block",
    input_size=(512, 7, 7),
    source="Lin et al. 2013 / Szegedy et al. 2014: global average pooling and one linear layer on 7x7x512",
    reference=_hand(512 * 1000 + 1000, 512 * 1000, "one 512 x 1000 linear layer"),
)
def head_gap() -> GlobalAveragePoolHead:
    return GlobalAveragePoolHead(512, 1000)


@register(
    "head-fc-1024",
    family="block",
    input_size=(1024, 7, 7),
    source="one fully connected layer from 7x7x1024 to 1024 features",
    reference=_hand(50176 * 1024 + 1024, 50176 * 1024, "7x7x1024 x 1024 weights"),
)
def head_fc_1024() -> FullyConnectedHead:
    return FullyConnectedHead(1024 * 7 * 7, [1024])


@register(
    "head-gap-1024",
    family="block",
    input_size=(1024, 7, 7),
    source="Szegedy et al. 2014, section 5: global average pooling from 7x7x1024 to 1024 features, no weights",
    reference=_hand(0, 0, "an average has no weights and no multiply-accumulates"),
)
def head_gap_1024() -> GlobalAveragePoolHead:
    return GlobalAveragePoolHead(1024, None)


@register(
    "basic-block",
    family="block",
    input_size=(64, 56, 56),
    source="He et al. 2015, Fig. 5 (left): two 3x3 convs with batch norm and an identity shortcut, on a 64-d map "
    "(ResNet-34's conv2_x)",
    reference=_hand(2 * 9 * 64 * 64 + 4 * 64, 2 * 9 * 64 * 64 * _POSITIONS, "2 x 3x3x64x64, plus batch norm"),
)
def basic_block() -> BasicBlock:
    return BasicBlock(64, 64)


@register(
    "bottleneck-block",
    family="block",
    input_size=(256, 56, 56),
    source="He et al. 2015, Fig. 5 (right): 1x1 to 64, 3x3, 1x1 back to 256, with batch norm and an identity shortcut",
    reference=_hand(
        256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256),
        (256 * 64 + 9 * 64 * 64 + 64 * 256) * _POSITIONS,
        "1x1x256x64 + 3x3x64x64 + 1x1x64x256, plus batch norm",
    ),
)
def bottleneck_block() -> Bottleneck:
    return Bottleneck(256, 64)
