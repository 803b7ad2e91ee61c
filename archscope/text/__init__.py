"""Text for people, below every layer that shows it (``render`` for tables and pages, ``draw``
for pictures): user text made safe (``safety``), counts, bytes and shapes in a few characters
(``numbers``), receptive fields as cells (``fields``). No torch, no rich, no matplotlib.
"""
