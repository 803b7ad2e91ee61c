"""Lesson 5: ResNet's bottleneck beside the basic block, as the paper pairs them (He et al. 2015, Fig. 5).

A basic block on a 64-d map and a bottleneck on a 256-d map cost about the same.

    python examples/lesson5_bottleneck.py
"""

import archscope

for name in ("basic-block", "bottleneck-block"):
    s = archscope.summarize(name)
    channels = s.input_shape[1]
    print(f"{name:<17} on {channels}-d: {s.totals.params:>8,} params {s.totals.macs:>13,} MACs  {s.weighted_depth} weighted layers")
