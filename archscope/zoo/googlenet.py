"""GoogLeNet (Szegedy et al. 2014, "Going deeper with convolutions"), Table 1 and Figure 2.

Both networks here share the stem, the pools and the classifier; they differ only in the
inception module: Figure 2(b) with 1x1 reductions (``googlenet``) or Figure 2(a) without
(``googlenet-naive``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, register


class InceptionWidths(NamedTuple):
    """One row of Table 1: the output channels of each branch and of each 1x1 reduction."""

    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n5x5_reduce: int
    n5x5: int
    pool_proj: int


# Table 1, in network order.
TABLE_1: dict[str, InceptionWidths] = {
    "3a": InceptionWidths(64, 96, 128, 16, 32, 32),
    "3b": InceptionWidths(128, 128, 192, 32, 96, 64),
    "4a": InceptionWidths(192, 96, 208, 16, 48, 64),
    "4b": InceptionWidths(160, 112, 224, 24, 64, 64),
    "4c": InceptionWidths(128, 128, 256, 24, 64, 64),
    "4d": InceptionWidths(112, 144, 288, 32, 64, 64),
    "4e": InceptionWidths(256, 160, 320, 32, 128, 128),
    "5a": InceptionWidths(256, 160, 320, 32, 128, 128),
    "5b": InceptionWidths(384, 192, 384, 48, 128, 128),
}
POOL_AFTER = {"3b", "4e"}  # a 3x3/2 max-pool follows these modules


def conv_relu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    """Every convolution in GoogLeNet, reductions included, has a bias and a ReLU (section 5)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2),
        nn.ReLU(inplace=True),
    )


class Inception(nn.Module):
    """Figure 2(b): 1x1, 1x1 -> 3x3, 1x1 -> 5x5 and 3x3 max-pool -> 1x1, concatenated."""

    def __init__(self, in_channels: int, w: InceptionWidths) -> None:
        super().__init__()
        self.branch1 = conv_relu(in_channels, w.n1x1, 1)
        self.branch2 = nn.Sequential(conv_relu(in_channels, w.n3x3_reduce, 1), conv_relu(w.n3x3_reduce, w.n3x3, 3))
        self.branch3 = nn.Sequential(conv_relu(in_channels, w.n5x5_reduce, 1), conv_relu(w.n5x5_reduce, w.n5x5, 5))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), conv_relu(in_channels, w.pool_proj, 1)
        )
        self.out_channels = w.n1x1 + w.n3x3 + w.n5x5 + w.pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class NaiveInception(nn.Module):
    """Figure 2(a): 1x1, 3x3 and 5x5 straight on the input, and the max-pool passed through.

    Without a projection the pool branch carries every input channel, so each module is
    wider than the one before it.
    """

    def __init__(self, in_channels: int, w: InceptionWidths) -> None:
        super().__init__()
        self.branch1 = conv_relu(in_channels, w.n1x1, 1)
        self.branch2 = conv_relu(in_channels, w.n3x3, 3)
        self.branch3 = conv_relu(in_channels, w.n5x5, 5)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)
        self.out_channels = w.n1x1 + w.n3x3 + w.n5x5 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


def _lrn() -> nn.LocalResponseNorm:
    # The published Caffe model's LRN settings; the paper names the layer without parameters.
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0)


def _max_pool() -> nn.MaxPool2d:
    # ceil_mode, as in Caffe, gives Table 1's sizes: 112 -> 56 -> 28 -> 14 -> 7.
    return nn.MaxPool2d(3, stride=2, ceil_mode=True)


