"""``python -m archscope``."""

from archscope.cli import run

run()
