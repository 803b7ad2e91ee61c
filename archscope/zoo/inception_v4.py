"""Inception-v4 (Szegedy, Ioffe, Vanhoucke & Alemi 2016, "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning"), Figures 3-9, on 3x299x299.

Every convolution is conv (no bias) - batch norm - ReLU. "V" in the paper's figures marks a
valid (unpadded) convolution; the rest keep their map size. The 7x7 and 3x3 filters of the
later modules are factorised into 1x7 + 7x1 and 1x3 + 3x1 pairs.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, register


class ConvBN(nn.Sequential):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        valid: bool = False,
    ) -> None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        padding = (0, 0) if valid else (kh // 2, kw // 2)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, (kh, kw), stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(out_channels, eps=0.001),
            nn.ReLU(inplace=True),
        )


class FilterConcat(nn.Module):
    """The "Filter concat" that closes each of the paper's modules: every branch runs on the same
    input and their outputs are concatenated along channels."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class Stem(nn.Sequential):
    """Figure 3: 3x299x299 -> 384x35x35."""

    def __init__(self) -> None:
        super().__init__(
            ConvBN(3, 32, 3, stride=2, valid=True),  # 149x149
            ConvBN(32, 32, 3, valid=True),  # 147x147
            ConvBN(32, 64, 3),
            FilterConcat(nn.MaxPool2d(3, stride=2), ConvBN(64, 96, 3, stride=2, valid=True)),  # 160x73x73
            FilterConcat(
                nn.Sequential(ConvBN(160, 64, 1), ConvBN(64, 96, 3, valid=True)),
                nn.Sequential(
                    ConvBN(160, 64, 1), ConvBN(64, 64, (7, 1)), ConvBN(64, 64, (1, 7)), ConvBN(64, 96, 3, valid=True)
                ),
            ),  # 192x71x71
            FilterConcat(ConvBN(192, 192, 3, stride=2, valid=True), nn.MaxPool2d(3, stride=2)),  # 384x35x35
        )


def _avg_pool() -> nn.AvgPool2d:
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


class InceptionA(FilterConcat):
    """Figure 4, on 384x35x35."""

    def __init__(self) -> None:
        super().__init__(
            nn.Sequential(_avg_pool(), ConvBN(384, 96, 1)),
            ConvBN(384, 96, 1),
            nn.Sequential(ConvBN(384, 64, 1), ConvBN(64, 96, 3)),
            nn.Sequential(ConvBN(384, 64, 1), ConvBN(64, 96, 3), ConvBN(96, 96, 3)),
        )


class ReductionA(FilterConcat):
    """Figure 7 with Table 1's k, l, m, n for Inception-v4: 384x35x35 -> 1024x17x17."""

    def __init__(self, k: int = 192, l: int = 224, m: int = 256, n: int = 384) -> None:  # noqa: E741 (Table 1)
        super().__init__(
            nn.MaxPool2d(3, stride=2),
            ConvBN(384, n, 3, stride=2, valid=True),
            nn.Sequential(ConvBN(384, k, 1), ConvBN(k, l, 3), ConvBN(l, m, 3, stride=2, valid=True)),
        )


class InceptionB(FilterConcat):
    """Figure 5, on 1024x17x17: the 7x7 filters factorised into 1x7 and 7x1."""

    def __init__(self) -> None:
        super().__init__(
            nn.Sequential(_avg_pool(), ConvBN(1024, 128, 1)),
            ConvBN(1024, 384, 1),
            nn.Sequential(ConvBN(1024, 192, 1), ConvBN(192, 224, (1, 7)), ConvBN(224, 256, (7, 1))),
            nn.Sequential(
                ConvBN(1024, 192, 1),
                ConvBN(192, 192, (1, 7)),
                ConvBN(192, 224, (7, 1)),
                ConvBN(224, 224, (1, 7)),
                ConvBN(224, 256, (7, 1)),
            ),
        )


class ReductionB(FilterConcat):
    """Figure 8: 1024x17x17 -> 1536x8x8."""

    def __init__(self) -> None:
        super().__init__(
            nn.MaxPool2d(3, stride=2),
            nn.Sequential(ConvBN(1024, 192, 1), ConvBN(192, 192, 3, stride=2, valid=True)),
            nn.Sequential(
                ConvBN(1024, 256, 1),
                ConvBN(256, 256, (1, 7)),
                ConvBN(256, 320, (7, 1)),
                ConvBN(320, 320, 3, stride=2, valid=True),
            ),
        )


class InceptionC(nn.Module):
    """Figure 6, on 1536x8x8: two branches end in a 1x3 and a 3x1 side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.pool_branch = nn.Sequential(_avg_pool(), ConvBN(1536, 256, 1))
        self.branch1x1 = ConvBN(1536, 256, 1)
        self.branch3x3 = ConvBN(1536, 384, 1)
        self.branch3x3_1x3 = ConvBN(384, 256, (1, 3))
        self.branch3x3_3x1 = ConvBN(384, 256, (3, 1))
        self.branch_double = nn.Sequential(ConvBN(1536, 384, 1), ConvBN(384, 448, (1, 3)), ConvBN(448, 512, (3, 1)))
        self.branch_double_1x3 = ConvBN(512, 256, (1, 3))
        self.branch_double_3x1 = ConvBN(512, 256, (3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.branch3x3(x)
        deep = self.branch_double(x)
        return torch.cat(
            [
                self.pool_branch(x),
                self.branch1x1(x),
                self.branch3x3_1x3(mid),
                self.branch3x3_3x1(mid),
                self.branch_double_1x3(deep),
                self.branch_double_3x1(deep),
            ],
            dim=1,
        )


# Figure 9, bottom to top: each block's name and how many times it repeats.
FIGURE_9 = (("stem", Stem, 1), ("inception_a", InceptionA, 4), ("reduction_a", ReductionA, 1),
            ("inception_b", InceptionB, 7), ("reduction_b", ReductionB, 1), ("inception_c", InceptionC, 3))  # fmt: skip


class InceptionV4(nn.Sequential):
    """Figure 9: stem, 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B, 3 x Inception-C,
    average pooling, dropout (keep 0.8) and the classifier.

    The blocks are the model's own children, named as the figure names them (``inception_a1`` ..
    ``inception_a4``), so ``summary --depth 1`` reads like Figure 9.
    """

    def __init__(self, num_classes: int = 1000) -> None:
        blocks: list[tuple[str, nn.Module]] = []
        for name, block, repeats in FIGURE_9:
            blocks += [(name if repeats == 1 else f"{name}{i}", block()) for i in range(1, repeats + 1)]
        super().__init__(OrderedDict([
            *blocks,
            ("avgpool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten(1)),
            ("dropout", nn.Dropout(0.2)),  # "keep 0.8"
            ("fc", nn.Linear(1536, num_classes)),
        ]))  # fmt: skip


@register(
    "inception-v4",
    family="inception",
    input_size=(3, 299, 299),
    source="Szegedy et al. 2016, Figures 3-9: stem, Inception-A/B/C (1x7/7x1 and 1x3/3x1 factorised), Reduction-A/B",
    reference=Reference(
        params=42_680_000,
        params_tolerance=5_000,
        # fvcore's convolution + linear count of the real network at 299x299 (the test
        # repeats that count on every run); the paper publishes none.
        macs=12_253_974_624,
        macs_tolerance=0,
        source="the paper gives no counts; 42.68 M params as timm and other ports of the paper list it; MACs by fvcore",
    ),
)
def inception_v4(num_classes: int = 1000) -> InceptionV4:
    return InceptionV4(num_classes)
