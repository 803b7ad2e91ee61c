"""The archscope command line: parse options, call the core, hand its records to a renderer."""

from __future__ import annotations

import errno
import functools
import io
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer
from rich.console import Console
from typer.core import TyperGroup

from archscope.errors import ArchscopeError
from archscope.render.safe import clean


def _argument_type_hidden(self: Any, ctx: Any) -> None:
    """Help shows 'MODEL', not 'MODEL <str>' or 'models... <list[str]>': the metavar says what to type."""
    return None


# Typer (0.29) appends a Python type to every argument's help line and offers no switch for it.
typer.core.TyperArgument.display_type_rich = _argument_type_hidden  # type: ignore[method-assign]


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


class Counter(str, Enum):
    archscope = "archscope"
    fvcore = "fvcore"


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


# ---------------------------------------------------------------- checks at the edge

# Larger batches only overflow torch's sizes (2^63 bytes) deeper in the network.
MAX_BATCH = 2**31 - 1
PNG = (".png",)


def check_batch(value: int) -> int:
    """A batch size typed on the command line: 1 to MAX_BATCH."""
    if value < 1:
        raise ArchscopeError(f"batch size must be at least 1, not {value}")
    if value > MAX_BATCH:
        raise ArchscopeError(f"batch size must be at most {MAX_BATCH:,}, not {value:,}")
    return value


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


def show(
    fmt: Format,
    view: Callable[[], Any],
    output: Optional[str],
    models: Sequence[str] = (),
    *,
    json_text: Callable[[], str] | None = None,
    csv_text: Callable[[], str] | None = None,
) -> None:
    """Print a command's view (or its record as JSON), or write it to ``output`` ('-' is stdout).

    On a terminal the table fits its width; in a pipe or a file nothing is cut.
    """
    from archscope.render import writers

    if fmt is Format.table:
        if output is None:
            # Laid out for the width already: rich must not wrap it again (soft_wrap).
            APP.stdout().print(writers.terminal(view(), APP.terminal_width()), soft_wrap=True)
            return
        content = writers.plain_text(view(), None)
    elif fmt is Format.json:
        content = json_text() if json_text is not None else ""
    elif fmt is Format.csv:
        content = csv_text() if csv_text is not None else writers.csv_text(view())
    else:
        content = writers.markdown(view())
    if output is None:
        sys.stdout.write(content)
    else:
        write(output, content, models)


def render_file(view: Callable[[], Any]) -> str:
    """A view as plain text with nothing cut: what -o writes for --format table."""
    from archscope.render import writers

    return writers.plain_text(view(), None)


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


ArgOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--arg", metavar="KEY=VALUE", help="key=value for the model's factory, read as a Python literal (e.g. num_classes=10); repeatable."
    ),
]
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A zoo name (see 'archscope list'), path/to/file.py:Factory, package.module:Factory, "
        "torchvision:NAME or timm:NAME."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people; json, csv or markdown for files and scripts.")
]
OutputOption = Annotated[
    Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file (atomically) instead of stdout.")
]


