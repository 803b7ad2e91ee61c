"""The command line's application: the Typer app, its consoles, --debug, errors and output.

Every command module (one per command, beside this one) registers on ``app`` and reports
through ``fail``, ``guarded``, ``say``, ``show`` and ``write``, so errors and output read the
same everywhere.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer
from rich.console import Console
from typer.core import TyperGroup

from archscope.errors import ArchscopeError
from archscope.text.safety import clean


def _argument_type_hidden(self: Any, ctx: Any) -> None:
    """Help shows 'MODEL', not 'MODEL <str>' or 'models... <list[str]>': the metavar says what to type."""
    return None


# Typer (0.29) appends a Python type to every argument's help line and offers no switch for it.
typer.core.TyperArgument.display_type_rich = _argument_type_hidden  # type: ignore[method-assign]


def _usage_name(self: Any) -> str:
    """The usage line as click writes it: 'MODEL', '[PATTERN]', 'MODEL...' (Typer 0.29 writes '{MODEL}')."""
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 else "")


if hasattr(typer.core.TyperArgument, "_usage_display_name"):  # absent in other Typer versions: theirs is kept
    typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]


class OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, a missing argument) as one line, like archscope's own.

    Typer would draw them in a box over several lines; scripts and people both read one line
    starting with ``error:`` more easily, and the exit code stays click's 2.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:
            stderr().print("aborted")
            result = 1
        except Exception as error:
            # Click's exceptions (vendored by recent Typer as typer._click) carry these two.
            if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
                raise
            ctx = getattr(error, "ctx", None)
            if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
                print(ctx.get_help())
            else:
                hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                fail(f"{error.format_message()}{hint}")
            result = error.exit_code
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="archscope",
    help=(
        "Look inside convolutional networks: per-layer shapes, parameters, multiply-accumulates (MACs), "
        "FLOPs and memory, for the classic zoo (LeNet, AlexNet, VGG, GoogLeNet, ResNet) or your own model.\n\n"
        "MACs count the multiply-accumulates of conv/linear/matmul (the papers' and torchvision's 'GFLOPs'); "
        "FLOPs = 2 x MACs plus every other operator, by the rules in docs/counting.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Plain help: click rewraps each paragraph to the terminal and shows no <bool> placeholders.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class App:
    """The one object that owns the command line's consoles, --debug, output and errors."""

    def __init__(self) -> None:
        self.debug = False

    def stdout(self) -> Console:
        # Made per call, not at import, so the width and colour follow the terminal (or pipe) in use.
        return Console()

    def stderr(self) -> Console:
        if sys.stderr is None:  # closed by the caller (2>&-): they chose not to see messages
            return Console(file=io.StringIO())
        return Console(stderr=True)

    def terminal_width(self) -> int | None:
        """The terminal's width; None when stdout is a pipe or a file, where nothing is cut."""
        console = self.stdout()
        return console.width if console.is_terminal else None


APP = App()


def stdout() -> Console:
    return APP.stdout()


def stderr() -> Console:
    return APP.stderr()


