"""Lesson 7: Inception-v4's 1x7 + 7x1 factorisation of a 7x7 convolution (Szegedy et al. 2016).

    python examples/lesson7_factorized_7x7.py
"""

import archscope

for name in ("conv7x7", "conv7x7-factorized"):
    s = archscope.summarize(name)
    print(f"{name:<19} receptive field {list(s.receptive_field.size)}, {s.totals.params:>9,} weights, {s.totals.macs:>14,} MACs")

# The same factorisation inside the real network: Inception-B's deepest branch.
v4 = archscope.summarize("inception-v4")
branch = next(x for x in v4.layers if x.name == "inception_b1.branches.3")
print(f"inception-v4 inception_b1.branches.3: {branch.macs:,} MACs, receptive field {list(branch.receptive_field.size)}")
