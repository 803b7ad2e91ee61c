"""The archscope command line: parse options, call the core, hand its records to a renderer.

``application`` owns the Typer app, its consoles, --debug, errors and output; each command
lives in its own module and registers on the app when imported here, in the order
``archscope --help`` lists them. Nothing here imports torch: every command imports the core
inside its body, so ``--help`` and ``--version`` answer at once.
"""

from archscope.cli.application import app, run

# Importing a command's module registers it on ``app``: this order is the order of --help, and
# the app is the one list of commands (tests walk it, tests/cli_commands.py).
from archscope.cli import list_command, summary, explain, compare, sweep, lessons, bench, report, rf, profile, draw  # noqa: F401, I001

__all__ = ["app", "run"]
