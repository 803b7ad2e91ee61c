"""The Python API in a few lines: where VGG-16's parameters and multiply-accumulates live.

    python examples/summary_api.py
"""

import archscope

summary = archscope.summarize("vgg16")
totals = summary.totals
print(f"{summary.model}: {totals.params:,} parameters, {totals.macs:,} MACs at {summary.input_shape}")

leaves = [layer for layer in summary.layers if layer.leaf]
for layer in sorted(leaves, key=lambda x: x.params, reverse=True)[:3]:
    print(
        f"  {layer.name:<14} {layer.type:<8} {layer.params / totals.params:6.1%} of the parameters, "
        f"{layer.macs / totals.macs:6.2%} of the MACs"
    )

# The same records are plain dataclasses; to_dict() is the documented JSON (docs/json.md).
assert summary.to_dict()["totals"]["macs"] == totals.macs
