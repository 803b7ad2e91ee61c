"""Lesson 8: plain vs residual CIFAR networks: equal parameters, and the gradient at the first layer.

    python examples/lesson8_plain_vs_residual.py
"""

import torch
import torch.nn.functional as F

import archscope

for name in ("cifar-plain56", "cifar-resnet56"):
    s = archscope.summarize(name)
    torch.manual_seed(0)
    model = archscope.create_model(name).train()  # batch norm in training mode, as at the start of training
    x = torch.randn(32, 3, 32, 32)
    F.cross_entropy(model(x), torch.randint(0, 10, (32,))).backward()
    first, last = model.conv1.weight.grad.norm().item(), model.fc.weight.grad.norm().item()
    print(
        f"{name:<15} {s.totals.params:,} params, {s.totals.flops:,} FLOPs; "
        f"first-layer gradient norm {first:.3g} = {first / last:.3g}x the last layer's"
    )
