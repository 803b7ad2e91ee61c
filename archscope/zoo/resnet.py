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


_TABLE_1 = "He et al. 2015, Table 1"
_TORCHVISION = "torchvision.models weights metadata (num_params, GFLOPS at 224)"
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

# torchvision's resnet50/101/152 ("v1.5"): the stride on the bottleneck's 3x3. Its published
# GFLOPS (multiply-adds at 224) are the reference; the parameters are the paper layout's.
_V1_5 = [("resnet50", 4.09, 0.005), ("resnet101", 7.8, 0.05), ("resnet152", 11.51, 0.005)]


def _register_v1_5() -> None:
    depths = {name: d for name, _, d, _, _ in _VARIANTS}
    params = {name: p for name, _, _, p, _ in _VARIANTS}
    for name, gmacs, tolerance in _V1_5:
        register(
            f"{name}-v1.5",
            family="resnet",
            input_size=(3, 224, 224),
            source=f"{_TABLE_1}, {name[6:]}-layer with the bottleneck's stride on its 3x3 (torchvision's layout, 'v1.5')",
            reference=Reference(
                params=params[name],
                macs=gmacs * 1e9,
                macs_tolerance=tolerance * 1e9,
                source=_TORCHVISION,
            ),
        )(lambda num_classes=1000, _d=depths[name]: ResNet(Bottleneck, _d, num_classes, stride_on_3x3=True))


_register_v1_5()

# The plain baselines of Fig. 3 (middle) and Table 2: the same stacks without shortcuts.
# Their parameters are the residual networks' less the three projection shortcuts (conv1x1 + BN
# into stages 2-4: 8,448 + 33,280 + 132,096 = 173,824); "FLOPs" are the paper's multiply-adds.
_PLAIN = [("plain18", (2, 2, 2, 2), 11_689_512 - 173_824, 1.8), ("plain34", (3, 4, 6, 3), 21_797_672 - 173_824, 3.6)]


def _register_plain() -> None:
    for name, depths, params, gmacs in _PLAIN:
        register(
            name,
            family="resnet",
            input_size=(3, 224, 224),
            source=f"He et al. 2015, Fig. 3 (middle) and Table 1: the {name[5:]}-layer plain network, no shortcuts",
            reference=Reference(
                params=params,
                macs=gmacs * 1e9,
                macs_tolerance=0.05e9,
                source="params: the residual network's less its projections; MACs: Table 1 / section 3.3 (3.6 G for 34)",
            ),
        )(lambda num_classes=1000, _d=depths: ResNet(BasicBlock, _d, num_classes, residual=False))


_register_plain()
