"""LeNet-5 in its dense modern form (LeCun et al. 1998, Fig. 2, every C3 map connected to every S2 map)."""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, register


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
def lenet5(num_classes: int = 10) -> nn.Module:
    return LeNet5(num_classes)
