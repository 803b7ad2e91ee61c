"""Lesson 9: MACs are not time. GoogLeNet's module 3a, naive and reduced, profiled layer by layer.

    python examples/lesson9_macs_are_not_time.py

The MACs and bytes are counted exactly; the times are measured on this machine (the CPU), so
they differ from run to run. The roofline (Williams et al. 2009) says why the ratio of the
times is not the ratio of the MACs.
"""

from archscope.lessons.classic import macs_are_not_time
from archscope.bench.profile import profile

lesson = macs_are_not_time(min_time=0.3)
f, m = lesson.figures, lesson.measurements
print(f"MACs:  naive {f['naive_macs']:>12,}  reduced {f['reduced_macs']:>12,}  ratio {m['mac_ratio']:.2f}")
print(f"bytes: naive {f['naive_bytes']:>12,}  reduced {f['reduced_bytes']:>12,}  ratio {m['byte_ratio']:.2f}")
print(f"time:  naive {m['naive_ms']:>9.2f} ms  reduced {m['reduced_ms']:>9.2f} ms  ratio {m['time_ratio']:.2f}")
print()
print(lesson.finding)

# The same measurement for any model, one row per layer: archscope profile inception-reduced --depth 3
report = profile("inception-reduced", depth=3, min_time=0.3)
print()
for row in sorted(report.layers, key=lambda x: -x.time_ms)[:4]:
    print(f"{row.name:<12} {row.type:<10} {row.share:6.1%} of the time, {row.mac_share:6.1%} of the MACs, "
          f"{row.intensity or 0:7.3g} FLOP/B, {row.bound}-bound")
