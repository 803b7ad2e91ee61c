"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition", section II.B and Fig. 2): as published, and in the dense modern form courses teach."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from archscope.zoo.registry import Reference, register

# Table I: the S2 maps each C3 map reads. Six read 3 neighbouring maps, six read 4, three read
# 4 non-neighbouring ones, and the last reads all 6: 60 connections in all, "to break the
# symmetry in the network" and keep the count of connections down.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """The squashing function of Appendix A: f(a) = A tanh(S a), A = 1.7159, S = 2/3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2 and S4: the four inputs of a 2x2 window are added, multiplied by a trainable
    coefficient and offset by a trainable bias, one pair per map (section II.B)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        window_sum = F.avg_pool2d(x, 2, divisor_override=1)
        return window_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv(nn.Module):
    """C3: one 5x5 convolution per output map over only the input maps Table I gives it."""

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel_size: int = 5) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size) for inputs in table)
        for i, inputs in enumerate(table):
            self.register_buffer(f"inputs{i}", torch.tensor(inputs), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = [conv(x.index_select(1, getattr(self, f"inputs{i}"))) for i, conv in enumerate(self.convs)]
        return torch.cat(maps, dim=1)


class EuclideanRBF(nn.Module):
    """The output layer: y_i = sum_j (x_j - w_ij)^2, one unit per class (equation 7).

    Its weights are stylised 7x12 bitmaps of the characters, set by hand and kept fixed, so
    they are a buffer here, not trainable parameters.
    """

    def __init__(self, in_features: int = 84, num_classes: int = 10) -> None:
        super().__init__()
        self.register_buffer("prototypes", torch.randint(0, 2, (num_classes, in_features)).float() * 2 - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.unsqueeze(1) - self.prototypes.unsqueeze(0)) ** 2).sum(dim=-1)


class LeNet5_1998(nn.Module):
    """C1 - S2 - C3 (partial) - S4 - C5 - F6 - RBF output, with scaled tanh after each layer."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)  # 6x28x28, 156 parameters
        self.act1 = ScaledTanh()
        self.s2 = Subsampling(6)  # 6x14x14, 12 parameters
        self.act2 = ScaledTanh()
        self.c3 = PartialConv(C3_TABLE)  # 16x10x10, 1,516 parameters
        self.act3 = ScaledTanh()
        self.s4 = Subsampling(16)  # 16x5x5, 32 parameters
        self.act4 = ScaledTanh()
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)  # 120x1x1, 48,120 parameters
        self.act5 = ScaledTanh()
        self.f6 = nn.Linear(120, 84)  # 10,164 parameters
        self.act6 = ScaledTanh()
        self.output = EuclideanRBF(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act2(self.s2(self.act1(self.c1(x))))
        x = self.act4(self.s4(self.act3(self.c3(x))))
        x = self.act5(self.c5(x))
        x = self.act6(self.f6(torch.flatten(x, 1)))
        return self.output(x)


class LeNet5(nn.Module):
    """conv5x5(6) - pool2 - conv5x5(16) - pool2 - fc120 - fc84 - fc10 on a 1x32x32 image."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),  # C1: 6x28x28
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # S2: 6x14x14
            nn.Conv2d(6, 16, kernel_size=5),  # C3: 16x10x10
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # S4: 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),  # C5 is a 5x5 conv on a 5x5 map, i.e. a linear layer
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),  # F6
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


@register(
    "lenet5",
    family="lenet",
    input_size=(1, 32, 32),
    source="LeCun et al. 1998, Fig. 2; dense C3, ReLU and max-pool as in modern courses",
    reference=Reference(
        params=61_706,
        # 28*28*6*25 + 10*10*16*6*25 + 400*120 + 120*84 + 84*10, counted from Fig. 2
        macs=416_520,
        macs_tolerance=0,
        source="parameter count of the dense form; MACs counted from the layer sizes of Fig. 2",
    ),
    aliases=("lenet", "lenet-5"),
)
def lenet5(num_classes: int = 10) -> LeNet5:
    return LeNet5(num_classes)


@register(
    "lenet5-1998",
    family="lenet",
    input_size=(1, 32, 32),
    source="LeCun et al. 1998, Fig. 2 and Table I as published: partial C3, trainable S2/S4, scaled tanh, RBF output",
    reference=Reference(
        params=60_000,
        # 340,908 connections (section II.B) less what are not multiply-accumulates: conv and
        # linear biases (4,704 + 1,600 + 120 + 84), S2/S4's 5 connections per unit (5,880 +
        # 2,000) and the 840 RBF distances.
        macs=325_680,
        macs_tolerance=0,
        source="section II.B: 60,000 trainable parameters and 340,908 connections",
    ),
)
def lenet5_1998(num_classes: int = 10) -> LeNet5_1998:
    return LeNet5_1998(num_classes)
