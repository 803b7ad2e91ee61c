"""The receptive-field rule of each kind of operator: its outputs' fields from its inputs'.

An operator's registry row (``analysis.ops``) names its rule (``OpRule.field``); each rule is
a function registered under that name with ``@field_rule`` (``rules.registry``), taking the
tracker and the call. The kinds, one module each:

* ``elementwise``: pointwise, copy, glu;
* ``windows``: conv, window (pooling), adaptive_pool, constant_pad, pad, upsample, unfold;
* ``mixing``: reduction, softmax, cumsum, global, matmul, biased_matmul, attention;
* ``movement``: view, same_positions, permute, expand, repeat, squeeze, unsqueeze, as_strided,
  view_as_real, view_as_complex, roll, flip, concat, stack, pixel_shuffle, pixel_unshuffle,
  channel_shuffle; ``slicing``: slice, narrow, select, diagonal, split, unbind, index_select,
  index, embedding;
* ``common``: unknown and creation, and what the others share.

Importing this package registers every rule.
"""

from archscope.analysis.rf.rules import common, elementwise, mixing, movement, slicing, windows  # noqa: F401
from archscope.analysis.rf.rules.registry import FIELD_RULES, field_rule, field_rule_names

__all__ = ["FIELD_RULES", "field_rule", "field_rule_names"]
