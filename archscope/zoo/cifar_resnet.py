"""The CIFAR-10 ResNets and plain nets of He et al. 2015, section 4.2 and Table 6.

A 3x3 convolution to 16 maps, then three stages of n basic blocks with 16, 32 and 64 filters
on 32x32, 16x16 and 8x8 maps, global average pooling and a 10-way linear layer: 6n + 2
weighted layers. Every shortcut is an identity; where a stage halves the map and doubles the
width, the identity subsamples and pads the new channels with zeros (option A), so residual
and plain networks have exactly the same parameters.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from archscope.zoo.registry import described, register


class ZeroPadShortcut(nn.Module):
    """Option A: take every other position and append zero channels; no parameters."""

    def __init__(self, extra_channels: int) -> None:
        super().__init__()
        self.extra_channels = extra_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self.extra_channels // 2
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, half, self.extra_channels - half))


class CifarBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus the shortcut, then ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual
        self.shortcut = ZeroPadShortcut(channels - in_channels) if residual and channels != in_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return self.relu(out)


class CifarResNet(nn.Module):
    def __init__(self, blocks_per_stage: int, residual: bool = True, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        channels = 16
        for index, width in enumerate((16, 32, 64)):
            stage = []
            for i in range(blocks_per_stage):
                stride = 2 if index > 0 and i == 0 else 1
                stage.append(CifarBlock(channels, width, stride, residual))
                channels = width
            self.add_module(f"layer{index + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            # The paper initialises as He et al. 2015b. On the meta device there is nothing to
            # initialise, and PyTorch's meta normal_ costs a millisecond a layer.
            if isinstance(m, (nn.Conv2d, nn.Linear)) and not m.weight.is_meta:
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _cifar_resnet(depth: int, *, residual: bool, num_classes: int) -> CifarResNet:
    return CifarResNet((depth - 2) // 6, residual, num_classes)  # 6n + 2 weighted layers


# depth: Table 6's parameter count (M) and the tolerance its printed digits allow, and the
# multiply-accumulates at 3x32x32, counted by hand: 442,368 + 640 + 2,359,296 x (6n - 1).
_TABLE_6 = {
    20: (0.27e6, 0.005e6, 40_551_040),
    32: (0.46e6, 0.005e6, 68_862_592),
    44: (0.66e6, 0.005e6, 97_174_144),
    56: (0.85e6, 0.005e6, 125_485_696),
    110: (1.7e6, 0.05e6, 252_887_680),
    1202: (19.4e6, 0.05e6, 2_829_238_912),
}


def _section_4_2(depth: int, *, residual: bool) -> dict:
    """register()'s metadata for the ``depth``-layer network, residual or plain (the same figures)."""
    params, params_tolerance, macs = _TABLE_6[depth]
    shortcuts = "identity shortcuts, zero-padded where the width doubles (option A)" if residual else "no shortcuts"
    return described(
        "cifar-resnet",
        f"He et al. 2015, section 4.2, {depth} layers (n={(depth - 2) // 6}): {shortcuts}",
        params=int(params),
        params_tolerance=params_tolerance,
        macs=macs,
        macs_tolerance=0,
        figures="params: Table 6 (residual and plain alike); MACs counted by hand (the paper gives none)",
        input_size=(3, 32, 32),
    )


@register("cifar-resnet20", **_section_4_2(20, residual=True))
def cifar_resnet20(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(20, residual=True, num_classes=num_classes)


@register("cifar-plain20", **_section_4_2(20, residual=False))
def cifar_plain20(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(20, residual=False, num_classes=num_classes)


@register("cifar-resnet32", **_section_4_2(32, residual=True))
def cifar_resnet32(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(32, residual=True, num_classes=num_classes)


@register("cifar-resnet44", **_section_4_2(44, residual=True))
def cifar_resnet44(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(44, residual=True, num_classes=num_classes)


@register("cifar-resnet56", **_section_4_2(56, residual=True))
def cifar_resnet56(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(56, residual=True, num_classes=num_classes)


@register("cifar-plain56", **_section_4_2(56, residual=False))
def cifar_plain56(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(56, residual=False, num_classes=num_classes)


@register("cifar-resnet110", **_section_4_2(110, residual=True))
def cifar_resnet110(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(110, residual=True, num_classes=num_classes)


@register("cifar-plain110", **_section_4_2(110, residual=False))
def cifar_plain110(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(110, residual=False, num_classes=num_classes)


@register("cifar-resnet1202", **_section_4_2(1202, residual=True))
def cifar_resnet1202(num_classes: int = 10) -> CifarResNet:
    return _cifar_resnet(1202, residual=True, num_classes=num_classes)
