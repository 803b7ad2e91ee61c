"""Lesson 4: a fully connected head vs global average pooling, and where VGG-16's weights live.

    python examples/lesson4_fc_vs_gap.py
"""

import archscope

fc, gap = archscope.summarize("head-fc-1024"), archscope.summarize("head-gap-1024")
print(f"7x7x1024 -> 1024: fully connected {fc.totals.params:,} parameters, global average pooling {gap.totals.params}")

vgg = archscope.summarize("vgg16")
head = next(layer for layer in vgg.layers if layer.name == "classifier")
print(f"VGG-16's FC layers: {head.params / vgg.totals.params:.1%} of the parameters, {head.macs / vgg.totals.macs:.2%} of the MACs")
