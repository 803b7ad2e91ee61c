"""Lesson 6: what AlexNet's two-GPU split saved (Krizhevsky et al. 2012, section 3.2).

    python examples/lesson6_alexnet_split.py
"""

import archscope

split, merged = archscope.summarize("alexnet"), archscope.summarize("alexnet-1gpu")
for name in ("features.4", "features.10", "features.12"):  # conv2, conv4, conv5: grouped in the paper
    a = next(x for x in split.layers if x.name == name)
    b = next(x for x in merged.layers if x.name == name)
    print(f"{name:<12} {a.params:>9,} vs {b.params:>9,} params, {a.macs:>12,} vs {b.macs:>12,} MACs")
print(f"whole network: {split.totals.macs:,} vs {merged.totals.macs:,} MACs")
