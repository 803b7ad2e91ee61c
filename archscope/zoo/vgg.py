"""VGG (Simonyan & Zisserman 2014, Table 1), laid out like torchvision so the counts compare."""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, register

# Table 1's configurations: output channels of each 3x3 conv, "M" for a 2x2/2 max-pool.
CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_features(config: list[int | str], batch_norm: bool, in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(item)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(item)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Conv stages, an adaptive 7x7 average pool, and the 25088-4096-4096-classes classifier.

    The adaptive pool is torchvision's: at 224x224 it is the identity, and it lets the FC
    head take larger inputs. The paper instead rewrites the FC layers as convolutions at
    test time (section 3.2).
    """

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def _vgg(config: str, batch_norm: bool, num_classes: int) -> VGG:
    return VGG(make_features(CONFIGS[config], batch_norm), num_classes)


# Parameter counts and GFLOPS (multiply-accumulates, at 3x224x224) as torchvision's model
# builders publish them; the paper's Table 2 rounds the same networks to 133/133/138/144 M.
_TORCHVISION = "torchvision.models weights metadata (num_params, GFLOPS at 224)"
_SOURCE = "Simonyan & Zisserman 2014, Table 1, config {c}{bn}; torchvision's adaptive 7x7 pool before the FC head"

_VARIANTS = [
    # name, config, layers, params (plain), params (batch norm), GMACs
    ("vgg11", "A", 132_863_336, 132_868_840, 7.61),
    ("vgg13", "B", 133_047_848, 133_053_736, 11.31),
    ("vgg16", "D", 138_357_544, 138_365_992, 15.47),
    ("vgg19", "E", 143_667_240, 143_678_248, 19.63),
]


def _register_variants() -> None:
    for name, config, params, params_bn, gmacs in _VARIANTS:
        for bn in (False, True):
            full = f"{name}-bn" if bn else name
            register(
                full,
                family="vgg",
                input_size=(3, 224, 224),
                source=_SOURCE.format(c=config, bn=" with batch norm after every conv" if bn else ""),
                reference=Reference(
                    params=params_bn if bn else params,
                    macs=gmacs * 1e9,
                    macs_tolerance=0.005e9,
                    source=_TORCHVISION,
                ),
            )(lambda num_classes=1000, _c=config, _bn=bn: _vgg(_c, _bn, num_classes))


_register_variants()
