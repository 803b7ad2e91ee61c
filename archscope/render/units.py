"""The one sentence that says what archscope's units count, printed wherever counts are shown.

Its rules are docs/counting.md's; the table notes, the compare note, the report page and
``archscope --help`` all print this text, so they cannot drift apart.
"""

UNITS = "MACs count multiply-accumulates of conv/linear/matmul; FLOPs = 2 x MACs + other operators (docs/counting.md)."