@app.command("list", short_help='The zoo, with the published figures each network is held to.')
@guarded
def list_command(
    pattern: Annotated[
        Optional[str], typer.Argument(metavar="[PATTERN]", help="Shell-style filter on names and aliases, e.g. 'vgg*' or '*bn'.")
    ] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """List the zoo: each network's family, default input, reference params and MACs, and source.

    The reference figures are the published ones each network is tested against ('Ref.'):
    'archscope summary NAME' computes the exact counts.
    """
    from archscope.render.views import list_view
    from archscope.render.zoo_text import zoo_json
    from archscope.zoo import list_entries

    check_outputs([], output=(output, ()))
    entries = list_entries(pattern)
    if not entries:
        raise ArchscopeError(f"no zoo network matches {pattern!r}; run 'archscope list' to see them all")

    show(fmt, lambda: list_view(entries), output, json_text=lambda: zoo_json(entries))


@app.command(short_help="Every layer's shape, params, MACs, FLOPs and receptive field.")
@guarded
def summary(
    model: ModelArgument,
    input_size: Annotated[
        Optional[str],
        typer.Option(
            "--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N (square); HxW and N keep the network's channels. Default: the network's own."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")] = 1,
    depth: Annotated[
        Optional[int],
        typer.Option(metavar="N", help="How deep the layer table nests (1 = the model's children). Default: 3 for table/markdown, all for json/csv."),
    ] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    counter: Annotated[
        Counter,
        typer.Option(
            help="archscope counts on the meta device (no weights). fvcore also builds the real network on the CPU "
            "and adds fvcore's per-operator counts."
        ),
    ] = Counter.archscope,
    train: Annotated[
        bool,
        typer.Option(
            "--train",
            help="Analyse a training step: the training-mode graph (auxiliary classifiers run, batch norm computes "
            "statistics), the backward pass per layer, the optimizer step and the training memory.",
        ),
    ] = False,
    optimizer: Annotated[
        str, typer.Option(metavar="NAME", help="With --train: sgd (with momentum) or adam, whose step and state are counted.")
    ] = "sgd",
    fit: Annotated[
        Optional[str],
        typer.Option(metavar="SIZE", help="The largest batch whose training memory fits SIZE (24GiB, 512MB); implies --train."),
    ] = None,
    arg: ArgOption = None,
    plot: Annotated[
        Optional[str], typer.Option(metavar="PNG", help="Save a per-layer chart of parameters and MACs to this PNG.")
    ] = None,
    columns: Annotated[
        Optional[str],
        typer.Option(
            metavar="LIST",
            help="The table's columns, comma-separated, from: layer, type, input, output, kernel, rf, params, "
            "params%, macs, macs%, flops (e.g. layer,kernel,macs). Default: all but input and kernel."
        ),
    ] = None,
) -> None:
    """Every layer's output shape, parameters, MACs and FLOPs, then the totals and memory.

    Runs on the meta device: no weights are allocated and nothing is computed, so even
    VGG-19 at 512x512 takes about as long as importing torch.
    """
    from archscope.analysis import summarize
    from archscope.render.summary_text import summary_csv, summary_json
    from archscope.render.views import parse_columns, summary_view

    try:
        keys = parse_columns(columns)
    except ValueError as error:
        raise ArchscopeError(str(error)) from None
    if depth is not None and depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    shown_depth = depth if depth is not None or fmt in (Format.json, Format.csv) else 3
    from archscope.models import parse_kwargs, resolve_model

    check_outputs([model], output=(output, ()), plot=(plot, PNG))
    check_batch(batch_size)
    kwargs = parse_kwargs(arg or [])
    budget = None
    if fit is not None:
        from archscope.analysis.training import check_optimizer, parse_bytes

        budget, train = parse_bytes(fit), True
        check_optimizer(optimizer)
    spec = resolve_model(model, kwargs)  # the user's file runs once per command
    result = summarize(spec, input_size, batch_size, train=train, optimizer=optimizer)
    if budget is not None:
        from archscope.analysis.training import fit_batch

        with stderr().status("finding the largest batch that fits..."):
            result.fit = fit_batch(spec, budget, input_size, optimizer=optimizer)
    if plot:
        from archscope.render.plots import layers_png

        write(plot, layers_png(result, depth), [model], PNG, "the --plot picture")

    fv = None
    if counter is Counter.fvcore:
        from archscope.analysis.fvcore_counter import fvcore_count

        with stderr().status("building the real network and tracing it with fvcore..."):
            fv = fvcore_count(spec.real_model(), result.input_shape)

    def view() -> Any:
        from archscope.render.summary_text import fvcore_table

        made = summary_view(result, shown_depth, keys, APP.terminal_width() if output is None else None)
        if fv is not None:
            made.blocks.append(fvcore_table(fv, result))
        return made

    show(
        fmt, view, output, [model],
        json_text=lambda: summary_json(result, shown_depth, extra={"fvcore": fv.to_dict()} if fv else None),
        csv_text=lambda: summary_csv(result, shown_depth),
    )  # fmt: skip


class Layout(str, Enum):
    auto = "auto"
    columns = "columns"
    rows = "rows"


@app.command(short_help='Networks side by side, as ratios to the first.')
@guarded
def compare(
    models: Annotated[
        list[str], typer.Argument(metavar="MODEL...", help="Two or more models (zoo names or file.py:Factory ...); the first is the baseline.")
    ],
    input_size: Annotated[
        Optional[str],
        typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N for every model. Default: each model's own."),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")] = 1,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    layout: Annotated[
        Layout,
        typer.Option(help="columns: one column per model; rows: one row per model; auto: rows past 4 models."),
    ] = Layout.auto,
    arg: ArgOption = None,
) -> None:
    """Networks side by side: params, MACs, FLOPs, depth, receptive field and memory, as ratios to the first.

    Example: 'archscope compare googlenet-naive googlenet' shows what GoogLeNet's 1x1
    reductions buy; 'archscope lessons' walks through the classic comparisons.
    """
    from archscope.analysis.compare import compare as compare_models
    from archscope.render.compare_text import compare_csv, compare_json
    from archscope.render.views import compare_view

    from archscope.models import parse_kwargs

    check_outputs(models, output=(output, ()))
    check_batch(batch_size)
    summaries = compare_models(models, input_size, batch_size, model_kwargs=parse_kwargs(arg or []))
    by_rows = layout is Layout.rows or (layout is Layout.auto and len(summaries) > 4)

    show(
        fmt, lambda: compare_view(summaries, by_rows), output, models,
        json_text=lambda: compare_json(summaries), csv_text=lambda: compare_csv(summaries),
    )  # fmt: skip


@app.command(short_help='The classic design comparisons, recomputed.')
@guarded
def lessons(
    lesson_id: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[ID]", help="A lesson number or id, e.g. 3 or stacked-3x3, or all. Without one: the list."
        ),
    ] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """The classic design comparisons, recomputed: 1x1 reductions, stacked 3x3s, GAP heads, bottlenecks, ...

    Each lesson states the claim, compares zoo entries with the same engine as 'summary',
    and says what the figures show. Lesson 8 measures gradients on real weights, lesson 9 times two inception modules on the CPU (seconds each).
    """
    from archscope.lessons import LESSONS, lesson
    from archscope.render.lessons_text import lessons_csv, lessons_json

    from archscope.render.views import lesson_list_view, lessons_view

    check_outputs([], output=(output, ()))
    if lesson_id is None and fmt in (Format.table, Format.markdown):
        show(fmt, lambda: lesson_list_view(LESSONS), output)  # the list; each lesson on request
        return
    if lesson_id is not None and lesson_id.strip().lower() != "all":
        chosen = [lesson(lesson_id)]
    else:
        chosen = []
        with stderr().status("") as status:
            for entry in LESSONS:
                status.update(f"working through lesson {entry.number} of {len(LESSONS)}...")
                chosen.append(entry())

    show(fmt, lambda: lessons_view(chosen), output, json_text=lambda: lessons_json(chosen), csv_text=lambda: lessons_csv(chosen))


class Mode(str, Enum):
    inference = "inference"
    train = "train"


class DType(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"


def parse_batch_sizes(text: str) -> list[int]:
    """'1,8,32' -> [1, 8, 32]."""
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ArchscopeError(f"malformed --batch-size {shown!r}: expected numbers separated by commas, e.g. 1,8,32") from None
    if not sizes:
        raise ArchscopeError("--batch-size needs at least one number, e.g. 1 or 1,8,32")
    return [check_batch(size) for size in sizes]


@app.command(short_help='Latency, throughput, memory and achieved FLOP/s.')
@guarded
def bench(
    models: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="MODEL", help="Zoo names or file.py:Factory ... Default: one network from each family of the zoo."),
    ] = None,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="cpu, cuda, cuda:N or auto (CUDA when there is one).")] = "cpu",
    batch_size: Annotated[
        str, typer.Option("--batch-size", "-b", metavar="N", help="One batch size or a sweep, e.g. 1,8,32.")
    ] = "1",
    input_size: Annotated[
        Optional[str], typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N. Default: each network's own.")
    ] = None,
    dtype: Annotated[DType, typer.Option(help="float16 and bfloat16 run under autocast.")] = DType.float32,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory layout for model and input.")] = False,
    compile_model: Annotated[bool, typer.Option("--compile", help="torch.compile the model first.")] = False,
    mode: Annotated[Mode, typer.Option(help="inference, or train: forward + backward + SGD step.")] = Mode.inference,
    warmup: Annotated[int, typer.Option(metavar="N", help="Untimed runs before measuring.")] = 3,
    min_time: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds of timed runs per row (at least 5 runs).")] = 1.0,
    threads: Annotated[Optional[int], typer.Option(metavar="N", help="CPU threads for torch (default: torch's own choice).")] = None,
    auto_batch: Annotated[
        bool, typer.Option("--auto-batch", help="On out-of-memory, halve the batch until it fits.")
    ] = False,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    plot: Annotated[Optional[str], typer.Option(metavar="PNG", help="Save latency and throughput against batch size to this PNG.")] = None,
    arg: ArgOption = None,
) -> None:
    """Latency (median, p10, p90), throughput, peak vs analytic memory, and achieved vs peak FLOP/s.

    Warm-up first, then repeated timed runs (CUDA timed with events and synchronisation); the
    peak FLOP/s is calibrated once per run with a large matrix multiply of the same dtype.
    Out of memory at a batch size is reported in its row and the sweep goes on. Ctrl-C stops
    cleanly and prints what finished.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from archscope.bench import DEFAULT_MODELS, benchmark
    from archscope.bench.device import resolve_device
    from archscope.bench.runner import check_options
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.bench_text import bench_csv, bench_json
    from archscope.render.views import bench_view

    names = list(models or DEFAULT_MODELS)
    check_outputs(names, output=(output, ()), plot=(plot, PNG))
    sizes = parse_batch_sizes(batch_size)
    check_options(names, sizes, warmup, min_time, threads)  # before the progress bar starts
    kwargs = parse_kwargs(arg or [])
    resolve_device(device)  # fail on a missing GPU before building anything
    specs = [resolve_model(name, kwargs) for name in names]  # a typo fails now, not after an hour
    console = stderr()
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,  # a log file gets no blank line
    )  # fmt: skip
    with progress:
        task = progress.add_task("calibrating peak FLOP/s", total=None)

        def on_progress(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=f"benchmarking {label}")

        report = benchmark(
            specs, sizes, input_size, device=device, dtype=dtype.value, channels_last=channels_last,
            compile=compile_model, mode=mode.value, warmup=warmup, min_time=min_time, threads=threads,
            auto_batch=auto_batch, on_progress=on_progress,
        )  # fmt: skip

    failed = [r for r in report.results if r.error is not None]
    if report.results and len(failed) == len(report.results) and not report.interrupted:
        # Nothing was measured: no file is written (an earlier result stays) and the exit code says so.
        first = failed[0]
        more = f" ({len(failed) - 1} more failed rows)" if len(failed) > 1 else ""
        raise ArchscopeError(f"every benchmark row failed: {first.model} batch {first.batch_size}: {first.error}{more}")

    def picture() -> bytes:
        from archscope.render.plots import bench_png

        return bench_png(report)

    def view() -> Any:
        return bench_view(report)

    formats = {"json_text": lambda: bench_json(report), "csv_text": lambda: bench_csv(report)}
    if not report.interrupted:
        if plot:
            write(plot, picture(), names, PNG, "the --plot picture")
        show(fmt, view, output, names, **formats)
        return

    # Ctrl-C: the rows that finished are shown, but they replace no file the user already has.
    if output is None:
        show(fmt, view, None, **formats)

    def content() -> str:
        from archscope.render import writers

        if fmt is Format.table:
            return render_file(view)
        if fmt is Format.markdown:
            return writers.markdown(view())
        return formats["json_text" if fmt is Format.json else "csv_text"]()

    for path, content, suffixes in (
        (output, content, ()),
        (plot, picture, PNG),
    ):
        if path is not None:
            keep_partial(path, content, names, suffixes, len(report.results))
    say("interrupted: only the rows shown finished")
    raise typer.Exit(130)


def keep_partial(
    path: str, content: Callable[[], str | bytes], models: Sequence[str], suffixes: Sequence[str], rows: int
) -> None:
    """After Ctrl-C: a stream (stdout, a device, a FIFO) gets the finished rows; a file is left as it
    was and the rows go to a new file beside it, whose name is said."""
    from archscope.output import check_output, partial_path

    target = check_output(path, protect=sources(models), suffixes=suffixes)
    if not target.replaces_a_file:
        write(path, content(), models, suffixes)
        return
    state = "left as it was" if target.kind == "file" else "not written"
    if rows == 0:
        say(f"{target.shown} {state}: no row finished")
        return
    from archscope.output import write_output

    partial = partial_path(path)
    write_output(partial, content(), protect=sources(models), suffixes=suffixes)
    finished = "the 1 finished row is" if rows == 1 else f"the {rows} finished rows are"
    say(f"{target.shown} {state}; {finished} in {clean(str(partial))}")


REPORT_SUFFIXES = ("html", "htm", "md", "markdown")


def largest_side(input_shape: Any) -> int | None:
    """The largest spatial side of the first input that has one (a growth chart's 'input' line)."""
    shapes = input_shape if input_shape and isinstance(input_shape[0], list) else [input_shape]
    for shape in shapes:
        if isinstance(shape, list) and len(shape) >= 3:
            return max(shape[2:])
    return None


@app.command(short_help='One page: summary, charts, receptive fields, timings.')
@guarded
def report(
    model: ModelArgument,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="report.html or report.md: one self-contained page.")],
    input_size: Annotated[
        Optional[str], typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N. Default: the network's own.")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")] = 1,
    depth: Annotated[int, typer.Option(metavar="N", help="How deep the layer table nests.")] = 3,
    with_bench: Annotated[bool, typer.Option("--bench", help="Also benchmark the model on the CPU (a few seconds).")] = False,
    with_profile: Annotated[
        bool, typer.Option("--profile", help="Also profile it layer by layer on the CPU: times against the roofline, with pictures.")
    ] = False,
    arg: ArgOption = None,
) -> None:
    """One page with the summary, per-layer charts, the receptive-field growth and (--bench) timings."""
    from archscope.analysis.rf_stages import growth, stages
    from archscope.draw import picture, trace
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.plots import bench_png, layers_png, rf_growth_png
    from archscope.render.report import report_html, report_markdown

    suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if suffix not in REPORT_SUFFIXES:
        raise ArchscopeError(f"cannot tell the report's format from {clean(output)!r}: name it report.html or report.md")
    if depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    html = suffix in ("html", "htm")
    from archscope.render.report import picture_files

    # Markdown links its pictures, written beside it (report.md -> report.layers.png, report.svg).
    beside = picture_files(output) if not html and output != "-" else {}
    check_outputs([model], output=(output, ()), **{
        f"picture_{key}": (path, (".svg",) if key == "drawing" else PNG) for key, path in beside.items()
    })  # fmt: skip
    check_batch(batch_size)
    kwargs = parse_kwargs(arg or [])
    with stderr().status("analysing..."):
        spec = resolve_model(model, kwargs)  # the user's file runs once per command
        result, flow = trace(spec, input_size, batch_size)  # the drawing comes from the same pass
        stage_list = stages(result)
        pictures: dict[str, bytes | str] = {"drawing": picture(result, flow, "svg"), "layers": layers_png(result, depth)}
        if stage_list:
            pictures["growth"] = rf_growth_png(result.model, growth(result), largest_side(result.input_shape))
    bench_report = None
    if with_bench:
        from archscope.bench import benchmark

        with stderr().status("benchmarking on the CPU..."):
            bench_report = benchmark([spec], [batch_size], input_size)
        pictures["bench"] = bench_png(bench_report)
    profile_report = None
    if with_profile:
        from archscope.bench.profile import profile as run_profile
        from archscope.render.profile_plots import roofline_png, time_vs_macs_png

        with stderr().status("profiling on the CPU..."):
            profile_report = run_profile(spec, input_size, batch_size=batch_size, depth=min(depth, 2))
        pictures["roofline"], pictures["time_vs_macs"] = roofline_png(profile_report), time_vs_macs_png(profile_report)
    if html:
        write(output, report_html(result, stage_list, pictures, bench_report, depth, profile=profile_report), [model])
        return
    page, files = report_markdown(result, stage_list, pictures, output, bench_report, depth, profile=profile_report)
    for path, content in files.items():
        write(path, content, [model], (".svg",) if path.endswith(".svg") else PNG, "a picture of the report")
    write(output, page, [model])


