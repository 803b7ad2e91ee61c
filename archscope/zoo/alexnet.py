"""AlexNet as in Krizhevsky, Sutskever & Hinton 2012 (Fig. 2 and section 3)."""

from __future__ import annotations

import torch
import torch.nn as nn

from archscope.zoo.registry import Reference, register


class AlexNet(nn.Module):
    """The two-GPU network of the paper.

    conv2, conv4 and conv5 only see the kernel maps on their own GPU, which is a grouped
    convolution with two groups; conv3 and the FC layers talk across GPUs (section 3.2).
    Local response normalisation follows conv1 and conv2 with k=2, n=5, alpha=1e-4,
    beta=0.75 (section 3.3), and the max-pools overlap: 3x3 windows with stride 2 (section 3.4).
    """

    def __init__(self, num_classes: int = 1000, groups: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),  # 96x55x55 on a 227x227 input
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 96x27x27
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 256x13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 256x6x6
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


@register(
    "alexnet",
    family="alexnet",
    input_size=(3, 227, 227),
    source=(
        "Krizhevsky et al. 2012, Fig. 2: 96-256-384-384-256, groups=2 on conv2/4/5, LRN; "
        "torchvision's alexnet is the later single-tower 64-192-384-256-256 variant"
    ),
    reference=Reference(
        params=60_965_224,
        macs=724_406_816,
        macs_tolerance=0,
        source="parameter count of the paper network; MACs counted from the layer sizes of Fig. 2",
    ),
    aliases=("alexnet-2012",),
)
def alexnet(num_classes: int = 1000) -> AlexNet:
    return AlexNet(num_classes, groups=2)


@register(
    "alexnet-1gpu",
    family="alexnet",
    input_size=(3, 227, 227),
    source="Krizhevsky et al. 2012, Fig. 2 with the two towers merged: conv2/4/5 see all maps (no groups)",
    reference=Reference(
        params=62_378_344,
        macs=1_135_256_096,
        macs_tolerance=0,
        source="no published figure: the paper network's counts with groups=1, counted by hand",
    ),
)
def alexnet_1gpu(num_classes: int = 1000) -> AlexNet:
    return AlexNet(num_classes, groups=1)
