"""``python -m archscope.cli``."""

from archscope.cli import run

run()