def say(message: str) -> None:
    """One line on stderr. The user's text in it is cleaned and never read as rich markup."""
    stderr().print(clean(message), markup=False, highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def fail(message: str, code: int = 2) -> typer.Exit:
    from rich.markup import escape

    # The message holds the user's text (a file name, a torch error): brackets in it are not
    # markup, and control characters in it (a layer name's escape sequence) are dropped.
    stderr().print(f"[bold red]error:[/] {escape(clean(message))}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the user's mistakes into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchscopeError as error:
            if APP.debug:
                raise
            raise fail(str(error)) from None
        except KeyboardInterrupt:
            stderr().print("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise  # click ends a broken pipe (| head) quietly
        except RuntimeError as error:
            if APP.debug or "Storage size calculation overflowed" not in str(error):
                raise _internal(error) from None
            # torch's own words for a tensor larger than 2^63 bytes: the input asked for is too large.
            raise fail(f"the input is too large to analyse: {_first_line(error)}") from None
        except SystemExit as error:
            # archscope never calls sys.exit inside a command: the model's code did.
            if APP.debug:
                raise
            raise fail(f"the model's code called sys.exit({error.code!r})") from None
        except OSError as error:
            if error.errno == errno.EBADF and not _stdout_open():
                raise fail("cannot write to standard output: it is closed; give a file with -o") from None
            raise _internal(error) from None
        except Exception as error:  # noqa: BLE001 - a bug in archscope still gets one clear line
            raise _internal(error) from None
        except BaseException as error:  # noqa: BLE001 - e.g. the user's own BaseException subclass
            if APP.debug or isinstance(error, GeneratorExit):
                raise
            raise fail(f"the model's code raised {type(error).__name__}: {_first_line(error)}") from None

    return run


def _stdout_open() -> bool:
    """False where standard output's file descriptor is closed (writing gives EBADF)."""
    stream = sys.stdout
    if stream is None or isinstance(stream, ClosedStream):
        return False
    try:
        os.fstat(stream.fileno())
    except io.UnsupportedOperation:
        return True  # no descriptor behind it (a buffer): it cannot be the closed one
    except (OSError, ValueError):
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _internal(error: BaseException) -> typer.Exit:
    if APP.debug:
        raise error
    detail = _first_line(error)
    return fail(f"internal error: {type(error).__name__}: {detail} (run with --debug for the traceback)", 1)


class ClosedStream(io.TextIOBase):
    """Stands in for a standard output closed before archscope started (``>&-``).

    Python leaves ``sys.stdout`` as None then; writing to this says so in one line instead.
    """

    archscope_closed = True

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise ArchscopeError("cannot write to standard output: it is closed; give a file with -o")


def sources(models: Sequence[str]) -> list[Path]:
    """The files the models are loaded from: never a valid output."""
    from archscope.models import spec_source_path

    return [path for path in (spec_source_path(m) for m in models) if path is not None]


def check_outputs(models: Sequence[str], **outputs: tuple[Optional[str], Sequence[str]]) -> None:
    """Refuse, before any work, every output archscope would not write; ``option=(path, suffixes)``.

    Two options naming the same file (or both standard output) are refused too: the second
    would silently replace the first.
    """
    from archscope.output import check_output

    protect = sources(models)
    seen: dict[str, str] = {}
    for option, (path, suffixes) in outputs.items():
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        target = check_output(path, protect=protect, suffixes=suffixes, what=f"the {flag} picture")
        if target.kind == "stream":
            continue  # /dev/null twice is fine
        key = str(target.path) if target.path is not None else "-"
        if key in seen:
            raise ArchscopeError(f"{seen[key]} and {flag} both name {target.shown}; give each its own file")
        seen[key] = flag


def write(path: str, data: str | bytes, models: Sequence[str], suffixes: Sequence[str] = (), what: str = "") -> None:
    """Write one output through archscope.output (atomic, never over the model's own file) and say where."""
    from archscope.output import write_output

    target = write_output(path, data, protect=sources(models), suffixes=suffixes, what=what)
    if target.kind != "stdout":
        say(f"wrote {target.shown}")


def file_text(
    fmt: Format,
    view: Callable[[], Any],
    *,
    record: Any = None,
    json_data: Callable[[], dict] | None = None,
    csv_text: Callable[[], str] | None = None,
) -> str:
    """A command's output as a file or a pipe gets it: the view in full (nothing cut) for a table
    or Markdown; the record's ``to_dict()`` (or ``json_data``) as JSON; the view's table (or
    ``csv_text``) as CSV."""
    from archscope.render import writers

    if fmt is Format.table:
        return writers.plain_text(view(), None)
    if fmt is Format.json:
        return writers.json_text(json_data() if json_data is not None else record.to_dict())
    if fmt is Format.csv:
        return csv_text() if csv_text is not None else writers.csv_text(view())
    return writers.markdown(view())


def show(
    fmt: Format,
    view: Callable[[], Any],
    output: Optional[str],
    models: Sequence[str] = (),
    **formats: Any,
) -> None:
    """Print a command's view, or its record as JSON, or write either to ``output`` ('-' is stdout).

    On a terminal the table fits its width; in a pipe or a file nothing is cut (``file_text``,
    which takes the same ``record``, ``json_data`` and ``csv_text``).
    """
    from archscope.render import writers

    if fmt is Format.table and output is None:
        # Laid out for the width already: rich must not wrap it again (soft_wrap).
        APP.stdout().print(writers.terminal(view(), APP.terminal_width()), soft_wrap=True)
        return
    content = file_text(fmt, view, **formats)
    if output is None:
        sys.stdout.write(content)
    else:
        write(output, content, models)


def _version(value: bool) -> None:
    if value:
        from archscope import __version__

        stdout().print(f"archscope {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")] = False,
) -> None:
    APP.debug = debug


def run() -> None:
    """Console-script entry point."""
    if sys.stdout is None:
        sys.stdout = ClosedStream()
    app()