@app.command(short_help='Receptive fields by stride stage, checked by gradients.')
@guarded
def rf(
    model: ModelArgument,
    input_size: Annotated[
        Optional[str],
        typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N (square). Default: the network's own."),
    ] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    plot: Annotated[
        Optional[str], typer.Option(metavar="PNG", help="Save the growth chart (field size against layer, log scale) to this PNG.")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Also measure the field by gradients through a linearised copy of the network, and compare.",
        ),
    ] = False,
    effective: Annotated[
        Optional[str],
        typer.Option(
            metavar="PNG",
            help="Save the effective receptive field (Luo et al. 2016: gradient magnitude of the centre output "
            "with random weights) as a heat map to this PNG."
        ),
    ] = None,
    arg: ArgOption = None,
) -> None:
    """Receptive field at the end of each stride stage, and of the last spatial feature map.

    Computed exactly through the network's real graph (residual adds, concatenations,
    functional calls), per Araujo et al., "Computing Receptive Fields of CNNs" (Distill 2019).
    A concatenated output keeps each branch's field: GoogLeNet's inception 5b sees 587, 651,
    715 and 651 pixels at once.
    """
    from archscope.analysis.rf_report import receptive_fields
    from archscope.analysis.rf_stages import growth
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.rf_text import field_sentence, rf_csv
    from archscope.render.views import rf_view

    check_outputs([model], output=(output, ()), plot=(plot, PNG), effective=(effective, PNG))
    spec = resolve_model(model, parse_kwargs(arg or []))  # the user's file runs once per command
    if effective and not verify:
        report = receptive_fields(spec, input_size)
    else:
        with stderr().status("measuring the receptive field by gradients..." if verify else "analysing..."):
            report = receptive_fields(spec, input_size, verify=verify)
    result = report.summary
    if plot:
        from archscope.render.plots import rf_growth_png

        write(plot, rf_growth_png(result.model, growth(result), largest_side(result.input_shape)), [model], PNG,
              "the --plot picture")  # fmt: skip
    if effective:
        from archscope.analysis.rf_measure import centre_field_box, effective_receptive_field, target_layer
        from archscope.render.plots import effective_rf_png

        if isinstance(result.input_shape[0], list):
            raise ArchscopeError("--effective measures models with a single input")
        with stderr().status("computing the effective receptive field..."):
            gradient = effective_receptive_field(spec.real_model(), result)
        _, record = target_layer(result)
        picture = effective_rf_png(result.model, gradient, centre_field_box(record), record.name)
        write(effective, picture, [model], PNG, "the --effective picture")

    show(
        fmt, lambda: rf_view(result, report.stages, report.check), output, [model],
        json_text=lambda: json.dumps(report.to_dict(), indent=2) + "\n", csv_text=lambda: rf_csv(report.stages),
    )  # fmt: skip
    if report.check is not None and not report.check.agree:
        raise fail(f"the measured receptive field differs from the analytic one: {field_sentence(report.check.measured)}", 1)


