"""Activation memory equals the new storages a real forward pass allocates (docs/counting.md, "Memory").

The oracle (tests/storages.py) runs each model for real on the CPU and adds up the storages its
results did not share with anything before them. archscope's figure comes from the meta
device. Before this was held, a Linear on a 3-D input counted its output twice on some torch
versions: the reshape after the matrix product (``aten::_unsafe_view``) is declared by its
schema as a new tensor though it shares the product's storage.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import archscope
from tests.storages import new_storage_bytes


def _archscope_bytes(model: nn.Module, x: torch.Tensor) -> int:
    return archscope.summarize(model, input_data=x).totals.activation_bytes


@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("shape", [(3136, 96), (1, 3136, 96), (1, 56, 56, 96)], ids=["2-D", "3-D", "4-D"])
def test_a_linear_layer_writes_its_output_once(shape, bias):
    torch.manual_seed(0)
    model = nn.Linear(96, 384, bias=bias).eval()
    x = torch.randn(shape)
    # By hand: one float32 output of 3136 x 384.
    assert _archscope_bytes(model, x) == new_storage_bytes(model, x) == 3136 * 384 * 4


class ConvNeXtBlock(nn.Module):
    """Liu et al. 2022, Figure 4: depthwise 7x7, LayerNorm, 1x1 as two Linear layers on channels-last, layer scale."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ViTBlock(nn.Module):
    """Dosovitskiy et al. 2021, equations (2)-(3): pre-norm attention and MLP, each with a residual."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attention = (q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5).softmax(-1)
        x = x + self.proj((attention @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


@pytest.mark.parametrize(
    "model, shape",
    [
        (ConvNeXtBlock(96), (1, 96, 56, 56)),
        (ViTBlock(192, 3), (1, 197, 192)),
    ],
    ids=["convnext-block", "vit-block"],
)
def test_a_block_counts_the_storages_a_real_forward_allocates(model, shape):
    torch.manual_seed(0)
    model.eval()
    x = torch.randn(shape)
    assert _archscope_bytes(model, x) == new_storage_bytes(model, x)


def test_timm_blocks_count_the_storages_a_real_forward_allocates():
    timm = pytest.importorskip("timm")
    from timm.models.convnext import ConvNeXtBlock as TimmConvNeXtBlock
    from timm.models.vision_transformer import Block

    torch.manual_seed(0)
    block = TimmConvNeXtBlock(96).eval()
    x = torch.randn(1, 96, 56, 56)
    assert _archscope_bytes(block, x) == new_storage_bytes(block, x)
    # timm's attention calls F.scaled_dot_product_attention. The meta device has no fused
    # kernel, so the analysis runs (and counts) its unfused form, the scores held; the real
    # forward is held to the same form (docs/counting.md, "Memory").
    block = Block(192, 3).eval()
    x = torch.randn(1, 197, 192)
    with sdpa_kernel(SDPBackend.MATH):
        assert _archscope_bytes(block, x) == new_storage_bytes(block, x)
    assert timm.__version__


def test_the_activation_figure_does_not_depend_on_the_torch_version():
    # The figure a user reported on torch 2.14.1 (117,288,320 B) and 2.15.0 (160,188,800 B,
    # the Linear outputs of every MLP counted twice) is one figure, the real forward's.
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("convnext_tiny").eval()
    x = torch.randn(1, 3, 224, 224)
    assert _archscope_bytes(model, x) == new_storage_bytes(model, x) == 117_288_320