class AuxiliaryClassifier(nn.Module):
    """Section 5's side head on 4a and 4d, used in training only.

    5x5/3 average pool (14x14 -> 4x4), 1x1 conv to 128 with ReLU, FC to 1024 with ReLU,
    dropout of 70%, and a linear classifier.
    """

    def __init__(self, in_channels: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = conv_relu(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


AUX_AFTER = ("4a", "4d")  # the modules whose outputs feed the two auxiliary classifiers


class GoogLeNet(nn.Module):
    """Table 1's network; with ``aux_logits`` also the two auxiliary classifiers of section 5.

    In training mode a network with auxiliary classifiers returns ``(logits, aux1, aux2)``;
    in eval mode, as at inference in the paper, only the logits.
    """

    def __init__(
        self, module: Callable[[int, InceptionWidths], nn.Module], num_classes: int = 1000, aux_logits: bool = False
    ) -> None:
        super().__init__()
        self.conv1 = conv_relu(3, 64, 7, stride=2)
        self.pool1 = _max_pool()
        self.lrn1 = _lrn()
        self.conv2_reduce = conv_relu(64, 64, 1)
        self.conv2 = conv_relu(64, 192, 3)
        self.lrn2 = _lrn()
        self.pool2 = _max_pool()
        channels = 192
        for name, widths in TABLE_1.items():
            block = module(channels, widths)
            self.add_module(f"inception{name}", block)
            channels = block.out_channels
            if name in POOL_AFTER:
                self.add_module(f"pool{name[0]}", _max_pool())
            if aux_logits and name in AUX_AFTER:
                self.add_module(f"aux{AUX_AFTER.index(name) + 1}", AuxiliaryClassifier(channels, num_classes))
        self.aux_logits = aux_logits
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.conv1(x))
        x = self.lrn1(x)
        x = self.conv2(self.conv2_reduce(x))
        x = self.pool2(self.lrn2(x))
        side: list[torch.Tensor] = []
        for name in TABLE_1:
            x = getattr(self, f"inception{name}")(x)
            if self.aux_logits and self.training and name in AUX_AFTER:
                side.append(getattr(self, f"aux{AUX_AFTER.index(name) + 1}")(x))
            if name in POOL_AFTER:
                x = getattr(self, f"pool{name[0]}")(x)
        x = self.dropout(torch.flatten(self.avgpool(x), 1))
        logits = self.fc(x)
        return (logits, *side) if side else logits


@register(
    "googlenet",
    family="googlenet",
    input_size=(3, 224, 224),
    source=(
        "Szegedy et al. 2014, Table 1 and Fig. 2(b): true 5x5 branches, LRN, conv biases, no batch norm, "
        "no auxiliary classifiers; torchvision's googlenet uses 3x3 for the 5x5 branch and batch norm"
    ),
    reference=Reference(
        # Table 1 lists 6.8M weights; the exact count adds the biases that Table 1 leaves out.
        params=6_998_552,
        # Table 1's "ops" column sums to 1502M, but its conv1 row (34M) is inconsistent with a
        # 7x7x3 -> 64 conv at 112x112 (118M); with that row corrected the total is 1586M.
        # Its 5a row (54M) is 3M above what the row's own widths give (51M), hence the tolerance.
        macs=1_586e6,
        macs_tolerance=5e6,
        source="Table 1 (ops per layer, conv1 row recomputed); params from Table 1's widths with biases",
    ),
    aliases=("inception-v1",),
)
def googlenet(num_classes: int = 1000) -> GoogLeNet:
    return GoogLeNet(Inception, num_classes)


@register(
    "googlenet-naive",
    family="googlenet",
    input_size=(3, 224, 224),
    source="Szegedy et al. 2014, Fig. 2(a) modules with Table 1's 1x1/3x3/5x5 widths on GoogLeNet's stem",
    reference=Reference(
        params=97_526_008,
        macs=12_568_061_056,
        macs_tolerance=0,
        source="no published figure: counted by hand from Table 1's widths (see the test)",
    ),
    aliases=("inception-v1-naive",),
)
def googlenet_naive(num_classes: int = 1000) -> GoogLeNet:
    return GoogLeNet(NaiveInception, num_classes)


@register(
    "googlenet-aux",
    family="googlenet",
    input_size=(3, 224, 224),
    source=(
        "Szegedy et al. 2014, section 5: googlenet with its two auxiliary classifiers on 4a and 4d, "
        "which run in training mode only (summary --train)"
    ),
    reference=Reference(
        # googlenet's 6,998,552 plus two heads of 65,664 (or 67,712 on 4d's 528 maps)
        # + 2,098,176 + 1,025,000 parameters; at inference the heads do not run.
        params=13_378_280,
        macs=1_586e6,
        macs_tolerance=5e6,
        source="section 5's head layout counted by hand; inference MACs as googlenet (Table 1)",
    ),
)
def googlenet_aux(num_classes: int = 1000) -> GoogLeNet:
    return GoogLeNet(Inception, num_classes, aux_logits=True)
