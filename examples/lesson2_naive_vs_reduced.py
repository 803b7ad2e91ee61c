"""Lesson 2: naive vs reduced inception, for one module and for the whole of GoogLeNet.

    python examples/lesson2_naive_vs_reduced.py
"""

import archscope

pairs = [("inception-naive", "inception-reduced"), ("googlenet-naive", "googlenet")]
for naive_name, reduced_name in pairs:
    naive, reduced = archscope.summarize(naive_name), archscope.summarize(reduced_name)
    print(
        f"{naive_name} vs {reduced_name}: {naive.totals.macs:,} vs {reduced.totals.macs:,} MACs "
        f"({naive.totals.macs / reduced.totals.macs:.1f}x), {naive.totals.params:,} vs {reduced.totals.params:,} parameters"
    )

# Without a projection the pooling branch passes every channel on, so the width keeps growing.
naive = archscope.summarize("googlenet-naive")
for layer in naive.layers:
    if layer.name.startswith("inception") and layer.depth == 1:
        print(f"  {layer.name:<14} output {layer.output_shape[1]:>5} channels")
