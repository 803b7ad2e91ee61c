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
from pathlib import Path, PurePath
from typing import Annotated, Any, Callable, Iterable, Optional, Sequence

import typer
from rich.console import Console
from typer.core import TyperGroup

from archscope.errors import ArchscopeError
from archscope.render.formats import DEFAULT_FORMAT, FORMATS, Content, OutputFormat, format_of_path
from archscope.render.units import UNITS
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
                # Recent Typer checks values through pydantic, whose message begins "Value error, ".
                fail(error.format_message().replace(": Value error, ", ": ") + hint)
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
        f"{UNITS} MACs are what the papers and torchvision call 'GFLOPs'."
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
        return Console(**_size_overrides(sys.stdout))

    def stderr(self) -> Console:
        if sys.stderr is None:  # closed by the caller (2>&-): they chose not to see messages
            return Console(file=io.StringIO())
        return Console(stderr=True, **_size_overrides(sys.stderr))

    def terminal_width(self) -> int | None:
        """The terminal's width; None when stdout is a pipe or a file, where nothing is cut."""
        console = self.stdout()
        return console.width if console.is_terminal else None


APP = App()

MAX_COLUMNS = 10_000  # wider than any terminal: COLUMNS beyond it is a mistake, not a screen


def _size_overrides(stream: Any) -> dict[str, int]:
    """A width (and height) for rich where COLUMNS (LINES) is nonsensical: 0, negative, huge.

    rich takes any digits in COLUMNS as the width, and at 0 prints nothing at all, not even an
    error; such a value is treated as unknown: the terminal's own size, or 80 x 25 off a terminal.
    """
    out: dict[str, int] = {}
    for variable, key, fallback in (("COLUMNS", "width", 80), ("LINES", "height", 25)):
        text = os.environ.get(variable)
        if text is None or not text.strip().isdigit() or 0 < int(text) <= MAX_COLUMNS:
            continue  # unset, or not digits (rich ignores those), or sensible
        try:
            size = os.get_terminal_size(stream.fileno())
            out[key] = (size.columns if key == "width" else size.lines) or fallback
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            out[key] = fallback
    return out


def stdout() -> Console:
    return APP.stdout()


def stderr() -> Console:
    return APP.stderr()


def say(message: str) -> None:
    """One line on stderr. The user's text in it is cleaned and never read as rich markup."""
    stderr().print(clean(message), markup=False, highlight=False, soft_wrap=True)


def choices(name: str, values: Iterable[str]) -> Any:
    """A str Enum with one member per value, named as its value: an option's choices, as typer lists them."""
    return Enum(name, {value: value for value in values}, type=str)


# The --format choices: every registered output format (render.formats), in the order registered.
Format = choices("Format", FORMATS)


def output_format(fmt: Optional[Format], output: Optional[str]) -> OutputFormat:
    """The format to write: ``-f`` as given, else the one ``-o``'s extension names, else table.

    A ``-f`` that another format's extension contradicts (``-f csv -o x.json``) is refused:
    the file would not be what its name says.
    """
    named = format_of_path(output)
    if fmt is None:
        return named or FORMATS[DEFAULT_FORMAT]
    chosen = FORMATS[fmt.value]
    if named is not None and named is not chosen:
        suggested = str(PurePath(output).with_suffix(chosen.extensions[0])) if output else ""
        raise ArchscopeError(
            f"-f {chosen.name} contradicts {output}: its extension says {named.name}; "
            f"drop -f, or name the file {suggested}"
        )
    return chosen


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
        except RecursionError as error:
            if APP.debug:
                raise
            # A model nested thousands of modules deep runs out of Python's stack in its own calls.
            raise fail(
                f"the model is nested or recurses too deeply for Python (more than {sys.getrecursionlimit():,} "
                f"calls deep: {_first_line(error)}); flatten it, or analyse its parts one by one"
            ) from None
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
        except BaseException as error:  # noqa: BLE001 - the user's own BaseException subclass, GeneratorExit
            if APP.debug:
                raise
            # A command is no generator: a GeneratorExit that reaches here was raised by the model's code.
            detail = _first_line(error)
            raise fail(f"the model's code raised {type(error).__name__}" + (f": {detail}" if detail else "")) from None

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


def write(
    path: str, data: str | bytes, models: Sequence[str], suffixes: Sequence[str] = (), what: str = "", note: str = ""
) -> None:
    """Write one output through archscope.output (atomic, never over the model's own file) and say
    where (and ``note``, e.g. what it replaced)."""
    from archscope.output import write_output

    target = write_output(path, data, protect=sources(models), suffixes=suffixes, what=what)
    if target.kind != "stdout":
        say(f"wrote {target.shown}{note}")


def stdout_is_ascii() -> bool:
    """True where standard output's encoding cannot carry box drawing (``PYTHONIOENCODING=ascii``)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "─…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def file_text(
    fmt: OutputFormat,
    view: Callable[[], Any],
    *,
    record: Any = None,
    document: Callable[[], dict] | None = None,
    ascii: bool = False,
) -> str:
    """A command's output as a file or a pipe gets it, in ``fmt`` (render.formats): the view in
    full (nothing cut), or the record's ``to_dict()`` (or ``document``) for JSON."""
    if document is None:
        document = lambda: record.to_dict()  # noqa: E731 - made only if the format asks for it
    return fmt.write(Content(view, document, ascii))


def show(
    fmt: OutputFormat,
    view: Callable[[], Any],
    output: Optional[str],
    models: Sequence[str] = (),
    **parts: Any,
) -> None:
    """Print a command's view in ``fmt``, or write it to ``output`` ('-' is stdout).

    On a terminal the table fits its width; in a pipe or a file nothing is cut (``file_text``,
    which takes the same ``record`` and ``document``).
    """
    from archscope.render import writers

    ascii = output is None and stdout_is_ascii()
    if fmt.name == DEFAULT_FORMAT and output is None:
        # Laid out for the width already: rich must not wrap it again (soft_wrap).
        APP.stdout().print(writers.terminal(view(), APP.terminal_width(), ascii), soft_wrap=True)
        return
    content = file_text(fmt, view, ascii=ascii, **parts)
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


def _carry_what_the_encoding_can() -> None:
    """On a stream whose encoding cannot carry Unicode (PYTHONIOENCODING=ascii, a latin-1 terminal),
    write what it cannot as \\uXXXX escapes instead of failing: the tables also switch to ASCII box
    drawing (``stdout_is_ascii``), so only the user's own names need escaping."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            try:
                "─…×µ".encode(stream.encoding or "utf-8")
            except (UnicodeEncodeError, LookupError):
                stream.reconfigure(errors="backslashreplace")


def run() -> None:
    """Console-script entry point."""
    if sys.stdout is None:
        sys.stdout = ClosedStream()
    _carry_what_the_encoding_can()
    try:
        app()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        if not APP.debug:
            raise
        # --debug shows the traceback, but as text: the model's messages and names may hold escape
        # sequences (an OSC 52 clipboard write, a title change) that a terminal would obey.
        print_traceback(error)
        sys.exit(1)


def print_traceback(error: BaseException) -> None:
    """``error``'s traceback on stderr, each line without control characters."""
    import traceback

    lines = "".join(traceback.format_exception(type(error), error, error.__traceback__)).splitlines()
    if sys.stderr is not None:
        sys.stderr.write("".join(clean(line) + "\n" for line in lines))
        sys.stderr.flush()
