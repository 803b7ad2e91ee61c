"""Option types, checks and small helpers shared by several commands."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from archscope.bench.dtypes import RUN_DTYPES
from archscope.cli.application import Format, choices
from archscope.render.formats import DEFAULT_FORMAT, FORMATS

PNG = (".png",)  # the extensions a picture option takes (check_outputs)


def picture_option(what: str, *names: str) -> Any:
    """The option that saves ``what`` as a PNG: its metavar and its help are the same on every command."""
    return typer.Option(*names, metavar="PNG", help=f"Save {what} to this PNG.")


ArgOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--arg", metavar="KEY=VALUE", help="key=value for the model's factory, read as a Python literal (e.g. num_classes=10); for "
        "transformers:/hf: a config field (hidden_size=384); repeatable. Arguments that would load "
        "weights (weights=..., pretrained=True, checkpoint_path=...) are refused."
    ),
]
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A zoo name (see 'archscope list'), path/to/file.py:Factory, package.module:Factory, "
        "torchvision:NAME, timm:NAME, transformers:CLASS (from its default config) or hf:ORG/NAME or "
        "hf:FOLDER (its config.json only; never weights)."
    ),
]

def _format_help() -> str:
    """--format's help, from the registry (render.formats): the formats, and how the default is chosen."""
    files = [f.name for f in FORMATS.values() if f.name != DEFAULT_FORMAT]
    extensions = ", ".join(f.extensions[0] for f in FORMATS.values())
    return (
        f"{DEFAULT_FORMAT} for people; {', '.join(files[:-1])} or {files[-1]} for files and scripts. "
        f"Default: the format -o's extension names ({extensions}), else {DEFAULT_FORMAT}."
    )


FormatOption = Annotated[Optional[Format], typer.Option("--format", "-f", help=_format_help(), show_default=False)]
OutputOption = Annotated[
    Optional[str],
    typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write to this file (atomically) instead of stdout; without -f, its extension chooses the format.",
    ),
]


# --dtype's choices for bench and profile: the core's one list.
DType = choices("DType", RUN_DTYPES)


InputSizeOption = Annotated[
    Optional[str],
    typer.Option(
        "--input-size", "-i", metavar="SIZE",
        help="One input, without the batch, as the first layer takes it: CxHxW (3x224x224); HxW or N for a "
        "square image keep the network's channels; 4x200 for a Conv1d, 3x16x112x112 for a Conv3d, 64 for a "
        "Linear. A leading '=' takes the size exactly as written, for a model that reshapes its input "
        "itself (=16000: raw audio B x 16000; =1024x128: frames x mel bins). ':int64' gives the type "
        "(tokens: 50:int64); '+' or ',' joins several inputs (3x32x32+16); name=SIZE passes one as a "
        "keyword, a dotted name as a nested dict (image=3x32x32,batch.meta=4). Default: the network's "
        "own (a model file's example_inputs() or INPUT_SIZE).",
    ),
]  # fmt: skip
OptimizerOption = Annotated[
    str, typer.Option(metavar="NAME", help="With --train: sgd (with momentum) or adam, whose step and state are counted.")
]
FitOption = Annotated[
    Optional[str],
    typer.Option(metavar="SIZE", help="The largest batch whose training memory fits SIZE (24GiB, 512MB); implies --train."),
]
BatchSizeOption = Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")]
DeviceOption = Annotated[str, typer.Option(metavar="DEVICE", help="cpu, cuda, cuda:N or auto (CUDA when there is one).")]
ThreadsOption = Annotated[
    Optional[int], typer.Option(metavar="N", help="CPU threads for torch (default: torch's own choice).")
]
