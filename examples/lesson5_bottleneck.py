"""Lesson 5: ResNet's bottleneck block vs two 3x3 convolutions at 256 channels (He et al. 2015, Fig. 5).

    python examples/lesson5_bottleneck.py
"""

import archscope

for name in ("basic-block", "bottleneck-block"):
    s = archscope.summarize(name)
    print(
        f"{name:<17} {s.totals.params:>10,} params {s.totals.macs:>15,} MACs  "
        f"{s.weighted_depth} weighted layers, receptive field {s.receptive_field['size'][0]}"
    )