class ProfileMode(str, Enum):
    eval = "eval"
    inference = "inference"
    train = "train"


@app.command(short_help="Where the time goes, layer by layer, against the roofline.")
@guarded
def profile(
    model: ModelArgument,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto (CUDA when there is one).")] = "cpu",
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")] = 1,
    input_size: Annotated[
        Optional[str], typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N. Default: the network's own.")
    ] = None,
    dtype: Annotated[DType, typer.Option(help="float16 and bfloat16 run under autocast.")] = DType.float32,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory layout for model and input.")] = False,
    mode: Annotated[
        ProfileMode, typer.Option(help="eval (or inference): the forward pass; train: forward, backward and an SGD step.")
    ] = ProfileMode.eval,
    warmup: Annotated[int, typer.Option(help="Untimed runs of each kind before measuring.")] = 3,
    min_time: Annotated[
        float, typer.Option(help="Seconds of uninstrumented runs (at least 5); as many instrumented runs alternate with them.")
    ] = 1.0,
    depth: Annotated[int, typer.Option(metavar="N", help="Which layers are rows, as in 'summary --depth'.")] = 2,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for torch (default: torch's own choice).")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    roofline: Annotated[Optional[str], typer.Option(metavar="PNG", help="Save the roofline plot to this PNG.")] = None,
    time_vs_macs: Annotated[
        Optional[str], typer.Option("--time-vs-macs", metavar="PNG", help="Save where the time goes vs where the MACs are to this PNG.")
    ] = None,
    arg: ArgOption = None,
) -> None:
    """Each layer's measured time beside its MACs, FLOPs, bytes moved and the device's roofline.

    Both ceilings (peak FLOP/s: a large matrix multiply; bandwidth: a large copy) are measured
    in the same run. Layers are timed at their module boundaries (CUDA events, or the host
    clock on the CPU), in runs that alternate with uninstrumented ones; the sum of the layers
    is shown beside the whole-model median, so the instrumentation's cost is visible.
    """
    from archscope.bench.device import resolve_device
    from archscope.bench.profile import profile as run_profile
    from archscope.models import parse_kwargs, resolve_model
    from archscope.render.profile_text import profile_csv, profile_json, profile_view

    check_outputs([model], output=(output, ()), roofline=(roofline, PNG), time_vs_macs=(time_vs_macs, PNG))
    check_batch(batch_size)
    if depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    kwargs = parse_kwargs(arg or [])
    resolve_device(device)  # fail on a missing GPU before building anything
    spec = resolve_model(model, kwargs)  # the user's file runs once per command
    with stderr().status("profiling...") as status:
        report = run_profile(
            spec, input_size, batch_size=batch_size, device=device, dtype=dtype.value, channels_last=channels_last,
            mode=mode.value, warmup=warmup, min_time=min_time, depth=depth, threads=threads,
            on_progress=lambda text: status.update(text),
        )  # fmt: skip
    if roofline or time_vs_macs:
        from archscope.render.profile_plots import roofline_png, time_vs_macs_png

        for path, draw, what in ((roofline, roofline_png, "--roofline"), (time_vs_macs, time_vs_macs_png, "--time-vs-macs")):
            if path:
                write(path, draw(report), [model], PNG, f"the {what} picture")
    show(fmt, lambda: profile_view(report), output, [model],
         json_text=lambda: profile_json(report), csv_text=lambda: profile_csv(report))  # fmt: skip


class ClosedStream(io.TextIOBase):
    """Stands in for a standard output closed before archscope started (``>&-``).

    Python leaves ``sys.stdout`` as None then; writing to this says so in one line instead.
    """

    archscope_closed = True

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise ArchscopeError("cannot write to standard output: it is closed; give a file with -o")


DRAW_SUFFIXES = (".svg", ".png", ".pdf")


class DrawStyle(str, Enum):
    graph = "graph"
    layers = "layers"


class DrawWeight(str, Enum):
    macs = "macs"
    params = "params"
    time = "time"


@app.command()
@guarded
def draw(
    model: ModelArgument,
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="net.svg, net.png or net.pdf: the extension picks the format.")
    ],
    depth: Annotated[
        Optional[int],
        typer.Option(metavar="N", help="How deep to draw (1 = the model's children). Default: every layer; shallower while over 100 boxes."),
    ] = None,
    style: Annotated[
        DrawStyle, typer.Option(help="graph: the dataflow with branches and skips; layers: volumes for a chain (LeNet, VGG).")
    ] = DrawStyle.graph,
    unfold: Annotated[
        bool, typer.Option("--unfold", help="Draw every layer: fold neither conv-BN-ReLU chains nor repeated blocks (xN).")
    ] = False,
    weight: Annotated[
        DrawWeight, typer.Option(help="What shades the boxes (log scale); time runs 'profile' on the CPU first.")
    ] = DrawWeight.macs,
    input_size: Annotated[
        Optional[str], typer.Option("--input-size", "-i", metavar="SIZE", help="CxHxW, HxW or N. Default: the network's own.")
    ] = None,
    arg: ArgOption = None,
) -> None:
    """The architecture as its paper draws it, with each layer's shape, params, MACs and receptive field.

    Parallel branches side by side, residual skips as arcs, conv-BN-ReLU chains and identical
    consecutive blocks folded (ResNet-50's stages read x3, x4, x6, x3). Drawn from the same single
    pass as 'summary'; no graphviz needed.
    """
    from archscope.draw import layer_times, picture, trace
    from archscope.models import parse_kwargs, resolve_model

    suffix = Path(output).suffix.lower()
    if suffix not in DRAW_SUFFIXES:
        raise ArchscopeError(f"cannot tell the picture's format from {clean(output)!r}: name it net.svg, net.png or net.pdf")
    if depth is not None and depth < 1:
        raise ArchscopeError(f"--depth must be at least 1, not {depth}")
    check_outputs([model], output=(output, DRAW_SUFFIXES))
    spec = resolve_model(model, parse_kwargs(arg or []))  # the user's file runs once per command
    summary_record, flow = trace(spec, input_size)
    times = None
    if weight is DrawWeight.time and style is DrawStyle.graph:
        with stderr().status("timing each layer on the CPU (profile)..."):
            times = layer_times(spec, summary_record, input_size)
    data = picture(
        summary_record, flow, suffix[1:], style=style.value, depth=depth, unfold=unfold, weight=weight.value,
        times=times,
    )  # fmt: skip
    write(output, data, [model], DRAW_SUFFIXES, "the drawing")


def run() -> None:
    """Console-script entry point."""
    if sys.stdout is None:
        sys.stdout = ClosedStream()
    app()


if __name__ == "__main__":
    run()
