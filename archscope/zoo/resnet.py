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

from archscope.zoo.registry import Reference, register


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or projected) shortcut; Fig. 5, left."""

    expansion = 1

    def __init__(self, in_channels: int, width: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
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
        **block_kwargs,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for index, (width, depth) in enumerate(zip((64, 128, 256, 512), depths)):
            stride = 1 if index == 0 else 2
            blocks = []
            for i in range(depth):
                out_channels = width * block.expansion
                downsample = None
                if i == 0 and (stride != 1 or channels != out_channels):
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


_TABLE_1 = "He et al. 2015, Table 1"
_VARIANTS = [
    # name, block, blocks per stage, torchvision's num_params, Table 1's FLOPs (x10^9, multiply-adds)
    ("resnet18", BasicBlock, (2, 2, 2, 2), 11_689_512, 1.8),
    ("resnet34", BasicBlock, (3, 4, 6, 3), 21_797_672, 3.6),
    ("resnet50", Bottleneck, (3, 4, 6, 3), 25_557_032, 3.8),
    ("resnet101", Bottleneck, (3, 4, 23, 3), 44_549_160, 7.6),
    ("resnet152", Bottleneck, (3, 8, 36, 3), 60_192_808, 11.3),
]


def _register_variants() -> None:
    for name, block, depths, params, gmacs in _VARIANTS:
        stride_note = "; stride on the bottleneck's first 1x1 as in the paper (torchvision: on the 3x3)"
        register(
            name,
            family="resnet",
            input_size=(3, 224, 224),
            source=f"{_TABLE_1}, {name[6:]}-layer" + (stride_note if block is Bottleneck else ""),
            reference=Reference(
                params=params,
                macs=gmacs * 1e9,
                # Table 1 prints two significant figures, rounded down (ResNet-50 counts 3.86 G).
                macs_tolerance=0.1e9,
                source="params: torchvision's num_params (same layers); MACs: Table 1's FLOPs row",
            ),
        )(lambda num_classes=1000, _b=block, _d=depths: ResNet(_b, _d, num_classes))


_register_variants()
