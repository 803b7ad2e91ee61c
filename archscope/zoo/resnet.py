"""ResNet (He et al. 2015, "Deep Residual Learning for Image Recognition"), Table 1.

Module names follow torchvision (``layer1.0.conv1``, ``downsample``, ``fc``) so per-layer
figures compare line by line. One difference is deliberate: the paper's bottleneck puts
the stride-2 on its first 1x1 convolution, torchvision ("v1.5") on the 3x3. The parameters
are the same; the 1x1 stride makes the 3x3 run on a quarter of the positions, which is why
the paper's ResNet-50 needs 3.8 G multiply-accumulates and torchvision's 4.1 G.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.registry import described, register


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or projected) shortcut; Fig. 5, left.

    ``residual=False`` drops the shortcut: the building block of the plain baselines (Fig. 3, middle).
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = conv3x3(in_channels, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.residual:
            return self.relu(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4); Fig. 5, right.

    ``stride_on_3x3`` False is the paper's layout; True is torchvision's v1.5.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        stride_on_3x3: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = conv1x1(in_channels, width, 1 if stride_on_3x3 else stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride if stride_on_3x3 else 1)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, width * self.expansion)
        self.bn3 = nn.BatchNorm2d(width * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class ResNet(nn.Module):
    """conv1 7x7/2, 3x3/2 max-pool, four stages (conv2_x .. conv5_x), global average pool, FC."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        depths: tuple[int, int, int, int],
        num_classes: int = 1000,
        residual: bool = True,
        **block_kwargs,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        if not residual:
            block_kwargs = {**block_kwargs, "residual": False}
        channels = 64
        for index, (width, depth) in enumerate(zip((64, 128, 256, 512), depths)):
            stride = 1 if index == 0 else 2
            blocks = []
            for i in range(depth):
                out_channels = width * block.expansion
                downsample = None
                if residual and i == 0 and (stride != 1 or channels != out_channels):
                    # Projection shortcut (option B) where the shape changes.
                    downsample = nn.Sequential(conv1x1(channels, out_channels, stride), nn.BatchNorm2d(out_channels))
                blocks.append(block(channels, width, stride if i == 0 else 1, downsample, **block_kwargs))
                channels = out_channels
            self.add_module(f"layer{index + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _resnet(
    block: type[BasicBlock] | type[Bottleneck], depths: tuple[int, int, int, int], *, num_classes: int, **kwargs
) -> ResNet:
    return ResNet(block, depths, num_classes, **kwargs)


_TABLE_1 = "He et al. 2015, Table 1"
_TORCHVISION = "torchvision.models weights metadata (num_params, GFLOPS at 224)"
_STRIDE_NOTE = "; stride on the bottleneck's first 1x1 as in the paper (torchvision: on the 3x3)"


def _table_1(layers: int, *, params: int, gmacs: float, bottleneck: bool) -> dict:
    """A Table 1 column: torchvision's num_params, Table 1's FLOPs (x10^9, multiply-adds)."""
    source = f"{_TABLE_1}, {layers}-layer" + (_STRIDE_NOTE if bottleneck else "")
    # Table 1 prints two significant figures, rounded down (ResNet-50 counts 3.86 G).
    figures = "params: torchvision's num_params (same layers); MACs: Table 1's FLOPs row"
    return described("resnet", source, params=params, macs=gmacs * 1e9, macs_tolerance=0.1e9, figures=figures)


@register("resnet18", **_table_1(18, params=11_689_512, gmacs=1.8, bottleneck=False))
def resnet18(num_classes: int = 1000) -> ResNet:
    return _resnet(BasicBlock, (2, 2, 2, 2), num_classes=num_classes)


@register("resnet34", **_table_1(34, params=21_797_672, gmacs=3.6, bottleneck=False))
def resnet34(num_classes: int = 1000) -> ResNet:
    return _resnet(BasicBlock, (3, 4, 6, 3), num_classes=num_classes)


@register("resnet50", **_table_1(50, params=25_557_032, gmacs=3.8, bottleneck=True))
def resnet50(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 6, 3), num_classes=num_classes)


@register("resnet101", **_table_1(101, params=44_549_160, gmacs=7.6, bottleneck=True))
def resnet101(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 23, 3), num_classes=num_classes)


@register("resnet152", **_table_1(152, params=60_192_808, gmacs=11.3, bottleneck=True))
def resnet152(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 8, 36, 3), num_classes=num_classes)


# torchvision's resnet50/101/152 ("v1.5"): the stride on the bottleneck's 3x3. Its published
# GFLOPS (multiply-adds at 224) are the reference; the parameters are the paper layout's.
def _v1_5(layers: int, *, params: int, gmacs: float, tolerance: float) -> dict:
    source = f"{_TABLE_1}, {layers}-layer with the bottleneck's stride on its 3x3 (torchvision's layout, 'v1.5')"
    return described("resnet", source, params=params, macs=gmacs * 1e9, macs_tolerance=tolerance * 1e9, figures=_TORCHVISION)


@register("resnet50-v1.5", **_v1_5(50, params=25_557_032, gmacs=4.09, tolerance=0.005))
def resnet50_v1_5(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 6, 3), num_classes=num_classes, stride_on_3x3=True)


@register("resnet101-v1.5", **_v1_5(101, params=44_549_160, gmacs=7.8, tolerance=0.05))
def resnet101_v1_5(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 4, 23, 3), num_classes=num_classes, stride_on_3x3=True)


@register("resnet152-v1.5", **_v1_5(152, params=60_192_808, gmacs=11.51, tolerance=0.005))
def resnet152_v1_5(num_classes: int = 1000) -> ResNet:
    return _resnet(Bottleneck, (3, 8, 36, 3), num_classes=num_classes, stride_on_3x3=True)


# The plain baselines of Fig. 3 (middle) and Table 2: the same stacks without shortcuts.
# Their parameters are the residual networks' less the three projection shortcuts (conv1x1 + BN
# into stages 2-4: 8,448 + 33,280 + 132,096 = 173,824); "FLOPs" are the paper's multiply-adds.
_PROJECTIONS = 173_824


def _plain(layers: int, *, params: int, gmacs: float) -> dict:
    source = f"He et al. 2015, Fig. 3 (middle) and Table 1: the {layers}-layer plain network, no shortcuts"
    figures = "params: the residual network's less its projections; MACs: Table 1 / section 3.3 (3.6 G for 34)"
    return described("resnet", source, params=params, macs=gmacs * 1e9, macs_tolerance=0.05e9, figures=figures)


@register("plain18", **_plain(18, params=11_689_512 - _PROJECTIONS, gmacs=1.8))
def plain18(num_classes: int = 1000) -> ResNet:
    return _resnet(BasicBlock, (2, 2, 2, 2), num_classes=num_classes, residual=False)


@register("plain34", **_plain(34, params=21_797_672 - _PROJECTIONS, gmacs=3.6))
def plain34(num_classes: int = 1000) -> ResNet:
    return _resnet(BasicBlock, (3, 4, 6, 3), num_classes=num_classes, residual=False)
