"""A model of your own, for `archscope summary examples/custom_model.py:TinyResNet`.

    archscope summary examples/custom_model.py:TinyResNet
    archscope summary examples/custom_model.py:TinyResNet --arg width=32 -i 3x64x64
    archscope rf examples/custom_model.py:TinyResNet --verify
    python examples/custom_model.py        # the same through the Python API
"""

import torch
import torch.nn as nn

# The input archscope uses when you give no --input-size (C x H x W).
INPUT_SIZE = (3, 32, 32)


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


class TinyResNet(nn.Module):
    """A stem, two residual blocks around a strided convolution, and a linear classifier."""

    def __init__(self, width: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.block1 = Block(width)
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.block2 = Block(2 * width)
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.down(self.block1(self.stem(x))))
        return self.head(x.mean(dim=(2, 3)))


if __name__ == "__main__":
    import archscope

    summary = archscope.summarize(TinyResNet(width=16), INPUT_SIZE)
    print(f"{summary.totals.params:,} parameters, {summary.totals.macs:,} MACs, "
          f"receptive field {list(summary.receptive_field.size)}")
