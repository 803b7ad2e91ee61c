"""archscope's commands, read from the Typer app itself.

The tests that walk every command (help, widths, formats, the command-line fuzz) take their
list from here, so a command added to the app is covered by all of them without editing a
table. What a cheap run of a command needs is said per argument and per option, never per
command: a MODEL is lenet5, a lesson ID is 1, a timing loop is short.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import typer

from archscope.cli import app

# A cheap value for each kind of argument a command may take, by its metavar. A new command
# with a required argument of another kind fails `example` loudly: add its metavar here.
ARGUMENT_EXAMPLES = {"MODEL": ["lenet5", "alexnet"], "SPEC": ["lenet5", "alexnet"], "ID": ["1"], "PATTERN": []}
# Options that make a run cheap wherever a command has them (timing loops).
QUICK_OPTIONS = {"--min-time": "0.01", "--warmup": "0"}
# A required -o per command kind: a file name whose extension the command takes.
OUTPUT_EXAMPLES = (".html", ".svg", ".md", ".png", ".json")


@dataclass(frozen=True)
class Param:
    name: str  # the first option string ("--format"), or the argument's metavar ("MODEL")
    option: bool
    required: bool
    variadic: bool
    flag: bool
    choices: tuple[str, ...]  # a Choice's values, else ()
    metavar: str | None
    kind: str  # click's type name: "choice", "integer", "float", "text", "boolean"
    opts: tuple[str, ...]


def _param(p: Any) -> Param:
    option = type(p).__name__.endswith("Option")
    kind = getattr(getattr(p, "type", None), "name", "text")
    choices = tuple(getattr(getattr(p, "type", None), "choices", ()) or ())
    return Param(
        name=p.opts[0] if option else (p.metavar or p.name.upper()),
        option=option,
        required=bool(p.required),
        variadic=p.nargs == -1,
        flag=bool(getattr(p, "is_flag", False)),
        choices=tuple(str(getattr(c, "value", c)) for c in choices),
        metavar=p.metavar,
        kind=kind,
        opts=tuple(p.opts),
    )


def commands() -> dict[str, list[Param]]:
    """Every command of the app, in --help's order, with its parameters."""
    group = typer.main.get_command(app)
    return {name: [_param(p) for p in command.params] for name, command in group.commands.items()}


def names() -> list[str]:
    return list(commands())


def takes(command: str, option: str) -> bool:
    return any(option in p.opts for p in commands()[command])


# Commands whose --format names results files of their own (CSV, JSON Lines, Markdown, Parquet
# rows appended as each model finishes; tests/test_cli_sweep.py reads each back), not a view.
ROW_FILES = {"sweep"}


def with_format() -> list[str]:
    """The commands that print a table and take --format: those whose output is a view."""
    return [name for name in commands() if takes(name, "--format") and name not in ROW_FILES]


def example(command: str, output: str | None = None) -> list[str]:
    """A cheap command line for ``command``: its required arguments and options, short timing loops.

    ``output`` is passed as -o where the command takes one (and must be given where -o is required).
    """
    argv = [command]
    for p in commands()[command]:
        if p.option:
            continue
        if p.name not in ARGUMENT_EXAMPLES:
            if p.required:
                raise AssertionError(f"'{command}' takes a required {p.name}: add a cheap value for it to ARGUMENT_EXAMPLES")
            continue
        values = ARGUMENT_EXAMPLES[p.name]
        argv += values if p.variadic else values[:1]
    for option, value in QUICK_OPTIONS.items():
        if takes(command, option):
            argv += [option, value]
    output_param = next((p for p in commands()[command] if "--output" in p.opts), None)
    if output is not None and output_param is not None:
        argv += ["-o", output]
    elif output_param is not None and output_param.required:
        raise AssertionError(f"'{command}' needs -o: pass output=")
    return argv


# Commands that measure time: (module, function) that does the measuring. A test that runs such
# a command many times measures once and replays that record (``replaying``), so the runs cost
# one measurement and print the same figures. A command missing here is still run, for real.
MEASURING = {"bench": ("archscope.bench", "benchmark"), "profile": ("archscope.bench.profile", "profile"),
             "sweep": ("archscope.sweep", "run")}  # a sweep's rows carry the seconds each model took
_records: dict[tuple[str, ...], Any] = {}


@contextlib.contextmanager
def replaying(argv: Sequence[str], key: Sequence[str] | None = None) -> Iterator[list[int]]:
    """Within the block, the measuring function of ``argv``'s command runs for real once per test
    session for ``key`` (default: ``argv``) and then returns that record; the list yielded counts
    the calls (a test checks it is not empty)."""
    calls: list[int] = []
    command, key = argv[0], tuple(key if key is not None else argv)
    if command not in MEASURING:
        calls.append(0)
        yield calls
        return
    module, name = MEASURING[command]
    target = importlib.import_module(module)
    real = getattr(target, name)

    def stand_in(*a: Any, **k: Any) -> Any:
        calls.append(1)
        if key not in _records:
            made = real(*a, **k)
            _records[key] = list(made) if inspect.isgenerator(made) else made  # a sweep's results, kept to replay
        return _records[key]

    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(target, name, stand_in)
        yield calls
