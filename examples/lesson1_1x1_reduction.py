"""Lesson 1: what GoogLeNet's 1x1 reduction buys in the 5x5 branch (Szegedy et al. 2014, section 4).

    python examples/lesson1_1x1_reduction.py
"""

import archscope

naive = archscope.summarize("inception-5x5-naive")  # 5x5 conv, 480 -> 48 channels, on 14x14
reduced = archscope.summarize("inception-5x5-reduced")  # 1x1 conv to 16 first, then the 5x5

for s in (naive, reduced):
    print(f"{s.model:<24} {s.totals.macs:>12,} MACs  {s.totals.params:>9,} parameters")
print(f"the reduction needs {naive.totals.macs / reduced.totals.macs:.1f}x fewer multiply-accumulates")
# The figure often quoted as 'parameters' is the multiply-accumulate count: every weight is
# applied at each of the 14x14 = 196 positions.
print(f"MACs per weight in the naive branch: {naive.totals.macs // (naive.totals.params - 48)}")
