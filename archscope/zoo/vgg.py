"""VGG (Simonyan & Zisserman 2014, Table 1), laid out like torchvision so the counts compare.

Configurations are data: output channels of each 3x3 convolution, "M" for a 2x2/2 max-pool,
"LRN" for local response normalisation, and ``(channels, 1)`` for config C's 1x1
convolutions. Heads are separate: torchvision's FC head behind an adaptive 7x7 pool, the
paper's fully convolutional test-time head (section 3.2), or global average pooling.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, described, register

Layer = int | str | tuple[int, int]

CONFIGS: dict[str, list[Layer]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_features(config: list[Layer], batch_norm: bool, in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif item == "LRN":
            # A-LRN uses AlexNet's normalisation (section 2.1 of the VGG paper).
            layers.append(nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0))
        else:
            channels, kernel = item if isinstance(item, tuple) else (int(item), 3)
            layers.append(nn.Conv2d(in_channels, channels, kernel_size=kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.ReLU(inplace=True))
            in_channels = channels
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Conv stages, an adaptive 7x7 average pool, and the 25088-4096-4096-classes classifier.

    The adaptive pool is torchvision's: at 224x224 it is the identity, and it lets the FC
    head take larger inputs.
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


class VGGFullyConvolutional(nn.Module):
    """Section 3.2's test-time network: FC layers rewritten as convolutions.

    The first FC layer becomes a 7x7 convolution and the other two 1x1 convolutions, with
    the same weights, so any input from 224 up gives a map of class scores, averaged over
    positions into one score per class.
    """

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.classifier = nn.Sequential(
            nn.Conv2d(512, 4096, kernel_size=7),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv2d(4096, 4096, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv2d(4096, num_classes, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.classifier(self.features(x))
        return scores.mean(dim=(2, 3))


class VGGGlobalPool(nn.Module):
    """Conv stages, global average pooling, one linear layer: no FC stack at all."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class VGGCifar(nn.Module):
    """A two-conv VGG-style net for 3x32x32 CIFAR-10 images, as taught in introductory courses.

    conv3x3(16) and conv3x3(32), both without padding (32 -> 30 -> 28), a 4x4 max-pool
    (28 -> 7), and one linear layer from 32x7x7 = 1568 features to 10 classes.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(4),
        )
        self.classifier = nn.Linear(32 * 7 * 7, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def _vgg(config: str, *, batch_norm: bool, num_classes: int) -> VGG:
    return VGG(make_features(CONFIGS[config], batch_norm), num_classes)


# Parameter counts and GFLOPS (multiply-accumulates, at 3x224x224) as torchvision's model
# builders publish them; the paper's Table 2 rounds the same networks to 133/133/134/138/144 M.
_TORCHVISION = "torchvision.models weights metadata (num_params, GFLOPS at 224)"
_TABLE_1 = "Simonyan & Zisserman 2014, Table 1, config {c}{bn}"
_ADAPTIVE = "; torchvision's adaptive 7x7 pool before the FC head"
_WITH_BN = " with batch norm after every conv"


def _table_1(config: str, *, batch_norm: bool, params: int, gmacs: float) -> dict:
    """A Table 1 configuration with torchvision's head and published figures."""
    source = _TABLE_1.format(c=config, bn=_WITH_BN if batch_norm else "") + _ADAPTIVE
    return described("vgg", source, params=params, macs=gmacs * 1e9, macs_tolerance=0.005e9, figures=_TORCHVISION)


@register("vgg11", **_table_1("A", batch_norm=False, params=132_863_336, gmacs=7.61), aliases=("vgg-a",))
def vgg11(num_classes: int = 1000) -> VGG:
    return _vgg("A", batch_norm=False, num_classes=num_classes)


@register("vgg11-bn", **_table_1("A", batch_norm=True, params=132_868_840, gmacs=7.61))
def vgg11_bn(num_classes: int = 1000) -> VGG:
    return _vgg("A", batch_norm=True, num_classes=num_classes)


@register("vgg13", **_table_1("B", batch_norm=False, params=133_047_848, gmacs=11.31), aliases=("vgg-b",))
def vgg13(num_classes: int = 1000) -> VGG:
    return _vgg("B", batch_norm=False, num_classes=num_classes)


@register("vgg13-bn", **_table_1("B", batch_norm=True, params=133_053_736, gmacs=11.31))
def vgg13_bn(num_classes: int = 1000) -> VGG:
    return _vgg("B", batch_norm=True, num_classes=num_classes)


