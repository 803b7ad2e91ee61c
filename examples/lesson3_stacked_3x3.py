"""Lesson 3: three stacked 3x3 convolutions vs one 7x7, and two vs one 5x5 (VGG, section 2.3).

    python examples/lesson3_stacked_3x3.py
"""

import archscope

for big, stack in (("conv7x7", "conv3x3-x3"), ("conv5x5", "conv3x3-x2")):
    a, b = archscope.summarize(big), archscope.summarize(stack)
    channels = a.input_shape[1]
    for s in (a, b):
        relus = sum(1 for layer in s.layers if layer.type == "ReLU")
        print(
            f"{s.model:<11} receptive field {s.receptive_field.size[0]}, "
            f"{s.totals.params:>9,} weights = {s.totals.params // channels**2}C^2, {relus} ReLU(s)"
        )
