"""Receptive fields, exactly, through the network's real graph.

Each tensor the forward pass creates gets, per spatial axis, the receptive field of one of
its positions: its size r, its effective stride j and its effective padding P, relative to
the network's input (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019, equations 1-3 and section "Handling arbitrary graphs"):

    a window of kernel k, stride s, padding p, dilation d applied to (r, j, P) gives
    r' = r + d (k - 1) |j|,    j' = s j,    P' = P + p j  (minus (k - 1) d j when j < 0)

Output position x of a tensor then sees input positions [x j - P, x j - P + r - 1]. A flip
makes j negative (positions run backwards over the input); upsampling makes the field repeat
only every f positions, which ``values.Span`` keeps exactly, phase by phase.

The fields follow the data, not the module list: every ATen operator the forward runs is
seen (by the same dispatch mode that counts FLOPs), so residual additions, concatenations,
reused modules and functional calls are all handled, and the cost is one step per operator,
however many paths the graph has (CIFAR ResNet-1202 has 2^600).

Every tensor also carries an axis map (``axes``): which of its dimensions hold the batch, the
channels and which spatial axis, so a permute to channels-last, a flatten of the grid into
tokens, a class token concatenated in front, or a linear layer run as a matrix product over
rows that merge batch and positions all keep the field. An operator that mixes positions
(global pooling, a linear layer over flattened positions, attention) makes every output see
the whole input; one that mixes them only within windows (Swin's window attention) leaves a
field that depends on where a position sits in its window, which is reported as unknown with
that reason.

A tensor is a list of channel ranges ("parts"), each with its own field, so a concatenation
keeps each branch's field: GoogLeNet's inception modules see several scales at once. A merge
(an addition, or a convolution over all parts) takes the union of its inputs' fields, the
largest when their centres are aligned; fields with different strides have no union that is
one window, and are reported, not guessed.

The parts, each in its own module:

* ``values``: the values (``Span``, ``Field``, ``WholeInput``, ``Unknown``) and their algebra;
  ``axes``: the axis maps; ``call``: an operator call as the rules read it;
* ``rules``: the rule of each kind of operator, registered by name (``@field_rule``);
* ``tracker``: ``FieldTracker``, which follows tensors through the forward pass;
* ``measure``, ``target`` and ``effective``: the same fields measured by gradients, the
  independent check, and the effective receptive field (Luo et al. 2016);
* ``stages`` and ``report``: the stride stages and ``receptive_fields``, the record
  ``archscope rf`` shows.
"""