@register("vgg16", **_table_1("D", batch_norm=False, params=138_357_544, gmacs=15.47), aliases=("vgg-d",))
def vgg16(num_classes: int = 1000) -> VGG:
    return _vgg("D", batch_norm=False, num_classes=num_classes)


@register("vgg16-bn", **_table_1("D", batch_norm=True, params=138_365_992, gmacs=15.47))
def vgg16_bn(num_classes: int = 1000) -> VGG:
    return _vgg("D", batch_norm=True, num_classes=num_classes)


@register("vgg19", **_table_1("E", batch_norm=False, params=143_667_240, gmacs=19.63), aliases=("vgg-e",))
def vgg19(num_classes: int = 1000) -> VGG:
    return _vgg("E", batch_norm=False, num_classes=num_classes)


@register("vgg19-bn", **_table_1("E", batch_norm=True, params=143_678_248, gmacs=19.63))
def vgg19_bn(num_classes: int = 1000) -> VGG:
    return _vgg("E", batch_norm=True, num_classes=num_classes)


@register(
    "vgg-a-lrn",
    family="vgg",
    input_size=(3, 224, 224),
    source=_TABLE_1.format(c="A-LRN", bn="") + ": config A with LRN after the first conv" + _ADAPTIVE,
    reference=Reference(
        params=132_863_336,  # LRN has no parameters: config A's count (Table 2: 133 M)
        macs=7_609_090_048,
        macs_tolerance=0,
        source="Table 2 gives 133 M parameters; exact counts and MACs counted by hand from Table 1",
    ),
)
def vgg_a_lrn(num_classes: int = 1000) -> VGG:
    return _vgg("A-LRN", batch_norm=False, num_classes=num_classes)


@register(
    "vgg-c",
    family="vgg",
    input_size=(3, 224, 224),
    source=_TABLE_1.format(c="C", bn="") + ": config B plus a 1x1 conv closing stages 3-5" + _ADAPTIVE,
    reference=Reference(
        params=134_000_000,
        params_tolerance=500_000,
        macs=11_770_888_192,
        macs_tolerance=0,
        source="Table 2: 134 M parameters; MACs counted by hand from Table 1 (the paper gives none)",
    ),
)
def vgg_c(num_classes: int = 1000) -> VGG:
    return _vgg("C", batch_norm=False, num_classes=num_classes)


@register(
    "vgg16-gap",
    family="vgg",
    input_size=(3, 224, 224),
    source=_TABLE_1.format(c="D", bn="") + " with global average pooling and one linear layer instead of the FC head",
    reference=Reference(
        params=15_227_688,
        macs=15_347_142_656,
        macs_tolerance=0,
        source="no published figure: counted by hand (conv layers of config D + 512x1000 linear)",
    ),
)
def vgg16_gap(num_classes: int = 1000) -> VGGGlobalPool:
    return VGGGlobalPool(make_features(CONFIGS["D"], False), num_classes)


@register(
    "vgg16-fcn",
    family="vgg",
    input_size=(3, 224, 224),
    source=_TABLE_1.format(c="D", bn="") + ", section 3.2's test-time network: FC layers as 7x7/1x1 convs, scores averaged",
    reference=Reference(
        params=138_357_544,
        macs=15.47e9,
        macs_tolerance=0.005e9,
        source="same weights as vgg16, and at 224x224 the same multiply-accumulates (torchvision's vgg16 figures)",
    ),
)
def vgg16_fcn(num_classes: int = 1000) -> VGGFullyConvolutional:
    return VGGFullyConvolutional(make_features(CONFIGS["D"], False), num_classes)


@register(
    "vgg11-bn-gap",
    family="vgg",
    input_size=(3, 224, 224),
    source=_TABLE_1.format(c="A", bn=_WITH_BN) + ", global average pooling and one linear layer",
    reference=Reference(
        params=9_738_984,
        macs=7_485_968_384,
        macs_tolerance=0,
        source="no published figure: counted by hand (conv and batch-norm layers of config A + 512x1000 linear)",
    ),
)
def vgg11_bn_gap(num_classes: int = 1000) -> VGGGlobalPool:
    return VGGGlobalPool(make_features(CONFIGS["A"], True), num_classes)


@register(
    "vgg-cifar",
    family="vgg",
    input_size=(3, 32, 32),
    source="a VGG-style CIFAR-10 classroom net: conv3x3(16) - conv3x3(32), no padding - maxpool(4) - linear(1568, 10)",
    reference=Reference(
        params=20_778,
        macs=4_017_152,
        macs_tolerance=0,
        source="no published figure: counted by hand from the layer sizes",
    ),
)
def vgg_cifar(num_classes: int = 10) -> VGGCifar:
    return VGGCifar(num_classes)
